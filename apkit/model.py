"""Database model of a school's AP organisation, in SQLAlchemy 2 declarative form.

One database contains one school. The roster (students, divisions, blocks, teachers)
changes through re-imports but is never deleted: a leaver keeps their history and
is marked with ``left_on``. A campaign is the sign-up of one block for one period;
its activities run in one slot or, for a two-hour project, in both.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    """Return the current time in UTC, as stored in every timestamp column."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class CampaignMode(enum.StrEnum):
    """The way a campaign fills its activities."""

    LIVE = "live"  # first come, first served sign-up
    PREFERENCES = "preferences"  # ranked choices, then allocation
    ROTATION = "rotation"  # every student meets a teacher they have not had yet


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    PUBLISHED = "published"


class UnrankedPolicy(enum.StrEnum):
    """Allocation's rule for students who gave no preference."""

    FILL = "fill"  # place them into the remaining places, least-filled first
    LEAVE = "leave"  # leave them unplaced for the coordinator


class EnrolmentSource(enum.StrEnum):
    SIGNUP = "signup"  # the student chose it on the sign-up page
    ALLOCATION = "allocation"  # the solver placed the student
    PRESCRIBED = "prescribed"  # a teacher decided it (soutien); allocation keeps it
    CORRECTION = "correction"  # a teacher or the coordinator moved the student
    FORCED = "forced"  # the coordinator went over capacity on purpose


class Role(enum.StrEnum):
    STUDENT = "student"
    TEACHER = "teacher"
    COORDINATOR = "coordinator"
    ADMINISTRATION = "administration"


def _enum(kind: type[enum.Enum]) -> Enum:
    # Store the values ("live"), not the member names, and as plain strings so that
    # adding a member needs no ALTER TYPE on PostgreSQL.
    return Enum(
        kind,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=16,
        validate_strings=True,
    )


class Block(Base):
    """A barrette: divisions timetabled together for AP."""

    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    slot_count: Mapped[int] = mapped_column(Integer, default=2)

    divisions: Mapped[list[Division]] = relationship(back_populates="block")


class Division(Base):
    """A class of the roster, such as ``2de3``."""

    __tablename__ = "divisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    block_id: Mapped[int | None] = mapped_column(ForeignKey("blocks.id"))

    block: Mapped[Block | None] = relationship(back_populates="divisions")
    students: Mapped[list[Student]] = relationship(back_populates="division")


class Student(Base):
    __tablename__ = "students"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    # Folded "last first" used for matching on re-import and for searching by name.
    name_key: Mapped[str] = mapped_column(String(250), index=True)
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    email: Mapped[str | None] = mapped_column(String(254))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    arrived_on: Mapped[dt.date | None] = mapped_column(Date)
    left_on: Mapped[dt.date | None] = mapped_column(Date)

    division: Mapped[Division | None] = relationship(back_populates="students")


class Teacher(Base):
    __tablename__ = "teachers"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str | None] = mapped_column(String(254))


class Period(Base):
    __tablename__ = "periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    school_year: Mapped[str] = mapped_column(String(9))  # "2025-2026"
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)

    __table_args__ = (CheckConstraint("start_date <= end_date", name="dates_ordered"),)


