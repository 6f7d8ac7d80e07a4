"""Cross-session cell registration and dendritic spine dynamics."""

from __future__ import annotations

from pynwb.spec import NWBAttributeSpec, NWBDatasetSpec, NWBGroupSpec

CORE_TYPES = ("DynamicTable", "VectorData", "DynamicTableRegion")


def _column(name: str, dtype: str, doc: str, *, quantity: str | None = None) -> NWBDatasetSpec:
    kwargs = {} if quantity is None else {"quantity": quantity}
    return NWBDatasetSpec(
        name=name, neurodata_type_inc="VectorData", dtype=dtype, doc=doc, **kwargs
    )


def data_types() -> list[NWBGroupSpec]:
    registration = NWBGroupSpec(
        neurodata_type_def="CellRegistration",
        neurodata_type_inc="DynamicTable",
        doc=(
            "Identity of this session's ROIs across sessions: one row per ROI of a "
            "PlaneSegmentation, giving the cross-session cell it was registered to and how "
            "well it matched. The same ids are in the PlaneSegmentation's 'global_id' column."
        ),
        default_name="CellRegistration",
        attributes=[
            NWBAttributeSpec(
                name="method",
                doc=(
                    "How identity was established: 'reused_polygons' (the same ROI file in every "
                    "session, ROI index = cell), 'table' (a (session, roi) -> cell table) or "
                    "'matcher' (rigid alignment of mean images, then one-to-one mask matching)."
                ),
                dtype="text",
            ),
            NWBAttributeSpec(
                name="reference_session",
                doc="The session whose ROIs define the cells ('' when there is none, as for a table).",
                dtype="text",
            ),
            NWBAttributeSpec(
                name="source",
                doc="The file the registration came from (polygon file, table, or reference segmentation).",
                dtype="text",
                required=False,
            ),
            NWBAttributeSpec(
                name="parameters",
                doc="Every parameter of the method (thresholds, measured shift), as a JSON object.",
                dtype="text",
                required=False,
            ),
        ],
        datasets=[
            NWBDatasetSpec(
                name="roi",
                neurodata_type_inc="DynamicTableRegion",
                doc="The ROI of this session's PlaneSegmentation the row describes.",
            ),
            _column(
                "global_id", "int64", "Cross-session cell id; -1 for an ROI matched to no cell."
            ),
            _column(
                "match_quality",
                "float64",
                "Quality of the match, 0 (none) to 1 (certain): mask overlap (IoU) after alignment "
                "for the matcher, 1 for reused polygons and table entries, 0 for unmatched ROIs.",
            ),
            _column(
                "reference_roi",
                "int64",
                "Index of the matched ROI in the reference session; -1 when unmatched.",
                quantity="?",
            ),
            _column(
                "centroid_distance",
                "float64",
                "Distance between the aligned centroids of the matched ROIs, in pixels (NaN when unmatched).",
                quantity="?",
            ),
        ],
    )
    spines = NWBGroupSpec(
        neurodata_type_def="SpineDynamicsTable",
        neurodata_type_inc="DynamicTable",
        doc=(
            "Dendritic spine scoring from structural imaging: one row per dendrite per "
            "session, with the spines present and those gained and lost since the previous session."
        ),
        default_name="spine_dynamics",
        datasets=[
            _column(
                "dendrite", "text", "Identifier of the dendrite segment, stable across sessions."
            ),
            _column("session", "text", "Session (or day) the dendrite was scored in."),
            _column(
                "present", "int64", "Number of spines present on the dendrite in this session."
            ),
            _column("gained", "int64", "Spines present now and absent in the previous session."),
            _column("lost", "int64", "Spines present in the previous session and absent now."),
            _column("length", "float64", "Length of the scored dendrite segment, in micrometers."),
            _column("area", "text", "Cortical area of the dendrite (e.g. 'forelimb', 'hindlimb')."),
            _column(
                "condition",
                "text",
                "Experimental condition of the animal (e.g. 'training', 'control').",
            ),
        ],
    )
    return [registration, spines]
