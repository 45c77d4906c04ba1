import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class ExpertPosition(StrEnum):
    """The ladder the office grows its experts along (задача 1 проектного замысла)."""

    content_expert = "content_expert"
    methodologist = "methodologist"
    developmental_expert = "developmental_expert"
    developer = "developer"


class ReviewStatus(StrEnum):
    invited = "invited"
    accepted = "accepted"
    declined = "declined"
    submitted = "submitted"
    cancelled = "cancelled"


class Recommendation(StrEnum):
    approve = "approve"
    approve_with_changes = "approve_with_changes"
    revise = "revise"
    reject = "reject"


class CriteriaSet(SQLModel, table=True):
    """A versioned list of expertise criteria; exactly one is active at a time."""

    __tablename__ = "criteria_set"
    # The invariant itself, under the advisory lock the activation takes on PostgreSQL.
    __table_args__ = (
        Index(
            "uq_criteria_set_one_active",
            "is_active",
            unique=True,
            sqlite_where=text("is_active"),
            postgresql_where=text("is_active"),
        ),
    )

    id: uuid.UUID = id_field()
    number: int = Field(unique=True)
    title: str = Field(max_length=200)
    is_active: bool = Field(default=False, index=True)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", ondelete="SET NULL"
    )
    created_at: datetime = created_field()
    activated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Criterion(SQLModel, table=True):
    __tablename__ = "criterion"
    __table_args__ = (UniqueConstraint("criteria_set_id", "code", name="uq_criterion_set_code"),)

    id: uuid.UUID = id_field()
    criteria_set_id: uuid.UUID = Field(
        foreign_key="criteria_set.id", index=True, ondelete="CASCADE"
    )
    position: int
    code: str = Field(max_length=40)
    title_ru: str = Field(max_length=200)
    title_en: str = Field(max_length=200)
    description: str = Field(default="", sa_type=Text)
    max_score: int
    weight: float


_VERSION = version_column()
LIVE_REVIEW = "status IN ('invited', 'accepted', 'submitted')"


class ReviewAssignment(SQLModel, table=True):
    """An expert asked for a written conclusion on an initiative in one review round."""

    __tablename__ = "review_assignment"
    __table_args__ = (
        Index("ix_review_assignment_initiative_round", "initiative_id", "review_round"),
        Index("ix_review_assignment_expert_status", "expert_id", "status"),
        Index("ix_review_assignment_status_due_at", "status", "due_at"),
        Index("ix_review_assignment_created_at_id", "created_at", "id"),
        # One live assignment per expert and round: two office members assigning the same
        # expert at the same moment both pass the service's check; the second insert fails here.
        Index(
            "uq_review_assignment_live_expert",
            "initiative_id",
            "review_round",
            "expert_id",
            unique=True,
            sqlite_where=text(LIVE_REVIEW),
            postgresql_where=text(LIVE_REVIEW),
        ),
    )
    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    initiative_id: uuid.UUID = Field(foreign_key="initiative.id", ondelete="CASCADE")
    review_round: int
    expert_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    position: ExpertPosition = Field(sa_type=StrEnumType(ExpertPosition, 30))
    criteria_set_id: uuid.UUID = Field(foreign_key="criteria_set.id", ondelete="RESTRICT")
    due_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    status: ReviewStatus = Field(
        default=ReviewStatus.invited, sa_type=StrEnumType(ReviewStatus, 20)
    )
    assigned_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    conflict_override_reason: str | None = Field(default=None, sa_type=Text)
    competing_interests: str | None = Field(default=None, sa_type=Text)
    decline_reason: str | None = Field(default=None, sa_type=Text)
    cancel_reason: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = created_field()
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    declined_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_VERSION)


class Conclusion(SQLModel, table=True):
    """The expert's written conclusion (экспертное заключение); frozen once submitted."""

    __tablename__ = "conclusion"

    assignment_id: uuid.UUID = Field(
        foreign_key="review_assignment.id", primary_key=True, ondelete="CASCADE"
    )
    recommendation: Recommendation | None = Field(
        default=None, sa_type=StrEnumType(Recommendation, 30)
    )
    summary: str = Field(default="", sa_type=Text)
    developmental_feedback: str = Field(default="", sa_type=Text)
    quality_rating: int | None = None
    quality_rated_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", ondelete="SET NULL"
    )
    updated_at: datetime = created_field()


class ConclusionScore(SQLModel, table=True):
    """One criterion's score: rows, so means and spreads are computed in SQL."""

    __tablename__ = "conclusion_score"
    __table_args__ = (Index("ix_conclusion_score_criterion_id", "criterion_id"),)

    assignment_id: uuid.UUID = Field(
        foreign_key="conclusion.assignment_id", primary_key=True, ondelete="CASCADE"
    )
    criterion_id: uuid.UUID = Field(
        foreign_key="criterion.id", primary_key=True, ondelete="RESTRICT"
    )
    score: int
    comment: str = Field(default="", sa_type=Text)


class ExpertPositionGrant(SQLModel, table=True):
    """The office head recording that an expert has grown into a position, and why."""

    __tablename__ = "expert_position_grant"
    __table_args__ = (
        Index("ix_expert_position_grant_user_id_granted_at", "user_id", "granted_at"),
    )

    id: uuid.UUID = id_field()
    user_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="CASCADE")
    position: ExpertPosition = Field(sa_type=StrEnumType(ExpertPosition, 30))
    reason: str = Field(sa_type=Text)
    granted_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    granted_at: datetime = created_field()