class Campaign(Base):
    """The sign-up of one block for one period."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    block_id: Mapped[int] = mapped_column(ForeignKey("blocks.id"))
    mode: Mapped[CampaignMode] = mapped_column(
        _enum(CampaignMode), default=CampaignMode.PREFERENCES
    )
    status: Mapped[CampaignStatus] = mapped_column(
        _enum(CampaignStatus), default=CampaignStatus.DRAFT
    )
    max_choices: Mapped[int] = mapped_column(Integer, default=3)
    unranked_policy: Mapped[UnrankedPolicy] = mapped_column(
        _enum(UnrankedPolicy), default=UnrankedPolicy.FILL
    )
    seed: Mapped[int] = mapped_column(Integer, default=0)
    opened_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(DateTime)

    period: Mapped[Period] = relationship()
    block: Mapped[Block] = relationship()
    activities: Mapped[list[Activity]] = relationship(
        back_populates="campaign", order_by="Activity.code"
    )

    __table_args__ = (UniqueConstraint("period_id", "block_id"),)


class Activity(Base):
    """One teacher's offer in a campaign, in one slot or both (a two-hour project)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(40), default="")
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    room: Mapped[str] = mapped_column(String(40), default="")
    capacity: Mapped[int] = mapped_column(Integer)
    min_size: Mapped[int] = mapped_column(Integer, default=0)
    first_slot: Mapped[int] = mapped_column(Integer)
    # 1 for a one-hour activity, 2 for a project in slots first_slot and the next.
    slot_span: Mapped[int] = mapped_column(Integer, default=1)
    # Set when allocation closed it because it could not reach min_size.
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Whole classes allowed in; empty means everyone of the block. Students listed in
    # ActivityEligibility are allowed as well.
    eligible_divisions: Mapped[list[str]] = mapped_column(JSON, default=list)

    campaign: Mapped[Campaign] = relationship(back_populates="activities")
    teacher: Mapped[Teacher | None] = relationship()

    __table_args__ = (
        UniqueConstraint("campaign_id", "code"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("min_size >= 0", name="min_size_not_negative"),
        CheckConstraint("slot_span IN (1, 2)", name="slot_span_one_or_two"),
    )

    @property
    def slots(self) -> tuple[int, ...]:
        """Slot numbers the activity runs in."""
        return tuple(range(self.first_slot, self.first_slot + self.slot_span))


class ActivityEligibility(Base):
    """A student named individually as allowed into an activity."""

    __tablename__ = "activity_eligibility"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"), primary_key=True)


class Enrolment(Base):
    """A student placed in an activity for one slot of a campaign.

    A two-hour project gives one row per slot, both with the same activity.
    """

    __tablename__ = "enrolments"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    slot: Mapped[int] = mapped_column(Integer)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    source: Mapped[EnrolmentSource] = mapped_column(_enum(EnrolmentSource))
    # Kept as they are by a new run of the allocation (prescribed or corrected).
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    rank: Mapped[int | None] = mapped_column(Integer)  # preference rank obtained
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    student: Mapped[Student] = relationship()
    activity: Mapped[Activity] = relationship()

    __table_args__ = (
        UniqueConstraint("campaign_id", "student_id", "slot"),
        Index("ix_enrolments_activity_slot", "activity_id", "slot"),
    )


class Preference(Base):
    """A student's ranked choice for one slot; rank 1 is the first choice."""

    __tablename__ = "preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id"))
    slot: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("campaign_id", "student_id", "slot", "rank"),
        UniqueConstraint("campaign_id", "student_id", "slot", "activity_id"),
        CheckConstraint("rank >= 1", name="rank_positive"),
    )


class AuditEntry(Base):
    """One change to enrolments or campaigns: who, when, before, after and why."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id"))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text, default="")
    # Set on the entry that an undo reverted, pointing at the undo's own entry.
    undone_by: Mapped[int | None] = mapped_column(ForeignKey("audit_log.id"))


class AccessCode(Base):
    """A personal code, stored as a salted hash, that opens one person's pages."""

    __tablename__ = "access_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[Role] = mapped_column(_enum(Role))
    student_id: Mapped[int | None] = mapped_column(ForeignKey("students.id"))
    teacher_id: Mapped[int | None] = mapped_column(ForeignKey("teachers.id"))
    label: Mapped[str] = mapped_column(String(120), default="")
    # Short public prefix used to find the row; the rest of the code is only hashed.
    lookup: Mapped[str] = mapped_column(String(16), unique=True)
    code_hash: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class LoginFailure(Base):
    """A rejected code, kept briefly to slow down guessing."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    client: Mapped[str] = mapped_column(String(64), default="")


class Publication(Base):
    """A campaign's results sent out to students, teachers and the administration."""

    __tablename__ = "publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    published_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    folder: Mapped[str] = mapped_column(String(500))
    # Set when a correction happened after publishing; cleared by an update.
    changed: Mapped[bool] = mapped_column(Boolean, default=False)
    files: Mapped[list[str]] = mapped_column(JSON, default=list)


class MessageLog(Base):
    """One e-mail apkit sent or tried to send, so a retry never sends twice."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    publication_id: Mapped[int] = mapped_column(ForeignKey("publications.id"))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))  # "sent", "failed", "dry-run"
    error: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("publication_id", "recipient", "subject"),)
