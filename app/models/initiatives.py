import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class InitiativeStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    consultation = "consultation"
    expertise = "expertise"
    revision = "revision"
    approved = "approved"
    in_progress = "in_progress"
    suspended = "suspended"
    completed = "completed"
    closed = "closed"
    rejected = "rejected"
    withdrawn = "withdrawn"
    cancelled = "cancelled"


class InitiativeKind(StrEnum):
    project = "project"
    program = "program"
    practice = "practice"
    network_event = "network_event"


class EducationLevel(StrEnum):
    preschool = "preschool"
    primary = "primary"
    basic = "basic"
    secondary = "secondary"
    additional = "additional"
    cross_level = "cross_level"


class TeamRole(StrEnum):
    lead = "lead"
    member = "member"
    mentor = "mentor"


_VERSION = version_column()


class Initiative(SQLModel, table=True):
    """A project idea (проектный замысел) and, once approved, the project it becomes."""

    __tablename__ = "initiative"
    __table_args__ = (
        UniqueConstraint("code_year", "code_number", name="uq_initiative_code_year_number"),
        Index(
            "ix_initiative_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_initiative_created_at_id", "created_at", "id"),
        Index("ix_initiative_updated_at_id", "updated_at", "id"),
        Index("ix_initiative_title_id", "title", "id"),
        Index("ix_initiative_status_created_at_id", "status", "created_at", "id"),
    )
    # Every UPDATE carries `WHERE version = old`: of two concurrent transitions one wins and
    # the other becomes a 409.
    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    code: str = Field(max_length=20, unique=True)
    code_year: int
    code_number: int
    title: str = Field(max_length=300)
    summary: str = Field(default="", sa_type=Text)
    problem: str = Field(default="", sa_type=Text)
    goal: str = Field(default="", sa_type=Text)
    tasks: list[str] = Field(default_factory=list, sa_type=JSON)
    expected_results: str = Field(default="", sa_type=Text)
    kind: InitiativeKind = Field(sa_type=StrEnumType(InitiativeKind, 30))
    education_level: EducationLevel = Field(sa_type=StrEnumType(EducationLevel, 30), index=True)
    academic_year: str = Field(max_length=9, index=True)
    start_date: date | None = None
    end_date: date | None = None
    topics: list[str] = Field(default_factory=list, sa_type=JSON)
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", index=True, ondelete="RESTRICT"
    )
    author_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="RESTRICT")
    status: InitiativeStatus = Field(
        default=InitiativeStatus.draft, sa_type=StrEnumType(InitiativeStatus, 20), index=True
    )
    review_round: int = Field(default=1)
    search_text: str = Field(sa_type=Text)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # First `submit`: from then on the initiative is open to readers, whatever its status (a
    # draft withdrawn unsent stays private). Kept on the row so the visibility rule reads no
    # other table.
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class InitiativeTopic(SQLModel, table=True):
    """Topics as rows, so `?topic=` is an index lookup on both databases."""

    __tablename__ = "initiative_topic"
    __table_args__ = (Index("ix_initiative_topic_topic_initiative_id", "topic", "initiative_id"),)

    initiative_id: uuid.UUID = Field(
        foreign_key="initiative.id", primary_key=True, ondelete="CASCADE"
    )
    topic: str = Field(max_length=100, primary_key=True)


class InitiativeMember(SQLModel, table=True):
    __tablename__ = "initiative_member"
    __table_args__ = (
        Index("ix_initiative_member_user_id_initiative_id", "user_id", "initiative_id"),
    )

    initiative_id: uuid.UUID = Field(
        foreign_key="initiative.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="RESTRICT")
    role: TeamRole = Field(sa_type=StrEnumType(TeamRole, 20))
    added_at: datetime = created_field()


class Transition(SQLModel, table=True):
    """One step of an initiative's lifecycle: who, when, from, to, why."""

    __tablename__ = "transition"
    __table_args__ = (
        Index("ix_transition_initiative_id_id", "initiative_id", "id"),
        # Decisions and starts over a period (the office's maturity evidence).
        Index("ix_transition_action_at", "action", "at"),
    )

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    initiative_id: uuid.UUID = Field(foreign_key="initiative.id", ondelete="CASCADE")
    action: str = Field(max_length=40)
    from_status: InitiativeStatus = Field(sa_type=StrEnumType(InitiativeStatus, 20))
    to_status: InitiativeStatus = Field(sa_type=StrEnumType(InitiativeStatus, 20))
    actor_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    comment: str | None = Field(default=None, sa_type=Text)
    review_round: int
    at: datetime = created_field()


class InitiativeCodeCounter(SQLModel, table=True):
    """The last number issued per year; incremented under a row lock so codes are gap-free."""

    __tablename__ = "initiative_code_counter"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last_number: int = Field(default=0)
