"""The teacher's lists page: their groups of a period, in French alphabetical order.

A teacher opens the page with their personal code (from the link's ``?code=`` or
typed in) and sees only the groups they lead; the coordinator's code shows every
teacher's groups, one teacher at a time or all at once. Both lists download as an
XLSX workbook and as PDF attendance sheets.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import tempfile
from collections.abc import Callable
from pathlib import Path

import ipywidgets as widgets
import pandas as pd
from sqlalchemy import select

from apkit import access, reports
from apkit.campaigns import default_period_code
from apkit.errors import AccessDenied
from apkit.exports import pdf, xlsx
from apkit.exports.safety import safe_filename
from apkit.model import Role, Teacher
from apkit.names import sort_key
from apkit.store import Store
from apkit.widgets import common
from apkit.widgets.common import StatusArea, action, escape
from apkit.widgets.help import help_panel

log = logging.getLogger(__name__)

ALL_TEACHERS = 0  # value of the coordinator's "every teacher" choice
GROUP_KEYS = ["Barrette", "Heure", "Atelier", "Salle"]
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MIME = "application/pdf"


def download_link(content: bytes, filename: str, mime: str, label: str) -> str:
    """Return an HTML link that saves ``content`` as ``filename`` when clicked.

    ipywidgets 8 has no download widget, so the file travels in a ``data:`` URL.
    The file name is reduced to ``[A-Za-z0-9._-]`` and the label is escaped.
    """
    stem, dot, suffix = filename.rpartition(".")
    name = safe_filename(stem, suffix=f".{suffix}") if dot else safe_filename(filename)
    encoded = base64.b64encode(content).decode("ascii")
    return (
        f'<a class="apkit-download" download="{escape(name)}" '
        f'href="data:{mime};base64,{encoded}">{escape(label)}</a>'
    )


def file_bytes(write: Callable[[Path], object], suffix: str) -> bytes:
    """Return the bytes that ``write(path)`` puts into a temporary file."""
    with tempfile.TemporaryDirectory(prefix="apkit-") as folder:
        path = Path(folder) / f"export{suffix}"
        write(path)
        return path.read_bytes()


def teacher_choices(store: Store) -> list[tuple[str, int]]:
    """Return ``("NOM Prénom", id)`` of every teacher, in French order."""
    with store.read() as session:
        teachers = list(session.scalars(select(Teacher)))
        teachers.sort(key=lambda t: sort_key(t.last_name, t.first_name))
        return [(reports.teacher_name(t), t.id) for t in teachers]


def period_choices(store: Store) -> list[tuple[str, str]]:
    """Return ``("Période 1 (P1)", "P1")`` for each period of the latest year."""
    periods = reports.school_year_periods(store)
    return [(f"{p.name} ({p.code})", p.code) for p in periods]


def current_period(store: Store, today: dt.date | None = None) -> str | None:
    """Return the code of the period the page opens on: one with groups if any.

    See :func:`apkit.campaigns.default_period_code`, shared with the statistics
    page; ``None`` without periods.
    """
    return default_period_code(store, today)


def groups_of(
    store: Store, teacher_ids: list[int] | None, period_code: str
) -> list[tuple[str, dict[str, object], pd.DataFrame]]:
    """Return ``(teacher, header, students)`` for each group of a period.

    Only the groups of ``teacher_ids`` are kept, unless it is ``None``. The groups
    come by block, slot and title; ``header`` holds the group's ``Barrette``,
    ``Heure``, ``Atelier`` and ``Salle``, and ``students`` its ``Nom``,
    ``Prénom`` and ``Classe`` in French order.
    """
    frame = reports.placements(store, [period_code])
    if teacher_ids is not None:
        frame = frame[frame["teacher_id"].isin(teacher_ids)]
    groups = []
    keys = ["Enseignant", *GROUP_KEYS, "Code"]
    for values, students in frame.groupby(keys, sort=False, dropna=False):
        header = dict(zip(keys, values, strict=True))
        table = students[reports.PERSON_COLUMNS].reset_index(drop=True)
        groups.append((str(header.pop("Enseignant")), header, table))
    return groups


def group_title(teacher: str, header: dict[str, object]) -> str:
    """Return a group's one-line title: block, slot, activity, room and teacher."""
    room = f", salle {header['Salle']}" if header["Salle"] else ""
    return (
        f"Barrette {header['Barrette']}, heure {header['Heure']} : "
        f"{header['Atelier']}{room} ({teacher})"
    )


def groups_html(groups: list[tuple[str, dict[str, object], pd.DataFrame]]) -> str:
    """Return the groups as HTML cards, each with its numbered list of students."""
    if not groups:
        return '<p class="apkit-muted">Aucun groupe pour cette période.</p>'
    cards = []
    for teacher, header, students in groups:
        table = students.copy()
        table.index = range(1, len(table) + 1)
        rows = table.to_html(border=0, classes="apkit-list", escape=True)
        count = f"{len(table)} élève{'s' if len(table) > 1 else ''}"
        cards.append(
            f'<div class="apkit-card"><h4>{escape(group_title(teacher, header))}</h4>'
            f'<div class="apkit-muted">{count}</div>{rows}</div>'
        )
    return "".join(cards)


