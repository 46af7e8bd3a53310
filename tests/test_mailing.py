"""E-mail delivery against a local aiosmtpd server on 127.0.0.1 only."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from apkit.corrections import move_student
from apkit.errors import NotFoundError
from apkit.mailing import (
    MailError,
    SmtpSettings,
    deliver,
    fix_boundaries,
    message_bytes,
    send_publication,
)
from apkit.model import (
    Block,
    Campaign,
    CampaignStatus,
    MessageLog,
    Period,
    Publication,
    Student,
    Teacher,
)
from apkit.publication import publish, update_publication
from apkit.store import Store
from tests.factories import small_school

SENDER = "ap@lycee.example.org"
STAMPED = (b"date:", b"message-id:")


class RecordingHandler:
    """Keeps what the server receives; rejects recipients listed in ``refused``."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []
        self.refused: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refused:
            return "550 5.1.1 Boîte inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.received.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    handler = RecordingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, handler
    controller.stop()


def _settings(controller: Controller) -> SmtpSettings:
    return SmtpSettings.from_url(
        f"smtp://{controller.hostname}:{controller.port}?from={SENDER}"
    )


def _publication(store: Store, code: str = "P1") -> int:
    with store.write() as session:
        block = session.scalar(select(Block)) or Block(name="A")
        period = Period(
            code=code,
            name="Période 1",
            school_year="2025-2026",
            start_date=dt.date(2025, 9, 15),
            end_date=dt.date(2025, 10, 17),
        )
        campaign = Campaign(period=period, block=block)
        session.add(campaign)
        session.flush()
        publication = Publication(campaign_id=campaign.id, folder="pub", files=[])
        session.add(publication)
        session.flush()
        return publication.id


def _messages() -> list[EmailMessage]:
    messages = []
    for address, name in [
        ("anne.robert@example.org", "Anne Robert"),
        ("li.nguyen@example.org", "Lí Nguyễn"),
    ]:
        message = EmailMessage()
        message["From"] = SENDER
        message["To"] = address
        message["Subject"] = "Vos listes d'AP – période 1"
        message.set_content(f"Bonjour {name},\n\nVoici vos listes.\n")
        message.add_attachment(
            b"%PDF-1.4 liste",
            maintype="application",
            subtype="pdf",
            filename="liste_Théâtre.pdf",
        )
        messages.append(fix_boundaries(message))
    return messages


def _without_stamps(raw: bytes) -> bytes:
    lines = raw.split(b"\r\n")
    return b"\r\n".join(line for line in lines if not line.lower().startswith(STAMPED))


def _log(store: Store, publication_id: int) -> dict[str, tuple[str, str]]:
    with store.read() as session:
        rows = session.execute(
            select(MessageLog.recipient, MessageLog.status, MessageLog.error).where(
                MessageLog.publication_id == publication_id
            )
        )
        return {recipient: (status, error) for recipient, status, error in rows}


def test_dry_run_matches_sent_bytes(store, smtp_server, tmp_path):
    controller, handler = smtp_server
    publication_id = _publication(store)

    dry = deliver(store, publication_id, _messages(), dry_run_dir=tmp_path / "eml")
    assert _log(store, publication_id) == {
        "anne.robert@example.org": ("dry-run", ""),
        "li.nguyen@example.org": ("dry-run", ""),
    }
    report = deliver(store, publication_id, _messages(), settings=_settings(controller))

    assert report.sent == ["anne.robert@example.org", "li.nguyen@example.org"]
    assert report.failed == {}
    assert len(handler.received) == 2
    for written, (_recipients, content) in zip(
        dry.written, handler.received, strict=True
    ):
        assert written.suffix == ".eml"
        eml = written.read_bytes()
        assert _without_stamps(eml) == _without_stamps(content)
        assert eml != content  # the Date or Message-ID differs
        assert b"\r\nMessage-ID: <" in eml
    parsed = message_from_bytes(handler.received[1][1], policy=policy.default)
    assert parsed["Subject"] == "Vos listes d'AP – période 1"
    assert "Lí Nguyễn" in parsed.get_body(("plain",)).get_content()
    attachment = next(parsed.iter_attachments())
    assert attachment.get_filename() == "liste_Théâtre.pdf"
    assert attachment.get_content() == b"%PDF-1.4 liste"
    assert handler.received[1][0] == ["li.nguyen@example.org"]


