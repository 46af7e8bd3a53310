"""Take the screenshots of the French guides from the real pages, in Chromium.

The module serves its own copy of the sample school, so that it can publish a
campaign without disturbing the other browser tests, which share one open
school. Its period 1 starts as follows:

- block A: live sign-up, open (students of 2de1 sign up themselves);
- block B: ranked preferences, allocated and published (students of 2de5 see
  their groups, teachers have lists);
- block C: ranked preferences, open (students of 2de9 rank their choices), then
  closed and allocated before the corrections pages, which leaves students
  without a place at hour 2.

The tests run in order, one page at a time, and write ``docs/fr/captures/NAME.png``
at a desktop width (1280 px) and, for the student pages, at a phone width
(390 px, files ``NAME_mobile.png``). ``tests/test_guides.py`` checks that each
guide's image exists and that each capture is used by a guide.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update

from apkit.access import IssuedCode, generate_codes
from apkit.allocation.run import allocate
from apkit.campaigns import close_campaign, open_campaign
from apkit.model import (
    Activity,
    Campaign,
    CampaignMode,
    Division,
    Enrolment,
    Preference,
    Role,
    Student,
)
from apkit.publication import publish
from apkit.sample import ensure_sample_school
from apkit.serve import VoilaServer, free_port
from apkit.store import Store
from tests.conftest import ROOT

pytestmark = pytest.mark.browser

CAPTURES = ROOT / "docs" / "fr" / "captures"
DESKTOP = (1280, 900)
PHONE = (390, 844)
WAIT_MS = 60_000
SEED = 2025
CODE_CLASSES = ("2de1", "2de5", "2de9")
FIRST_CHOICE = "Choisir ses spécialités"


@dataclass
class GuideSchool:
    """The module's school, its server and the codes it issued."""

    server: VoilaServer
    store: Store
    campaigns: dict[str, int]
    codes: list[IssuedCode]

    def url(self, notebook: str, code: str | None = None) -> str:
        return self.server.page_url(notebook, f"code={code}" if code else "")

    def student_code(self, class_name: str, index: int = 0) -> IssuedCode:
        rows = [c for c in self.codes if c.class_name == class_name]
        return rows[index]

    def code_of(self, role: Role) -> IssuedCode:
        return next(c for c in self.codes if c.role is role)

    def teacher_code(self, label: str) -> str:
        return next(c.code for c in self.codes if c.label == label)


def _prepare(store: Store, folder: Path) -> dict[str, int]:
    ensure_sample_school(store)
    with store.write() as session:
        campaigns = {c.block.name: c.id for c in session.scalars(select(Campaign))}
        session.execute(
            update(Campaign)
            .where(Campaign.id == campaigns["A"])
            .values(mode=CampaignMode.LIVE)
        )
        session.execute(
            delete(Preference).where(Preference.campaign_id == campaigns["A"])
        )
    for campaign_id in campaigns.values():
        open_campaign(store, campaign_id, actor="coordination", allow_shortfall=True)
    close_campaign(store, campaigns["B"], actor="coordination")
    allocate(store, campaigns["B"], seed=SEED, actor="coordination")
    publish(store, campaigns["B"], folder / "publications", actor="coordination")
    return campaigns


@pytest.fixture(scope="module")
def school(tmp_path_factory) -> Iterator[GuideSchool]:
    folder = tmp_path_factory.mktemp("guide_school")
    url = f"sqlite:///{folder / 'apkit.sqlite'}"
    store = Store(url)
    campaigns = _prepare(store, folder)
    codes = generate_codes(
        store, class_names=CODE_CLASSES, teachers=True, coordinator=True
    )
    server = VoilaServer(
        database_url=url, port=free_port(), log_path=folder / "voila.log"
    )
    server.start()
    try:
        yield GuideSchool(server, store, campaigns, codes)
    finally:
        server.stop()
        store.dispose()


@pytest.fixture(scope="module")
def allocated_c(school) -> int:
    """Close and allocate block C, leaving the students its hour 2 cannot take."""
    campaign_id = school.campaigns["C"]
    close_campaign(school.store, campaign_id, actor="coordination")
    allocate(school.store, campaign_id, seed=SEED, actor="coordination")
    return campaign_id


def _capture(page, name: str) -> Path:
    CAPTURES.mkdir(parents=True, exist_ok=True)
    path = CAPTURES / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _check_page(page) -> None:
    """Fail on a page that shows the apology of an unexpected error."""
    text = page.inner_text(".apkit-page")
    assert "erreur inattendue" not in text


def _student_page(school, new_page, open_dashboard, code: str, size, wait: str):
    page = new_page(*size)
    open_dashboard(page, school.url("inscription.ipynb", code))
    page.wait_for_selector(wait, timeout=WAIT_MS)
    _check_page(page)
    return page


def _teacher_of(store: Store, activity_code: str) -> str:
    with store.read() as session:
        activity = session.scalars(
            select(Activity).where(Activity.code == activity_code)
        ).one()
        return f"{activity.teacher.last_name} {activity.teacher.first_name}"


