"""The corrections page, for a teacher's or the coordinator's code.

Find a student by name (case and accents ignored), see their groups of the year,
move them within the places left (the coordinator alone may force past capacity,
with an explicit checkbox), place the unplaced students into the remaining places
in one click, undo a change, and read the campaign's audit trail.

The page keeps the holder's :class:`~apkit.access.Identity` in the kernel; every
action re-checks the code and passes the identity's role to
:func:`apkit.corrections.move_student`, which enforces who may force.
"""

from __future__ import annotations

import logging

import ipywidgets as widgets
from sqlalchemy import select

from apkit import access, audit
from apkit.access import Identity
from apkit.campaigns import STATUS_LABELS, campaign_label
from apkit.corrections import UNDOABLE_ACTIONS, move_student, place_unplaced, undo
from apkit.errors import AccessDenied
from apkit.history import find_students, student_history, unplaced_students
from apkit.model import AuditEntry, Campaign, CampaignStatus, Role, Student
from apkit.signup import enrolled_counts
from apkit.store import Store
from apkit.widgets.common import (
    StatusArea,
    action,
    client_address,
    escape,
    open_store,
    page_box,
    query_params,
)
from apkit.widgets.help import help_panel

log = logging.getLogger(__name__)

AUDIT_ROWS = 15
UNPLACED_ROWS = 30
ACTION_LABELS = {
    "enrol": "inscription",
    "unenrol": "désinscription",
    "move": "déplacement",
    "force": "déplacement forcé",
    "place": "placement",
    "undo": "annulation",
    "preferences": "vœux",
}


def correctable_campaigns(store: Store) -> list[tuple[str, int]]:
    """Return ``(label, id)`` of the campaigns past the draft stage, open ones first."""
    with store.read() as session:
        campaigns = session.scalars(
            select(Campaign).where(Campaign.status != CampaignStatus.DRAFT)
        ).all()
        rows = [
            (
                c.status is not CampaignStatus.OPEN,
                -c.period.start_date.toordinal(),
                c.block.name,
                f"{campaign_label(c)} ({STATUS_LABELS[c.status]})",
                c.id,
            )
            for c in campaigns
        ]
    return [(label, campaign_id) for *_key, label, campaign_id in sorted(rows)]


def activity_options(store: Store, campaign_id: int) -> list[tuple[str, int]]:
    """Return ``(label, id)`` of the campaign's activities with their places left."""
    with store.read() as session:
        campaign = session.get(Campaign, campaign_id)
        counts = enrolled_counts(session, campaign_id)
        options = []
        for activity in campaign.activities:
            if activity.cancelled:
                continue
            slots = " et ".join(str(s) for s in activity.slots)
            left = activity.capacity - counts.get(activity.id, 0)
            label = f"H{slots} · {activity.code} {activity.title} ({left} pl.)"
            options.append((label, activity.id))
        return options


def history_html(store: Store, student_id: int) -> str:
    """Return the student's groups of the year as an HTML table, texts escaped."""
    rows = student_history(store, student_id)
    lines = [
        "<table><tr><th>Période</th><th>Heure</th><th>Atelier</th>"
        "<th>Professeur</th><th>Salle</th></tr>"
    ]
    for row in rows:
        title = escape(row.title) if row.title else "<i>non placé</i>"
        lines.append(
            f"<tr><td>{escape(row.period_code)}</td><td>{row.slot}</td>"
            f"<td>{title}</td><td>{escape(row.teacher or '')}</td>"
            f"<td>{escape(row.room or '')}</td></tr>"
        )
    lines.append("</table>")
    return "".join(lines)


def _describe(state: dict | None) -> str:
    enrolments = (state or {}).get("enrolments", [])
    if not enrolments:
        return "aucun groupe"
    return ", ".join(f"H{e['slot']} {e['activity']}" for e in enrolments)


def _entry_text(entry: AuditEntry, names: dict[int, str]) -> str:
    label = ACTION_LABELS.get(entry.action, entry.action)
    name = names.get(entry.student_id, "")
    text = (
        f"{entry.at:%d/%m %H:%M} · {entry.actor} · {label} · {name} : "
        f"{_describe(entry.before)} → {_describe(entry.after)}"
    )
    if entry.reason:
        text += f" · « {entry.reason} »"
    html_text = escape(text)
    if entry.undone_by:
        html_text += " · <i>annulé</i>"
    return html_text


