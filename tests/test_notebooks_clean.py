"""Committed notebooks: outputs stripped, and no logic in the cells.

A dashboard notebook (``dashboards/``) is imports, parameters and one factory
call, so its cells hold no ``def``, ``class``, loop, comprehension or pandas
wrangling. A coordinator's notebook (``notebooks/``) calls into apkit, so it holds
no ``def``, ``class`` or loop either, but may read a table's columns.
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from tests.conftest import ROOT

DASHBOARDS = sorted((ROOT / "dashboards").glob("*.ipynb"))
COORDINATOR_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
ALL_NOTEBOOKS = DASHBOARDS + COORDINATOR_NOTEBOOKS

# Methods that reshape a table: a cell calling one is doing the module's work.
WRANGLING_METHODS = {
    "agg",
    "apply",
    "assign",
    "concat",
    "drop",
    "dropna",
    "fillna",
    "groupby",
    "iloc",
    "join",
    "loc",
    "melt",
    "merge",
    "pivot",
    "pivot_table",
    "query",
    "rename",
    "reset_index",
    "set_index",
    "sort_values",
    "stack",
    "unstack",
}
LOGIC_NODES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.Lambda,
)
COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _code_cells(path: Path) -> list[nbformat.NotebookNode]:
    notebook = nbformat.read(path, as_version=4)
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _label(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _logic_in(source: str) -> list[str]:
    """Return a description of each forbidden construct in one cell's source."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, LOGIC_NODES):
            found.append(f"{type(node).__name__} at line {node.lineno}")
    return found


def _wrangling_in(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, COMPREHENSIONS):
            found.append(f"{type(node).__name__} at line {node.lineno}")
        if isinstance(node, ast.Attribute) and node.attr in WRANGLING_METHODS:
            found.append(f".{node.attr} at line {node.lineno}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            modules = [alias.name for alias in node.names]
            if isinstance(node, ast.ImportFrom):
                modules.append(node.module or "")
            if any(name.split(".")[0] == "pandas" for name in modules):
                found.append(f"pandas import at line {node.lineno}")
    return found


def test_notebooks_exist():
    assert len(DASHBOARDS) >= 2, "dashboards/ should hold the Voilà pages"
    assert len(COORDINATOR_NOTEBOOKS) == 4, "notebooks/ should hold 01 to 04"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_label)
def test_notebook_valid_with_python3_kernel(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_label)
def test_notebook_outputs_stripped(path):
    for index, cell in enumerate(_code_cells(path)):
        assert cell.outputs == [], f"{_label(path)}: code cell {index} has outputs"
        assert cell.execution_count is None, (
            f"{_label(path)}: code cell {index} has an execution count"
        )


@pytest.mark.parametrize("path", ALL_NOTEBOOKS, ids=_label)
def test_notebook_cells_hold_no_logic(path):
    for index, cell in enumerate(_code_cells(path)):
        assert _logic_in(cell.source) == [], f"{_label(path)}: code cell {index}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=_label)
def test_dashboard_cells_hold_no_wrangling(path):
    for index, cell in enumerate(_code_cells(path)):
        assert _wrangling_in(cell.source) == [], f"{_label(path)}: code cell {index}"


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def f():\n    pass", ["FunctionDef at line 1"]),
        ("class A:\n    pass", ["ClassDef at line 1"]),
        ("for x in y:\n    print(x)", ["For at line 1"]),
        ("while True:\n    break", ["While at line 1"]),
        ("key = lambda row: row", ["Lambda at line 1"]),
        ("page = build(store)\npage", []),
    ],
)
def test_logic_detector_cases(source, expected):
    assert _logic_in(source) == expected


@pytest.mark.parametrize(
    "source, expected",
    [
        ("table = df.groupby('a').sum()", [".groupby at line 1"]),
        ("rows = [r for r in rows]", ["ListComp at line 1"]),
        ("import pandas as pd", ["pandas import at line 1"]),
        ("from pandas import DataFrame", ["pandas import at line 1"]),
        ("from apkit.widgets import listes\nlistes.build()", []),
    ],
)
def test_wrangling_detector_cases(source, expected):
    assert _wrangling_in(source) == expected
