"""The lever-press rig: Ephus acquisitions, the Dispatcher task file, other rigs' lever tables.

Source kinds ``xsg``, ``xsglog``, ``dispatcher`` and ``lever_table`` (see
``nwbmotor.conversion._registry``). One session clock: the acquisition's, t = 0 at its first
sample; the Dispatcher's trials are mapped onto it through the trial bitcodes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.converters.lever._bitcode import (
        Bitcodes,
        decode_bitcode_edges,
        decode_bitcodes,
        falling_edges,
        pulse_edges,
        rising_edges,
    )
    from nwbmotor.converters.lever._clock import (
        ClockAlignment,
        align_clocks,
        check_trial_numbers,
    )
    from nwbmotor.converters.lever._dispatcher_reader import (
        DISPATCHER_PATTERN,
        DispatcherSession,
        read_dispatcher_file,
    )
    from nwbmotor.converters.lever._xsg_reader import (
        XSG_PATTERN,
        XSGLOG_PATTERN,
        XsgFile,
        XsglogRecording,
        find_xsg_files,
        read_xsg_file,
        read_xsglog_folder,
    )
    from nwbmotor.converters.lever.dispatcher_interface import (
        DispatcherTrialsInterface,
    )
    from nwbmotor.converters.lever.lever_table_interface import (
        LeverTableInterface,
    )
    from nwbmotor.converters.lever.xsg_interface import (
        XsgLeverInterface,
    )
    from nwbmotor.converters.lever.xsglog_interface import (
        XsglogLeverInterface,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        "Bitcodes": "nwbmotor.converters.lever._bitcode",
        "ClockAlignment": "nwbmotor.converters.lever._clock",
        "DISPATCHER_PATTERN": "nwbmotor.converters.lever._dispatcher_reader",
        "DispatcherSession": "nwbmotor.converters.lever._dispatcher_reader",
        "DispatcherTrialsInterface": "nwbmotor.converters.lever.dispatcher_interface",
        "LeverTableInterface": "nwbmotor.converters.lever.lever_table_interface",
        "XSGLOG_PATTERN": "nwbmotor.converters.lever._xsg_reader",
        "XSG_PATTERN": "nwbmotor.converters.lever._xsg_reader",
        "XsgFile": "nwbmotor.converters.lever._xsg_reader",
        "XsgLeverInterface": "nwbmotor.converters.lever.xsg_interface",
        "XsglogLeverInterface": "nwbmotor.converters.lever.xsglog_interface",
        "XsglogRecording": "nwbmotor.converters.lever._xsg_reader",
        "align_clocks": "nwbmotor.converters.lever._clock",
        "check_trial_numbers": "nwbmotor.converters.lever._clock",
        "decode_bitcode_edges": "nwbmotor.converters.lever._bitcode",
        "decode_bitcodes": "nwbmotor.converters.lever._bitcode",
        "falling_edges": "nwbmotor.converters.lever._bitcode",
        "find_xsg_files": "nwbmotor.converters.lever._xsg_reader",
        "pulse_edges": "nwbmotor.converters.lever._bitcode",
        "read_dispatcher_file": "nwbmotor.converters.lever._dispatcher_reader",
        "read_xsg_file": "nwbmotor.converters.lever._xsg_reader",
        "read_xsglog_folder": "nwbmotor.converters.lever._xsg_reader",
        "rising_edges": "nwbmotor.converters.lever._bitcode",
    },
)