class CorrectionsPage:
    """The corrections page's widgets and callbacks."""

    def __init__(self, store: Store, *, code: str = "", client: str = "") -> None:
        self.store = store
        self.client = client
        self.identity: Identity | None = None
        self.status = StatusArea()
        self.code_input = widgets.Password(
            placeholder="XXXX-XXXX-XXXX", description="Code :"
        )
        self.login_button = widgets.Button(
            description="Valider", button_style="primary"
        )
        self.login_button.on_click(self._on_login)
        self.login_box = widgets.VBox(
            [
                widgets.HTML("Saisissez votre code personnel d'enseignant."),
                self.code_input,
                self.login_button,
                self.status.widget,
            ]
        )
        self.content = widgets.VBox([])
        self.widget = page_box(help_panel("corrections"), self.login_box, self.content)
        self._build_controls()
        self.student_id: int | None = None
        self._undo_targets: dict[str, int] = {}
        if code:
            self.sign_in(code)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def _build_controls(self) -> None:
        self.campaign = widgets.Dropdown(description="Campagne", options=[])
        self.campaign.observe(self._on_campaign, names="value")
        self.search_input = widgets.Text(
            placeholder="Nom ou prénom", description="Élève"
        )
        self.search_button = widgets.Button(description="Chercher")
        self.search_button.on_click(self._on_search)
        self.results = widgets.Dropdown(description="Résultats", options=[])
        self.results.observe(self._on_pick, names="value")
        self.history = widgets.HTML()
        self.target = widgets.Dropdown(description="Vers", options=[])
        self.reason = widgets.Text(description="Motif", placeholder="facultatif")
        self.force = widgets.Checkbox(
            description="forcer (au-delà des places ou des classes prévues)",
            value=False,
            indent=False,
        )
        self.move_button = widgets.Button(
            description="Déplacer", button_style="warning"
        )
        self.move_button.on_click(self._on_move)
        self.unplaced = widgets.HTML()
        self.place_button = widgets.Button(
            description="Placer les non-inscrits dans les places restantes",
            layout=widgets.Layout(width="auto"),
        )
        self.place_button.on_click(self._on_place)
        self.trail = widgets.VBox([])

    # -- signing in ----------------------------------------------------------------

    @action
    def _on_login(self, _button: widgets.Button) -> None:
        self.sign_in(self.code_input.value)

    def sign_in(self, code: str) -> None:
        """Check the code and show the page to a teacher or the coordinator."""
        self.code_input.value = ""
        try:
            identity = access.authenticate(self.store, code, client=self.client)
            access.require_staff(identity)
        except AccessDenied as exc:
            self.status.error(str(exc))
            return
        self.identity = identity
        self.login_box.layout.display = "none"
        # The status moves from the sign-in box to below the move controls.
        self.login_box.children = self.login_box.children[:-1]
        self.status.clear()
        self._show_controls()

    def _checked_identity(self) -> Identity:
        if self.identity is None:
            raise AccessDenied()
        identity = access.recheck(self.store, self.identity)
        access.require_staff(identity)
        return identity

    def _show_controls(self) -> None:
        is_coordinator = self.identity.role is Role.COORDINATOR
        self.force.layout.display = None if is_coordinator else "none"
        who = "coordination" if is_coordinator else "enseignant"
        options = correctable_campaigns(self.store)
        self.campaign.options = options
        self.campaign.value = options[0][1] if options else None
        self.content.children = [
            widgets.HTML(
                f"<h3>Corrections</h3><div>{escape(self.identity.label)} ({who})</div>"
            ),
            self.campaign,
            widgets.HTML("<h4>Chercher un élève</h4>"),
            widgets.HBox([self.search_input, self.search_button]),
            self.results,
            self.history,
            widgets.VBox([self.target, self.reason, self.force, self.move_button]),
            self.status.widget,
            widgets.HTML("<h4>Élèves non inscrits</h4>"),
            self.unplaced,
            self.place_button,
            widgets.HTML("<h4>Journal des modifications</h4>"),
            self.trail,
        ]
        self.refresh()

    # -- drawing -------------------------------------------------------------------

    def refresh(self) -> None:
        """Redraw what depends on the database: targets, history, unplaced, trail."""
        campaign_id = self.campaign.value
        if campaign_id is None:
            self.unplaced.value = "Aucune campagne ouverte ou publiée."
            return
        # Keep the chosen target across a redraw, so a second click on "Déplacer"
        # repeats the same move (which changes nothing) instead of another one.
        chosen = self.target.value
        options = activity_options(self.store, campaign_id)
        self.target.options = options
        if chosen in {value for _label, value in options}:
            self.target.value = chosen
        self.history.value = (
            history_html(self.store, self.student_id) if self.student_id else ""
        )
        self._draw_unplaced(campaign_id)
        self._draw_trail(campaign_id)

    def _draw_unplaced(self, campaign_id: int) -> None:
        rows = unplaced_students(self.store, campaign_id)
        if not rows:
            self.unplaced.value = "Tous les élèves sont placés."
            return
        lines = [
            f"<li>{escape(r.last_name)} {escape(r.first_name)} ({escape(r.class_name)})"
            f", heure {r.slot} : {escape(r.reason_text)}</li>"
            for r in rows[:UNPLACED_ROWS]
        ]
        if len(rows) > UNPLACED_ROWS:
            lines.append(f"<li>… et {len(rows) - UNPLACED_ROWS} autres</li>")
        heading = f"<p>{len(rows)} heures sans groupe (élève, heure) :</p>"
        self.unplaced.value = f"{heading}<ul>{''.join(lines)}</ul>"

    def _draw_trail(self, campaign_id: int) -> None:
        with self.store.read() as session:
            entries = audit.entries(session, campaign_id=campaign_id)[:AUDIT_ROWS]
            ids = {e.student_id for e in entries if e.student_id}
            students = session.scalars(select(Student).where(Student.id.in_(ids)))
            names = {s.id: f"{s.last_name} {s.first_name}" for s in students}
            lines = [
                (e.id, e.action, e.undone_by, _entry_text(e, names)) for e in entries
            ]
        children = []
        for entry_id, kind, undone, text in lines:
            line = widgets.HTML(text)
            if kind in UNDOABLE_ACTIONS and not undone:
                button = widgets.Button(
                    description="Annuler", layout=widgets.Layout(width="auto")
                )
                self._undo_targets[button.model_id] = entry_id
                button.on_click(self._on_undo)
                children.append(widgets.HBox([line, button]))
            else:
                children.append(line)
        self.trail.children = children or [widgets.HTML("Aucune modification.")]

    # -- actions -------------------------------------------------------------------

    @action
    def _on_campaign(self, _change: dict) -> None:
        self._checked_identity()
        self.refresh()

    @action
    def _on_search(self, _button: widgets.Button) -> None:
        self._checked_identity()
        campaign_id = self.campaign.value
        block_id = None
        if campaign_id is not None:
            with self.store.read() as session:
                block_id = session.get(Campaign, campaign_id).block_id
        found = find_students(self.store, self.search_input.value, block_id=block_id)
        self.results.options = [
            (
                f"{s.last_name} {s.first_name} ({s.class_name or 'sans classe'})",
                s.student_id,
            )
            for s in found
        ]
        self.results.value = found[0].student_id if len(found) == 1 else None
        if not found:
            self.status.info(
                f"Aucun élève ne correspond à « {self.search_input.value} »."
            )
        else:
            self.status.info(f"{len(found)} élève(s) trouvé(s).")

    @action
    def _on_pick(self, _change: dict) -> None:
        self._checked_identity()
        self.student_id = self.results.value
        self.refresh()

    @action
    def _on_move(self, _button: widgets.Button) -> None:
        identity = self._checked_identity()
        if self.student_id is None or self.target.value is None:
            self.status.error("Choisissez d'abord un élève et l'atelier où le placer.")
            return
        forced = self.force.value and identity.role is Role.COORDINATOR
        result = move_student(
            self.store,
            self.campaign.value,
            self.student_id,
            self.target.value,
            actor=identity.actor,
            role=identity.role,
            reason=self.reason.value.strip(),
            force=forced,
        )
        self.force.value = False
        self.reason.value = ""
        self.refresh()
        if result.status == "unchanged":
            self.status.info("L'élève est déjà dans cet atelier ; rien n'a changé.")
        else:
            self.status.success(f"Élève placé·e en {result.activity_code}.")

    @action
    def _on_place(self, _button: widgets.Button) -> None:
        identity = self._checked_identity()
        report = place_unplaced(self.store, self.campaign.value, actor=identity.actor)
        self.refresh()
        message = f"{len(report.placed)} placement(s) fait(s)"
        if report.unplaced:
            message += (
                f" ; {len(report.unplaced)} sans place possible, à voir à la main"
            )
        self.status.success(message + ".")

    @action
    def _on_undo(self, button: widgets.Button) -> None:
        identity = self._checked_identity()
        undo(self.store, self._undo_targets[button.model_id], actor=identity.actor)
        self.refresh()
        self.status.success("Modification annulée.")


def build(store: Store | None = None, *, code: str | None = None) -> CorrectionsPage:
    """Return the corrections page for ``corrections.ipynb``; it displays as its widget.

    ``code`` defaults to the ``code`` parameter of the page's link.
    """
    return CorrectionsPage(
        store or open_store(),
        code=query_params().get("code", "") if code is None else code,
        client=client_address(),
    )
