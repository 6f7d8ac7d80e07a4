"""Lever-press task parameters and detected lever movements."""

from __future__ import annotations

from pynwb.spec import NWBAttributeSpec, NWBDatasetSpec, NWBGroupSpec

CORE_TYPES = ("LabMetaData", "TimeIntervals", "VectorData")


def _float_attr(name: str, doc: str) -> NWBAttributeSpec:
    return NWBAttributeSpec(name=name, doc=doc, dtype="float64", required=False)


def data_types() -> list[NWBGroupSpec]:
    task = NWBGroupSpec(
        neurodata_type_def="LeverPressTask",
        neurodata_type_inc="LabMetaData",
        doc=(
            "Parameters of a cued lever-press task: the lever recording, the movement "
            "criterion, the trial timing and the reward. Times in seconds."
        ),
        attributes=[
            _float_attr("lever_sample_rate", "Sample rate of the lever channel, in Hz."),
            _float_attr(
                "volts_to_mm",
                "Calibration of the lever signal: millimetres of lever travel per volt.",
            ),
            _float_attr(
                "movement_threshold",
                "Lever deflection, in volts from rest, that counts as a press for reward.",
            ),
            _float_attr("response_window", "Time after cue onset during which a press is rewarded, in s."),
            _float_attr("hold_time", "Quiescence required before the cue, in s."),
            _float_attr("reward_volume", "Water per reward, in microlitres."),
            _float_attr("cue_tone_frequency", "Frequency of the cue tone, in Hz."),
            _float_attr("cue_tone_duration", "Duration of the cue tone, in s."),
            _float_attr("iti_min", "Shortest inter-trial interval, in s."),
            _float_attr("iti_max", "Longest inter-trial interval, in s."),
            NWBAttributeSpec(
                name="protocol",
                doc="Name of the task protocol (e.g. the Dispatcher protocol '@lever2p').",
                dtype="text",
                required=False,
            ),
        ],
    )
    movements = NWBGroupSpec(
        neurodata_type_def="MovementsTable",
        neurodata_type_inc="TimeIntervals",
        doc=(
            "Lever movements detected in a continuous lever trace: one row per movement, "
            "start_time and stop_time being its refined onset and offset."
        ),
        default_name="movements",
        attributes=[
            NWBAttributeSpec(
                name="detection_preset",
                doc="Name of the detection preset (e.g. 'peters2014', 'updated').",
                dtype="text",
            ),
            NWBAttributeSpec(
                name="detection_parameters",
                doc="Every parameter of the detection, as a JSON object.",
                dtype="text",
            ),
        ],
        datasets=[
            NWBDatasetSpec(
                name="peak_amplitude",
                neurodata_type_inc="VectorData",
                dtype="float64",
                doc="Largest lever deflection from the onset value during the movement, in volts.",
            ),
            NWBDatasetSpec(
                name="rewarded",
                neurodata_type_inc="VectorData",
                dtype="bool",
                doc="True for the movement that earned its trial's reward.",
            ),
            NWBDatasetSpec(
                name="cued",
                neurodata_type_inc="VectorData",
                dtype="bool",
                doc=(
                    "True when the movement starts after its trial's cue with no lever "
                    "activity in the 100 ms before the cue."
                ),
            ),
            NWBDatasetSpec(
                name="trial",
                neurodata_type_inc="VectorData",
                dtype="int64",
                doc=(
                    "Row index (0-based) of the trial in the file's trials table during "
                    "which the movement starts, or -1 for a movement outside every trial. "
                    "An index rather than a DynamicTableRegion, so that a movement can be "
                    "outside every trial."
                ),
            ),
        ],
    )
    return [task, movements]
