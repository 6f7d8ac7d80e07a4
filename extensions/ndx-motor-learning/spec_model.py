"""Recurrent network models: snapshots of a network, its units, rates and training.

Layout of a model session (written by ``nwbmotor.models.write_model_session``)::

    intervals/trials                  trials end to end; target_id, target_angle, perturbation,
                                      phase, go_time, cue_time, network
    processing/model/
        units          ModelUnitsTable    one row per unit: module, cell_type, gain_group
        rates          ModelRateSeries    (time, unit) rates; ``units`` references the table rows
        outputs        TimeSeries         (time, output)
        targets        TimeSeries         (time, output), optional
        inputs         TimeSeries         (time, input), optional
        networks       NetworkSnapshots   one RecurrentNetwork per phase (e.g. before / after)
            <phase>    RecurrentNetwork   tau, dt, nonlinearity(+params), noise_std;
                                          NetworkWeights (n_post, n_pre) with ``post``/``pre``,
                                          NetworkBias with ``endpoint``, gains, gain_groups,
                                          initial_state
        training_log   TrainingLog        iteration, loss, phase, learning parameters
"""

from __future__ import annotations

from pynwb.spec import NWBAttributeSpec, NWBDatasetSpec, NWBGroupSpec

CORE_TYPES = ("NWBDataInterface", "NWBData", "DynamicTable", "DynamicTableRegion", "VectorData", "TimeSeries")

_ENDPOINT_DOC = (
    "'input', 'output', 'all' (every unit), or a module name of the units table, optionally "
    "restricted to a cell type with ':E' or ':I' (e.g. 'network:E'). Units of a module are in "
    "units-table order."
)


