"""Generators of realistic test data, public so that users can test their pipelines too.

Every generator writes files in the exact layout of the lab's formats (see the
project's formats documentation) or builds in-memory objects, and returns the truth it
planted beside the files, so that readers and analyses are tested against known
answers. Nothing here is needed at run time by the rest of nwbmotor.

Names are imported on first use, so ``import nwbmotor.testing`` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nwbmotor._lazy import attach

if TYPE_CHECKING:
    from nwbmotor.sharing._inspect import (
        assert_valid_nwb,
    )
    from nwbmotor.testing._calcium import (
        gcamp_kernel,
        gcamp_trace,
        raw_traces,
    )
    from nwbmotor.testing._demo import (
        DemoDataset,
        DemoSessionTruth,
        write_demo_dataset,
    )
    from nwbmotor.testing._foreign import (
        write_foreign_ophys_session,
    )
    from nwbmotor.testing._http import (
        ServedFiles,
        serve_files,
    )
    from nwbmotor.testing._imaging import (
        ScanImageSession,
        SyntheticMovie,
        si4_header,
        write_scanimage_session,
        write_tiff_movie,
        write_tiff_pages,
    )
    from nwbmotor.testing._lever import (
        LeverTruth,
        synthesize_lever_trace,
    )
    from nwbmotor.testing._matv5 import (
        MatlabClassObject,
        savemat_with_objects,
    )
    from nwbmotor.testing._models import (
        make_stroud_network,
        mock_model_session,
        write_feulner_pickle,
        write_hostile_pickle,
        write_model_hdf5,
        write_model_npz,
        write_stroud_mat,
    )
    from nwbmotor.testing._nwbfile import (
        mock_metadata,
        mock_nwbfile,
    )
    from nwbmotor.testing._planted import (
        planted_learning,
        planted_session,
    )
    from nwbmotor.testing._planted_inputs import (
        planted_boutons,
        planted_spines,
    )
    from nwbmotor.testing._reaching import (
        ReachingSessionTruth,
        write_long_lever_session,
        write_reaching_session,
    )
    from nwbmotor.testing._rig import (
        RigSessionTruth,
        bitcode_trace,
        write_rig_session,
    )
    from nwbmotor.testing._segmentation import (
        make_cell_field,
        make_registration_sessions,
        render_session,
        simulate_calcium_traces,
        write_lab_roi_session,
        write_registration_table,
        write_roi_dff_file,
        write_roi_file,
        write_roilabel_file,
        write_spine_table,
        write_suite2p_plane,
    )
    from nwbmotor.testing._sessions import (
        VIEW_TOLERANCES,
        LabSessionTruth,
        assert_view_matches,
        convert_lab_files,
        expected_view,
        simulate_model_session,
        view_differences,
        write_lab_files,
        write_lab_session,
        write_lab_sessions,
        write_model_session_file,
    )

__all__: list[str]
__getattr__, __dir__, __all__ = attach(
    __name__,
    {
        # checks
        "assert_valid_nwb": "nwbmotor.sharing._inspect",
        "mock_metadata": "nwbmotor.testing._nwbfile",
        "mock_nwbfile": "nwbmotor.testing._nwbfile",
        # imaging movies (nwbmotor/testing/_imaging.py)
        "ScanImageSession": "nwbmotor.testing._imaging",
        "SyntheticMovie": "nwbmotor.testing._imaging",
        "si4_header": "nwbmotor.testing._imaging",
        "write_scanimage_session": "nwbmotor.testing._imaging",
        "write_tiff_movie": "nwbmotor.testing._imaging",
        "write_tiff_pages": "nwbmotor.testing._imaging",
        # segmentation, cell labels, registration, spines (nwbmotor/testing/_segmentation.py)
        "make_cell_field": "nwbmotor.testing._segmentation",
        "make_registration_sessions": "nwbmotor.testing._segmentation",
        "render_session": "nwbmotor.testing._segmentation",
        "simulate_calcium_traces": "nwbmotor.testing._segmentation",
        "write_lab_roi_session": "nwbmotor.testing._segmentation",
        "write_registration_table": "nwbmotor.testing._segmentation",
        "write_roi_dff_file": "nwbmotor.testing._segmentation",
        "write_roi_file": "nwbmotor.testing._segmentation",
        "write_roilabel_file": "nwbmotor.testing._segmentation",
        "write_spine_table": "nwbmotor.testing._segmentation",
        "write_suite2p_plane": "nwbmotor.testing._segmentation",
        # behaviour rig: Ephus, Dispatcher, bitcodes, frames, opto (nwbmotor/testing/_rig.py)
        "MatlabClassObject": "nwbmotor.testing._matv5",
        "RigSessionTruth": "nwbmotor.testing._rig",
        "bitcode_trace": "nwbmotor.testing._rig",
        "savemat_with_objects": "nwbmotor.testing._matv5",
        "write_rig_session": "nwbmotor.testing._rig",
        "LeverTruth": "nwbmotor.testing._lever",
        "synthesize_lever_trace": "nwbmotor.testing._lever",
        # network models (nwbmotor/testing/_models.py)
        "mock_model_session": "nwbmotor.testing._models",
        "write_feulner_pickle": "nwbmotor.testing._models",
        "write_hostile_pickle": "nwbmotor.testing._models",
        "write_model_hdf5": "nwbmotor.testing._models",
        "write_model_npz": "nwbmotor.testing._models",
        "make_stroud_network": "nwbmotor.testing._models",
        "write_stroud_mat": "nwbmotor.testing._models",
        # the built-in example of `nwbmotor demo` (nwbmotor/testing/_demo.py)
        "DemoDataset": "nwbmotor.testing._demo",
        "DemoSessionTruth": "nwbmotor.testing._demo",
        "write_demo_dataset": "nwbmotor.testing._demo",
        # one planted lab session: raw lab files, NWB by the converters, the expected view (_sessions.py)
        "VIEW_TOLERANCES": "nwbmotor.testing._sessions",
        "LabSessionTruth": "nwbmotor.testing._sessions",
        "assert_view_matches": "nwbmotor.testing._sessions",
        "view_differences": "nwbmotor.testing._sessions",
        "convert_lab_files": "nwbmotor.testing._sessions",
        "expected_view": "nwbmotor.testing._sessions",
        "simulate_model_session": "nwbmotor.testing._sessions",
        "write_foreign_ophys_session": "nwbmotor.testing._foreign",
        "write_lab_files": "nwbmotor.testing._sessions",
        "write_lab_session": "nwbmotor.testing._sessions",
        "write_lab_sessions": "nwbmotor.testing._sessions",
        "write_model_session_file": "nwbmotor.testing._sessions",
        # the one calcium model: GCaMP transients, Suite2p-like raw traces (nwbmotor/testing/_calcium.py)
        "gcamp_kernel": "nwbmotor.testing._calcium",
        "gcamp_trace": "nwbmotor.testing._calcium",
        "raw_traces": "nwbmotor.testing._calcium",
        # in-memory session views with planted truth, for the analyses (nwbmotor/testing/_planted.py)
        "planted_learning": "nwbmotor.testing._planted",
        "planted_session": "nwbmotor.testing._planted",
        # planted input boutons and spine turnover (nwbmotor/testing/_planted_inputs.py)
        "planted_boutons": "nwbmotor.testing._planted_inputs",
        "planted_spines": "nwbmotor.testing._planted_inputs",
        # spike-sorted reaching sessions, long lever sessions, a loopback HTTP server (clock issue)
        "ReachingSessionTruth": "nwbmotor.testing._reaching",
        "write_reaching_session": "nwbmotor.testing._reaching",
        "write_long_lever_session": "nwbmotor.testing._reaching",
        "ServedFiles": "nwbmotor.testing._http",
        "serve_files": "nwbmotor.testing._http",
    },
)
