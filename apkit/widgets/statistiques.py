"""The administration's statistics page: fill rates, unplaced students, satisfaction.

The page opens with the coordinator's code. Each chart of :mod:`apkit.charts` has
its own tab and is drawn, as PNG bytes into an :class:`ipywidgets.Image`, when its
tab is selected or the period, block or slot filter changes. The same widgets are
reused and no figure stays referenced after its PNG is written, so redrawing does
not add to the kernel's memory. The administration's workbook of the chosen
period downloads from a link.
"""

from __future__ import annotations

import io
import logging
import re

import ipywidgets as widgets
import pandas as pd
from sqlalchemy import select

from apkit import access, charts, reports, stats
from apkit.errors import AccessDenied
from apkit.exports import xlsx
from apkit.model import Block, Role
from apkit.store import Store
from apkit.widgets import common
from apkit.widgets.common import StatusArea, action, escape
from apkit.widgets.help import help_panel
from apkit.widgets.listes import (
    XLSX_MIME,
    current_period,
    download_link,
    file_bytes,
    period_choices,
)

log = logging.getLogger(__name__)

EVERY = ""  # value of the "all blocks" and "all slots" choices
PNG_DPI = 90
CHART_NAMES = ("fill", "demand", "blocks", "unplaced", "satisfaction", "history")
# Tab titles: six must fit the page's 760 pixels; each chart carries its full title.
CHART_TITLES = {
    "fill": "Remplissage",
    "demand": "Vœux et places",
    "blocks": "Barrettes",
    "unplaced": "Non inscrits",
    "satisfaction": "Satisfaction",
    "history": "Parcours",
}
ALLOWED_ROLES = (Role.COORDINATOR, Role.ADMINISTRATION)


def png_bytes(figure: object) -> bytes:
    """Return ``figure`` (a matplotlib Figure) as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=PNG_DPI)  # type: ignore[attr-defined]
    return buffer.getvalue()


def runs_in(slot_label: str, slot: int) -> bool:
    """Tell whether an activity whose ``Heure`` is ``slot_label`` runs in ``slot``.

    ``slot_label`` is :func:`apkit.reports.slot_label`'s text: ``"2"`` or ``"1 et 2"``.
    """
    return str(slot) in re.findall(r"\d+", str(slot_label))


def block_choices(store: Store) -> list[tuple[str, str]]:
    """Return ``("Toutes", "")`` then ``("Barrette A", "A")`` for each block."""
    with store.read() as session:
        names = list(session.scalars(select(Block.name).order_by(Block.name)))
    return [("Toutes", EVERY)] + [(f"Barrette {name}", name) for name in names]


def slot_choices(store: Store) -> list[tuple[str, str]]:
    """Return ``("Toutes", "")`` then ``("Heure 1", "1")`` up to the most slots."""
    with store.read() as session:
        counts = list(session.scalars(select(Block.slot_count)))
    slots = range(1, max(counts, default=2) + 1)
    return [("Toutes", EVERY)] + [(f"Heure {slot}", str(slot)) for slot in slots]


def student_choices(store: Store) -> dict[str, int]:
    """Return ``"NOM Prénom (classe)"`` to id for the year's students, French order."""
    roster = reports.year_roster(store)
    labels = roster["Nom"] + " " + roster["Prénom"] + " (" + roster["Classe"] + ")"
    return dict(zip(labels, roster["student_id"].astype(int), strict=True))


def filtered_fill(fill: pd.DataFrame, block: str, slot: str) -> pd.DataFrame:
    """Return the rows of :func:`apkit.stats.fill_rates` in the block and slot."""
    keep = pd.Series(True, index=fill.index)
    if block:
        keep &= fill["Barrette"] == block
    if slot:
        keep &= fill["Heure"].map(lambda label: runs_in(label, int(slot)))
    return fill[keep]


def filtered_blocks(table: pd.DataFrame, block: str, slot: str) -> pd.DataFrame:
    """Return the rows of :func:`apkit.stats.block_fill` in the block and slot."""
    keep = pd.Series(True, index=table.index)
    if block:
        keep &= table["Barrette"] == block
    if slot:
        keep &= table["Heure"] == int(slot)
    return table[keep]


def filtered_unplaced(
    store: Store, table: pd.DataFrame, block: str, slot: str
) -> pd.DataFrame:
    """Return the block's classes and the slot's column of ``unplaced_by_class``."""
    if block:
        with store.read() as session:
            found = session.scalars(select(Block).where(Block.name == block)).first()
            classes = {d.name for d in found.divisions} if found else set()
        table = table[table.index.isin(classes)]
    if slot:
        column = f"Heure {slot}"
        table = table[[column]] if column in table.columns else table.iloc[:, :0]
    return table


