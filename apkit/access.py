"""Personal access codes, their roles, and the checks every page action makes.

A code has 12 characters in three groups (``K7QX-M3PA-9RTW``) from an alphabet
without look-alike characters (no 0/O, 1/I/L). The first group is its public
``lookup`` used to find the row; the other eight characters (about 40 bits) are
stored only as a salted scrypt hash. The plain codes are returned once, by
:func:`generate_codes`, and cannot be read back: regenerating revokes the old ones.

Failed attempts are recorded as :class:`~apkit.model.LoginFailure` rows. Past a few
failures in :data:`FAILURE_WINDOW` from one client, each new attempt from it must
wait a growing delay after the previous failure, and past a higher count its
attempts are refused until the window has passed. Failures from all clients
together only slow down the answer to a wrong code: they never refuse a right
one. Every refusal raises :class:`~apkit.errors.AccessDenied` with the same
neutral message; no code is ever written to a log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from apkit.errors import AccessDenied, NotFoundError
from apkit.model import AccessCode, Division, LoginFailure, Role, Student, Teacher
from apkit.model import utcnow as _utcnow
from apkit.names import sort_key

log = logging.getLogger(__name__)

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUP_SIZE = 4
GROUP_COUNT = 3
CODE_LENGTH = GROUP_SIZE * GROUP_COUNT
LOOKUP_LENGTH = GROUP_SIZE

# scrypt cost: about 25 ms and 8 MB per hash on a 2020 laptop core. The parameters
# are stored in each hash, so raising them later keeps old codes valid.
SCRYPT_N = 2**13
SCRYPT_R = 8
SCRYPT_P = 1

FAILURE_WINDOW = dt.timedelta(minutes=15)
# Failures allowed in the window before delays start, per client and overall. The
# overall figure is high because a computer room of 35 students shares it.
CLIENT_FREE_FAILURES = 5
CLIENT_REFUSE_AFTER = 20
OVERALL_FREE_FAILURES = 60
MAX_DELAY = dt.timedelta(seconds=60)
# Maximum wait added before rejecting a wrong code when the school has many failures.
OVERALL_MAX_DELAY = dt.timedelta(seconds=10)

Clock = Callable[[], dt.datetime]
Sleep = Callable[[float], None]
STAFF_ROLES = (Role.TEACHER, Role.COORDINATOR)


@dataclass(frozen=True)
class Identity:
    """The holder of a code: its role and the one person it opens."""

    role: Role
    label: str
    code_id: int
    student_id: int | None = None
    teacher_id: int | None = None

    @property
    def is_staff(self) -> bool:
        """Whether the holder may correct placements (a teacher or the coordinator).

        The administration only reads: it is not staff in this sense.
        """
        return self.role in STAFF_ROLES

    @property
    def actor(self) -> str:
        """The name written in the audit log for this holder's actions."""
        return f"{self.role.value}:{self.label}"


@dataclass(frozen=True)
class IssuedCode:
    """A code just generated, the only time its plain text exists."""

    role: Role
    label: str
    class_name: str
    code: str
    student_id: int | None = None
    teacher_id: int | None = None


# -- codes and hashes ---------------------------------------------------------------


def new_code() -> str:
    """Return a random code, formatted in groups: ``K7QX-M3PA-9RTW``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return format_code(raw)


def format_code(raw: str) -> str:
    """Return a normalized code split into groups of four with hyphens."""
    return "-".join(raw[i : i + GROUP_SIZE] for i in range(0, len(raw), GROUP_SIZE))


def normalize_code(typed: str | None) -> str:
    """Return a typed code upper-cased, without spaces and hyphens.

    Only case and grouping are forgiven: a look-alike character (0, O, 1, I, L)
    is not in :data:`ALPHABET`, so a code containing one fails.
    """
    if not typed:
        return ""
    return "".join(c for c in typed.upper() if c not in " -\t\u00a0\u202f")


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    """Return ``scrypt$N$r$p$salt$hash`` for the secret part of a code."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(
        secret.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    """Return whether ``secret`` matches a hash made by :func:`hash_secret`."""
    try:
        scheme, n, r, p, salt, expected = stored.split("$")
        if scheme != "scrypt":
            return False
        digest = hashlib.scrypt(
            secret.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=32,
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest.hex(), expected)


