"""Source kind ``optogenetics``: the light, the site, the effector, and the light epochs."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
from neuroconv import BaseDataInterface

from nwbmotor._errors import NwbMotorTypeError, NwbMotorValueError
from nwbmotor.converters.optogenetics._epochs import (
    LightEpochs,
    epochs_from_states,
    measure_epochs,
    pulse_trains,
)
from nwbmotor.converters.optogenetics._nwb import (
    FIBER_KEYS,
    INJECTION_KEYS,
    LIGHT_SOURCE_KEYS,
    VIRUS_KEYS,
    add_optogenetic_epochs,
    add_optogenetic_metadata,
    check_keys,
)

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["OptogeneticsInterface"]



class OptogeneticsInterface(BaseDataInterface):
    """Optogenetic metadata and light epochs (ndx-optogenetics).

    The metadata (site, effector, virus, light) come from the arguments (the spec's
    ``optogenetics:`` entry). The epochs come, in order of preference, from
    ``epoch_start_times``/``epoch_stop_times``; from the session's Dispatcher states
    (``opto_on`` per light trial; ``iti2`` pulse trains of identification sessions);
    or from the trains of the ``Opto`` TTL channel alone. When the TTL was recorded,
    every epoch's pulse length, period and count are measured from it. Inconsistencies
    (an Opto TTL without any Dispatcher opto state, light states without pulses, pulses
    outside any state) are warned about and recorded in the epochs table's description.

    Parameters
    ----------
    location : str, default "MOp"
        Stimulated area, Allen CCF acronym.
    effector : str, default "ChR2"
        The opsin.
    driver : str, optional
        The cell population expressing it, e.g. ``"PV-Cre"`` (Peters 2014) or
        ``"motor-thalamus axons"``.
    effector_description : str, optional
    wavelength_in_nm : float, default 473
    power_in_mW : float, optional
    light_source : dict, optional
        ``name``, ``manufacturer``, ``model_number``, ``source_type`` (default "laser"),
        ``description``.
    fiber : dict, optional
        ``name``, ``manufacturer``, ``numerical_aperture``, ``core_diameter_in_um``,
        ``description``; leave out when the light goes through the imaging window.
    window : str, optional
        How the light reaches the brain without a fiber (default: through the cranial window).
    virus : dict, optional
        ``construct_name``, ``manufacturer``, ``titer_in_vg_per_ml``, ``description``.
    injection : dict, optional
        ``volume_in_uL``, ``injection_date``, ``description``, ``coordinates``
        (``anatomical_target``, ``origin``, ``orientation``, ``x_in_mm``, ``y_in_mm``,
        ``z_in_mm``). Needs ``virus``.
    light_blocked : bool, default False
        Control sessions: light delivered onto a window covered with opaque silicone.
    identification : bool, optional
        An identification session (pulse trains in the ITI). Default: decided by whether
        Opto TTL pulses fall in ``iti2`` states.
    pulse_length_ms : float, optional
        Pulse length when no TTL was recorded (else continuous light per epoch).
    pulse_frequency_hz : float, optional
        Pulse rate when no TTL was recorded.
    epoch_start_times : array_like, optional
        Light epoch starts in session time, overriding the Dispatcher states.
    epoch_stop_times : array_like, optional
        Light epoch stops (with ``epoch_start_times``).
    pulse_rising_times : array_like, optional
        Opto TTL rising edges in session time, when no acquisition interface provides them.
    pulse_falling_times : array_like, optional
        Opto TTL falling edges (with ``pulse_rising_times``).
    ttl_channel : str, default "Opto"
    train_gap_s : float, default 0.5
        Pulses closer than this form one train (TTL-only epochs).
    stimulation_software : str, default "Dispatcher (BControl) state machine"
    verbose : bool, default False

    Examples
    --------
    >>> from nwbmotor.testing import mock_nwbfile
    >>> opto = OptogeneticsInterface(location="MOp", effector="ChR2", driver="PV-Cre interneurons",
    ...                              epoch_start_times=[10.0], epoch_stop_times=[11.0],
    ...                              pulse_length_ms=10.0, pulse_frequency_hz=20.0)
    >>> nwbfile = mock_nwbfile()
    >>> opto.add_to_nwbfile(nwbfile, {})
    >>> int(nwbfile.intervals["optogenetic_epochs"]["number_pulses_per_pulse_train"][0])
    20
    """

    display_name = "Optogenetics"
    keywords = ("optogenetics", "ChR2", "light")
    associated_suffixes = ()
    info = "Optogenetic stimulation metadata and light epochs for ndx-optogenetics."

    def __init__(
        self,
        *,
        location: str = "MOp",
        effector: str = "ChR2",
        driver: str | None = None,
        effector_description: str | None = None,
        wavelength_in_nm: float = 473.0,
        power_in_mW: float | None = None,
        light_source: dict[str, Any] | None = None,
        fiber: dict[str, Any] | None = None,
        window: str | None = None,
        virus: dict[str, Any] | None = None,
        injection: dict[str, Any] | None = None,
        light_blocked: bool = False,
        identification: bool | None = None,
        pulse_length_ms: float | None = None,
        pulse_frequency_hz: float | None = None,
        epoch_start_times: list[float] | None = None,
        epoch_stop_times: list[float] | None = None,
        pulse_rising_times: list[float] | None = None,
        pulse_falling_times: list[float] | None = None,
        ttl_channel: str = "Opto",
        train_gap_s: float = 0.5,
        stimulation_software: str = "Dispatcher (BControl) state machine",
        verbose: bool = False,
    ) -> None:
        for name, value in (("location", location), ("effector", effector)):
            if not isinstance(value, str) or not value.strip():
                raise NwbMotorValueError(f"optogenetics: {name} must be a non-empty string, got {value!r}")
        for name, value, low in (("wavelength_in_nm", wavelength_in_nm, 1e-9), ("power_in_mW", power_in_mW, 0.0),
                                 ("pulse_length_ms", pulse_length_ms, 1e-9),
                                 ("pulse_frequency_hz", pulse_frequency_hz, 1e-9), ("train_gap_s", train_gap_s, 0.0)):
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise NwbMotorTypeError(f"optogenetics: {name} must be a number, got {value!r}")
            if not (np.isfinite(value) and value >= low):
                raise NwbMotorValueError(f"optogenetics: {name} must be a finite number >= {low:g}, got {value!r}")
        if (epoch_start_times is None) != (epoch_stop_times is None):
            raise NwbMotorValueError("optogenetics: give both epoch_start_times and epoch_stop_times, or neither")
        if (pulse_rising_times is None) != (pulse_falling_times is None):
            raise NwbMotorValueError("optogenetics: give both pulse_rising_times and pulse_falling_times, or neither")
        if injection and not virus:
            raise NwbMotorValueError("optogenetics: an injection needs its virus (the 'virus' entry)")
        self.location = location
        self.effector = effector
        self.driver = driver
        self.effector_description = effector_description or (
            f"{effector} expressed in {driver}" if driver else f"{effector}"
        )
        self.wavelength_in_nm = float(wavelength_in_nm)
        self.power_in_mW = None if power_in_mW is None else float(power_in_mW)
        self.light_source = check_keys("light_source", light_source, LIGHT_SOURCE_KEYS)
        self.fiber = check_keys("fiber", fiber, FIBER_KEYS)
        self.virus = check_keys("virus", virus, VIRUS_KEYS, ("construct_name",))
        self.injection = check_keys("injection", injection, INJECTION_KEYS, ("volume_in_uL",))
        self.window = window
        self.light_blocked = bool(light_blocked)
        self.identification = identification
        self.pulse_length_ms = pulse_length_ms
        self.pulse_frequency_hz = pulse_frequency_hz
        self._given_epochs = None if epoch_start_times is None else (epoch_start_times, epoch_stop_times)
        self._given_ttl = None if pulse_rising_times is None else (pulse_rising_times, pulse_falling_times)
        self.ttl_channel = ttl_channel
        self.train_gap_s = float(train_gap_s)
        self.stimulation_software = stimulation_software
        self._dispatcher: Any = None
        self._acquisition: Any = None
        self._cache: tuple[LightEpochs | None, list[str]] | None = None
        super().__init__(verbose=verbose)

    # ---- session links
    def link_session(self, interfaces: Mapping[str, Any]) -> None:
        """Take the Dispatcher states (the interface providing ``trials``) and the Opto TTL (``ttl``)."""
        from nwbmotor.converters._session import provider

        trials = provider(interfaces, "trials", needed_by="optogenetics")
        self._dispatcher = trials if hasattr(trials, "trial_states") else None
        self._acquisition = provider(interfaces, "ttl", needed_by="optogenetics")
        self._cache = None

    def _ttl(self) -> tuple[np.ndarray, np.ndarray] | None:
        if self._given_ttl is not None:
            return tuple(np.asarray(v, dtype=np.float64) for v in self._given_ttl)  # type: ignore[return-value]
        acq = self._acquisition
        if acq is None or self.ttl_channel not in tuple(getattr(acq, "channel_names", lambda: ())()):
            return None
        return acq.ttl_pulses(self.ttl_channel)

    @property
    def light_delivery(self) -> str:
        if self.fiber:
            return self.fiber.get("description", f"optical fiber over {self.location}")
        return self.window or f"through the cranial window over {self.location}"

    def light_epochs(self) -> tuple[LightEpochs | None, list[str]]:
        """The light epochs and the notes (warnings) on how they were found.

        Returns
        -------
        epochs : LightEpochs or None
            None when nothing says when the light was on.
        notes : list of str
        """
        if self._cache is not None:
            return self._cache
        notes: list[str] = []
        ttl = self._ttl()
        rising, falling = ttl if ttl is not None else (None, None)
        src = f"channel {self.ttl_channel!r}"
        if self._given_epochs is not None:
            epochs, used = measure_epochs(*self._given_epochs, rising, falling, kind="given", source=src)
        elif self._dispatcher is not None:
            states = self._dispatcher.trial_states()
            on_a, on_b, on_t = epochs_from_states(states, "opto_on")
            it_a, it_b, it_t = epochs_from_states(states, "iti2")
            ident = self.identification
            if ident is None:  # identification: TTL pulses inside iti2 states
                ident = False
                if rising is not None and it_a.size and rising.size:
                    probe, _ = measure_epochs(it_a, it_b, rising, falling, source=src)
                    ident = bool((probe.n_pulses > 0).any())
            if ident:
                keep = np.ones(it_a.size, dtype=bool)
                if rising is not None:
                    probe, _ = measure_epochs(it_a, it_b, rising, falling, source=src)
                    keep = probe.n_pulses[np.argsort(np.argsort(it_a, kind="stable"), kind="stable")] > 0
                it_a, it_b, it_t = it_a[keep], it_b[keep], it_t[keep]
            else:
                it_a = it_b = np.zeros(0)
                it_t = np.zeros(0, dtype=np.int64)
            a = np.r_[on_a, it_a]
            b = np.r_[on_b, it_b]
            kinds = ["trial"] * on_a.size + ["identification"] * it_a.size
            trials = np.r_[on_t, it_t]
            epochs, used = measure_epochs(a, b, rising, falling, kind=kinds, trial_number=trials, source=src)
            if rising is not None and rising.size and on_a.size == 0 and it_a.size == 0:
                notes.append(
                    f"the Opto TTL has {rising.size} pulse(s) but the Dispatcher file has no 'opto_on' state "
                    "(nor 'iti2' pulse trains) in any trial; the epochs are the TTL's pulse trains and the trials' "
                    "opto flags (from the Dispatcher) are all False"
                )
            if rising is not None:
                empty = int(((epochs.n_pulses == 0) & (epochs.kind == "trial")).sum())
                if empty:
                    notes.append(
                        f"{empty} 'opto_on' epoch(s) have no Opto TTL pulse: the light may not have been delivered "
                        "(pulse parameters of those epochs are not measured)"
                    )
        else:
            epochs, used = None, None
        if rising is not None and rising.size:
            stray = ~used if used is not None and used.size else np.ones(rising.size, dtype=bool)
            if stray.any():
                ta, tb = pulse_trains(rising[stray], _falling_for(rising, falling)[stray],
                                      max_gap_s=self.train_gap_s, source=src)
                extra, _ = measure_epochs(ta, tb, rising, falling, kind="ttl", source=src)
                if epochs is not None and len(epochs):
                    notes.append(
                        f"{int(stray.sum())} Opto TTL pulse(s) in {len(extra)} train(s) fall outside every light "
                        "state of the Dispatcher file; kept as epochs of type 'ttl'"
                    )
                epochs = extra if epochs is None else _concat(epochs, extra)
        for n in notes:
            warnings.warn(f"optogenetics: {n}", UserWarning, stacklevel=2)
        self._cache = (epochs, notes)
        return self._cache

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, **conversion_options: Any) -> None:
        """Add ``OptogeneticExperimentMetadata`` and, when known, ``intervals/optogenetic_epochs``."""
        sites = add_optogenetic_metadata(
            nwbfile,
            location=self.location,
            effector=self.effector,
            effector_description=self.effector_description,
            wavelength_in_nm=self.wavelength_in_nm,
            power_in_mW=self.power_in_mW,
            light_source=self.light_source,
            fiber=self.fiber or None,
            light_delivery=self.light_delivery,
            virus=self.virus or None,
            injection=self.injection or None,
            stimulation_software=self.stimulation_software,
        )
        epochs, notes = self.light_epochs()
        if epochs is None or len(epochs) == 0:
            return
        text = (
            f"Light epochs ({self.wavelength_in_nm:g} nm, {self.effector_description}, {self.light_delivery}). "
            "Pulse length, period and count are measured from the Opto TTL where it was recorded "
            "(column pulses_measured)."
        )
        if self.light_blocked:
            text += " Control session: the light was blocked from the brain (column light_blocked)."
        if notes:
            text += " Warnings: " + " | ".join(notes)
        add_optogenetic_epochs(
            nwbfile, epochs, sites, description=text, power_in_mW=self.power_in_mW,
            wavelength_in_nm=self.wavelength_in_nm, light_blocked=self.light_blocked,
            pulse_length_ms=self.pulse_length_ms, pulse_frequency_hz=self.pulse_frequency_hz,
        )


def _falling_for(rising: np.ndarray, falling: np.ndarray) -> np.ndarray:
    """Falling edge paired with each rising edge (NaN-free; a pulse still high at the end ends at its rise)."""
    f = falling[falling >= rising[0]] if rising.size else falling
    out = np.array(rising, dtype=np.float64)
    k = min(out.size, f.size)
    out[:k] = f[:k]
    return out


def _concat(a: LightEpochs, b: LightEpochs) -> LightEpochs:
    fields = ("start", "stop", "kind", "trial_number", "n_pulses", "pulse_length_ms", "period_ms")
    merged = {k: np.concatenate([getattr(a, k), getattr(b, k)]) for k in fields}
    order = np.argsort(merged["start"], kind="stable")
    return LightEpochs(**{k: v[order] for k, v in merged.items()})