def data_types() -> list:
    weights = NWBDatasetSpec(
        neurodata_type_def="NetworkWeights",
        neurodata_type_inc="NWBData",
        doc=(
            "A weight matrix of shape (n_post, n_pre): the input to the 'post' population is "
            "W @ activity of the 'pre' population. The dataset's name is the weight's name "
            "(e.g. 'W_rec', 'W_in', 'W_UP', 'readout')."
        ),
        dtype="float64",
        dims=["n_post", "n_pre"],
        shape=[None, None],
        attributes=[
            NWBAttributeSpec(name="post", doc="Receiving population: " + _ENDPOINT_DOC, dtype="text"),
            NWBAttributeSpec(name="pre", doc="Sending population: " + _ENDPOINT_DOC, dtype="text"),
        ],
    )
    bias = NWBDatasetSpec(
        neurodata_type_def="NetworkBias",
        neurodata_type_inc="NWBData",
        doc="A bias vector added to the input of a population.",
        dtype="float64",
        dims=["n"],
        shape=[None],
        attributes=[NWBAttributeSpec(name="endpoint", doc="Population the bias is added to: " + _ENDPOINT_DOC, dtype="text")],
    )
    network = NWBGroupSpec(
        neurodata_type_def="RecurrentNetwork",
        neurodata_type_inc="NWBDataInterface",
        doc=(
            "The parameters of a rate network at one phase (e.g. before or after learning): "
            "tau dx/dt = -x + sum of weighted rates + biases + noise, r = f_g(x). The group's name "
            "is its phase label."
        ),
        attributes=[
            NWBAttributeSpec(name="phase", doc="Phase label (e.g. 'before', 'after', 'initial').", dtype="text"),
            NWBAttributeSpec(name="tau", doc="Time constant of the units, in s.", dtype="float64"),
            NWBAttributeSpec(name="dt", doc="Integration step, in s.", dtype="float64"),
            NWBAttributeSpec(
                name="nonlinearity",
                doc="Name of the rate nonlinearity f (e.g. 'tanh', 'gain_tanh_asymmetric', 'relu', 'linear').",
                dtype="text",
            ),
            NWBAttributeSpec(
                name="nonlinearity_params",
                doc="Parameters of the nonlinearity as a JSON object (e.g. {\"r0\": 20, \"rmax\": 100}).",
                dtype="text",
            ),
            NWBAttributeSpec(name="noise_std", doc="Standard deviation of the private noise on x (0 for none).",
                             dtype="float64"),
            NWBAttributeSpec(name="order", doc="Position of this snapshot among the session's snapshots (0 first).",
                             dtype="int64", required=False),
        ],
        datasets=[
            NWBDatasetSpec(neurodata_type_inc="NetworkWeights", doc="Weight matrices of the network.", quantity="*"),
            NWBDatasetSpec(neurodata_type_inc="NetworkBias", doc="Bias vectors of the network.", quantity="*"),
            NWBDatasetSpec(name="gains", doc="Per-unit gains g of f_g, in units-table order.", dtype="float64",
                           dims=["n_units"], shape=[None], quantity="?"),
            NWBDatasetSpec(name="gain_groups", doc="Modulatory group of each unit (-1 for none).", dtype="int64",
                           dims=["n_units"], shape=[None], quantity="?"),
            NWBDatasetSpec(
                name="initial_state",
                doc="State x0 at the start of every trial: one vector, or one row per condition (target_id).",
                dtype="float64",
                dims=[["n_units"], ["n_conditions", "n_units"]],
                shape=[[None], [None, None]],
                quantity="?",
            ),
        ],
    )
    snapshots = NWBGroupSpec(
        neurodata_type_def="NetworkSnapshots",
        neurodata_type_inc="NWBDataInterface",
        default_name="networks",
        doc="Snapshots of one network model, one RecurrentNetwork per phase.",
        attributes=[
            NWBAttributeSpec(name="model", doc="Name of the model (e.g. 'gain-modulation', 'modular-rnn').",
                             dtype="text"),
            NWBAttributeSpec(name="seed", doc="Random seed of the run.", dtype="int64", required=False),
        ],
        groups=[NWBGroupSpec(neurodata_type_inc="RecurrentNetwork", doc="One snapshot.", quantity="*")],
    )
    units = NWBGroupSpec(
        neurodata_type_def="ModelUnitsTable",
        neurodata_type_inc="DynamicTable",
        doc="The units of a network model: one row per unit, in the order of the rates' columns.",
        datasets=[
            NWBDatasetSpec(name="module", neurodata_type_inc="VectorData", dtype="text",
                           doc="Module or region of the unit (e.g. 'upstream', 'PMd', 'M1', 'network')."),
            NWBDatasetSpec(name="cell_type", neurodata_type_inc="VectorData", dtype="text",
                           doc="'E' (excitatory), 'I' (inhibitory) or 'unknown'."),
            NWBDatasetSpec(name="gain_group", neurodata_type_inc="VectorData", dtype="int64",
                           doc="Modulatory gain group of the unit, -1 for none."),
        ],
    )
    rates = NWBGroupSpec(
        neurodata_type_def="ModelRateSeries",
        neurodata_type_inc="TimeSeries",
        doc="Rates of network units over time: the model's RoiResponseSeries.",
        datasets=[
            NWBDatasetSpec(name="data", doc="Rates, (time, unit).", dtype="numeric",
                           dims=["num_times", "num_units"], shape=[None, None]),
            NWBDatasetSpec(name="units", neurodata_type_inc="DynamicTableRegion",
                           doc="Rows of the ModelUnitsTable, one per column of data."),
        ],
    )
    log = NWBGroupSpec(
        neurodata_type_def="TrainingLog",
        neurodata_type_inc="DynamicTable",
        doc=(
            "The training history of a network model: one row per logged iteration. Extra columns "
            "hold learning parameters (e.g. learning rate, mean reward)."
        ),
        datasets=[
            NWBDatasetSpec(name="iteration", neurodata_type_inc="VectorData", dtype="int64",
                           doc="Iteration (update) number."),
            NWBDatasetSpec(name="loss", neurodata_type_inc="VectorData", dtype="float64",
                           doc="Loss or error at this iteration."),
            NWBDatasetSpec(name="phase", neurodata_type_inc="VectorData", dtype="text", quantity="?",
                           doc="Training phase (e.g. 'training', 'adaptation')."),
        ],
    )
    return [weights, bias, network, snapshots, units, rates, log]
