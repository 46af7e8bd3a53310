"""Access codes under attack: other students' data, guessing, and logs.

- A student's code opens that student's page only: a query string naming
  another student (``student_id=``, ``student=``, a second ``code=``) changes
  nothing, and acting for another student is refused.
- Guessing is slowed: with an injected clock, an attacker who waits exactly as
  long as the throttle asks sees the wait grow after the free failures, then a
  refusal of every attempt, the right code included, until the window passes.
- No code appears in any log: everything logged at DEBUG, SQLAlchemy's
  statements and parameters included, while codes are generated, used to sign
  in, to sign up and to open the student page.
"""

from __future__ import annotations

import datetime as dt
import logging

import ipywidgets as widgets
import pytest
from sqlalchemy import select

from apkit import access
from apkit.access import authenticate, count_failures, generate_codes, require_student
from apkit.errors import AccessDenied
from apkit.model import CampaignMode, Enrolment
from apkit.signup import enrol
from apkit.widgets import inscription
from tests.factories import small_school
from tests.reliability import summary

pytestmark = pytest.mark.reliability

START = dt.datetime(2026, 9, 14, 8, 0)  # naive UTC, as apkit.access stores it
MAX_PROBE_S = 70


@pytest.fixture
def coded_school(database_store):
    school = small_school(database_store, mode=CampaignMode.LIVE)
    issued = generate_codes(database_store, students=True, teachers=True)
    codes = {item.student_id: item.code for item in issued if item.student_id}
    return database_store, school, codes


def _walk(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _walk(child)


def _html(page) -> str:
    return "\n".join(w.value for w in _walk(page.widget) if isinstance(w, widgets.HTML))


def test_query_string_opens_own_page(coded_school, monkeypatch):
    store, school, codes = coded_school
    mine, other = school.students[0], school.students[3]
    monkeypatch.setenv(
        "QUERY_STRING",
        f"student_id={other}&student={other}&code={codes[mine]}&id={other}",
    )
    page = inscription.build(store)
    assert page.view.student_id == mine
    shown = _html(page)
    assert "BÉRANGER" in shown
    assert "LE GOFF" not in shown

    # A second code= after the student's own: the last one wins, and it is
    # a full code, so the query string can only name someone whose code it has.
    monkeypatch.setenv("QUERY_STRING", f"code={codes[mine]}&code=AAAA-BBBB-CCCC")
    page = inscription.build(store)
    assert page.view is None


def test_student_cannot_act_for_another(coded_school):
    store, school, codes = coded_school
    mine, other = school.students[0], school.students[3]
    identity = authenticate(store, codes[mine])
    require_student(identity, mine)
    with pytest.raises(AccessDenied):
        require_student(identity, other)

    page = inscription.InscriptionPage(store, code=codes[mine])
    page.view.student_id = other  # a tampered view still acts as the code's holder
    button = next(w for w in _walk(page.widget) if w.model_id in page._targets)
    button.click()
    with store.read() as session:
        holders = set(session.scalars(select(Enrolment.student_id)))
    assert holders == {mine}


def wrong_code(code: str) -> str:
    """Return ``code`` with its last character changed, so it never matches."""
    last = "Y" if code[-1] == "Z" else "Z"
    return code[:-1] + last


def _recorded(store, code: str, client: str, now: dt.datetime) -> bool:
    """Try ``code`` at ``now``; return True if the attempt was let through."""
    before = count_failures(store)
    try:
        authenticate(store, code, client=client, clock=lambda: now)
    except AccessDenied:
        return count_failures(store) > before
    return True


def test_guessing_delayed_then_rejected(coded_school):
    store, school, codes = coded_school
    right = codes[school.students[0]]
    now, waits = START, []
    for attempt in range(access.CLIENT_REFUSE_AFTER):
        guess = f"ZZZZ-ZZZZ-{attempt:04d}".replace("0", "A")
        for wait in range(MAX_PROBE_S):
            if _recorded(store, guess, "10.0.0.9", now + dt.timedelta(seconds=wait)):
                break
        else:
            pytest.fail(f"attempt {attempt}: still throttled after {MAX_PROBE_S} s")
        waits.append(wait)
        now += dt.timedelta(seconds=wait)

    free = access.CLIENT_FREE_FAILURES
    assert waits[:free] == [0] * free
    assert waits[free:] == sorted(waits[free:])
    assert waits[free] >= 1 and waits[-1] > waits[free]

    # Past the limit even the right code is refused, longer than the longest
    # delay; once the failures leave the window, the right code opens again.
    for wait in (1, access.MAX_DELAY.seconds + 1, 120):
        later = now + dt.timedelta(seconds=wait)
        with pytest.raises(AccessDenied):
            authenticate(store, right, client="10.0.0.9", clock=lambda t=later: t)
    after = now + access.FAILURE_WINDOW + dt.timedelta(seconds=1)
    identity = authenticate(store, right, client="10.0.0.9", clock=lambda: after)
    assert identity.student_id == school.students[0]
    summary.add("access", guesses=len(waits), longest_wait_s=max(waits))


def test_no_code_in_any_log(database_store, caplog, monkeypatch):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # it defaults to WARNING
    school = small_school(database_store, mode=CampaignMode.LIVE)
    issued = generate_codes(
        database_store, students=True, teachers=True, coordinator=True
    )
    code = next(item.code for item in issued if item.student_id)
    identity = authenticate(database_store, code, client="10.0.0.1")
    with pytest.raises(AccessDenied):
        authenticate(database_store, wrong_code(code), client="10.0.0.1")
    enrol(
        database_store,
        school.campaign_id,
        identity.student_id,
        school.activities["A1"],
        actor=identity.actor,
    )
    monkeypatch.setenv("QUERY_STRING", f"code={code}")
    inscription.build(database_store)

    logged = caplog.text
    assert "SELECT" in logged  # SQLAlchemy's statements were captured too
    secrets = [s for item in issued for s in _forms(item.code)]
    assert [s for s in secrets if s in logged] == []
    summary.add("access", log_records=len(caplog.records), codes_in_logs=0)


def _forms(code: str) -> list[str]:
    raw = access.normalize_code(code)
    return [code, raw, raw[access.LOOKUP_LENGTH :]]
