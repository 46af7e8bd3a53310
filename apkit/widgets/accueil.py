"""The home page: the school's blocks, their classes and head counts, and the links.

It shows no student's name and needs no code, so it is the page ``apkit serve``
and ``apkit demo`` print first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as widgets
from sqlalchemy import func, select

from apkit.campaigns import STATUS_LABELS
from apkit.model import Block, Campaign, Division, Period, Student
from apkit.store import Store
from apkit.widgets.common import escape, open_store, page_box
from apkit.widgets.help import help_panel

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
PAGES = [
    ("inscription.ipynb", "Inscription des élèves", "avec le code du coupon"),
    ("corrections.ipynb", "Corrections", "enseignants et coordination"),
    ("listes.ipynb", "Listes des groupes", "par atelier, par classe"),
    ("statistiques.ipynb", "Statistiques", "pour l'administration"),
]


@dataclass(frozen=True)
class BlockSummary:
    """One block as the home page lists it."""

    name: str
    classes: list[tuple[str, int]]
    campaigns: list[str]

    @property
    def student_count(self) -> int:
        return sum(count for _name, count in self.classes)


def _natural_key(name: str) -> list:
    # "2de9" before "2de10".
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def school_summary(store: Store) -> list[BlockSummary]:
    """Return every block with its classes, current head counts and campaigns."""
    with store.read() as session:
        counts = dict(
            session.execute(
                select(Student.division_id, func.count())
                .where(Student.left_on.is_(None))
                .group_by(Student.division_id)
            ).all()
        )
        blocks = session.scalars(select(Block).order_by(Block.name)).all()
        summaries = []
        for block in blocks:
            divisions = sorted(block.divisions, key=lambda d: _natural_key(d.name))
            campaigns = session.execute(
                select(Period.code, Campaign.status)
                .join(Period, Campaign.period_id == Period.id)
                .where(Campaign.block_id == block.id)
                .order_by(Period.start_date)
            ).all()
            summaries.append(
                BlockSummary(
                    name=block.name,
                    classes=[(d.name, counts.get(d.id, 0)) for d in divisions],
                    campaigns=[f"{code} {STATUS_LABELS[s]}" for code, s in campaigns],
                )
            )
        unassigned = session.scalar(
            select(func.count(Division.id)).where(Division.block_id.is_(None))
        )
    if unassigned:
        summaries.append(BlockSummary("sans barrette", [], []))
    return summaries


def summary_html(summaries: list[BlockSummary]) -> str:
    """Return the blocks as an HTML table, every name escaped."""
    if not summaries:
        return (
            "<p>La base ne contient encore aucune barrette : importez l'établissement "
            "(<code>apkit import-school</code>) ou lancez <code>apkit demo</code>.</p>"
        )
    rows = []
    for block in summaries:
        classes = ", ".join(f"{escape(n)} ({c})" for n, c in block.classes) or "-"
        campaigns = escape(", ".join(block.campaigns) or "aucune campagne")
        rows.append(
            f"<tr><td><b>{escape(block.name)}</b></td><td>{classes}</td>"
            f"<td>{block.student_count}</td><td>{campaigns}</td></tr>"
        )
    total = sum(b.student_count for b in summaries)
    return (
        "<table><tr><th>Barrette</th><th>Classes (élèves)</th><th>Élèves</th>"
        f"<th>Campagnes</th></tr>{''.join(rows)}"
        f"<tr><td><b>Total</b></td><td></td><td><b>{total}</b></td><td></td></tr>"
        "</table>"
    )


def links_html(folder: Path = DASHBOARDS) -> str:
    """Return links to the dashboards present in ``folder``."""
    items = [
        f'<li><a href="{name}" target="_self">{title}</a> ({note})</li>'
        for name, title, note in PAGES
        if (folder / name).exists()
    ]
    return f"<ul>{''.join(items)}</ul>"


def build(store: Store | None = None) -> widgets.VBox:
    """Return the home page's widget tree, for ``accueil.ipynb``."""
    store = store or open_store()
    return page_box(
        help_panel("accueil"),
        widgets.HTML("<h3>L'établissement</h3>"),
        widgets.HTML(summary_html(school_summary(store))),
        widgets.HTML("<h3>Pages</h3>"),
        widgets.HTML(links_html()),
    )
