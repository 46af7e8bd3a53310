"""Writing a checked school set-up into the database.

An import adds what is new and updates what changed, and never deletes a block,
a class, a teacher or a period. Activities are replaced only in draft
campaigns: once a campaign is open, students have seen its offer, so a change
there raises instead of rewriting it.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from apkit import audit
from apkit.campaigns import STATUS_LABELS, campaign_label
from apkit.errors import CampaignError
from apkit.french import plural
from apkit.model import (
    Activity,
    Block,
    Campaign,
    CampaignMode,
    CampaignStatus,
    Division,
    Enrolment,
    Period,
    Preference,
    Teacher,
)
from apkit.store import Store
from apkit.teachers import apply_teachers

if TYPE_CHECKING:
    from apkit.school import ActivitySetup, SchoolSetup

log = logging.getLogger(__name__)

DEFAULT_MAX_CHOICES = 3
_ACTIVITY_FIELDS = (
    "title",
    "description",
    "category",
    "teacher_id",
    "room",
    "capacity",
    "min_size",
    "first_slot",
    "slot_span",
    "eligible_divisions",
)
# French singular nouns of the counted entities, in summary order.
_LABELS = {
    "blocks": "barrette",
    "divisions": "classe",
    "teachers": "enseignant",
    "periods": "période",
    "campaigns": "campagne",
    "activities": "atelier",
}


@dataclass
class SetupChanges:
    """Counts of the rows a set-up import added, updated and removed, by entity."""

    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(+self.added or +self.updated or +self.removed)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "added": dict(+self.added),
            "updated": dict(+self.updated),
            "removed": dict(+self.removed),
        }

    def summary(self) -> str:
        """Describe the changes in one French sentence per kind of change."""
        if not self.changed:
            return "Organisation déjà à jour : rien n'a changé."
        lines = []
        for heading, counts in (
            ("Ajouts", self.added),
            ("Mises à jour", self.updated),
            ("Suppressions", self.removed),
        ):
            parts = [
                plural(counts[k], label) for k, label in _LABELS.items() if counts[k]
            ]
            if parts:
                lines.append(f"{heading} : {', '.join(parts)}.")
        return "\n".join(lines)


def import_school(store: Store, setup: SchoolSetup, *, actor: str) -> SetupChanges:
    """Write a set-up into the database in one transaction.

    Blocks, classes, teachers and periods are added or updated. For each period
    with activities, each block that has some gets one campaign (draft, ranked
    preferences, 3 choices) holding them. Importing the same set-up again
    changes nothing.

    Parameters
    ----------
    store
        The school's database.
    setup
        A set-up returned by :func:`apkit.school.load_school`.
    actor
        Who imports, recorded in the audit log.

    Returns
    -------
    SetupChanges
        The counts of added, updated and removed rows.

    Raises
    ------
    CampaignError
        When the activities of a campaign that is no longer a draft differ from
        the set-up, or when an activity to remove already has preferences or
        enrolments. Nothing is written then.
    """
    with store.write() as session:
        return apply_setup(session, setup, actor=actor)


def apply_setup(session: Session, setup: SchoolSetup, *, actor: str) -> SetupChanges:
    """Write a set-up inside the caller's transaction; see :func:`import_school`."""
    changes = SetupChanges()
    blocks = _apply_blocks(session, setup, changes)
    _apply_divisions(session, setup, blocks, changes)
    teacher_changes = apply_teachers(session, _teacher_records(setup))
    changes.added["teachers"] += len(teacher_changes.added)
    changes.updated["teachers"] += len(teacher_changes.updated)
    periods = _apply_periods(session, setup, changes)
    teachers = {t.source_id: t.id for t in session.scalars(select(Teacher))}
    for period in setup.periods:
        for block in setup.blocks:
            activities = setup.activities_of(period.period_id, block.name)
            if activities:
                period_row = periods[period.period_id]
                campaign, created = _campaign(session, period_row, blocks[block.name])
                changes.added["campaigns"] += created
                _apply_activities(
                    session, campaign, activities, teachers, changes, actor
                )
    if changes.changed:
        audit.record(
            session, actor=actor, action="school_imported", after=changes.as_dict()
        )
        log.info("school set-up imported by %s: %s", actor, changes.as_dict())
    return changes


def _teacher_records(setup: SchoolSetup) -> list[dict[str, Any]]:
    return [
        {
            "teacher_id": t.teacher_id,
            "last_name": t.last_name,
            "first_name": t.first_name,
            "email": t.email,
        }
        for t in setup.teachers
    ]


def _apply_blocks(
    session: Session, setup: SchoolSetup, changes: SetupChanges
) -> dict[str, Block]:
    blocks = {b.name: b for b in session.scalars(select(Block))}
    for block in setup.blocks:
        if block.name not in blocks:
            blocks[block.name] = Block(name=block.name, slot_count=2)
            session.add(blocks[block.name])
            changes.added["blocks"] += 1
    session.flush()
    return blocks


def _apply_divisions(
    session: Session,
    setup: SchoolSetup,
    blocks: dict[str, Block],
    changes: SetupChanges,
) -> None:
    divisions = {d.name: d for d in session.scalars(select(Division))}
    for class_name, block_name in setup.block_of_class().items():
        block_id = blocks[block_name].id
        division = divisions.get(class_name)
        if division is None:
            session.add(Division(name=class_name, block_id=block_id))
            changes.added["divisions"] += 1
        elif division.block_id != block_id:
            division.block_id = block_id
            changes.updated["divisions"] += 1
    session.flush()


