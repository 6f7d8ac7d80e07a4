"""Converters: one folder per source format, each a NeuroConv ``BaseDataInterface``.

The source kinds a conversion spec can name, and the class behind each, are listed in
``nwbmotor.conversion._registry.SOURCE_KINDS``.

The interfaces of one session are linked by what they provide and share one clock:
:func:`align_session` (what ``nwbmotor convert`` runs) and :class:`SessionConverter`
(a NeuroConv converter that runs it), in :mod:`nwbmotor.converters._session`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters._session import (
        SessionClockMixin,
        SessionClockReport,
        SessionConverter,
        align_session,
        provides,
    )

_S = "nwbmotor.converters._session"
__getattr__, __dir__, __all__ = attach(__name__, {
    "SessionClockMixin": _S,
    "SessionClockReport": _S,
    "SessionConverter": _S,
    "align_session": _S,
    "provides": _S,
})