def workbook_bytes(groups: list[tuple[str, dict[str, object], pd.DataFrame]]) -> bytes:
    """Return an XLSX workbook with one sheet per group."""
    frames: dict[str, pd.DataFrame] = {}
    for index, (_teacher, header, students) in enumerate(groups, start=1):
        title = f"{index} {header['Barrette']}-H{header['Heure']} {header['Atelier']}"
        frames[xlsx.sheet_title(title)] = students
    return file_bytes(lambda path: xlsx.write_workbook(frames, path), ".xlsx")


def attendance_bytes(store: Store, teacher_id: int | None, period_code: str) -> bytes:
    """Return the PDF attendance sheets of a teacher's groups, or of every group."""
    return file_bytes(
        lambda path: pdf.write_attendance_pdf(
            store, period_code, path, teacher_id=teacher_id
        ),
        ".pdf",
    )


class ListsPage:
    """The page's widgets and callbacks; :attr:`widget` is what a notebook shows."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.identity: access.Identity | None = None
        self.status = StatusArea()

        self.code = widgets.Password(description="Code", placeholder="XXXX-XXXX-XXXX")
        self.sign_in = widgets.Button(description="Ouvrir mes listes", icon="unlock")
        self.sign_in.on_click(self._on_sign_in)
        self.login = widgets.HBox([self.code, self.sign_in])

        self.period = widgets.Dropdown(description="Période", options=[])
        self.teacher = widgets.Dropdown(description="Enseignant", options=[])
        self.teacher.layout.display = "none"
        self.filters = widgets.HBox([self.period, self.teacher])
        self.filters.layout.display = "none"
        self.downloads = widgets.HTML()
        self.groups = widgets.HTML()

        self.widget = common.page_box(
            help_panel("listes"),
            self.login,
            self.status.widget,
            self.filters,
            self.downloads,
            self.groups,
        )

    def _repr_mimebundle_(self, **kwargs: object) -> dict | None:
        return self.widget._repr_mimebundle_(**kwargs)

    @action
    def _on_sign_in(self, _button: widgets.Button) -> None:
        self.open(self.code.value)

    def open(self, code: str) -> None:
        """Check the code and show the holder's lists.

        Raises
        ------
        AccessDenied
            If the code is unknown, revoked, or a student's.
        """
        identity = access.authenticate(self.store, code, client=common.client_address())
        if identity.role not in (Role.TEACHER, Role.COORDINATOR):
            raise AccessDenied("Cette page est réservée aux enseignants.")
        self.identity = identity
        self.code.value = ""
        self.login.layout.display = "none"
        self._fill_filters(identity)
        self.status.info(f"Connecté : {identity.label}")
        self.refresh()

    def _fill_filters(self, identity: access.Identity) -> None:
        self.period.options = period_choices(self.store)
        self.period.value = current_period(self.store)
        if identity.role is Role.COORDINATOR:
            choices = [("Tous les enseignants", ALL_TEACHERS)]
            self.teacher.options = choices + teacher_choices(self.store)
            self.teacher.value = ALL_TEACHERS
            self.teacher.layout.display = ""
        self.filters.layout.display = ""
        self.period.observe(self._on_filter, names="value")
        self.teacher.observe(self._on_filter, names="value")

    @action
    def _on_filter(self, _change: dict) -> None:
        self.refresh()

    def teacher_ids(self) -> list[int] | None:
        """Return the teachers whose groups the page shows; ``None`` means all."""
        if self.identity is None:
            return []
        if self.identity.role is Role.TEACHER:
            return [self.identity.teacher_id] if self.identity.teacher_id else []
        if self.teacher.value == ALL_TEACHERS:
            return None
        return [self.teacher.value]

    def refresh(self) -> None:
        """Redraw the groups and the download links for the chosen filters."""
        self.groups.value = ""
        self.downloads.value = ""
        if self.identity is None or self.period.value is None:
            return
        access.recheck(self.store, self.identity)
        period_code = self.period.value
        teacher_ids = self.teacher_ids()
        groups = groups_of(self.store, teacher_ids, period_code)
        self.groups.value = groups_html(groups)
        if groups:
            self.downloads.value = self._links(groups, teacher_ids, period_code)

    def _links(
        self, groups: list, teacher_ids: list[int] | None, period_code: str
    ) -> str:
        stem = f"listes_{period_code}_{self._who()}"
        links = [
            download_link(
                workbook_bytes(groups),
                f"{stem}.xlsx",
                XLSX_MIME,
                "Télécharger le classeur (XLSX)",
            )
        ]
        teacher_id = teacher_ids[0] if teacher_ids else None
        pdf_bytes = attendance_bytes(self.store, teacher_id, period_code)
        links.append(
            download_link(
                pdf_bytes,
                f"{stem}.pdf",
                PDF_MIME,
                "Télécharger les feuilles d'émargement (PDF)",
            )
        )
        return " &nbsp; ".join(links)

    def _who(self) -> str:
        if self.identity is None or self.identity.role is Role.TEACHER:
            return self.identity.label if self.identity else ""
        if self.teacher.value == ALL_TEACHERS:
            return "tous"
        return self.teacher.label or ""


def build(store: Store | None = None, code: str | None = None) -> ListsPage:
    """Build the lists page; the code comes from the query string when not given.

    The page displays itself in a notebook. A missing or wrong code leaves the
    code field on screen with a message; it never raises.
    """
    page = ListsPage(store or common.open_store())
    if code is None:
        code = common.query_params().get("code", "")
    if code:
        page.code.value = code
        page._on_sign_in(page.sign_in)
    return page
