"""E-mail delivery of a publication, optional: only when the school has an SMTP server.

The server is given as a URL, in ``APKIT_SMTP_URL`` or as an argument:
``smtp://user:password@host:587?starttls=1&from=ap@lycee.fr`` (``smtps://`` for
TLS from the first byte, port 465 by default). Characters such as ``@`` in the
password are percent-encoded, as in any URL. The sender comes from ``from=`` in
the URL, else from ``APKIT_MAIL_FROM``, else from the user name when it is an
address.

Each message is serialised once, with fixed MIME boundaries, so the ``.eml`` file
written by a dry run and the bytes sent to the server are the same, except for
the ``Date`` and ``Message-ID`` headers that are stamped when a message goes out.

Every attempt is recorded in :class:`~apkit.model.MessageLog`, one row per
publication, recipient and subject, and committed right after the attempt. A
second run is rejected unless it is a retry, and a retry skips the messages
already sent, so nobody receives a message twice from apkit (a crash between the
server's acceptance and the commit is the one exception).
"""

from __future__ import annotations

import email.policy
import hashlib
import logging
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from apkit.errors import ApkitError, NotFoundError
from apkit.exports.safety import safe_filename
from apkit.model import MessageLog, Publication, utcnow
from apkit.store import Store

log = logging.getLogger(__name__)

ENV_SMTP_URL = "APKIT_SMTP_URL"
ENV_MAIL_FROM = "APKIT_MAIL_FROM"
SMTP_TIMEOUT_S = 30
SENT, FAILED, DRY_RUN = "sent", "failed", "dry-run"
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
        Send again the messages that failed, and those never tried; skip the
        ones already sent.

    Returns
    -------
    DeliveryReport
        Addresses sent, failed with their error, and skipped.

    Raises
    ------
    MailError
        If there is neither a server nor a dry-run folder, the publication was
        already sent and ``retry`` is not set, or the server cannot be reached or
        rejects the login (nothing is recorded then).
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
    if not retry and any(status in (SENT, FAILED) for status in statuses.values()):
        raise MailError(
            f"La publication {publication_id} a déjà été envoyée ; relancez avec "
            "--retry pour renvoyer seulement les messages en échec"
        )
    report = DeliveryReport()
    pending = []
    for message in messages:
        if statuses.get(_key(message)) == SENT:
            report.skipped.append(message["To"])
        else:
            pending.append(message)
    if pending:
        _send_all(store, publication_id, pending, settings, report)
    return report


def _key(message: EmailMessage) -> tuple[str, str]:
    return (str(message["To"]), str(message["Subject"]))


def _check_publication(store: Store, publication_id: int) -> None:
    with store.read() as session:
        if session.get(Publication, publication_id) is None:
            raise NotFoundError(
                f"Publication {publication_id} introuvable ; lancez d'abord "
                "« apkit publish »"
            )


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
