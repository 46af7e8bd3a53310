"""E-mail delivery of a publication, optional: only when the school has an SMTP server.

The server is given as a URL, in ``APKIT_SMTP_URL`` or as an argument:
``smtp://user:password@host:587?starttls=1&from=ap@lycee.fr`` (``smtps://`` for
TLS from the first byte, port 465 by default). Characters such as ``@`` in the
password are percent-encoded, as in any URL. The sender comes from ``from=`` in
the URL, else from ``APKIT_MAIL_FROM``, else from the user name when it is an
address.

Each message gets MIME boundaries derived from its content, so the ``.eml`` file
of a dry run and the bytes sent to the server are the same. Only the ``Date`` and
``Message-ID`` headers differ, because they are stamped when a message goes out.

Every attempt is recorded in :class:`~apkit.model.MessageLog`, one row per
publication, recipient and subject, and committed right after the attempt. A
later run skips the messages already sent, and sends again the failed ones only
when asked to retry. So nobody receives the same message twice from apkit, except
after a crash between the server's acceptance and the commit.
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import mimetypes
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from apkit.errors import ApkitError
from apkit.exports.safety import safe_filename
from apkit.model import MessageLog, Teacher, utcnow
from apkit.placement_slips import (
    CampaignInfo,
    StudentPlacement,
    campaign_info,
    personal_page,
    student_placements,
)
from apkit.publication import (
    TEACHERS_FOLDER,
    campaign_teachers,
    get_publication,
    read_manifest,
    teacher_file_stem,
)
from apkit.store import Store

log = logging.getLogger(__name__)

ENV_SMTP_URL = "APKIT_SMTP_URL"
ENV_MAIL_FROM = "APKIT_MAIL_FROM"
SMTP_TIMEOUT_S = 30
SENT, FAILED, DRY_RUN = "sent", "failed", "dry-run"
PREVIOUS_FAILURE = "échec lors d'un envoi précédent ; relancez avec --retry"
WIRE_POLICY = email.policy.SMTP  # CRLF line ends, as sent on the wire


class MailError(ApkitError, OSError):
    """An invalid SMTP setting, an unreachable server, or a repeated send."""


@dataclass(frozen=True)
class SmtpSettings:
    """Address and credentials of the school's SMTP server."""

    host: str
    port: int
    sender: str
    username: str = ""
    password: str = field(default="", repr=False)
    starttls: bool = False
    implicit_tls: bool = False

    @classmethod
    def from_url(cls, url: str, *, sender: str | None = None) -> SmtpSettings:
        """Read the settings from an ``smtp://`` or ``smtps://`` URL.

        Raises
        ------
        MailError
            If the scheme is neither ``smtp`` nor ``smtps``, the host is missing,
            or no sender address can be found.
        """
        parts = urlsplit(url.strip())
        shown = _hide_password(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise MailError(
                f"Adresse de serveur SMTP invalide : « {shown} » ; attendu par exemple "
                "smtp://utilisateur:motdepasse@smtp.lycee.fr:587?starttls=1"
            )
        query = parse_qs(parts.query)
        username = unquote(parts.username or "")
        sender = sender or _first(query, "from") or os.environ.get(ENV_MAIL_FROM, "")
        if not sender and "@" in username:
            sender = username
        if "@" not in parseaddr(sender)[1]:
            raise MailError(
                f"Adresse d'expéditeur manquante pour « {shown} » ; ajoutez "
                f"?from=ap@lycee.fr à l'adresse ou définissez {ENV_MAIL_FROM}"
            )
        implicit_tls = parts.scheme == "smtps"
        return cls(
            host=parts.hostname,
            port=parts.port or (465 if implicit_tls else 25),
            sender=sender,
            username=username,
            password=unquote(parts.password or ""),
            starttls=_first(query, "starttls").lower() in ("1", "true", "oui", "yes"),
            implicit_tls=implicit_tls,
        )

    @classmethod
    def from_environment(cls) -> SmtpSettings | None:
        """Return the settings of ``APKIT_SMTP_URL``, or None when it is not set.

        Raises
        ------
        MailError
            If the variable is set but invalid.
        """
        url = os.environ.get(ENV_SMTP_URL, "").strip()
        return cls.from_url(url) if url else None


def _first(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[0].strip() if values else ""


def _hide_password(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.password is None:
        return url.strip()
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


@dataclass
class DeliveryReport:
    """Outcome of one run, by recipient address."""

    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # address -> error
    skipped: list[str] = field(default_factory=list)  # already sent before
    written: list[Path] = field(default_factory=list)  # .eml files of a dry run


def fix_boundaries(message: EmailMessage) -> EmailMessage:
    """Give every multipart part a boundary derived from its content, in place.

    The email package draws boundaries at random when it serialises, which would
    make a dry run differ from the real send in more than the stamped headers.
    """
    # Innermost parts first, so that a part's children are fixed before it is hashed.
    for part in reversed(list(message.walk())):
        if part.is_multipart():
            digest = hashlib.sha256()
            for child in part.iter_parts():
                digest.update(child.as_bytes(policy=WIRE_POLICY))
            part.set_boundary(f"==apkit-{digest.hexdigest()[:32]}")
    return message


def message_bytes(message: EmailMessage) -> bytes:
    """Serialise a message with CRLF line ends, exactly as it is sent."""
    return message.as_bytes(policy=WIRE_POLICY)


def deliver(
    store: Store,
    publication_id: int,
    messages: list[EmailMessage],
    *,
    settings: SmtpSettings | None = None,
    dry_run_dir: Path | None = None,
    retry: bool = False,
) -> DeliveryReport:
    """Send ``messages`` of a publication, or write them as ``.eml`` files.

    Parameters
    ----------
    store
        The school's database, where each attempt is recorded.
    publication_id
        The publication the messages belong to.
    messages
        Messages with ``To`` and ``Subject`` set, one recipient each.
    settings
        The SMTP server; required unless ``dry_run_dir`` is given.
    dry_run_dir
        Write the messages into this folder instead of sending them.
    retry
        Send again the messages that failed before. Without it they are reported
        as failed and left alone. Messages already sent are always skipped.

    Returns
    -------
    DeliveryReport
        Addresses sent, failed with their error, and skipped.

    Raises
    ------
    MailError
        If there is neither a server nor a dry-run folder, or the server cannot
        be reached or rejects the login (nothing is recorded then).
    NotFoundError
        If the publication does not exist.
    """
    _check_publication(store, publication_id)
    if dry_run_dir is not None:
        return _write_dry_run(store, publication_id, messages, Path(dry_run_dir))
    if settings is None:
        raise MailError(
            "Aucun serveur SMTP configuré ; définissez APKIT_SMTP_URL ou utilisez "
            "--dry-run DOSSIER pour écrire les messages sans les envoyer"
        )
    statuses = _statuses(store, publication_id)
    report = DeliveryReport()
    pending = []
    for message in messages:
        status = statuses.get(_key(message))
        if status == SENT:
            report.skipped.append(str(message["To"]))
        elif status == FAILED and not retry:
            report.failed[str(message["To"])] = PREVIOUS_FAILURE
        else:
            pending.append(message)
    if pending:
        _send_all(store, publication_id, pending, settings, report)
    return report


def _key(message: EmailMessage) -> tuple[str, str]:
    return (str(message["To"]), str(message["Subject"]))


def _check_publication(store: Store, publication_id: int) -> None:
    get_publication(store, publication_id)


def _statuses(store: Store, publication_id: int) -> dict[tuple[str, str], str]:
    with store.read() as session:
        rows = session.execute(
            select(MessageLog.recipient, MessageLog.subject, MessageLog.status).where(
                MessageLog.publication_id == publication_id
            )
        )
        return {(recipient, subject): status for recipient, subject, status in rows}


def _record(
    store: Store, publication_id: int, message: EmailMessage, status: str, error: str
) -> None:
    recipient, subject = _key(message)
    with store.write() as session:
        row = session.scalar(
            select(MessageLog).where(
                MessageLog.publication_id == publication_id,
                MessageLog.recipient == recipient,
                MessageLog.subject == subject,
            )
        )
        if row is None:
            row = MessageLog(
                publication_id=publication_id, recipient=recipient, subject=subject
            )
            session.add(row)
        row.status, row.error, row.at = status, error, utcnow()


def _stamp(message: EmailMessage, sender: str) -> bytes:
    domain = parseaddr(sender)[1].rpartition("@")[2] or None
    del message["Date"], message["Message-ID"]
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=domain)
    return message_bytes(message)


def _write_dry_run(
    store: Store, publication_id: int, messages: list[EmailMessage], folder: Path
) -> DeliveryReport:
    folder.mkdir(parents=True, exist_ok=True)
    statuses = _statuses(store, publication_id)
    report = DeliveryReport()
    for number, message in enumerate(messages, 1):
        target = folder / f"{number:03d}_{safe_filename(message['To'])}.eml"
        target.write_bytes(_stamp(message, str(message["From"])))
        report.written.append(target)
        # A dry run never overwrites the record of a real attempt.
        if statuses.get(_key(message)) not in (SENT, FAILED):
            _record(store, publication_id, message, DRY_RUN, "")
    log.info(
        "publication %d: %d messages written to %s",
        publication_id,
        len(messages),
        folder,
    )
    return report


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    context = ssl.create_default_context()
    server: smtplib.SMTP | None = None
    try:
        if settings.implicit_tls:
            server = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=SMTP_TIMEOUT_S, context=context
            )
        else:
            server = smtplib.SMTP(settings.host, settings.port, timeout=SMTP_TIMEOUT_S)
        if settings.starttls:
            server.starttls(context=context)
        if settings.username:
            server.login(settings.username, settings.password)
    except (OSError, smtplib.SMTPException) as exc:
        if server is not None:
            server.close()
        raise MailError(
            f"Connexion au serveur SMTP {settings.host}:{settings.port} impossible : "
            f"{_describe(exc)} ; vérifiez l'adresse, le port, STARTTLS et "
            "l'identifiant"
        ) from exc
    return server


def _send_all(
    store: Store,
    publication_id: int,
    messages: list[EmailMessage],
    settings: SmtpSettings,
    report: DeliveryReport,
) -> None:
    server = _connect(settings)
    lost: str = ""
    for message in messages:
        if lost:
            _fail(store, publication_id, message, lost, report)
            continue
        try:
            payload = _stamp(message, settings.sender)
            address = parseaddr(str(message["To"]))[1]
            server.sendmail(settings.sender, [address], payload)
        except smtplib.SMTPServerDisconnected as exc:
            lost = f"connexion perdue : {exc}"
            _fail(store, publication_id, message, lost, report)
        except smtplib.SMTPException as exc:
            _fail(store, publication_id, message, _describe(exc), report)
        except OSError as exc:
            lost = f"connexion perdue : {exc}"
            _fail(store, publication_id, message, lost, report)
        else:
            _record(store, publication_id, message, SENT, "")
            report.sent.append(str(message["To"]))
    _disconnect(server, lost=bool(lost))
    log.info(
        "publication %d: %d sent, %d failed, %d already sent",
        publication_id,
        len(report.sent),
        len(report.failed),
        len(report.skipped),
    )


def _describe(exc: OSError) -> str:
    # SMTPRecipientsRefused carries one (code, reply) pair per refused address.
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients.values()
        return "; ".join(
            f"{code} {reply.decode('utf-8', 'replace')}" for code, reply in replies
        )
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
        return f"{exc.smtp_code} {text}"
    return str(exc)


def _disconnect(server: smtplib.SMTP, *, lost: bool) -> None:
    if lost:
        server.close()
        return
    try:
        server.quit()
    except (smtplib.SMTPException, OSError):
        server.close()


def _fail(
    store: Store,
    publication_id: int,
    message: EmailMessage,
    error: str,
    report: DeliveryReport,
) -> None:
    recipient = str(message["To"])
    log.warning(
        "publication %d: message to %s failed: %s", publication_id, recipient, error
    )
    _record(store, publication_id, message, FAILED, error)
    report.failed[recipient] = error


# Messages of a publication


def publication_messages(
    store: Store, publication_id: int, *, sender: str
) -> list[EmailMessage]:
    """Build the messages of a publication and of each of its updates.

    Each teacher with an address gets their attendance sheets and lists as
    attachments; each student with an address gets their placement in the text.
    An update sends its own messages, with its number in the subject, to the
    people it concerns.

    Raises
    ------
    MailError
        If the publication is marked changed: its files no longer match the
        placements, so it must be updated first.
    NotFoundError
        If the publication or its manifest is missing.
    """
    publication = get_publication(store, publication_id)
    if publication.changed:
        raise MailError(
            f"La publication {publication_id} n'est plus à jour après une correction "
            f"; mettez-la à jour (apkit publish --update {publication_id}) avant de "
            "l'envoyer"
        )
    manifest = read_manifest(publication)
    info = campaign_info(store, publication.campaign_id)
    placements = student_placements(store, publication.campaign_id)
    teachers = campaign_teachers(store, publication.campaign_id)
    root = Path(publication.folder)

    editions = [{"numero": 0, "dossier": "", "eleves": None, "enseignants": None}]
    messages = []
    for edition in [*editions, *manifest["mises_a_jour"]]:
        suffix = f" (mise à jour n° {edition['numero']})" if edition["numero"] else ""
        for teacher in teachers:
            if teacher.email and _concerns(edition["enseignants"], teacher.id):
                files = _teacher_files(root, publication.files, edition, teacher)
                subject = f"Listes d'AP{suffix} – {info.label}"
                messages.append(_teacher_message(sender, teacher, info, subject, files))
        for placement in placements:
            if placement.email and _concerns(edition["eleves"], placement.student_id):
                subject = f"Tes groupes d'AP{suffix} – {info.label}"
                link = personal_page(manifest.get("adresse"), None)
                messages.append(
                    _student_message(sender, placement, info, subject, link)
                )
    return [fix_boundaries(message) for message in messages]


def _concerns(ids: list[int] | None, person_id: int) -> bool:
    return ids is None or person_id in ids


def _teacher_files(
    root: Path, files: list[str], edition: dict, teacher: Teacher
) -> list[Path]:
    stem = teacher_file_stem(teacher.source_id, teacher.last_name, teacher.first_name)
    prefix = f"{edition['dossier']}/" if edition["dossier"] else ""
    wanted = {
        f"{prefix}{TEACHERS_FOLDER}/{stem}{suffix}" for suffix in (".pdf", ".xlsx")
    }
    return [root / name for name in files if name in wanted]


def _new_message(sender: str, recipient: str, subject: str, text: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message.set_content(text)
    return message


def _teacher_message(
    sender: str, teacher: Teacher, info: CampaignInfo, subject: str, files: list[Path]
) -> EmailMessage:
    text = (
        f"Bonjour {teacher.first_name} {teacher.last_name},\n\n"
        f"Vous trouverez ci-joint vos listes d'accompagnement personnalisé, barrette "
        f"{info.block}, {info.heading} : les feuilles d'émargement (PDF) et les "
        "listes d'élèves (XLSX).\n\n"
        "Message envoyé par apkit pour la coordination de l'AP.\n"
    )
    message = _new_message(sender, str(teacher.email), subject, text)
    for path in files:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, subtype = kind.split("/", 1)
        message.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return message


def _student_message(
    sender: str,
    placement: StudentPlacement,
    info: CampaignInfo,
    subject: str,
    link: str,
) -> EmailMessage:
    lines = []
    for slot in placement.slots:
        where = f", avec {slot.teacher}" if slot.teacher else ""
        room = f", salle {slot.room}" if slot.room else ""
        lines.append(f"- heure {slot.slot} : {slot.title}{where}{room}")
    text = (
        f"Bonjour {placement.first_name},\n\n"
        f"Voici tes groupes d'accompagnement personnalisé, barrette {info.block}, "
        f"{info.heading} :\n\n" + "\n".join(lines) + f"\n\n{link}\n\n"
        "Message envoyé par apkit pour la coordination de l'AP.\n"
    )
    return _new_message(sender, str(placement.email), subject, text)


def send_publication(
    store: Store,
    publication_id: int,
    *,
    settings: SmtpSettings | None = None,
    dry_run_dir: Path | None = None,
    retry: bool = False,
    sender: str | None = None,
) -> DeliveryReport:
    """Build the messages of a publication and deliver them (see :func:`deliver`).

    The sender is ``sender``, else the settings' sender, else ``APKIT_MAIL_FROM``.

    Raises
    ------
    MailError
        If no sender address is known, or as :func:`publication_messages` and
        :func:`deliver` raise.
    NotFoundError
        If the publication or its manifest is missing.
    """
    sender = sender or (settings.sender if settings else os.environ.get(ENV_MAIL_FROM))
    if not sender or "@" not in sender:
        raise MailError(
            f"Adresse d'expéditeur manquante ; définissez {ENV_MAIL_FROM} ou ajoutez "
            "?from=ap@lycee.fr à APKIT_SMTP_URL"
        )
    messages = publication_messages(store, publication_id, sender=sender)
    return deliver(
        store,
        publication_id,
        messages,
        settings=settings,
        dry_run_dir=dry_run_dir,
        retry=retry,
    )