def test_failed_address_retried_once(store, smtp_server):
    controller, handler = smtp_server
    publication_id = _publication(store)
    handler.refused.add("li.nguyen@example.org")

    first = deliver(store, publication_id, _messages(), settings=_settings(controller))

    assert first.sent == ["anne.robert@example.org"]
    assert list(first.failed) == ["li.nguyen@example.org"]
    assert "550 5.1.1" in first.failed["li.nguyen@example.org"]
    status, error = _log(store, publication_id)["li.nguyen@example.org"]
    assert status == "failed"
    assert "550 5.1.1" in error

    second = deliver(store, publication_id, _messages(), settings=_settings(controller))
    assert second.sent == []
    assert second.skipped == ["anne.robert@example.org"]
    assert "relancez avec --retry" in second.failed["li.nguyen@example.org"]
    assert len(handler.received) == 1

    handler.refused.clear()
    again = deliver(
        store, publication_id, _messages(), settings=_settings(controller), retry=True
    )

    assert again.sent == ["li.nguyen@example.org"]
    assert again.skipped == ["anne.robert@example.org"]
    delivered = [recipients for recipients, _ in handler.received]
    assert delivered == [["anne.robert@example.org"], ["li.nguyen@example.org"]]
    assert _log(store, publication_id)["li.nguyen@example.org"] == ("sent", "")


def test_login_never_logs_password(database_store, caplog):
    handler = RecordingHandler()

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login == b"ap" and auth_data.password == b"s3cr@t!"
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        publication_id = _publication(database_store)
        url = f"smtp://ap:s3cr%40t%21@127.0.0.1:{controller.port}?from={SENDER}"
        settings = SmtpSettings.from_url(url)
        with caplog.at_level(logging.DEBUG, logger="apkit"):
            report = deliver(
                database_store, publication_id, _messages(), settings=settings
            )
        wrong = SmtpSettings.from_url(url.replace("s3cr%40t%21", "faux"))
        other_id = _publication(database_store, code="P2")
        with pytest.raises(MailError, match="Connexion au serveur SMTP 127.0.0.1"):
            deliver(database_store, other_id, _messages(), settings=wrong)
    finally:
        controller.stop()
    assert settings.password == "s3cr@t!"
    assert len(report.sent) == 2
    assert "s3cr" not in caplog.text
    assert "s3cr" not in repr(settings)


def test_unreachable_server_records_nothing(database_store):
    publication_id = _publication(database_store)
    settings = SmtpSettings.from_url(f"smtp://127.0.0.1:{_free_port()}?from={SENDER}")
    with pytest.raises(MailError, match="Connexion au serveur SMTP 127.0.0.1:"):
        deliver(database_store, publication_id, _messages(), settings=settings)
    assert _log(database_store, publication_id) == {}


def test_deliver_without_server_rejected(database_store):
    publication_id = _publication(database_store)
    with pytest.raises(MailError, match="Aucun serveur SMTP configuré"):
        deliver(database_store, publication_id, _messages())
    with pytest.raises(NotFoundError, match="Publication 99 introuvable"):
        deliver(database_store, 99, _messages())


def test_settings_from_url():
    settings = SmtpSettings.from_url(
        "smtp://ap%40lycee.fr:mot%20de%20passe@smtp.lycee.fr:587?starttls=1"
    )
    assert settings.host == "smtp.lycee.fr"
    assert settings.port == 587
    assert settings.username == "ap@lycee.fr"
    assert settings.password == "mot de passe"
    assert settings.sender == "ap@lycee.fr"
    assert settings.starttls is True
    assert settings.implicit_tls is False

    secure = SmtpSettings.from_url(f"smtps://smtp.lycee.fr?from={SENDER}")
    assert secure.port == 465
    assert secure.implicit_tls is True
    assert secure.starttls is False


def test_settings_invalid_url_hides_password(monkeypatch):
    monkeypatch.delenv("APKIT_MAIL_FROM", raising=False)
    with pytest.raises(
        MailError, match=r"invalide : « http://ap:\*\*\*@smtp"
    ) as caught:
        SmtpSettings.from_url("http://ap:secret@smtp.lycee.fr")
    assert "secret" not in str(caught.value)
    with pytest.raises(MailError, match="Adresse d'expéditeur manquante"):
        SmtpSettings.from_url("smtp://ap:secret@smtp.lycee.fr")


