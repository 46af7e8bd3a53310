"""The audit log: every change to enrolments and campaigns, with who, when and why."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit.model import AuditEntry


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    campaign_id: int | None = None,
    student_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    """Add an entry to the log inside the caller's transaction and return it.

    ``before`` and ``after`` hold JSON-ready values (ids, codes, slot numbers), so
    the entry stays readable after the activities it names are gone.
    """
    entry = AuditEntry(
        actor=actor,
        action=action,
        campaign_id=campaign_id,
        student_id=student_id,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(entry)
    session.flush()
    return entry


def entries(
    session: Session,
    *,
    campaign_id: int | None = None,
    student_id: int | None = None,
) -> list[AuditEntry]:
    """Return log entries, newest first, optionally for one campaign or student."""
    statement = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if campaign_id is not None:
        statement = statement.where(AuditEntry.campaign_id == campaign_id)
    if student_id is not None:
        statement = statement.where(AuditEntry.student_id == student_id)
    return list(session.scalars(statement))
