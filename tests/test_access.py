"""Access codes: generation, hashing, authentication, throttling, slips."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from apkit import access
from apkit.access import Identity, authenticate, generate_codes
from apkit.corrections import move_student
from apkit.errors import AccessDenied, NotFoundError, RosterError
from apkit.model import (
    AccessCode,
    Block,
    Division,
    LoginFailure,
    Role,
    Student,
    Teacher,
)
from apkit.names import name_key
from apkit.widgets.common import client_address

NEUTRAL = "Code inconnu ou accès refusé."


def wrong_code(code: str) -> str:
    """Return ``code`` with its last character changed, so it never matches."""
    last = "Y" if code[-1] == "Z" else "Z"
    return code[:-1] + last


def _add_people(store) -> None:
    with store.write() as session:
        block = Block(name="A")
        d1, d2 = Division(name="2de1", block=block), Division(name="2de2", block=block)
        session.add_all([block, d1, d2])
        people = [("DUPONT", "Léa", d1), ("MARTIN", "Œdipe", d1), ("ZOLA", "Émile", d2)]
        for index, (last, first, division) in enumerate(people):
            session.add(
                Student(
                    source_id=f"S{index}",
                    last_name=last,
                    first_name=first,
                    name_key=name_key(last, first),
                    division=division,
                )
            )
        session.add(Teacher(source_id="T1", last_name="BERGER", first_name="Céline"))


@pytest.fixture
def people_store(database_store):
    _add_people(database_store)
    return database_store


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 9, 14, 8, 0, 0)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_new_code_shape():
    code = access.new_code()
    groups = code.split("-")
    assert len(groups) == 3
    assert all(len(group) == 4 for group in groups)
    assert all(c in access.ALPHABET for c in code.replace("-", ""))
    assert not set("01OIL") & set(access.ALPHABET)


def test_generate_codes_stores_hash_only(people_store):
    issued = generate_codes(
        people_store, students=True, teachers=True, coordinator=True
    )
    roles = [item.role for item in issued]
    assert roles.count(Role.STUDENT) == 3
    assert roles.count(Role.TEACHER) == 1
    assert roles.count(Role.COORDINATOR) == 1
    with people_store.read() as session:
        rows = [
            (row.lookup, row.code_hash)
            for row in session.scalars(select(AccessCode).order_by(AccessCode.id))
        ]
    for item, (lookup, code_hash) in zip(issued, rows, strict=True):
        raw = access.normalize_code(item.code)
        assert lookup == raw[:4]
        assert raw[4:] not in code_hash
        assert code_hash.startswith("scrypt$")


def test_generate_codes_by_class_sorted(people_store):
    issued = generate_codes(people_store, class_names=["2de1"])
    assert [item.label for item in issued] == ["DUPONT Léa", "MARTIN Œdipe"]
    assert {item.class_name for item in issued} == {"2de1"}


def test_generate_codes_unknown_class(people_store):
    with pytest.raises(NotFoundError, match="Classe inconnue : 2de9"):
        generate_codes(people_store, class_names=["2de9"])
    with people_store.read() as session:
        assert session.scalars(select(AccessCode)).all() == []


@pytest.fixture
def people_store_each_backend(store):
    """The people of :func:`_add_people`, once on SQLite and once on PostgreSQL."""
    _add_people(store)
    return store


def test_generate_code_one_student_keeps_others(people_store_each_backend):
    store = people_store_each_backend
    first = generate_codes(store, students=True)
    old = {item.label: item for item in first}
    identity = authenticate(store, old["MARTIN Œdipe"].code)

    issued = generate_codes(store, student_ids=["S1"])

    assert [(i.label, i.class_name, i.role) for i in issued] == [
        ("MARTIN Œdipe", "2de1", Role.STUDENT)
    ]
    assert issued[0].student_id == identity.student_id
    assert authenticate(store, issued[0].code).student_id == identity.student_id
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(store, old["MARTIN Œdipe"].code)
    for label in ("DUPONT Léa", "ZOLA Émile"):
        assert authenticate(store, old[label].code).label == label
    with store.read() as session:
        valid = session.scalars(
            select(AccessCode.label).where(AccessCode.revoked_at.is_(None))
        ).all()
    assert sorted(valid) == ["DUPONT Léa", "MARTIN Œdipe", "ZOLA Émile"]


def test_generate_code_unknown_student(people_store_each_backend):
    store = people_store_each_backend
    before = generate_codes(store, class_names=["2de1"])
    expected = (
        "Élève introuvable : « S9 » ; donnez l'identifiant de l'élève dans la "
        "liste des élèves importée (colonne student_id, par exemple STU001), et "
        "vérifiez avec apkit summary que la liste a été importée"
    )
    with pytest.raises(NotFoundError, match=f"^{re.escape(expected)}$"):
        generate_codes(store, student_ids=["S0", "S9"])
    with store.read() as session:
        revoked = session.scalars(select(AccessCode.revoked_at)).all()
    assert revoked == [None, None]
    for item in before:
        assert authenticate(store, item.code).label == item.label


def test_generate_code_student_who_left(people_store):
    with people_store.write() as session:
        student = session.scalar(select(Student).where(Student.source_id == "S2"))
        student.left_on = dt.date(2026, 1, 9)
    with pytest.raises(
        NotFoundError,
        match=r"^Élève parti de l'établissement : S2 \(ZOLA Émile, le 09/01/2026\) ;",
    ):
        generate_codes(people_store, student_ids=["S2"])
    with people_store.read() as session:
        assert session.scalars(select(AccessCode)).all() == []


def test_generate_codes_class_and_student_once(people_store):
    issued = generate_codes(
        people_store, class_names=["2de1"], student_ids=[" S1", "S2"]
    )
    assert [(item.label, item.class_name) for item in issued] == [
        ("DUPONT Léa", "2de1"),
        ("MARTIN Œdipe", "2de1"),
        ("ZOLA Émile", "2de2"),
    ]


def test_authenticate_student_code(people_store):
    issued = generate_codes(people_store, class_names=["2de2"])
    identity = authenticate(people_store, issued[0].code.lower().replace("-", " "))
    assert isinstance(identity, Identity)
    assert identity.role is Role.STUDENT
    assert identity.label == "ZOLA Émile"
    assert identity.student_id == issued[0].student_id
    assert identity.teacher_id is None
    assert not identity.is_staff


@pytest.mark.parametrize(
    "typed", [None, "", "ABCD", "ABCD-EFGH-JKMN", "0000-0000-0000", "<script>"]
)
def test_authenticate_wrong_code_neutral(people_store, typed):
    generate_codes(people_store, students=True)
    with pytest.raises(AccessDenied) as caught:
        authenticate(people_store, typed)
    assert str(caught.value) == NEUTRAL


def test_authenticate_right_prefix_wrong_secret(people_store):
    code = generate_codes(people_store, class_names=["2de2"])[0].code
    wrong = code[:5] + ("A" if code[5] != "A" else "B") + code[6:]
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(people_store, wrong)


def test_regenerate_revokes_old_code(people_store):
    old = generate_codes(people_store, class_names=["2de2"])[0]
    identity = authenticate(people_store, old.code)
    new = generate_codes(people_store, class_names=["2de2"])[0]
    assert new.code != old.code
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(people_store, old.code)
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.recheck(people_store, identity)
    assert authenticate(people_store, new.code).student_id == old.student_id


def test_coordinator_and_teacher_identities(people_store):
    issued = generate_codes(people_store, teachers=True, coordinator=True)
    teacher = authenticate(people_store, issued[0].code)
    coordinator = authenticate(people_store, issued[1].code)
    assert teacher.role is Role.TEACHER
    assert teacher.label == "BERGER Céline"
    assert coordinator.role is Role.COORDINATOR
    assert teacher.is_staff and coordinator.is_staff
    access.require_staff(teacher)
    access.require_student(teacher, 12345)


def test_require_student_other_student_denied(people_store):
    issued = generate_codes(people_store, class_names=["2de1"])
    identity = authenticate(people_store, issued[0].code)
    access.require_student(identity, issued[0].student_id)
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.require_student(identity, issued[1].student_id)
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.require_staff(identity)


def test_throttle_delay_grows_then_refuses(people_store):
    code = generate_codes(people_store, class_names=["2de2"])[0].code
    clock = FakeClock()
    for _ in range(access.CLIENT_FREE_FAILURES):
        with pytest.raises(AccessDenied):
            authenticate(people_store, "AAAA-AAAA-AAAA", client="10.0.0.7", clock=clock)
        clock.advance(0.1)
    # Past the free failures, even the right code waits for the delay.
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(people_store, code, client="10.0.0.7", clock=clock)
    assert access.count_failures(people_store) == access.CLIENT_FREE_FAILURES
    # Another client is not slowed down by this one.
    assert authenticate(people_store, code, client="10.0.0.8", clock=clock).label
    clock.advance(1.5)
    assert authenticate(people_store, code, client="10.0.0.7", clock=clock).label


def test_throttle_refuses_past_limit_until_window_ends(people_store):
    code = generate_codes(people_store, class_names=["2de2"])[0].code
    clock = FakeClock()
    failures = 0
    while failures < access.CLIENT_REFUSE_AFTER:
        delay = access._delay_after(failures, access.CLIENT_FREE_FAILURES)
        clock.advance(delay.total_seconds() + 0.1)
        with pytest.raises(AccessDenied):
            authenticate(people_store, "AAAA-AAAA-AAAA", client="x", clock=clock)
        failures += 1
    clock.advance(access.MAX_DELAY.total_seconds() + 1)
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(people_store, code, client="x", clock=clock)
    clock.advance(access.FAILURE_WINDOW.total_seconds())
    assert authenticate(people_store, code, client="x", clock=clock).label


def _add_failures(store, count: int, at: dt.datetime, client: str = "") -> None:
    with store.write() as session:
        for index in range(count):
            session.add(LoginFailure(at=at, client=client or f"c{index}"))


def test_computer_room_mistyping_locks_nobody_out(people_store):
    # 35 students each mistype twice from one room's address: 70 failures.
    issued = generate_codes(people_store, students=True)
    clock = FakeClock()
    waits: list[float] = []
    for index in range(35):
        for _ in range(2):
            with pytest.raises(AccessDenied, match=NEUTRAL):
                authenticate(
                    people_store, "AAAA-AAAA-AAAA", clock=clock, sleep=waits.append
                )
        if index % 7 == 0:
            clock.advance(1)
    assert access.count_failures(people_store) == 70
    for item in issued:
        identity = authenticate(
            people_store, item.code, clock=clock, sleep=waits.append
        )
        assert identity.student_id == item.student_id
    # Only the wrong codes past the school-wide free failures waited.
    assert len(waits) == 70 - access.OVERALL_FREE_FAILURES
    assert 0 < max(waits) <= access.OVERALL_MAX_DELAY.total_seconds()


def test_school_wide_failures_never_refuse_a_right_code(people_store):
    code = generate_codes(people_store, class_names=["2de2"])[0].code
    clock = FakeClock()
    _add_failures(people_store, 400, clock.now)
    waits: list[float] = []
    assert authenticate(people_store, code, clock=clock, sleep=waits.append).label
    assert authenticate(
        people_store, code, client="10.0.0.3", clock=clock, sleep=waits.append
    ).label
    assert waits == []
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(people_store, wrong_code(code), clock=clock, sleep=waits.append)
    assert waits == [access.OVERALL_MAX_DELAY.total_seconds()]
    assert access.count_failures(people_store) == 401


def test_wrong_code_waits_only_past_free_failures(people_store):
    clock = FakeClock()
    _add_failures(people_store, access.OVERALL_FREE_FAILURES - 1, clock.now)
    waits: list[float] = []
    for _ in range(2):
        with pytest.raises(AccessDenied, match=NEUTRAL):
            authenticate(
                people_store, "AAAA-AAAA-AAAA", clock=clock, sleep=waits.append
            )
    assert waits == [1.0]
    clock.advance(access.FAILURE_WINDOW.total_seconds() + 1)
    with pytest.raises(AccessDenied, match=NEUTRAL):
        authenticate(people_store, "AAAA-AAAA-AAAA", clock=clock, sleep=waits.append)
    assert waits == [1.0]


def test_administration_code_reads_only(people_store):
    issued = generate_codes(people_store, coordinator=True, administration=True)
    assert [(item.role, item.label) for item in issued] == [
        (Role.COORDINATOR, "Coordination"),
        (Role.ADMINISTRATION, "Administration"),
    ]
    identity = authenticate(people_store, issued[1].code)
    assert identity.role is Role.ADMINISTRATION
    assert identity.actor == "administration:Administration"
    assert not identity.is_staff
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.require_staff(identity)
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.require_student(identity, 1)
    # Regenerating revokes the previous administration code only.
    again = generate_codes(people_store, administration=True)[0]
    with pytest.raises(AccessDenied, match=NEUTRAL):
        access.recheck(people_store, identity)
    assert authenticate(people_store, again.code).role is Role.ADMINISTRATION
    assert authenticate(people_store, issued[0].code).role is Role.COORDINATOR


def test_administration_may_not_move_students(people_store):
    with pytest.raises(AccessDenied, match="L'administration consulte les statis"):
        move_student(
            people_store, 1, 1, 1, actor="administration:Administration",
            role=Role.ADMINISTRATION,
        )  # fmt: skip
    with pytest.raises(AccessDenied, match="L'administration consulte les statis"):
        move_student(people_store, 1, 1, 1, actor="a", role="administration")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"HTTP_X_FORWARDED_FOR": "10.0.0.5"}, ""),
        ({"HTTP_X_FORWARDED_FOR": "10.0.0.5", "APKIT_TRUSTED_PROXY": "0"}, ""),
        ({"HTTP_X_FORWARDED_FOR": "1.2.3.4, 10.0.0.5", "APKIT_TRUSTED_PROXY": "1"},
         "10.0.0.5"),
        ({"APKIT_TRUSTED_PROXY": "1"}, ""),
        ({}, ""),
    ],
)  # fmt: skip
def test_client_address_trusts_header_only_behind_proxy(environ, expected):
    assert client_address(environ) == expected


def test_client_address_reads_process_environment(monkeypatch):
    monkeypatch.setenv("HTTP_X_FORWARDED_FOR", "10.0.0.6")
    monkeypatch.delenv("APKIT_TRUSTED_PROXY", raising=False)
    assert client_address() == ""
    monkeypatch.setenv("APKIT_TRUSTED_PROXY", "1")
    assert client_address() == "10.0.0.6"


def test_code_never_logged(people_store, caplog):
    caplog.set_level(logging.DEBUG, logger="apkit")
    issued = generate_codes(people_store, students=True)
    authenticate(people_store, issued[0].code)
    with pytest.raises(AccessDenied):
        authenticate(people_store, wrong_code(issued[0].code), client="c")
    for item in issued:
        raw = access.normalize_code(item.code)
        assert item.code not in caplog.text
        assert raw[4:] not in caplog.text


def test_codes_csv_roundtrip(people_store, tmp_path):
    issued = generate_codes(people_store, students=True, coordinator=True)
    path = tmp_path / "codes.csv"
    access.write_codes_csv(issued, path, base_url="http://ap.lycee.fr")
    text = path.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "role;classe;nom;code;lien"
    link = f"http://ap.lycee.fr/voila/render/inscription.ipynb?code={issued[0].code}"
    assert link in text
    back = access.read_codes_csv(path)
    assert [(b.label, b.code, b.role) for b in back] == [
        (i.label, i.code, i.role) for i in issued
    ]


def test_codes_csv_french_roles(people_store, tmp_path):
    issued = generate_codes(
        people_store,
        class_names=["2de2"],
        teachers=True,
        coordinator=True,
        administration=True,
    )
    path = tmp_path / "codes.csv"
    access.write_codes_csv(issued, path, base_url="http://ap.lycee.fr/")
    rows = [line.split(";") for line in path.read_text("utf-8-sig").splitlines()]
    assert [(row[0], row[2]) for row in rows[1:]] == [
        ("élève", "ZOLA Émile"),
        ("enseignant", "BERGER Céline"),
        ("coordination", "Coordination"),
        ("administration", "Administration"),
    ]
    for english in ("student", "teacher", "coordinator"):
        assert english not in path.read_text("utf-8-sig")


@pytest.mark.parametrize(
    ("written", "role"),
    [
        ("élève", Role.STUDENT),
        ("Élève", Role.STUDENT),
        ("enseignant", Role.TEACHER),
        (" coordination ", Role.COORDINATOR),
        ("administration", Role.ADMINISTRATION),
        ("student", Role.STUDENT),
        ("teacher", Role.TEACHER),
        ("coordinator", Role.COORDINATOR),
    ],
)
def test_read_codes_csv_french_and_english(tmp_path, written, role):
    path = tmp_path / "codes.csv"
    path.write_text(
        f"role;classe;nom;code;lien\n{written};2de1;DUPONT Léa;K7QX-M3PA-9RTW;\n",
        encoding="utf-8-sig",
    )
    [item] = access.read_codes_csv(path)
    assert item.role is role
    assert (item.label, item.class_name, item.code) == (
        "DUPONT Léa",
        "2de1",
        "K7QX-M3PA-9RTW",
    )


def test_read_codes_csv_unknown_role(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text(
        "role;classe;nom;code;lien\nélève;2de1;A B;K7QX-M3PA-9RTW;\n"
        "parent;2de1;C D;K7QX-M3PA-9RTX;\n",
        encoding="utf-8",
    )
    expected = (
        "codes.csv:3 : colonne « role » : rôle inconnu (valeur : « parent ») ; "
        "écrivez l'un des rôles élève, enseignant, coordination, administration"
    )
    with pytest.raises(RosterError, match=f"^{re.escape(expected)}$") as caught:
        access.read_codes_csv(path)
    assert caught.value.line == 3
    assert caught.value.value == "parent"


def test_read_codes_csv_missing_column(tmp_path):
    path = tmp_path / "codes.csv"
    path.write_text("role;nom\nstudent;X\n", encoding="utf-8")
    with pytest.raises(
        RosterError, match="codes.csv:1 : colonnes manquantes"
    ) as caught:
        access.read_codes_csv(path)
    assert caught.value.line == 1


def test_write_slips_one_pdf_per_class(people_store, tmp_path):
    issued = generate_codes(people_store, students=True, teachers=True)
    paths = access.write_slips(issued, tmp_path, base_url="http://ap.lycee.fr/")
    assert [p.name for p in paths] == [
        "codes_2de1.pdf",
        "codes_2de2.pdf",
        "codes_personnels.pdf",
    ]
    text = PdfReader(paths[0]).pages[0].extract_text()
    assert "MARTIN Œdipe" in text
    assert "Classe : 2de1" in text
    assert issued[0].code in text
    assert "inscription.ipynb?code=" in text
    assert "Garde ce code pour toi" in text