def test_settings_from_environment(monkeypatch):
    monkeypatch.delenv("APKIT_SMTP_URL", raising=False)
    assert SmtpSettings.from_environment() is None
    monkeypatch.setenv("APKIT_SMTP_URL", "smtp://127.0.0.1:2525")
    monkeypatch.setenv("APKIT_MAIL_FROM", SENDER)
    settings = SmtpSettings.from_environment()
    assert settings.port == 2525
    assert settings.sender == SENDER


def test_boundaries_do_not_change(tmp_path):
    first, second = _messages()[0], _messages()[0]
    assert message_bytes(first) == message_bytes(second)


def _published_school(store: Store, tmp_path):
    school = small_school(store, status=CampaignStatus.CLOSED)
    for student_id in school.students[:3]:
        school.builder.enrolment(
            school.campaign_id, student_id, school.activities["A1"]
        )
        school.builder.enrolment(
            school.campaign_id, student_id, school.activities["B1"]
        )
    with store.write() as session:
        teacher = session.get(Teacher, school.teachers[0])
        teacher.email = "prof1@example.org"
        student = session.get(Student, school.students[0])
        student.email = "thomas.beranger@example.org"
    publication = publish(
        store,
        school.campaign_id,
        tmp_path,
        actor="coordination",
        base_url="https://ap.example.org/",
    )
    return school, publication


def test_send_publication_and_update(database_store, smtp_server, tmp_path):
    controller, handler = smtp_server
    school, publication = _published_school(database_store, tmp_path / "pub")
    settings = _settings(controller)

    report = send_publication(database_store, publication.id, settings=settings)

    assert sorted(report.sent) == ["prof1@example.org", "thomas.beranger@example.org"]
    by_recipient = {
        recipients[0]: message_from_bytes(content, policy=policy.default)
        for recipients, content in handler.received
    }
    to_teacher = by_recipient["prof1@example.org"]
    assert to_teacher["Subject"] == "Listes d'AP – P1, barrette A"
    names = sorted(part.get_filename() for part in to_teacher.iter_attachments())
    assert len(names) == 2
    assert names[0].endswith("_PROF1_Prof.pdf")
    assert names[1].endswith("_PROF1_Prof.xlsx")
    to_student = by_recipient["thomas.beranger@example.org"]
    assert to_student["Subject"] == "Tes groupes d'AP – P1, barrette A"
    body = to_student.get_body(("plain",)).get_content()
    assert "- heure 1 : Atelier A1, avec PROF1 Prof, salle R1" in body
    assert "https://ap.example.org/voila/render/inscription.ipynb" in body

    move_student(
        database_store,
        school.campaign_id,
        school.students[0],
        school.activities["A2"],
        actor="coordination",
        role="coordinator",
    )
    with pytest.raises(MailError, match="n'est plus à jour après une correction"):
        send_publication(database_store, publication.id, settings=settings)
    update_publication(database_store, publication.id, actor="coordination")

    again = send_publication(database_store, publication.id, settings=settings)

    assert sorted(again.skipped) == ["prof1@example.org", "thomas.beranger@example.org"]
    # PROF1 lost the student from A1, so both get the update.
    assert sorted(again.sent) == ["prof1@example.org", "thomas.beranger@example.org"]
    subjects = [
        message_from_bytes(content, policy=policy.default)["Subject"]
        for _recipients, content in handler.received[2:]
    ]
    assert "Tes groupes d'AP (mise à jour n° 1) – P1, barrette A" in subjects
    update_body = (
        [
            message_from_bytes(content, policy=policy.default)
            for recipients, content in handler.received[2:]
            if recipients == ["thomas.beranger@example.org"]
        ][0]
        .get_body(("plain",))
        .get_content()
    )
    assert "Atelier A2" in update_body


def test_send_publication_dry_run(database_store, tmp_path):
    _school, publication = _published_school(database_store, tmp_path / "pub")
    report = send_publication(
        database_store, publication.id, dry_run_dir=tmp_path / "eml", sender=SENDER
    )
    assert [path.name for path in report.written] == [
        "001_prof1_example.org.eml",
        "002_thomas.beranger_example.org.eml",
    ]
    assert report.sent == []
    assert _log(database_store, publication.id)["prof1@example.org"] == ("dry-run", "")
