"""The report of an allocation: every student and slot, the unplaced, the fill."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from apkit.allocation.problem import Allocation, Reason
from apkit.model import AuditEntry, Campaign, Enrolment, Student
from apkit.names import sort_key

ACTION = "allocation"
NO_ENROLMENT = "aucune inscription"


@dataclass(frozen=True)
class ReportRow:
    """One student in one slot: the activity (or ``None``), rank and reason."""

    student_id: int
    source_id: str
    last_name: str
    first_name: str
    class_name: str
    slot: int
    activity_id: int | None
    activity_code: str | None
    activity_title: str | None
    rank: int | None
    reason: str
    source: str | None


@dataclass(frozen=True)
class ActivityFill:
    activity_id: int
    code: str
    title: str
    slot: int
    enrolled: int
    capacity: int
    min_size: int
    cancelled: bool


@dataclass
class AllocationReport:
    """Result of an allocation, per student and slot, per activity, and in counts.

    ``rows`` come in French alphabetical order of the students, then by slot.
    """

    campaign_id: int
    period: str
    block: str
    seed: int | None
    rows: list[ReportRow] = field(default_factory=list)
    fill: list[ActivityFill] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)

    @property
    def unplaced(self) -> list[ReportRow]:
        return [row for row in self.rows if row.activity_id is None]

    def to_dict(self) -> dict[str, Any]:
        """Return the report as JSON-ready values."""
        return {
            "campaign_id": self.campaign_id,
            "period": self.period,
            "block": self.block,
            "seed": self.seed,
            "counts": self.counts,
            "unplaced": [asdict(row) for row in self.unplaced],
            "fill": [asdict(row) for row in self.fill],
            "rows": [asdict(row) for row in self.rows],
        }

    def audit_summary(self) -> dict[str, Any]:
        """Return the short record kept in the audit log, with the unplaced reasons."""
        return {
            "seed": self.seed,
            "counts": self.counts,
            "cancelled": [f.code for f in self.fill if f.cancelled],
            "unplaced": [
                {"student_id": r.student_id, "slot": r.slot, "reason": r.reason}
                for r in self.unplaced
            ],
        }


def build_report(
    session: Session,
    campaign: Campaign,
    students: dict[int, Student],
    allocation: Allocation,
    seed: int,
) -> AllocationReport:
    """Build the report of an allocation just written in ``session``."""
    reasons = {
        (p.student, p.slot): p.reason_text
        for p in allocation.placements.values()
        if p.offer is None
    }
    return _report(session, campaign, students, seed, reasons)


def stored_report(
    session: Session, campaign: Campaign, students: dict[int, Student]
) -> AllocationReport:
    """Build the report of what the database holds for a campaign now."""
    entry = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.campaign_id == campaign.id, AuditEntry.action == ACTION)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(1)
    ).first()
    after = entry.after if entry is not None and entry.after else {}
    reasons = {
        (item["student_id"], item["slot"]): item["reason"]
        for item in after.get("unplaced", [])
    }
    return _report(session, campaign, students, after.get("seed"), reasons)


def _report(
    session: Session,
    campaign: Campaign,
    students: dict[int, Student],
    seed: int | None,
    unplaced_reasons: Mapping[tuple[Hashable, int], str],
) -> AllocationReport:
    activities = {a.id: a for a in campaign.activities}
    enrolments = {
        (e.student_id, e.slot): e
        for e in session.scalars(
            select(Enrolment).where(Enrolment.campaign_id == campaign.id)
        )
    }
    slots = sorted(
        set(range(1, campaign.block.slot_count + 1))
        | {slot for a in activities.values() for slot in a.slots}
    )
    ordered = sorted(
        students.values(), key=lambda s: sort_key(s.last_name, s.first_name)
    )
    rows = []
    for student in ordered:
        for slot in slots:
            enrolment = enrolments.get((student.id, slot))
            reason = unplaced_reasons.get((student.id, slot), NO_ENROLMENT)
            rows.append(_row(student, slot, enrolment, activities, reason))
    fill = _fill(activities, enrolments)
    report = AllocationReport(
        campaign.id, campaign.period.code, campaign.block.name, seed, rows, fill
    )
    report.counts = _counts(rows, fill)
    return report


def _row(student, slot, enrolment, activities, unplaced_reason) -> ReportRow:
    activity = activities.get(enrolment.activity_id) if enrolment else None
    reason = unplaced_reason
    if enrolment is not None:
        reason = enrolment.reason
        if not reason and enrolment.source != "allocation":
            reason = Reason.FIXED.text
    return ReportRow(
        student_id=student.id,
        source_id=student.source_id,
        last_name=student.last_name,
        first_name=student.first_name,
        class_name=student.division.name if student.division else "",
        slot=slot,
        activity_id=activity.id if activity else None,
        activity_code=activity.code if activity else None,
        activity_title=activity.title if activity else None,
        rank=enrolment.rank if enrolment else None,
        reason=reason,
        source=str(enrolment.source) if enrolment else None,
    )


def _fill(activities, enrolments) -> list[ActivityFill]:
    counts = Counter((e.activity_id, e.slot) for e in enrolments.values())
    return [
        ActivityFill(
            activity.id,
            activity.code,
            activity.title,
            slot,
            counts[(activity.id, slot)],
            activity.capacity,
            activity.min_size,
            activity.cancelled,
        )
        for activity in sorted(activities.values(), key=lambda a: a.code)
        for slot in activity.slots
    ]


def _counts(rows: list[ReportRow], fill: list[ActivityFill]) -> dict[str, Any]:
    ranks = Counter(row.rank for row in rows if row.activity_id is not None)
    return {
        "students": len({row.student_id for row in rows}),
        "places_asked": len(rows),
        "placed": sum(1 for row in rows if row.activity_id is not None),
        "unplaced": sum(1 for row in rows if row.activity_id is None),
        "by_rank": {str(rank): ranks[rank] for rank in sorted(r for r in ranks if r)},
        "without_rank": ranks.get(None, 0),
        "cancelled": sorted({f.code for f in fill if f.cancelled}),
    }
