"""Charts: the data each figure draws, its French labels, files, and no leaks."""

from __future__ import annotations

import gc
import subprocess
import sys
import tracemalloc

import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from sqlalchemy import select

from apkit import charts, reports, stats
from apkit.exports.figures import write_period_charts
from apkit.model import Student
from apkit.store import Store
from tests.conftest import ROOT, new_database_url
from tests.report_school import allocated_sample_school, build_report_school


@pytest.fixture
def school(database_store):
    return database_store, build_report_school(database_store)


def _tick_labels(axis) -> list[str]:
    return [label.get_text() for label in axis.get_ticklabels()]


def _widths(container) -> list[float]:
    return [bar.get_width() for bar in container]


def _heights(container) -> list[float]:
    return [bar.get_height() for bar in container]


def test_fill_rate_chart_bars(school):
    store, _ids = school
    fill = stats.fill_rates(store, "P1")
    figure = charts.fill_rate_chart(fill)
    axes = figure.axes[0]
    places, enrolled = axes.containers
    assert _widths(places) == [4, 3, 3, 4, 4]
    assert _widths(enrolled) == [3, 3, 2, 4, 0]
    # The first activity is drawn at the top, at the highest position.
    assert [bar.get_y() for bar in places] == sorted(bar.get_y() for bar in places)[
        ::-1
    ]
    assert _tick_labels(axes.yaxis) == [
        "A · H1 · Débat et argumentation",
        "A · H1 · Méthodologie",
        "A · H1 et 2 · Projet radio…",
        "A · H2 · Choisir ses spécialités",
        "A · H2 · Théâtre",
    ]
    minimum = axes.lines[0]
    assert list(minimum.get_xdata()) == [2, 2, 1, 2, 3]
    assert axes.get_title() == "Remplissage des ateliers"
    assert axes.get_xlabel() == "Élèves"


def test_fill_rate_chart_closed_activity(school):
    store, _ids = school
    figure = charts.fill_rate_chart(stats.fill_rates(store, "P1"))
    axes = figure.axes[0]
    closed_bar = axes.containers[0][4]  # Théâtre, the last row
    assert closed_bar.get_hatch() == "xx"
    assert to_hex(closed_bar.get_facecolor()) == charts.CLOSED_COLOUR.lower()
    notes = [text.get_text() for text in axes.texts]
    assert notes == ["3/4", "3/3", "2/3", "4/4", "fermé"]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == [
        "Effectif minimum",
        "Places",
        "Inscrits",
        "Fermé (effectif minimum non atteint)",
    ]


def test_block_fill_chart_bars(school):
    store, _ids = school
    figure = charts.block_fill_chart(stats.block_fill(store, "P1"))
    axes = figure.axes[0]
    students, places, enrolled = axes.containers
    assert _heights(students) == [10, 10]
    assert _heights(places) == [10, 7]
    assert _heights(enrolled) == [8, 6]
    assert _tick_labels(axes.xaxis) == ["Barrette A\nheure 1", "Barrette A\nheure 2"]
    hatches = [bar.get_hatch() or "" for bar in (students[0], places[0], enrolled[0])]
    assert hatches == ["", "//", ".."]


def test_demand_chart_bars(school):
    store, _ids = school
    figure = charts.demand_chart(stats.fill_rates(store, "P1"))
    axes = figure.axes[0]
    first_choices, places = axes.containers
    assert _widths(first_choices) == [2, 1, 5, 2, 3]
    assert _widths(places) == [4, 3, 3, 4, 4]
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == ["Premiers vœux", "Places"]


def test_satisfaction_chart_segments(school):
    store, _ids = school
    shares = stats.satisfaction_shares(stats.satisfaction(store))
    figure = charts.satisfaction_chart(shares)
    axes = figure.axes[0]
    assert len(axes.containers) == len(stats.OUTCOMES)
    first_outcome = axes.containers[0]
    assert [round(w, 4) for w in _widths(first_outcome)] == [0.4, 0.1]
    unplaced = axes.containers[-1]
    assert [round(bar.get_x(), 4) for bar in unplaced] == [0.7, 0.2]
    assert [round(w, 4) for w in _widths(unplaced)] == [0.3, 0.8]
    assert _tick_labels(axes.yaxis) == ["P1", "P2"]
    assert first_outcome[0].get_y() > first_outcome[1].get_y()  # P1 at the top
    legend = [text.get_text() for text in figure.legends[0].get_texts()]
    assert legend == stats.OUTCOMES
    assert "40 %" in [text.get_text() for text in axes.texts]


def test_student_history_chart_cells(school):
    store, ids = school
    history = reports.student_history_frame(store, ids["students"]["zola"])
    figure = charts.student_history_chart(history)
    axes = figure.axes[0]
    cells = [patch for patch in axes.patches if patch.get_gid()]
    assert [cell.get_gid() for cell in cells] == [
        "soutien", "non inscrit", "soutien", "orientation"
    ]  # fmt: skip
    assert [text.get_text() for text in axes.texts] == [
        "Méthodologie",
        "non inscrit",
        "Remise à niveau",
        "Métiers du soin",
    ]
    assert _tick_labels(axes.xaxis) == ["P1", "P2"]
    assert _tick_labels(axes.yaxis) == ["Heure 1", "Heure 2"]
    assert axes.get_title() == "Parcours d'AP : ZOLA +33"


