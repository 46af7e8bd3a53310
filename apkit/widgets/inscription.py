"""The student page: sign in with a personal code, sign up or rank choices, see results.

The student is whoever the code names: :class:`InscriptionPage` keeps the
:class:`~apkit.access.Identity` in the kernel and passes its ``student_id`` to every
action, so nothing the browser sends (widget values, button labels) can make it act
for another student. Each action also re-checks that the code is still valid.

This module is imported by the lightest kernel the server runs, so it imports no
pandas, matplotlib or SciPy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import ipywidgets as widgets
from ipywidgets.widgets.widget_string import HTMLStyle
from sqlalchemy import select

from apkit import access, preferences, signup
from apkit.access import Identity
from apkit.campaigns import is_eligible, named_students
from apkit.errors import AccessDenied
from apkit.model import (
    Campaign,
    CampaignMode,
    CampaignStatus,
    Division,
    Enrolment,
    Period,
    Preference,
    Role,
    Student,
)
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

NO_CHOICE = "—"
SHOWN_STATUSES = (CampaignStatus.OPEN, CampaignStatus.CLOSED, CampaignStatus.PUBLISHED)


@dataclass(frozen=True)
class ActivityOffer:
    """One activity as the student sees it."""

    id: int
    code: str
    title: str
    teacher: str
    room: str
    description: str
    slots: tuple[int, ...]
    places_left: int

    @property
    def is_project(self) -> bool:
        return len(self.slots) > 1


@dataclass
class StudentView:
    """The data the student page shows, read in one transaction."""

    student_id: int
    name: str
    class_name: str
    block_name: str
    campaign_id: int | None = None
    campaign_title: str = ""
    mode: CampaignMode | None = None
    status: CampaignStatus | None = None
    max_choices: int = 3
    slot_count: int = 2
    offers: dict[int, list[ActivityOffer]] = field(default_factory=dict)
    placed: dict[int, ActivityOffer] = field(default_factory=dict)
    choices: dict[int, dict[int, int]] = field(
        default_factory=dict
    )  # slot -> rank -> id


def _current_campaign(session, block_id: int) -> Campaign | None:
    campaigns = session.scalars(
        select(Campaign)
        .join(Period, Campaign.period_id == Period.id)
        .where(Campaign.block_id == block_id, Campaign.status.in_(SHOWN_STATUSES))
        .order_by(Period.start_date.desc())
    ).all()
    opened = [c for c in campaigns if c.status is CampaignStatus.OPEN]
    return (opened or campaigns or [None])[0]


def _teacher_label(activity) -> str:
    teacher = activity.teacher
    return f"{teacher.first_name} {teacher.last_name}" if teacher else ""


def _offers(session, campaign: Campaign, student: Student) -> dict[int, list]:
    counts = signup.enrolled_counts(session, campaign.id)
    named = named_students(session, [a.id for a in campaign.activities])
    offers: dict[int, list[ActivityOffer]] = {}
    for activity in campaign.activities:
        if activity.cancelled:
            continue
        if not is_eligible(activity, student, named.get(activity.id, set())):
            continue
        offer = ActivityOffer(
            id=activity.id,
            code=activity.code,
            title=activity.title,
            teacher=_teacher_label(activity),
            room=activity.room,
            description=activity.description,
            slots=activity.slots,
            places_left=max(0, activity.capacity - counts.get(activity.id, 0)),
        )
        for slot in activity.slots:
            offers.setdefault(slot, []).append(offer)
    return offers


def load_student_view(store: Store, identity: Identity) -> StudentView:
    """Read what the page shows to the student the identity names.

    Raises
    ------
    AccessDenied
        If the identity is not a student's.
    """
    if identity.role is not Role.STUDENT or identity.student_id is None:
        raise AccessDenied(
            "Ce code n'est pas un code élève ; les professeurs utilisent la page "
            "des corrections."
        )
    with store.read() as session:
        student = session.get(Student, identity.student_id)
        division = session.get(Division, student.division_id) if student else None
        if student is None or division is None or division.block is None:
            raise AccessDenied()
        view = StudentView(
            student_id=student.id,
            name=f"{student.first_name} {student.last_name}",
            class_name=division.name,
            block_name=division.block.name,
            slot_count=division.block.slot_count,
        )
        campaign = _current_campaign(session, division.block_id)
        if campaign is not None:
            _fill_campaign(session, view, campaign, student)
        return view


def _fill_campaign(session, view: StudentView, campaign, student: Student) -> None:
    view.campaign_id = campaign.id
    view.campaign_title = f"{campaign.period.name} ({campaign.period.code})"
    view.mode = campaign.mode
    view.status = campaign.status
    view.max_choices = campaign.max_choices
    view.offers = _offers(session, campaign, student)
    by_id = {o.id: o for slot_offers in view.offers.values() for o in slot_offers}
    rows = session.scalars(
        select(Enrolment).where(
            Enrolment.campaign_id == campaign.id, Enrolment.student_id == student.id
        )
    )
    for row in rows:
        offer = by_id.get(row.activity_id)
        if offer is None:  # placed by a teacher outside the eligible offer
            activity = row.activity
            offer = ActivityOffer(
                activity.id, activity.code, activity.title, _teacher_label(activity),
                activity.room, activity.description, activity.slots, 0,
            )  # fmt: skip
        view.placed[row.slot] = offer
    ranked = session.scalars(
        select(Preference)
        .where(
            Preference.campaign_id == campaign.id, Preference.student_id == student.id
        )
        .order_by(Preference.slot, Preference.rank)
    )
    for row in ranked:
        view.choices.setdefault(row.slot, {})[row.rank] = row.activity_id


def offer_html(offer: ActivityOffer, *, show_places: bool = True) -> str:
    """Return an activity's card as HTML, every text escaped."""
    details = [escape(x) for x in (offer.teacher, offer.room) if x]
    if offer.is_project:
        details.append("projet sur les deux heures")
    places = ""
    if show_places:
        word = "place restante" if offer.places_left == 1 else "places restantes"
        places = f"<b>{offer.places_left} {word}</b>"
        if offer.places_left == 0:
            places = "<b>complet</b>"
    description = escape(offer.description).replace("\n", "<br>")
    return (
        f'<div class="apkit-card"><h4>{escape(offer.title)}</h4>'
        f'<div class="apkit-muted">{" · ".join(details)}</div>'
        f"<div>{description}</div><div>{places}</div></div>"
    )


