"""Build the ndx-motor-learning spec YAML: the source of truth for the extension.

Run ``python create_extension_spec.py [OUTPUT_DIR]`` after changing any ``spec_*.py``
module beside this file; it rewrites ``spec/`` (or OUTPUT_DIR). The generated YAML is
committed, and a test regenerates it and fails on any difference.

The types are grouped by domain, one module each:

- ``spec_behavior.py`` — lever task and detected movements;
- ``spec_imaging.py`` — cross-session cell registration and dendritic spines;
- ``spec_model.py`` — recurrent network models, their units, rates and training.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from pynwb.spec import NWBNamespaceBuilder, export_spec

NAME = "ndx-motor-learning"
VERSION = "0.1.0"
HERE = Path(__file__).resolve().parent
TYPE_MODULES = ("spec_behavior", "spec_imaging", "spec_model")


def _load(module_name: str):
    spec = importlib.util.spec_from_file_location(module_name, HERE / f"{module_name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build(output_dir: Path) -> None:
    """Write ``ndx-motor-learning.namespace.yaml`` and ``.extensions.yaml`` to ``output_dir``."""
    ns_builder = NWBNamespaceBuilder(
        name=NAME,
        version=VERSION,
        doc=(
            "Types for motor-learning experiments and models: the lever-press task, "
            "detected movements, cross-session cell identity, dendritic spine dynamics "
            "and recurrent network models."
        ),
        author=["nwbmotor developers"],
        contact=["nwbmotor@users.noreply.github.com"],
    )
    ns_builder.include_namespace("core")
    new_data_types = []
    for module_name in TYPE_MODULES:
        module = _load(module_name)
        for type_name in module.CORE_TYPES:
            ns_builder.include_type(type_name, namespace="core")
        new_data_types.extend(module.data_types())
    output_dir.mkdir(parents=True, exist_ok=True)
    export_spec(ns_builder, new_data_types, str(output_dir))


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "spec")