class StatisticsPage:
    """The page's widgets and callbacks; it displays itself in a notebook."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.identity: access.Identity | None = None
        self.status = StatusArea()
        self.students: dict[str, int] = {}
        self._tables: dict[str, dict[str, pd.DataFrame]] = {}
        # What each chart was drawn for, so that a tab is only redrawn when needed.
        self._drawn: dict[str, tuple] = {}

        self.code = widgets.Password(description="Code", placeholder="XXXX-XXXX-XXXX")
        self.sign_in = widgets.Button(description="Ouvrir", icon="unlock")
        self.sign_in.on_click(self._on_sign_in)
        self.login = widgets.HBox([self.code, self.sign_in])

        self.period = widgets.Dropdown(description="Période", options=[])
        self.block = widgets.Dropdown(description="Barrette", options=[])
        self.slot = widgets.Dropdown(description="Heure", options=[])
        self.student = widgets.Combobox(
            description="Élève", placeholder="NOM Prénom", ensure_option=True
        )
        self.prepare = widgets.Button(
            description="Préparer le classeur", icon="file-excel-o"
        )
        self.prepare.on_click(self._on_prepare)
        self.refresh = widgets.Button(description="Actualiser", icon="refresh")
        self.refresh.on_click(self._on_refresh)
        for button in (self.prepare, self.refresh):
            button.layout.width = "auto"
        self.download = widgets.HTML()
        self.filters = widgets.VBox(
            [
                widgets.HBox([self.period, self.block, self.slot]),
                widgets.HBox([self.refresh, self.prepare, self.download]),
            ]
        )
        self.charts = {name: widgets.Image(format="png") for name in CHART_NAMES}
        for image in self.charts.values():
            image.layout.display = "none"  # until a PNG is drawn into it
        self.notes = {name: widgets.HTML() for name in CHART_NAMES}
        self.sections = widgets.Tab(
            children=self._sections(), titles=[CHART_TITLES[n] for n in CHART_NAMES]
        )
        self.sections.observe(self._on_tab, names="selected_index")
        self.filters.layout.display = "none"
        self.sections.layout.display = "none"

        self.widget = common.page_box(
            help_panel("statistiques"),
            self.login,
            self.status.widget,
            self.filters,
            self.sections,
        )

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        return self.widget._repr_mimebundle_(**kwargs)

    def _sections(self) -> list[widgets.Widget]:
        sections: list[widgets.Widget] = []
        for name in CHART_NAMES:
            self.charts[name].layout.max_width = "100%"
            extra = [self.student] if name == "history" else []
            sections.append(widgets.VBox([*extra, self.notes[name], self.charts[name]]))
        return sections

    @property
    def shown_chart(self) -> str:
        """The name of the chart on the selected tab."""
        return CHART_NAMES[self.sections.selected_index or 0]

    def show_chart(self, name: str) -> None:
        """Select the tab of chart ``name``, which draws it if needed."""
        self.sections.selected_index = CHART_NAMES.index(name)

    @action
    def _on_sign_in(self, _button: widgets.Button) -> None:
        self.open(self.code.value)

    def open(self, code: str) -> None:
        """Check the code and show the charts.

        Raises
        ------
        AccessDenied
            If the code is unknown, revoked, or not the coordinator's.
        """
        identity = access.authenticate(self.store, code, client=common.client_address())
        if identity.role not in ALLOWED_ROLES:
            raise AccessDenied(
                "Cette page est réservée à l'administration et à la coordination."
            )
        self.identity = identity
        self.code.value = ""
        self.login.layout.display = "none"
        self._fill_filters()
        self.filters.layout.display = ""
        self.sections.layout.display = ""
        self.status.info(f"Connecté : {identity.label}")
        self.redraw()

    def _fill_filters(self) -> None:
        self.period.options = period_choices(self.store)
        self.period.value = current_period(self.store)
        self.block.options = block_choices(self.store)
        self.slot.options = slot_choices(self.store)
        self.block.value = EVERY
        self.slot.value = EVERY
        self.students = student_choices(self.store)
        self.student.options = tuple(self.students)
        for control in (self.period, self.block, self.slot):
            control.observe(self._on_filter, names="value")
        self.student.observe(self._on_student, names="value")

    @action
    def _on_filter(self, _change: dict) -> None:
        self.download.value = ""
        self.redraw()

    @action
    def _on_student(self, _change: dict) -> None:
        self.redraw()

    @action
    def _on_tab(self, _change: dict) -> None:
        self.redraw()

    @action
    def _on_refresh(self, _button: widgets.Button) -> None:
        self.reload()

    @action
    def _on_prepare(self, _button: widgets.Button) -> None:
        self.prepare_workbook()

    def tables(self, period: str) -> dict[str, pd.DataFrame]:
        """Return the period's statistics, read once and kept until :meth:`reload`."""
        if period not in self._tables:
            self._tables[period] = {
                "fill": stats.fill_rates(self.store, period),
                "blocks": stats.block_fill(self.store, period),
                "unplaced": stats.unplaced_by_class(self.store, period),
            }
        if "satisfaction" not in self._tables:
            table = stats.satisfaction(self.store)
            self._tables["satisfaction"] = {"shares": stats.satisfaction_shares(table)}
        return self._tables[period]

    def reload(self) -> None:
        """Read the statistics again from the database and redraw."""
        self._tables.clear()
        self._drawn.clear()
        self.redraw()

    def redraw(self) -> None:
        """Draw the chart of the selected tab for the chosen filters, if not done yet.

        Drawing one chart takes a second or more, so the hidden tabs are drawn
        when they are selected.
        """
        if self.identity is None or self.period.value is None:
            return
        access.recheck(self.store, self.identity)
        name = self.shown_chart
        filters = (self.period.value, self.block.value, self.slot.value)
        key = (*filters, self.student.value) if name == "history" else filters
        if self._drawn.get(name) == key:
            return
        self._draw(name, *filters)
        self._drawn[name] = key

    def _draw(self, name: str, period: str, block: str, slot: str) -> None:
        if name == "history":
            self.draw_history()
            return
        if name == "satisfaction":
            self.tables(period)
            shares = self._tables["satisfaction"]["shares"]
            self._show(name, charts.satisfaction_chart, shares)
            return
        tables = self.tables(period)
        if name in ("fill", "demand"):
            fill = filtered_fill(tables["fill"], block, slot)
            draw = charts.fill_rate_chart if name == "fill" else charts.demand_chart
            self._show(name, draw, fill)
        elif name == "blocks":
            blocks = filtered_blocks(tables["blocks"], block, slot)
            self._show(name, charts.block_fill_chart, blocks)
        else:
            unplaced = filtered_unplaced(self.store, tables["unplaced"], block, slot)
            self._show(name, charts.unplaced_by_class_chart, unplaced)

    def draw_history(self) -> None:
        """Draw the chosen student's groups of the year, or a hint if none is chosen."""
        student_id = self.students.get(self.student.value)
        if student_id is None:
            self._hide("history", "Choisissez un élève pour voir son parcours.")
            return
        history = reports.student_history_frame(self.store, student_id)
        self._show("history", charts.student_history_chart, history)

    def _show(self, name: str, draw, table: pd.DataFrame) -> None:
        if table.empty:
            self._hide(name, "Aucune donnée pour ces filtres.")
            return
        self.charts[name].value = png_bytes(draw(table))
        self.charts[name].layout.display = ""
        self.notes[name].value = ""

    def _hide(self, name: str, note: str) -> None:
        self.charts[name].value = b""
        self.charts[name].layout.display = "none"
        self.notes[name].value = f'<p class="apkit-muted">{escape(note)}</p>'

    def prepare_workbook(self) -> None:
        """Write the administration's workbook of the period into the download link."""
        if self.identity is None or self.period.value is None:
            return
        access.recheck(self.store, self.identity)
        period = self.period.value
        content = file_bytes(
            lambda path: xlsx.write_admin_workbook(self.store, period, path), ".xlsx"
        )
        self.download.value = download_link(
            content,
            f"administration_{period}.xlsx",
            XLSX_MIME,
            f"Télécharger le classeur de la période {period} (XLSX)",
        )
        self.status.success("Classeur prêt : cliquez sur le lien pour l'enregistrer.")


def build(store: Store | None = None, code: str | None = None) -> StatisticsPage:
    """Build the statistics page; the code comes from the query string when not given.

    A missing or wrong code leaves the code field on screen with a message; it
    never raises.
    """
    page = StatisticsPage(store or common.open_store())
    if code is None:
        code = common.query_params().get("code", "")
    if code:
        page.code.value = code
        page._on_sign_in(page.sign_in)
    return page
