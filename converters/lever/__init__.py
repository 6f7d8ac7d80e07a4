"""The lever-press rig: Ephus acquisitions, the Dispatcher task file, other rigs' lever tables.

Source kinds ``xsg``, ``xsglog``, ``dispatcher`` and ``lever_table`` (see
``nwbmotor.conversion._registry``). One session clock: the acquisition's, t = 0 at its first
sample; the Dispatcher's trials are mapped onto it through the trial bitcodes.
"""

from __future__ import annotations

from nwbmotor.converters.lever.dispatcher_interface import DispatcherTrialsInterface
from nwbmotor.converters.lever.lever_table_interface import LeverTableInterface
from nwbmotor.converters.lever.xsg_interface import XsgLeverInterface
from nwbmotor.converters.lever.xsglog_interface import XsglogLeverInterface

__all__ = ["DispatcherTrialsInterface", "LeverTableInterface", "XsgLeverInterface", "XsglogLeverInterface"]
