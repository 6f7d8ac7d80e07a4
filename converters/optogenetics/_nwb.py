"""ndx-optogenetics objects: experiment metadata (site, effector, virus, light) and the epochs table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from nwbmotor._errors import NwbMotorValueError
from nwbmotor.converters.optogenetics._epochs import LightEpochs

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["add_optogenetic_metadata", "add_optogenetic_epochs", "check_keys"]

VIRUS_KEYS = {"construct_name", "manufacturer", "titer_in_vg_per_ml", "description", "name"}
INJECTION_KEYS = {"volume_in_uL", "injection_date", "description", "name", "coordinates"}
COORDINATE_KEYS = {
    "anatomical_target", "origin", "orientation", "x_in_mm", "y_in_mm", "z_in_mm",
    "pitch_in_deg", "yaw_in_deg", "roll_in_deg",
}
LIGHT_SOURCE_KEYS = {"name", "manufacturer", "model_number", "source_type", "description"}
FIBER_KEYS = {"name", "manufacturer", "numerical_aperture", "core_diameter_in_um", "description", "model_number"}


def check_keys(where: str, value: Mapping[str, Any] | None, allowed: set[str], required: Sequence[str] = ()) -> dict[str, Any]:
    """A copy of ``value`` after checking its keys; clear error naming what is wrong."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise NwbMotorValueError(f"optogenetics: {where} must be a mapping of {sorted(allowed)}, got {value!r}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise NwbMotorValueError(f"optogenetics: {where} has unknown key(s) {unknown}; expected any of {sorted(allowed)}")
    missing = [k for k in required if k not in value]
    if missing:
        raise NwbMotorValueError(f"optogenetics: {where} lacks required key(s) {missing}")
    return dict(value)


def add_optogenetic_metadata(
    nwbfile: NWBFile,
    *,
    location: str,
    effector: str,
    effector_description: str,
    wavelength_in_nm: float,
    power_in_mW: float | None,
    light_source: Mapping[str, Any],
    fiber: Mapping[str, Any] | None,
    light_delivery: str,
    virus: Mapping[str, Any] | None,
    injection: Mapping[str, Any] | None,
    stimulation_software: str,
) -> Any:
    """Add the devices and ``OptogeneticExperimentMetadata``; return the sites table."""
    from ndx_ophys_devices import Effector, StereotacticPosition, ViralVector, ViralVectorInjection
    from ndx_optogenetics import (
        ExcitationSource,
        ExcitationSourceModel,
        OpticalFiber,
        OpticalFiberModel,
        OptogeneticEffectors,
        OptogeneticExperimentMetadata,
        OptogeneticSitesTable,
        OptogeneticViruses,
        OptogeneticVirusInjections,
    )

    src = dict(light_source)
    source_name = src.get("name", f"light_source_{wavelength_in_nm:g}nm")
    model = ExcitationSourceModel(
        name=f"{source_name}_model",
        manufacturer=src.get("manufacturer", "unspecified"),
        model_number=src.get("model_number"),
        source_type=src.get("source_type", "laser"),
        excitation_mode="one-photon",
        wavelength_range_in_nm=[float(wavelength_in_nm), float(wavelength_in_nm)],
        description=src.get("description", f"{wavelength_in_nm:g} nm light source for optogenetic stimulation."),
    )
    source = ExcitationSource(
        name=source_name,
        description=src.get("description", f"{wavelength_in_nm:g} nm light source for optogenetic stimulation."),
        model=model,
        power_in_W=None if power_in_mW is None else float(power_in_mW) / 1000.0,
    )
    nwbfile.add_device_model(model)
    nwbfile.add_device(source)

    optical_fiber = None
    if fiber:
        f = dict(fiber)
        fiber_model = OpticalFiberModel(
            name=f"{f.get('name', 'optical_fiber')}_model",
            manufacturer=f.get("manufacturer", "unspecified"),
            model_number=f.get("model_number"),
            numerical_aperture=float(f.get("numerical_aperture", np.nan)),
            core_diameter_in_um=None if f.get("core_diameter_in_um") is None else float(f["core_diameter_in_um"]),
            description=f.get("description", "Optical fiber delivering the light."),
        )
        optical_fiber = OpticalFiber(
            name=f.get("name", "optical_fiber"), description=f.get("description", light_delivery), model=fiber_model
        )
        nwbfile.add_device_model(fiber_model)
        nwbfile.add_device(optical_fiber)

    viruses = injections = injection_obj = None
    if virus:
        v = dict(virus)
        vector = ViralVector(
            name=v.get("name", v["construct_name"]),
            construct_name=v["construct_name"],
            manufacturer=v.get("manufacturer", "unspecified"),
            titer_in_vg_per_ml=float(v.get("titer_in_vg_per_ml", np.nan)),
            description=v.get("description"),
        )
        viruses = OptogeneticViruses(viral_vectors=[vector])
        if injection:
            inj = dict(injection)
            coords = inj.get("coordinates")
            position = None
            if coords:
                c = check_keys("injection.coordinates", coords, COORDINATE_KEYS,
                               ("anatomical_target", "origin", "orientation", "x_in_mm", "y_in_mm", "z_in_mm"))
                position = StereotacticPosition(name="viral_injection_coordinates", **c)
            injection_obj = ViralVectorInjection(
                name=inj.get("name", f"{vector.name} injection"),
                volume_in_uL=float(inj["volume_in_uL"]),
                viral_vector=vector,
                description=inj.get("description"),
                injection_date=None if inj.get("injection_date") is None else str(inj["injection_date"]),
                viral_injection_coordinates=position,
            )
            injections = OptogeneticVirusInjections(viral_vector_injections=[injection_obj])

    effector_obj = Effector(
        name="effector", label=effector, description=effector_description, viral_vector_injection=injection_obj
    )
    sites = OptogeneticSitesTable(description=f"The optogenetic stimulation site: {light_delivery}")
    sites.add_column(name="location", description="Stimulated brain area (Allen CCF acronym).")
    sites.add_column(name="light_delivery", description="How the light reached the brain.")
    row: dict[str, Any] = {"excitation_source": source, "effector": effector_obj, "location": location,
                           "light_delivery": light_delivery}
    if optical_fiber is not None:
        row["optical_fiber"] = optical_fiber
    sites.add_row(**row)
    meta = OptogeneticExperimentMetadata(
        stimulation_software=stimulation_software,
        optogenetic_sites_table=sites,
        optogenetic_effectors=OptogeneticEffectors(effectors=[effector_obj]),
        optogenetic_viruses=viruses,
        optogenetic_virus_injections=injections,
    )
    nwbfile.add_lab_meta_data(meta)
    return sites