class InscriptionPage:
    """The student page's widgets and callbacks.

    Parameters
    ----------
    store
        The school's store.
    code
        The code from the link, if any; otherwise the student types it.
    client
        The browser's address for sign-in throttling (see :mod:`apkit.access`).
    """

    def __init__(self, store: Store, *, code: str = "", client: str = "") -> None:
        self.store = store
        self.client = client
        self.identity: Identity | None = None
        self.view: StudentView | None = None
        self.status = StatusArea()
        self.code_input = widgets.Password(
            placeholder="XXXX-XXXX-XXXX", description="Ton code :"
        )
        self.login_button = widgets.Button(
            description="Valider", button_style="primary"
        )
        self.login_button.on_click(self._on_login)
        self.login_box = widgets.VBox(
            [
                widgets.HTML("Saisis le code personnel reçu sur ton coupon."),
                self.code_input,
                self.login_button,
            ]
        )
        self.refresh_button = widgets.Button(description="Rafraîchir", icon="refresh")
        self.refresh_button.on_click(self._on_refresh)
        self.content = widgets.VBox([])
        # The status sits above the activities, where the student's places are shown.
        self.widget = page_box(
            help_panel("inscription"), self.login_box, self.status.widget, self.content
        )
        self._targets: dict[str, int] = {}
        self._rankings: dict[int, list[widgets.Dropdown]] = {}
        # The activity widgets share these layout and style models, which are
        # never changed. With the merged headings, the browser creates 72 models
        # instead of 193 for the sample school's two slots of ten activities.
        self._plain = widgets.Layout()
        self._auto_width = widgets.Layout(width="auto")
        self._html_style = HTMLStyle()
        self._button_style = widgets.ButtonStyle()
        if code:
            self.sign_in(code)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    # -- signing in ----------------------------------------------------------------

    @action
    def _on_login(self, _button: widgets.Button) -> None:
        self.sign_in(self.code_input.value)

    def sign_in(self, code: str) -> None:
        """Check the code, then show the student's page or a neutral refusal."""
        self.code_input.value = ""
        try:
            identity = access.authenticate(self.store, code, client=self.client)
            self.view = load_student_view(self.store, identity)
        except AccessDenied as exc:
            self.status.error(str(exc))
            return
        self.identity = identity
        self.login_box.layout.display = "none"
        self.status.clear()
        self.render()

    def _checked_identity(self) -> Identity:
        if self.identity is None:
            raise AccessDenied()
        return access.recheck(self.store, self.identity)

    # -- rendering -----------------------------------------------------------------

    def reload(self) -> None:
        """Read the student's data again and redraw the page."""
        self.view = load_student_view(self.store, self._checked_identity())
        self.render()

    def _html(self, value: str) -> widgets.HTML:
        return widgets.HTML(value, layout=self._plain, style=self._html_style)

    def _column(self, children: list[widgets.Widget]) -> widgets.VBox:
        return widgets.VBox(children, layout=self._plain)

    def render(self) -> None:
        view = self.view
        header = (
            f"<h3>{escape(view.name)}</h3>"
            f'<div class="apkit-muted">Classe {escape(view.class_name)} · barrette '
            f"{escape(view.block_name)}</div>"
        )
        if view.campaign_id is None:
            header += "<p>Aucune inscription n'est ouverte pour ta barrette.</p>"
        else:
            header += f"<h4>{escape(view.campaign_title)}</h4>"
        # Targets of earlier buttons stay, so a click queued before a redraw still
        # finds its activity (and enrolling again changes nothing).
        self._rankings.clear()
        body = [self._html(header), self.refresh_button]
        if view.campaign_id is not None:
            body += [self._slot_box(slot) for slot in range(1, view.slot_count + 1)]
        self.content.children = body

    def _slot_box(self, slot: int) -> widgets.VBox:
        view = self.view
        heading = f"<h4>Heure {slot}</h4>"
        placed = view.placed.get(slot)
        rows: list[widgets.Widget] = []
        if view.status is CampaignStatus.PUBLISHED:
            heading += _placement_html(placed, final=True)
        elif view.mode is CampaignMode.LIVE and view.status is CampaignStatus.OPEN:
            heading += _placement_html(placed, final=False)
            rows = self._signup_rows(slot, placed)
        elif view.status is CampaignStatus.OPEN:
            rows = self._ranking_rows(slot)
        else:
            heading += _placement_html(placed, final=False)
            heading += (
                "<p>Les inscriptions sont closes ; les groupes seront publiés.</p>"
            )
        return self._column([self._html(heading), *rows])

    def _signup_rows(self, slot: int, placed: ActivityOffer | None) -> list:
        rows = []
        for offer in self.view.offers.get(slot, []):
            if placed is not None and offer.id == placed.id:
                continue
            button = widgets.Button(
                description="S'inscrire" if placed is None else "Changer pour celui-ci",
                disabled=offer.places_left == 0,
                tooltip=f"S'inscrire à « {offer.title} »",
                layout=self._auto_width,
                style=self._button_style,
            )
            self._targets[button.model_id] = offer.id
            button.on_click(self._on_enrol)
            rows += [self._html(offer_html(offer)), button]
        return rows

    def _ranking_rows(self, slot: int) -> list:
        offers = self.view.offers.get(slot, [])
        options = [(NO_CHOICE, None)] + [
            (
                offer.title + (" (projet, 2 heures)" if offer.is_project else ""),
                offer.id,
            )
            for offer in offers
        ]
        chosen = self.view.choices.get(slot, {})
        dropdowns = []
        for rank in range(1, self.view.max_choices + 1):
            value = chosen.get(rank)
            dropdowns.append(
                widgets.Dropdown(
                    options=options,
                    value=value if value in {o[1] for o in options} else None,
                    description=f"Choix {rank}",
                    layout=widgets.Layout(width="100%", max_width="420px"),
                )
            )
        self._rankings[slot] = dropdowns
        save = widgets.Button(
            description="Enregistrer mes choix", button_style="primary"
        )
        self._targets[save.model_id] = slot
        save.on_click(self._on_save_choices)
        cards = [self._html(offer_html(offer)) for offer in offers]
        return [*cards, *dropdowns, save]

    # -- actions -------------------------------------------------------------------

    @action
    def _on_refresh(self, _button: widgets.Button) -> None:
        self.reload()

    @action
    def _on_enrol(self, button: widgets.Button) -> None:
        identity = self._checked_identity()
        activity_id = self._targets[button.model_id]
        result = signup.enrol(
            self.store,
            self.view.campaign_id,
            identity.student_id,
            activity_id,
            actor=identity.actor,
        )
        self.reload()
        offer = self.view.placed.get(result.slots[0])
        title = offer.title if offer else result.activity_code
        self.status.success(f"C'est noté : tu es inscrit·e à « {title} ».")

    @action
    def _on_save_choices(self, button: widgets.Button) -> None:
        identity = self._checked_identity()
        slot = self._targets[button.model_id]
        ids = [d.value for d in self._rankings[slot] if d.value is not None]
        if len(set(ids)) < len(ids):
            self.status.error(
                f"Tu as choisi deux fois le même atelier pour l'heure {slot} : "
                "choisis un atelier différent pour chaque choix, puis enregistre."
            )
            return
        preferences.set_preferences(
            self.store,
            self.view.campaign_id,
            identity.student_id,
            slot,
            ids,
            actor=identity.actor,
        )
        self.reload()
        self.status.success(_saved_text(len(self.view.choices.get(slot, [])), slot))