# A hash checked when no row matches, so a wrong prefix costs the same time.
_DUMMY_HASH = hash_secret("X" * (CODE_LENGTH - LOOKUP_LENGTH), salt=b"\0" * 16)


# -- generating ---------------------------------------------------------------------


def _taken_lookups(session: Session) -> set[str]:
    return set(session.scalars(select(AccessCode.lookup)))


def _issue(
    session: Session, taken: set[str], *, role: Role, label: str, **holder: int | None
) -> str:
    while True:
        code = new_code()
        raw = normalize_code(code)
        if raw[:LOOKUP_LENGTH] not in taken:
            break
    taken.add(raw[:LOOKUP_LENGTH])
    session.add(
        AccessCode(
            role=role,
            label=label,
            lookup=raw[:LOOKUP_LENGTH],
            code_hash=hash_secret(raw[LOOKUP_LENGTH:]),
            **holder,
        )
    )
    return code


def _revoke(session: Session, role: Role, **holder: int | None) -> int:
    statement = select(AccessCode).where(
        AccessCode.role == role, AccessCode.revoked_at.is_(None)
    )
    for column, value in holder.items():
        statement = statement.where(getattr(AccessCode, column) == value)
    rows = list(session.scalars(statement))
    now = _utcnow()
    for row in rows:
        row.revoked_at = now
    return len(rows)


def _select_students(
    session: Session, class_names: Iterable[str] | None
) -> list[tuple[Student, str]]:
    statement = (
        select(Student, Division.name)
        .join(Division, Student.division_id == Division.id)
        .where(Student.left_on.is_(None))
    )
    wanted = sorted(set(class_names or ()))
    if wanted:
        known = set(
            session.scalars(select(Division.name).where(Division.name.in_(wanted)))
        )
        missing = [name for name in wanted if name not in known]
        if missing:
            raise NotFoundError(
                f"Classe inconnue : {', '.join(missing)} ; vérifiez le nom de la "
                "classe (par exemple 2de1) ou importez d'abord la liste des élèves"
            )
        statement = statement.where(Division.name.in_(wanted))
    rows = [(student, name) for student, name in session.execute(statement)]
    rows.sort(key=lambda r: (r[1], sort_key(r[0].last_name, r[0].first_name)))
    return rows


def _select_named_students(
    session: Session, source_ids: Iterable[str]
) -> list[tuple[Student, str]]:
    """Return the current students of these source ids, with their class names."""
    requested = sorted({source_id.strip() for source_id in source_ids})
    statement = (
        select(Student, Division.name)
        .outerjoin(Division, Student.division_id == Division.id)
        .where(Student.source_id.in_(requested))
    )
    found = {
        student.source_id: (student, name or "")
        for student, name in session.execute(statement)
    }
    missing = [source_id for source_id in requested if source_id not in found]
    if missing:
        quoted = ", ".join(f"« {source_id} »" for source_id in missing)
        raise NotFoundError(
            f"Élève introuvable : {quoted} ; donnez l'identifiant de l'élève dans "
            "la liste des élèves importée (colonne student_id, par exemple "
            "STU001), et vérifiez avec apkit summary que la liste a été importée"
        )
    students = [found[source_id][0] for source_id in requested]
    departed = [student for student in students if student.left_on is not None]
    if departed:
        names = ", ".join(
            f"{s.source_id} ({s.last_name} {s.first_name}, le {s.left_on:%d/%m/%Y})"
            for s in departed
        )
        raise NotFoundError(
            f"Élève parti de l'établissement : {names} ; un élève parti ne reçoit "
            "pas de code, réimportez la liste des élèves s'il est revenu"
        )
    return [found[source_id] for source_id in requested]