def _apply_periods(
    session: Session, setup: SchoolSetup, changes: SetupChanges
) -> dict[str, Period]:
    periods = {p.code: p for p in session.scalars(select(Period))}
    for period in setup.periods:
        values = {
            "name": period.name,
            "school_year": setup.school_year,
            "start_date": period.start_date,
            "end_date": period.end_date,
        }
        row = periods.get(period.period_id)
        if row is None:
            periods[period.period_id] = Period(code=period.period_id, **values)
            session.add(periods[period.period_id])
            changes.added["periods"] += 1
        elif _assign(row, values):
            changes.updated["periods"] += 1
    session.flush()
    return periods


def _campaign(session: Session, period: Period, block: Block) -> tuple[Campaign, bool]:
    """Return the campaign of a period and block, creating a draft if none exists."""
    statement = select(Campaign).where(
        Campaign.period_id == period.id, Campaign.block_id == block.id
    )
    campaign = session.scalar(statement)
    if campaign is not None:
        return campaign, False
    campaign = Campaign(
        period_id=period.id,
        block_id=block.id,
        mode=CampaignMode.PREFERENCES,
        status=CampaignStatus.DRAFT,
        max_choices=DEFAULT_MAX_CHOICES,
    )
    session.add(campaign)
    session.flush()
    return campaign, True


def _apply_activities(
    session: Session,
    campaign: Campaign,
    activities: list[ActivitySetup],
    teachers: dict[str, int],
    changes: SetupChanges,
    actor: str,
) -> None:
    statement = select(Activity).where(Activity.campaign_id == campaign.id)
    existing = {a.code: a for a in session.scalars(statement)}
    wanted = {a.activity_id: _activity_values(a, teachers) for a in activities}
    new = [code for code in wanted if code not in existing]
    changed = [c for c in wanted if c in existing and _differs(existing[c], wanted[c])]
    gone = [code for code in existing if code not in wanted]
    if not (new or changed or gone):
        return

    label = campaign_label(campaign)
    if campaign.status != CampaignStatus.DRAFT:
        _reject_open_campaign(campaign, label, new + changed + gone)
    for code in gone:
        _check_unused(session, existing[code], label, "n'est plus dans le fichier")
        session.delete(existing[code])
    for code in changed:
        if _slots(existing[code]) != _slots(wanted[code]):
            _check_unused(session, existing[code], label, "change d'heure")
        _assign(existing[code], wanted[code])
    for code in new:
        session.add(Activity(campaign_id=campaign.id, code=code, **wanted[code]))
    session.flush()

    changes.added["activities"] += len(new)
    changes.updated["activities"] += len(changed)
    changes.removed["activities"] += len(gone)
    audit.record(
        session,
        actor=actor,
        action="activities_updated" if existing else "campaign_created",
        campaign_id=campaign.id,
        after={"added": new, "updated": changed, "removed": gone},
    )


def _slots(activity: Activity | dict[str, Any]) -> tuple[int, int]:
    if isinstance(activity, dict):
        return activity["first_slot"], activity["slot_span"]
    return activity.first_slot, activity.slot_span


def _activity_values(activity: ActivitySetup, teachers: dict[str, int]) -> dict:
    return {
        "title": activity.title,
        "description": activity.description,
        "category": activity.category,
        "teacher_id": teachers[activity.teacher_id] if activity.teacher_id else None,
        "room": activity.room,
        "capacity": activity.capacity,
        "min_size": activity.min_size,
        "first_slot": activity.first_slot,
        "slot_span": activity.slot_span,
        "eligible_divisions": list(activity.eligible_classes),
    }


def _differs(row: Activity, values: dict[str, Any]) -> bool:
    return any(getattr(row, name) != values[name] for name in _ACTIVITY_FIELDS)


def _assign(row: Any, values: dict[str, Any]) -> bool:
    """Set the attributes that differ and tell whether any did."""
    differing = {k: v for k, v in values.items() if getattr(row, k) != v}
    for name, value in differing.items():
        setattr(row, name, value)
    return bool(differing)


def _reject_open_campaign(campaign: Campaign, label: str, codes: list[str]) -> None:
    shown = ", ".join(sorted(codes)[:5]) + (" ..." if len(codes) > 5 else "")
    raise CampaignError(
        f"La campagne {label} est {STATUS_LABELS[campaign.status]} : ses ateliers "
        f"ne sont pas réécrits par un import ({plural(len(codes), 'différence')} : "
        f"{shown}) ; modifiez ces ateliers depuis la campagne, ou remettez dans le "
        "fichier l'offre actuelle de la campagne"
    )


def _check_unused(session: Session, activity: Activity, label: str, why: str) -> None:
    """Raise unless no preference or enrolment names the activity."""
    uses = 0
    for entity in (Preference, Enrolment):
        uses += (
            session.scalar(
                select(func.count())
                .select_from(entity)
                .where(entity.activity_id == activity.id)
            )
            or 0
        )
    if uses:
        citing = plural(
            uses,
            "vœu ou inscription d'élève le cite",
            "vœux ou inscriptions d'élèves le citent",
        )
        raise CampaignError(
            f"L'atelier {activity.code} ({label}) {why} mais {citing} ; gardez-le "
            "tel quel dans le fichier, ou supprimez d'abord ces vœux et inscriptions"
        )