def _placement_html(placed: ActivityOffer | None, *, final: bool) -> str:
    """Return where the student is placed for a slot, or that they are not."""
    if placed is None:
        text = "Tu n'es placé·e dans aucun groupe pour cette heure."
        if not final:
            text = "Tu n'es pas encore inscrit·e pour cette heure."
        return f"<p><b>{text}</b></p>"
    lead = "Ton groupe" if final else "Tu es inscrit·e"
    return f"<p><b>{lead} :</b></p>{offer_html(placed, show_places=False)}"


def _saved_text(count: int, slot: int) -> str:
    """Return the French confirmation of a slot's saved choices."""
    if count == 0:
        return f"Tes choix pour l'heure {slot} sont retirés."
    if count == 1:
        return f"Ton choix pour l'heure {slot} est enregistré."
    return f"Tes {count} choix pour l'heure {slot} sont enregistrés."


def build(store: Store | None = None, *, code: str | None = None) -> InscriptionPage:
    """Return the student page for ``inscription.ipynb``; it displays as its widget.

    ``code`` defaults to the ``code`` parameter of the page's link, and ``store``
    to the database ``APKIT_DATABASE_URL`` names.
    """
    return InscriptionPage(
        store or open_store(),
        code=query_params().get("code", "") if code is None else code,
        client=client_address(),
    )