def _busiest_activity(store: Store, campaign_id: int) -> str:
    """Return the code of the campaign's activity with the most students."""
    with store.read() as session:
        return session.execute(
            select(Activity.code)
            .join(Enrolment, Enrolment.activity_id == Activity.id)
            .where(Activity.campaign_id == campaign_id)
            .group_by(Activity.code)
            .order_by(func.count().desc(), Activity.code)
        ).first()[0]


def _full_activity(store: Store, campaign_id: int) -> tuple[str, str]:
    """Return the title and code of an activity of the campaign with no place left."""
    with store.read() as session:
        rows = session.execute(
            select(Activity.title, Activity.code, Activity.capacity, func.count())
            .join(Enrolment, Enrolment.activity_id == Activity.id)
            .where(Activity.campaign_id == campaign_id, Enrolment.slot == 1)
            .group_by(Activity.id)
            .order_by(Activity.code)
        ).all()
    return next((title, code) for title, code, cap, n in rows if n >= cap)


def _student_outside(store: Store, activity_code: str) -> str:
    """Return « LAST First » of the first 2de9 student not in the activity."""
    with store.read() as session:
        inside = (
            select(Enrolment.student_id)
            .join(Activity)
            .where(Activity.code == activity_code)
        )
        student = session.scalars(
            select(Student)
            .join(Division)
            .where(Division.name == "2de9", Student.id.not_in(inside))
            .order_by(Student.id)
        ).first()
        return f"{student.last_name} {student.first_name}"


# -- the home page -----------------------------------------------------------------


def test_home_page(school, new_page, open_dashboard):
    page = new_page(*DESKTOP)
    open_dashboard(page, school.url("accueil.ipynb"))
    page.wait_for_selector("text=Barrette", timeout=WAIT_MS)
    page.locator("summary", has_text="Aide").click()
    assert "Cette page présente l'établissement" in page.inner_text(".apkit-page")
    _check_page(page)
    _capture(page, "accueil")


# -- the student -------------------------------------------------------------------


def test_student_code_field(school, new_page, open_dashboard):
    for size, suffix in ((DESKTOP, ""), (PHONE, "_mobile")):
        page = new_page(*size)
        open_dashboard(page, school.url("inscription.ipynb"))
        page.wait_for_selector("input[type=password]", timeout=WAIT_MS)
        _capture(page, f"eleve_code{suffix}")


def test_student_wrong_code(school, new_page, open_dashboard):
    page = new_page(*PHONE)
    open_dashboard(page, school.url("inscription.ipynb"))
    page.locator("input[type=password]").fill("ABCD-EFGH-JKMN")
    page.get_by_role("button", name="Valider").click()
    page.wait_for_selector(".apkit-status-error", timeout=WAIT_MS)
    assert page.inner_text(".apkit-status-error") == "Code inconnu ou accès refusé."
    _capture(page, "eleve_code_refuse_mobile")


def test_student_before_signup(school, new_page, open_dashboard):
    code = school.student_code("2de1").code
    for size, suffix in ((DESKTOP, ""), (PHONE, "_mobile")):
        page = _student_page(
            school, new_page, open_dashboard, code, size, "text=Heure 1"
        )
        assert "Tu n'es pas encore inscrit·e pour cette heure." in page.inner_text(
            ".apkit-page"
        )
        _capture(page, f"eleve_avant_inscription{suffix}")


def test_student_signs_up(school, new_page, open_dashboard):
    code = school.student_code("2de1").code
    page = _student_page(
        school, new_page, open_dashboard, code, DESKTOP, "text=Heure 1"
    )
    page.get_by_role("button", name="S'inscrire").first.click()
    page.wait_for_selector(".apkit-status-ok", timeout=WAIT_MS)
    assert FIRST_CHOICE in page.inner_text(".apkit-status-ok")
    _capture(page, "eleve_inscrit")
    phone = _student_page(
        school, new_page, open_dashboard, code, PHONE, 'text="Tu es inscrit·e :"'
    )
    _capture(phone, "eleve_inscrit_mobile")


def test_student_ranks_choices(school, new_page, open_dashboard):
    code = school.student_code("2de9").code
    for size, suffix in ((DESKTOP, ""), (PHONE, "_mobile")):
        page = _student_page(
            school,
            new_page,
            open_dashboard,
            code,
            size,
            ".widget-dropdown >> text=Choix 1",
        )
        # The choices come after the activities' cards: show them, not the top.
        choices = page.locator(".widget-dropdown", has_text="Choix 1").first
        choices.scroll_into_view_if_needed()
        _capture(page, f"eleve_voeux{suffix}")


def test_student_sees_published_group(school, new_page, open_dashboard):
    code = school.student_code("2de5").code
    for size, suffix in ((DESKTOP, ""), (PHONE, "_mobile")):
        page = _student_page(
            school, new_page, open_dashboard, code, size, 'text="Ton groupe :"'
        )
        _capture(page, f"eleve_publie{suffix}")


# -- the teacher and the coordinator -----------------------------------------------