def _students_to_code(
    session: Session,
    every_student: bool,
    class_names: Iterable[str] | None,
    source_ids: Iterable[str] | None,
) -> list[tuple[Student, str]]:
    """Return the students who get a code: by class, or all, then those named."""
    rows = []
    if every_student or class_names:
        rows = _select_students(session, class_names)
    if source_ids:
        chosen = {student.id for student, _ in rows}
        named = _select_named_students(session, source_ids)
        rows += [row for row in named if row[0].id not in chosen]
    return rows


SCHOOL_CODE_LABELS = {
    Role.COORDINATOR: "Coordination",
    Role.ADMINISTRATION: "Administration",
}


def _issue_school_code(session: Session, taken: set[str], role: Role) -> IssuedCode:
    _revoke(session, role)
    label = SCHOOL_CODE_LABELS[role]
    code = _issue(session, taken, role=role, label=label)
    return IssuedCode(role, label, "", code)


def generate_codes(
    store,
    *,
    students: bool = False,
    class_names: Iterable[str] | None = None,
    student_ids: Iterable[str] | None = None,
    teachers: bool = False,
    coordinator: bool = False,
    administration: bool = False,
) -> list[IssuedCode]:
    """Create new codes and return them in plain text, the only time they exist.

    Each holder's previous codes of the same role are revoked in the same
    transaction. Students who have left are skipped.

    Parameters
    ----------
    store
        The school's :class:`~apkit.store.Store`.
    students
        Give a code to every current student, or to those of ``class_names``.
    class_names
        Limit the students to these classes.
    student_ids
        Also give a code to these students, named by their source id (the
        ``student_id`` of the roster, such as ``"STU001"``). Only their codes
        are replaced, so a student who arrived late gets one without revoking
        the codes of the rest of the class.
    teachers
        Give a code to every teacher.
    coordinator
        Create the coordinator's code (one for the school).
    administration
        Create the administration's code (one for the school), which opens the
        statistics page and changes nothing.

    Raises
    ------
    NotFoundError
        If a class of ``class_names`` is not in the database, or a student of
        ``student_ids`` is not in it or has left. Nothing is then written.
    """
    issued: list[IssuedCode] = []
    with store.write() as session:
        taken = _taken_lookups(session)
        chosen = _students_to_code(session, students, class_names, student_ids)
        for student, class_name in chosen:
            _revoke(session, Role.STUDENT, student_id=student.id)
            label = f"{student.last_name} {student.first_name}"
            code = _issue(
                session, taken, role=Role.STUDENT, label=label, student_id=student.id
            )
            issued.append(
                IssuedCode(Role.STUDENT, label, class_name, code, student_id=student.id)
            )
        if teachers:
            rows = session.scalars(select(Teacher)).all()
            for teacher in sorted(
                rows, key=lambda t: sort_key(t.last_name, t.first_name)
            ):
                _revoke(session, Role.TEACHER, teacher_id=teacher.id)
                label = f"{teacher.last_name} {teacher.first_name}"
                code = _issue(
                    session,
                    taken,
                    role=Role.TEACHER,
                    label=label,
                    teacher_id=teacher.id,
                )
                issued.append(
                    IssuedCode(Role.TEACHER, label, "", code, teacher_id=teacher.id)
                )
        if coordinator:
            issued.append(_issue_school_code(session, taken, Role.COORDINATOR))
        if administration:
            issued.append(_issue_school_code(session, taken, Role.ADMINISTRATION))
    log.info("generated %d access codes", len(issued))
    return issued


def list_codes(store) -> list[dict]:
    """Return each valid code's role, holder, lookup prefix and date, no secret."""
    with store.read() as session:
        rows = session.scalars(
            select(AccessCode)
            .where(AccessCode.revoked_at.is_(None))
            .order_by(AccessCode.role, AccessCode.label)
        ).all()
        return [
            {
                "role": row.role.value,
                "label": row.label,
                "student_id": row.student_id,
                "teacher_id": row.teacher_id,
                "lookup": row.lookup,
                "created_at": row.created_at,
            }
            for row in rows
        ]


# -- authenticating -----------------------------------------------------------------


