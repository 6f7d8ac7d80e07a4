"""Source kind ``model``: the outputs of a network model, in one of several formats.

Spec entry::

    sources:
      model: {file_path: runs/seed3.npz, format: npz}          # + seed3.json beside
      model: {file_path: stroud/net.mat, format: stroud-mat, tau: 0.2}
      model: {file_path: feulner/sim.npy, format: feulner-pickle}
      model: {file_path: feulner/model.pt, format: torch, task_path: feulner/sim.npy}

Every format is read into a :class:`nwbmotor.models.ModelSession` at construction
(so bad input fails before anything is written) and written with
:func:`nwbmotor.models.add_model_session`: trials end to end in ``intervals/trials``,
units, rates, outputs, targets, inputs, network snapshots and training log in
``processing/model``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from neuroconv import BaseDataInterface

from nwbmotor._errors import NwbMotorError, NwbMotorValueError

if TYPE_CHECKING:
    from pynwb import NWBFile

__all__ = ["FORMATS", "ModelOutputInterface"]

FORMATS = ("npz", "hdf5", "stroud-mat", "feulner-pickle", "torch")


class ModelOutputInterface(BaseDataInterface):
    """Outputs of a network model: units, rates, outputs, targets, inputs, weights, trials.

    Parameters
    ----------
    file_path : path
        The model file.
    format : {"npz", "hdf5", "stroud-mat", "feulner-pickle", "torch"}
        Layout of the file (see ``formats.md``, "Model outputs"):

        - ``npz`` / ``hdf5``: named arrays ``rates[trial, time, unit]``, ``outputs``,
          ``targets``, ``inputs``, ``W_*`` weights, with a metadata JSON/YAML beside
          (``<stem>.json``) giving at least ``dt``;
        - ``stroud-mat``: ``W_rec``, ``initial_cond``, ``readout``, ``initial_target``,
          ``novel_target`` (the network is integrated to get its activity);
        - ``feulner-pickle``: a Feulner-style dictionary (``np.save`` or pickle), read
          with a restricted unpickler that refuses anything but plain data;
        - ``torch``: a PyTorch state dict (``weights_only=True``; needs torch), with the
          task from ``task_path`` (a Feulner-style dictionary).
    metadata_path : path, optional
        Metadata JSON/YAML of ``npz``/``hdf5`` files, if not beside the file.
    task_path : path, optional
        For ``torch``: the Feulner-style dictionary with params, target, stimulus, test set.
    dt : float, optional
        Step in s, overriding the file's (``stroud-mat``: 0.5 s / number of target samples).
    tau : float, optional
        Time constant in s, overriding the file's (``stroud-mat``: 0.2 s).
    model : str, optional
        Model name overriding the file's.

    Raises
    ------
    NwbMotorValueError
        Unknown format; a file that does not follow its layout (the message names the
        file, the field, expected and got); weights inconsistent with the unit counts;
        non-finite weights; targets whose length differs from the number of steps; an
        unknown nonlinearity; a pickle asking for code; a torch file without torch.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from nwbmotor.testing import write_model_npz
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.npz"
    >>> _ = write_model_npz(path)
    >>> ModelOutputInterface(path, format="npz").session.n_trials
    8
    """

    display_name = "Network model outputs"
    keywords = ("network model", "RNN", "simulation")
    associated_suffixes = (".npz", ".h5", ".hdf5", ".mat", ".npy", ".pkl", ".pt", ".pth")
    info = "Outputs and parameters of a recurrent network model (NPZ/HDF5, Stroud MAT, Feulner pickle, PyTorch)."

    def __init__(
        self,
        file_path: str | Path,
        *,
        format: Literal["npz", "hdf5", "stroud-mat", "feulner-pickle", "torch"],
        metadata_path: str | Path | None = None,
        task_path: str | Path | None = None,
        dt: float | None = None,
        tau: float | None = None,
        model: str | None = None,
        verbose: bool = False,
    ) -> None:
        super().__init__(verbose=verbose, file_path=file_path)
        self.file_path = Path(file_path)
        if format not in FORMATS:
            raise NwbMotorValueError(f"{self.file_path}: format expected one of {list(FORMATS)}, got {format!r}")
        self.format = format
        try:
            self.session = self._read(
                metadata_path=None if metadata_path is None else Path(metadata_path),
                task_path=None if task_path is None else Path(task_path), dt=dt, tau=tau,
            )
        except NwbMotorError as exc:
            if str(self.file_path) in str(exc):
                raise
            raise type(exc)(f"{self.file_path}: {exc}") from None
        if model is not None:
            self.session.model = model

    def _read(self, *, metadata_path: Path | None, task_path: Path | None, dt: float | None, tau: float | None):
        path = self.file_path
        if self.format in ("npz", "hdf5"):
            from nwbmotor.converters.model._npz_reader import read_generic

            return read_generic(path, self.format, metadata_path, dt=dt, tau=tau)
        if self.format == "stroud-mat":
            from nwbmotor.converters.model._stroud_mat_reader import read_stroud_mat

            return read_stroud_mat(path, tau=0.2 if tau is None else tau, dt=dt)
        if self.format == "feulner-pickle":
            from nwbmotor.converters.model._feulner_reader import read_feulner

            return read_feulner(path)
        from nwbmotor.converters.model._feulner_reader import read_feulner
        from nwbmotor.converters.model._torch_reader import load_state_dict

        weights = load_state_dict(path)
        if task_path is None:
            raise NwbMotorValueError(
                f"{path}: format 'torch' holds only weights; pass task_path= (a Feulner-style dictionary with "
                "params, target, stimulus and test_set)"
            )
        return read_feulner(task_path, weights=weights)

    def get_metadata(self) -> dict:
        from neuroconv.utils import dict_deep_update

        from nwbmotor.converters.model._nwb import model_metadata

        meta = model_metadata(self.session)
        meta["NWBFile"].pop("identifier")
        return dict_deep_update(super().get_metadata(), meta)

    def add_to_nwbfile(self, nwbfile: NWBFile, metadata: dict | None = None, **conversion_options: Any) -> None:
        """Add the trials and ``processing/model`` (see :mod:`nwbmotor.converters.model._nwb`)."""
        from nwbmotor.converters.model._nwb import add_model_session

        add_model_session(nwbfile, self.session)
