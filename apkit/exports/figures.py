"""Chart files of a period: computes the statistics and saves every chart."""

from __future__ import annotations

import logging
from pathlib import Path

from apkit import charts, reports, stats
from apkit.exports.safety import path_inside, safe_filename
from apkit.store import Store

log = logging.getLogger(__name__)


def write_period_charts(
    store: Store,
    period_code: str,
    folder: str | Path,
    *,
    file_format: str = "png",
    student_ids: list[int] | None = None,
) -> list[Path]:
    """Save every chart of a period into ``folder`` and return the files written.

    Files: ``remplissage_<période>_<barrette>``, ``demande_<période>_<barrette>``
    (one per block), ``barrettes_<période>``, ``satisfaction_<période>`` (every
    period of the year up to this one), ``non_inscrits_<période>`` and, for each
    student of ``student_ids``, ``parcours_<nom>_<prénom>``.

    Raises
    ------
    NotFoundError
        If the period or a student is unknown.
    ValueError
        If ``file_format`` is not ``"png"`` or ``"svg"``.
    """
    if file_format not in charts.SAVE_FORMATS:
        raise ValueError(
            f"Format d'image « {file_format} » non pris en charge ; attendu : png, svg."
        )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    figures = _period_figures(store, period_code)
    for student_id in student_ids or []:
        history = reports.student_history_frame(store, student_id)
        name = f"parcours_{history.attrs['Nom']}_{history.attrs['Prénom']}"
        figures.append((name, charts.student_history_chart(history)))

    written = []
    for name, figure in figures:
        target = path_inside(folder, safe_filename(name, suffix=f".{file_format}"))
        written.append(charts.save_figure(figure, target))
    return written


def _period_figures(store: Store, period_code: str) -> list[tuple[str, charts.Figure]]:
    fill = stats.fill_rates(store, period_code)
    figures: list[tuple[str, charts.Figure]] = []
    for block, rows in fill.groupby("Barrette", sort=True):
        rows = rows.reset_index(drop=True)
        suffix = f"{period_code}_{block}"
        title = f"Remplissage des ateliers : {period_code}, barrette {block}"
        figures.append(
            (f"remplissage_{suffix}", charts.fill_rate_chart(rows, title=title))
        )
        title = f"Premiers vœux et places : {period_code}, barrette {block}"
        figures.append((f"demande_{suffix}", charts.demand_chart(rows, title=title)))

    blocks = stats.block_fill(store, period_code)
    title = f"Places et inscrits par barrette et par heure : {period_code}"
    figures.append(
        (f"barrettes_{period_code}", charts.block_fill_chart(blocks, title=title))
    )

    codes = _year_codes_until(store, period_code)
    shares = stats.satisfaction_shares(stats.satisfaction(store, codes))
    figures.append((f"satisfaction_{period_code}", charts.satisfaction_chart(shares)))

    unplaced = stats.unplaced_by_class(store, period_code)
    title = f"Élèves non inscrits par classe : {period_code}"
    figures.append(
        (
            f"non_inscrits_{period_code}",
            charts.unplaced_by_class_chart(unplaced, title=title),
        )
    )
    return figures


def _year_codes_until(store: Store, period_code: str) -> list[str]:
    with store.read() as session:
        year = reports.find_period(session, period_code).school_year
    codes = [p.code for p in reports.school_year_periods(store, year)]
    return codes[: codes.index(period_code) + 1]