def _failures_since(session: Session, since: dt.datetime, client: str | None) -> list:
    statement = select(LoginFailure.at).where(LoginFailure.at >= since)
    if client is not None:
        statement = statement.where(LoginFailure.client == client)
    return list(session.scalars(statement.order_by(LoginFailure.at)))


def _delay_after(count: int, free: int) -> dt.timedelta:
    if count < free:
        return dt.timedelta(0)
    # The exponent is capped: 2**400 seconds does not fit a timedelta.
    seconds = 2 ** min(count - free, 16)
    return min(dt.timedelta(seconds=seconds), MAX_DELAY)


def check_throttle(session: Session, client: str, now: dt.datetime) -> None:
    """Raise :class:`AccessDenied` while attempts from ``client`` must wait.

    An empty ``client`` (no trusted proxy) is never refused here: only the
    school-wide delay of :func:`failure_delay` applies then.

    Raises
    ------
    AccessDenied
        If too many failures from this client happened in :data:`FAILURE_WINDOW`
        and the delay since the last one has not passed, or the count is past
        :data:`CLIENT_REFUSE_AFTER`.
    """
    if not client:
        return
    failures = _failures_since(session, now - FAILURE_WINDOW, client)
    if len(failures) >= CLIENT_REFUSE_AFTER:
        log.warning("login refused: %d failures in the window", len(failures))
        raise AccessDenied()
    delay = _delay_after(len(failures), CLIENT_FREE_FAILURES)
    if failures and now < failures[-1] + delay:
        log.warning("login delayed: %d failures in the window", len(failures))
        raise AccessDenied()


def failure_delay(session: Session, now: dt.datetime) -> dt.timedelta:
    """Return the wait before rejecting a wrong code, from the school's failures.

    Past :data:`OVERALL_FREE_FAILURES` failures from all clients in
    :data:`FAILURE_WINDOW`, the wait grows from 1 s up to
    :data:`OVERALL_MAX_DELAY`.
    """
    count = len(_failures_since(session, now - FAILURE_WINDOW, None))
    return min(_delay_after(count, OVERALL_FREE_FAILURES), OVERALL_MAX_DELAY)


def _record_failure(store, client: str, now: dt.datetime) -> None:
    with store.write() as session:
        session.add(LoginFailure(at=now, client=client[:64]))
        session.execute(
            delete(LoginFailure).where(LoginFailure.at < now - 2 * FAILURE_WINDOW)
        )


def _match(session: Session, raw: str) -> AccessCode | None:
    valid_shape = len(raw) == CODE_LENGTH and all(c in ALPHABET for c in raw)
    row = None
    if valid_shape:
        row = session.scalar(
            select(AccessCode).where(
                AccessCode.lookup == raw[:LOOKUP_LENGTH],
                AccessCode.revoked_at.is_(None),
            )
        )
    secret = raw[LOOKUP_LENGTH:] if valid_shape else "X" * (CODE_LENGTH - LOOKUP_LENGTH)
    matches = verify_secret(secret, row.code_hash if row else _DUMMY_HASH)
    return row if row is not None and matches else None


def authenticate(
    store,
    code: str | None,
    *,
    client: str = "",
    clock: Clock = _utcnow,
    sleep: Sleep = time.sleep,
) -> Identity:
    """Return the identity a code opens.

    Parameters
    ----------
    store
        The school's store.
    code
        The code as typed or taken from the link; case, spaces and hyphens are
        ignored.
    client
        Who is trying, for throttling (the address a trusted reverse proxy
        forwards), or ``""`` when unknown; then only the school-wide delay
        applies.
    clock
        Returns the current UTC time; tests pass their own.
    sleep
        Waits a number of seconds before a wrong code is refused, while the
        school has many failures; tests pass their own.

    Raises
    ------
    AccessDenied
        With one neutral message, if the code is missing, unknown or revoked, or
        if attempts are being throttled.
    """
    now = clock()
    # The per-client limit refuses before the hash is checked: that is what slows
    # one guesser. The school-wide count never refuses: 35 students mistyping in
    # a computer room must not lock out the right codes. It only delays the
    # response to a wrong code, so a guesser spread over many clients (or with no
    # proxy to tell clients apart) gets one guess per wait and per open page,
    # and the scrypt cost of every attempt, rather than a refusal.
    with store.read() as session:
        check_throttle(session, client, now)
        row = _match(session, normalize_code(code))
        if row is not None:
            return Identity(
                role=row.role,
                label=row.label,
                code_id=row.id,
                student_id=row.student_id,
                teacher_id=row.teacher_id,
            )
        delay = failure_delay(session, now)
    _record_failure(store, client, now)
    log.info("login failed from client %r", client)
    if delay:
        log.warning("wrong code rejected after a wait of %s", delay)
        sleep(delay.total_seconds())
    raise AccessDenied()