def _open_corrections(school, new_page, open_dashboard, code: str, campaign_id: int):
    page = new_page(*DESKTOP)
    open_dashboard(page, school.url("corrections.ipynb", code))
    page.wait_for_selector("text=Chercher un élève", timeout=WAIT_MS)
    campaign = page.locator(".widget-dropdown", has_text="Campagne").locator("select")
    with school.store.read() as session:
        block = session.get(Campaign, campaign_id).block.name
    labels = [
        t.replace("\xa0", " ") for t in campaign.locator("option").all_text_contents()
    ]
    wanted = next(i for i, label in enumerate(labels) if f"barrette {block}" in label)
    campaign.select_option(index=wanted)
    page.wait_for_selector("text=heures sans groupe", timeout=WAIT_MS)
    return page


def _search(page, name: str) -> None:
    page.get_by_placeholder("Nom ou prénom").fill(name.lower())
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_selector(".apkit-status-info >> visible=true", timeout=WAIT_MS)


def test_teacher_corrections(school, allocated_c, new_page, open_dashboard):
    activity = _busiest_activity(school.store, allocated_c)
    teacher = school.teacher_code(_teacher_of(school.store, activity))
    page = _open_corrections(school, new_page, open_dashboard, teacher, allocated_c)
    _search(page, _student_outside(school.store, activity))
    status = page.locator(".apkit-status-info >> visible=true")
    assert status.inner_text() == "1 élève(s) trouvé(s)."
    _check_page(page)
    _capture(page, "enseignant_corrections")


def test_teacher_move_refused(school, allocated_c, new_page, open_dashboard):
    title, code = _full_activity(school.store, allocated_c)
    teacher = school.teacher_code(_teacher_of(school.store, code))
    page = _open_corrections(school, new_page, open_dashboard, teacher, allocated_c)
    _search(page, _student_outside(school.store, code))
    target = page.locator(".widget-dropdown", has_text="Vers").locator("select")
    labels = [
        t.replace("\xa0", " ") for t in target.locator("option").all_text_contents()
    ]
    target.select_option(index=next(i for i, t in enumerate(labels) if code in t))
    page.get_by_role("button", name="Déplacer").click()
    error = page.locator(".apkit-status-error >> visible=true")
    error.wait_for(timeout=WAIT_MS)
    assert error.inner_text().startswith("Atelier complet : ")
    _capture(page, "enseignant_deplacement_refuse")


def test_coordinator_corrections(school, allocated_c, new_page, open_dashboard):
    code = school.code_of(Role.COORDINATOR).code
    page = _open_corrections(school, new_page, open_dashboard, code, allocated_c)
    assert "forcer" in page.inner_text(".apkit-page")
    _capture(page, "coordination_corrections")


def test_teacher_lists(school, new_page, open_dashboard):
    activity = _busiest_activity(school.store, school.campaigns["B"])
    code = school.teacher_code(_teacher_of(school.store, activity))
    page = new_page(*DESKTOP)
    open_dashboard(page, school.url("listes.ipynb", code))
    page.get_by_label("Période").select_option(label="Période 1 (P1)")
    page.wait_for_selector(".apkit-card", timeout=WAIT_MS)
    page.wait_for_selector("a.apkit-download", timeout=WAIT_MS)
    assert page.locator("a.apkit-download").count() == 2
    _check_page(page)
    _capture(page, "enseignant_listes")


# -- the administration ------------------------------------------------------------


VISIBLE_CHART = ".widget-tab img.widget-image >> visible=true"


def _wait_for_chart(page, old_src: str | None = None) -> str:
    """Wait until the shown chart is loaded (and differs from ``old_src``)."""
    image = page.locator(VISIBLE_CHART).first
    image.wait_for(timeout=WAIT_MS)
    page.wait_for_function(
        "([image, old]) => image.complete && image.naturalWidth > 0"
        " && image.src !== old",
        arg=[image.element_handle(), old_src],
        timeout=WAIT_MS,
    )
    return image.get_attribute("src")


def test_statistics(school, allocated_c, new_page, open_dashboard):
    code = school.code_of(Role.COORDINATOR).code
    page = new_page(*DESKTOP)
    open_dashboard(page, school.url("statistiques.ipynb", code))
    page.wait_for_selector(".widget-tab", timeout=WAIT_MS)
    page.get_by_label("Période").select_option(label="Période 1 (P1)")
    shown = _wait_for_chart(page)
    page.get_by_label("Barrette").select_option(label="Barrette B")
    shown = _wait_for_chart(page, shown)
    _check_page(page)
    _capture(page, "administration_statistiques")

    page.get_by_text("Satisfaction", exact=True).click()
    _wait_for_chart(page)
    _capture(page, "administration_satisfaction")

    page.get_by_label("Barrette").select_option(label="Toutes")
    page.get_by_text("Non inscrits", exact=True).click()
    _wait_for_chart(page)
    _capture(page, "administration_non_inscrits")

    page.get_by_role("button", name="Préparer le classeur").click()
    page.wait_for_selector("a.apkit-download", timeout=WAIT_MS)
    assert "Classeur prêt" in page.inner_text(".apkit-status-ok")
    _capture(page, "administration_classeur")