def add_optogenetic_epochs(
    nwbfile: NWBFile,
    epochs: LightEpochs,
    sites: Any,
    *,
    description: str,
    power_in_mW: float | None,
    wavelength_in_nm: float,
    light_blocked: bool,
    pulse_length_ms: float | None,
    pulse_frequency_hz: float | None,
) -> Any:
    """Write ``intervals/optogenetic_epochs``; pulse parameters from the TTL where measured,
    else from the given ``pulse_length_ms`` / ``pulse_frequency_hz``, else continuous light."""
    from hdmf.common import DynamicTableRegion, VectorData, VectorIndex
    from ndx_optogenetics import OptogeneticEpochsTable

    n = len(epochs)
    duration_ms = (epochs.stop - epochs.start) * 1000.0
    measured = epochs.n_pulses > 0
    length = np.where(measured, epochs.pulse_length_ms, np.nan)
    period = np.where(measured, epochs.period_ms, np.nan)
    count = np.where(measured, epochs.n_pulses, 0).astype(np.int64)
    given = ~measured
    if pulse_length_ms is not None and pulse_frequency_hz:
        length[given] = pulse_length_ms
        period[given] = 1000.0 / pulse_frequency_hz
        count[given] = np.maximum(1, np.floor(duration_ms[given] / period[given] + 1e-9)).astype(np.int64)
    else:  # continuous light for the whole epoch
        length[given] = duration_ms[given]
        count[given] = 1
    power = np.full(n, np.nan if power_in_mW is None else float(power_in_mW))
    columns = [
        VectorData(name="start_time", description="Light epoch start (s).", data=epochs.start),
        VectorData(name="stop_time", description="Light epoch stop (s).", data=epochs.stop),
        VectorData(name="stimulation_on", description="Light was delivered in this epoch.", data=np.ones(n, dtype=bool)),
        VectorData(name="pulse_length_in_ms", description="Median pulse length (ms).", data=length),
        VectorData(name="period_in_ms", description="Median period between pulse starts (ms); NaN for one pulse.", data=period),
        VectorData(name="number_pulses_per_pulse_train", description="Pulses in the epoch's train.", data=count),
        VectorData(name="number_trains", description="Trains per epoch.", data=np.ones(n, dtype=np.int64)),
        VectorData(name="intertrain_interval_in_ms", description="One train per epoch: 0.", data=np.zeros(n)),
        VectorData(name="power_in_mW", description="Light power (mW); NaN when not given.", data=power),
        VectorData(name="wavelength_in_nm", description="Light wavelength (nm).", data=np.full(n, float(wavelength_in_nm))),
    ]
    region = DynamicTableRegion(
        name="optogenetic_sites", description="Rows of the OptogeneticSitesTable lit in this epoch.",
        data=np.zeros(n, dtype=np.int64), table=sites,
    )
    index = VectorIndex(name="optogenetic_sites_index", data=np.arange(1, n + 1, dtype=np.int64), target=region)
    columns += [region, index]
    columns += [
        VectorData(name="epoch_type", description=(
            "trial: a trial's Dispatcher 'opto_on' state; identification: a pulse train in the inter-trial "
            "interval ('iti2'); ttl: an Opto TTL pulse train with no Dispatcher state; given: passed in."),
            data=epochs.kind.astype(object)),
        VectorData(name="dispatcher_trial", description="Dispatcher trial number (1-based); -1 when none.",
                   data=epochs.trial_number),
        VectorData(name="pulses_measured", description=(
            "Pulse length, period and count were measured from the Opto TTL (else taken from the metadata, "
            "or continuous light for the whole epoch)."), data=measured),
        VectorData(name="light_blocked", description=(
            "Control: the light was delivered but blocked from the brain (e.g. window covered with opaque "
            "silicone)."), data=np.full(n, bool(light_blocked))),
    ]
    table = OptogeneticEpochsTable(name="optogenetic_epochs", description=description, columns=columns)
    nwbfile.add_time_intervals(table)
    return table