def recheck(store, identity: Identity) -> Identity:
    """Return ``identity`` after checking its code is still valid.

    Raises
    ------
    AccessDenied
        If the code was revoked (regenerated) since the page opened.
    """
    with store.read() as session:
        row = session.get(AccessCode, identity.code_id)
        if row is None or row.revoked_at is not None:
            raise AccessDenied()
    return identity


def require_student(identity: Identity, student_id: int) -> None:
    """Raise :class:`AccessDenied` unless ``identity`` may act for ``student_id``.

    A student acts only for themselves; teachers and the coordinator for anyone;
    the administration for no one.

    Raises
    ------
    AccessDenied
        If a student identity names another student.
    """
    if identity.is_staff:
        return
    if identity.role is Role.STUDENT and identity.student_id == student_id:
        return
    log.warning("code %d tried to act for another student", identity.code_id)
    raise AccessDenied()


def require_staff(identity: Identity) -> None:
    """Raise :class:`AccessDenied` unless ``identity`` is a teacher or the coordinator.

    Raises
    ------
    AccessDenied
        If ``identity`` is a student's or the administration's.
    """
    if not identity.is_staff:
        raise AccessDenied()


def count_failures(store) -> int:
    """Return how many failed attempts are stored."""
    with store.read() as session:
        return session.scalar(select(func.count()).select_from(LoginFailure)) or 0


# -- slips and CSV ------------------------------------------------------------------

SLIP_INSTRUCTION = (
    "Ouvre ce lien, ou va sur la page d'inscription et saisis ton code. "
    "Garde ce code pour toi : il ouvre tes inscriptions et personne d'autre "
    "ne doit s'en servir."
)
CSV_COLUMNS = ["role", "classe", "nom", "code", "lien"]
# French role names that the codes CSV and ``apkit codes export`` write, because
# coordinators open the CSV in a spreadsheet.
ROLE_LABELS = {
    Role.STUDENT: "élève",
    Role.TEACHER: "enseignant",
    Role.COORDINATOR: "coordination",
    Role.ADMINISTRATION: "administration",
}


def parse_role(text: str) -> Role:
    """Return the role that a French label or an English value names.

    Files written before the CSV had French labels contain the English values
    (``student``, ``teacher``...), so both are read. Case and surrounding
    spaces are ignored.

    Raises
    ------
    ValueError
        If ``text`` is neither a label of :data:`ROLE_LABELS` nor a role value.
    """
    typed = text.strip().casefold()
    for role, label in ROLE_LABELS.items():
        if typed in (label, role.value):
            return role
    raise ValueError(f"rôle inconnu : {text!r}")


def signup_link(base_url: str, code: str) -> str:
    """Return the student page's address with the code, for a server's public URL.

    ``base_url`` is what people type to reach the server, with any prefix a
    reverse proxy adds, for example ``http://ap.lycee.fr/`` or
    ``https://lycee.fr/ap/``.
    """
    base = base_url if base_url.endswith("/") else base_url + "/"
    return f"{base}voila/render/inscription.ipynb?code={code}"


def write_codes_csv(issued: Iterable[IssuedCode], path, *, base_url: str) -> None:
    """Write codes to a semicolon-separated UTF-8 CSV that a spreadsheet opens."""
    import csv

    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(CSV_COLUMNS)
        for item in issued:
            link = signup_link(base_url, item.code) if item.role is Role.STUDENT else ""
            role = ROLE_LABELS[item.role]
            writer.writerow([role, item.class_name, item.label, item.code, link])