def test_unplaced_by_class_chart_bars(school):
    store, _ids = school
    figure = charts.unplaced_by_class_chart(stats.unplaced_by_class(store, "P1"))
    axes = figure.axes[0]
    first_slot, second_slot = axes.containers
    assert _heights(first_slot) == [0, 2]
    assert _heights(second_slot) == [1, 3]
    assert _tick_labels(axes.xaxis) == ["2de1", "2de2"]
    assert axes.get_ylabel() == "Élèves non inscrits"


def test_charts_accept_empty_frames():
    empty_fill = pd.DataFrame(columns=stats.FILL_COLUMNS)
    for figure in (
        charts.fill_rate_chart(empty_fill),
        charts.demand_chart(empty_fill),
    ):
        assert isinstance(figure, Figure)


def test_save_figure_png_and_svg(school, tmp_path):
    store, _ids = school
    figure = charts.block_fill_chart(stats.block_fill(store, "P1"))
    png = charts.save_figure(figure, tmp_path / "barrettes.png")
    svg = charts.save_figure(figure, tmp_path / "barrettes.svg")
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    text = svg.read_text(encoding="utf-8")
    assert "<svg" in text
    assert "<dc:date>" not in text


def test_save_figure_unknown_format(tmp_path):
    with pytest.raises(ValueError, match="Format d'image « .gif » non pris en charge"):
        charts.save_figure(Figure(), tmp_path / "x.gif")
    assert not (tmp_path / "x.gif").exists()


def _chart_builders(store, ids) -> list:
    fill = stats.fill_rates(store, "P1")
    blocks = stats.block_fill(store, "P1")
    shares = stats.satisfaction_shares(stats.satisfaction(store))
    history = reports.student_history_frame(store, ids["students"]["dupont"])
    unplaced = stats.unplaced_by_class(store, "P1")
    return [
        lambda: charts.fill_rate_chart(fill),
        lambda: charts.demand_chart(fill),
        lambda: charts.block_fill_chart(blocks),
        lambda: charts.satisfaction_chart(shares),
        lambda: charts.student_history_chart(history),
        lambda: charts.unplaced_by_class_chart(unplaced),
    ]


def _live_figures() -> int:
    gc.collect()
    return sum(isinstance(obj, Figure) for obj in gc.get_objects())


def test_redraws_leave_no_figure_open(school):
    store, ids = school
    builders = _chart_builders(store, ids)
    for build in builders:
        build().canvas.draw()
    before = _live_figures()
    tracemalloc.start()
    for redraw in range(30):
        builders[redraw % len(builders)]().canvas.draw()
        if redraw == len(builders) - 1:
            gc.collect()
            baseline, _peak = tracemalloc.get_traced_memory()
    gc.collect()
    current, _peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert plt.get_fignums() == []
    assert _live_figures() <= before
    # Figures form reference cycles, so they are freed by the collector. What
    # stays is matplotlib's caches, a few kB per redraw here.
    assert current - baseline < 1_000_000


def test_domain_modules_do_not_import_matplotlib():
    code = (
        "import sys, apkit.reports, apkit.stats, apkit.exports; "
        "print(any(m.startswith('matplotlib') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_charts_module_does_not_import_pyplot():
    code = "import sys, apkit.charts; print('matplotlib.pyplot' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory):
    store = Store(new_database_url(tmp_path_factory.mktemp("sample")))
    allocated_sample_school(store)
    yield store
    store.dispose()


def test_sample_school_period_1_charts(sample_store):
    # The images stay in tests/output/charts/ (git-ignored) for a person to look at.
    folder = ROOT / "tests" / "output" / "charts"
    for old in folder.glob("*.png"):
        old.unlink()
    with sample_store.read() as session:
        first_student = session.scalar(select(Student.id).order_by(Student.last_name))
    files = write_period_charts(sample_store, "P1", folder, student_ids=[first_student])
    assert sorted(p.name for p in files) == sorted(p.name for p in folder.glob("*.png"))
    assert [p.name for p in files][:-1] == [
        "remplissage_P1_A.png",
        "demande_P1_A.png",
        "remplissage_P1_B.png",
        "demande_P1_B.png",
        "remplissage_P1_C.png",
        "demande_P1_C.png",
        "barrettes_P1.png",
        "satisfaction_P1.png",
        "non_inscrits_P1.png",
    ]
    assert files[-1].name.startswith("parcours_")
    for path in files:
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), path.name


def test_sample_school_block_fill_chart(sample_store):
    fill = stats.block_fill(sample_store, "P1")
    figure = charts.block_fill_chart(fill)
    students, places, enrolled = figure.axes[0].containers
    assert _heights(students) == [118, 118, 117, 117, 125, 125]
    assert _heights(places) == [125, 134, 130, 131, 131, 120]
    # Block C, hour 2 offers 120 places for 125 students: 5 stay unplaced.
    assert _heights(enrolled)[-1] == 120
    assert fill["Non inscrits"].tolist() == [0, 0, 0, 0, 0, 5]


def test_sample_school_unplaced_chart(sample_store):
    table = stats.unplaced_by_class(sample_store, "P1")
    figure = charts.unplaced_by_class_chart(table)
    first_slot, second_slot = figure.axes[0].containers
    assert _tick_labels(figure.axes[0].xaxis) == [f"2de{n}" for n in range(1, 13)]
    assert sum(_heights(first_slot)) == 0
    assert sum(_heights(second_slot)) == 5
