"""Packaging: pyproject.toml and environment.yml agree, and the public API resolves."""

from __future__ import annotations

import re
import tomllib

import yaml

import apkit
from tests.conftest import ROOT

# conda-forge names that differ from the PyPI distribution names.
CONDA_NAMES = {"psycopg[binary]": "psycopg"}


def _name(requirement: str) -> str:
    requirement = CONDA_NAMES.get(re.split(r"[<>=!~ ]", requirement)[0], requirement)
    return re.split(r"[<>=!~ \[]", requirement)[0].lower()


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_name(r) for r in requirements}


def _environment_requirements() -> set[str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = {_name(d) for d in environment["dependencies"] if isinstance(d, str)}
    return names - {"python", "pip"}


def test_environment_matches_pyproject():
    assert _environment_requirements() == _pyproject_requirements()


def test_public_api_resolves():
    for name in apkit.__all__:
        assert getattr(apkit, name) is not None, name