def read_codes_csv(path) -> list[IssuedCode]:
    """Read a file written by :func:`write_codes_csv`.

    The ``role`` column may hold the French labels of :data:`ROLE_LABELS` or
    the English role values that older files contain.

    Raises
    ------
    RosterError
        If the file lacks one of :data:`CSV_COLUMNS` or names an unknown role.
    """
    import csv

    from apkit.errors import RosterError

    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter=";")
        missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise RosterError(
                f"colonnes manquantes : {', '.join(missing)}",
                path=path,
                line=1,
                hint="utilisez le fichier écrit par « apkit codes generate »",
            )
        issued = []
        for line, row in enumerate(reader, start=2):
            try:
                role = parse_role(row["role"] or "")
            except ValueError:
                known = ", ".join(ROLE_LABELS.values())
                raise RosterError(
                    "rôle inconnu",
                    path=path,
                    line=line,
                    column="role",
                    value=row["role"],
                    hint=f"écrivez l'un des rôles {known}",
                ) from None
            issued.append(IssuedCode(role, row["nom"], row["classe"], row["code"]))
        return issued


def _font_path():
    from importlib.util import find_spec
    from pathlib import Path

    candidates = [
        Path(__file__).parent / "fonts" / "DejaVuSans.ttf",
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    ]
    spec = find_spec("matplotlib")  # located, not imported
    if spec and spec.submodule_search_locations:
        location = Path(next(iter(spec.submodule_search_locations)))
        candidates.append(location / "mpl-data" / "fonts" / "ttf" / "DejaVuSans.ttf")
    for path in candidates:
        if path.exists():
            return path
    raise FileNotFoundError("DejaVuSans.ttf not found for the slips")


def _draw_slip(pdf, item: IssuedCode, link: str, x: float, y: float) -> None:
    width, height = 95.0, 68.0
    pdf.set_draw_color(150)
    pdf.set_line_width(0.2)
    with pdf.local_context():
        pdf.set_dash_pattern(dash=2, gap=2)
        pdf.line(x, y, x + width, y)
        pdf.line(x, y, x, y + height)
    pdf.set_xy(x + 4, y + 4)
    pdf.set_font("DejaVu", size=12)
    pdf.cell(width - 8, 6, item.label, new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", size=9)
    pdf.cell(width - 8, 5, f"Classe : {item.class_name}", new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVuMono", size=16)
    pdf.cell(width - 8, 10, item.code, new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", size=7)
    pdf.multi_cell(width - 8, 3.5, link, new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", size=8)
    pdf.multi_cell(width - 8, 4, SLIP_INSTRUCTION, new_x="LEFT", new_y="NEXT")


def write_slips(issued: Iterable[IssuedCode], folder, *, base_url: str) -> list:
    """Write one PDF of cut-out slips per class (8 a page) and return their paths.

    Each slip shows the student's name, class, code, personal link and a short
    instruction. Codes that are not students' go into ``personnels.pdf``.
    """
    from pathlib import Path

    from fpdf import FPDF

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[IssuedCode]] = {}
    for item in issued:
        key = item.class_name if item.role is Role.STUDENT else "personnels"
        groups.setdefault(key or "personnels", []).append(item)

    font = _font_path()
    mono = font.with_name("DejaVuSansMono.ttf")
    paths = []
    for name, items in sorted(groups.items()):
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(False)
        pdf.add_font("DejaVu", fname=str(font))
        pdf.add_font("DejaVuMono", fname=str(mono if mono.exists() else font))
        for index, item in enumerate(items):
            if index % 8 == 0:
                pdf.add_page()
            column, row = index % 2, (index % 8) // 2
            link = signup_link(base_url, item.code) if item.role is Role.STUDENT else ""
            _draw_slip(pdf, item, link, 10 + column * 95, 12 + row * 68)
        path = folder / f"codes_{name}.pdf"
        pdf.output(str(path))
        paths.append(path)
    return paths
