"""Package discovery for the mapped folders.

``converters/`` and ``extensions/`` live at the top of the repository but install as
``nwbmotor.converters`` and ``nwbmotor.extensions`` (``package-dir`` in pyproject.toml).
setuptools cannot rename what ``packages.find`` discovers, so the sub-packages are
listed here, prefixed with their installed name. Everything else is in pyproject.toml.
"""

from setuptools import find_packages, setup


def _mapped(folder: str, name: str) -> list[str]:
    return [name] + [f"{name}.{sub}" for sub in find_packages(folder)]


setup(
    packages=find_packages(include=["nwbmotor", "nwbmotor.*"])
    + _mapped("converters", "nwbmotor.converters")
    + _mapped("extensions", "nwbmotor.extensions"),
)
