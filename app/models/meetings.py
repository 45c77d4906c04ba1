import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class MeetingFormat(StrEnum):
    formal_session = "formal_session"
    reflective_session = "reflective_session"
    open_space = "open_space"
    expert_lab = "expert_lab"
    world_cafe = "world_cafe"
    pitch_session = "pitch_session"
    strategy_session = "strategy_session"


class MeetingStatus(StrEnum):
    planned = "planned"
    held = "held"
    cancelled = "cancelled"


class AgendaItemKind(StrEnum):
    initiative_review = "initiative_review"
    project_report = "project_report"
    presentation = "presentation"
    discussion = "discussion"
    reflection = "reflection"


_VERSION = version_column()


class Meeting(SQLModel, table=True):
    """A meeting of the project office (заседание), numbered within its academic year."""

    __tablename__ = "meeting"
    __table_args__ = (
        UniqueConstraint("academic_year", "number", name="uq_meeting_academic_year_number"),
        Index("ix_meeting_scheduled_at_id", "scheduled_at", "id"),
        Index("ix_meeting_status_scheduled_at_id", "status", "scheduled_at", "id"),
        Index(
            "ix_meeting_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    academic_year: str = Field(max_length=9)
    number: int
    title: str = Field(default="", max_length=300)
    scheduled_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    format: MeetingFormat = Field(sa_type=StrEnumType(MeetingFormat, 30), index=True)
    place: str | None = Field(default=None, max_length=300)
    online_url: str | None = Field(default=None, max_length=500)
    facilitator_id: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", ondelete="RESTRICT"
    )
    status: MeetingStatus = Field(
        default=MeetingStatus.planned, sa_type=StrEnumType(MeetingStatus, 20)
    )
    cancellation_reason: str | None = Field(default=None, sa_type=Text)
    # Reflection: the informal part the office learns from (что получилось, инсайты, что менять).
    reflection_worked: str = Field(default="", sa_type=Text)
    reflection_insights: str = Field(default="", sa_type=Text)
    reflection_changes: str = Field(default="", sa_type=Text)
    created_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    search_text: str = Field(sa_type=Text)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class MeetingCounter(SQLModel, table=True):
    """The last meeting number issued per academic year, bumped under a row lock."""

    __tablename__ = "meeting_counter"

    academic_year: str = Field(max_length=9, primary_key=True)
    last_number: int = Field(default=0)


class MeetingAttendee(SQLModel, table=True):
    __tablename__ = "meeting_attendee"
    __table_args__ = (Index("ix_meeting_attendee_user_id_meeting_id", "user_id", "meeting_id"),)

    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", primary_key=True, ondelete="CASCADE")
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="RESTRICT")
    attended: bool | None = Field(default=None, description="None: attendance not marked yet")


class AgendaItem(SQLModel, table=True):
    __tablename__ = "meeting_agenda_item"
    __table_args__ = (
        Index("ix_meeting_agenda_item_meeting_id_position_id", "meeting_id", "position", "id"),
        Index("ix_meeting_agenda_item_initiative_id_meeting_id", "initiative_id", "meeting_id"),
    )

    id: uuid.UUID = id_field()
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", ondelete="CASCADE")
    position: int
    kind: AgendaItemKind = Field(sa_type=StrEnumType(AgendaItemKind, 30))
    title: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    initiative_id: uuid.UUID | None = Field(
        default=None, foreign_key="initiative.id", ondelete="RESTRICT"
    )
    presenter_id: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", ondelete="RESTRICT"
    )
    time_box_minutes: int | None = None
    created_at: datetime = created_field()


class Decision(SQLModel, table=True):
    """A decision of a held meeting on one agenda item: a note, or a lifecycle step of the
    item's initiative performed through the lifecycle service (`transition_id`)."""

    __tablename__ = "meeting_decision"
    __table_args__ = (
        Index("ix_meeting_decision_meeting_id_created_at_id", "meeting_id", "created_at", "id"),
        Index("ix_meeting_decision_created_at_id", "created_at", "id"),
        Index(
            "ix_meeting_decision_initiative_id_created_at_id",
            "initiative_id",
            "created_at",
            "id",
        ),
    )

    id: uuid.UUID = id_field()
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", ondelete="CASCADE")
    agenda_item_id: uuid.UUID = Field(
        foreign_key="meeting_agenda_item.id", index=True, ondelete="CASCADE"
    )
    initiative_id: uuid.UUID | None = Field(
        default=None, foreign_key="initiative.id", ondelete="RESTRICT"
    )
    action: str | None = Field(default=None, max_length=40)
    transition_id: int | None = Field(
        default=None,
        foreign_key="transition.id",
        ondelete="RESTRICT",
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
    )
    text: str = Field(sa_type=Text)
    votes_for: int | None = None
    votes_against: int | None = None
    votes_abstain: int | None = None
    review_on: date | None = Field(default=None, index=True)
    recorded_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    created_at: datetime = created_field()
