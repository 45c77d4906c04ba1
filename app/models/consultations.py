import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class ConsultationStatus(StrEnum):
    requested = "requested"
    active = "active"
    closed = "closed"
    declined = "declined"


class ConsultationOutcome(StrEnum):
    initiative_submitted = "initiative_submitted"
    idea_developed_further = "idea_developed_further"
    redirected = "redirected"
    abandoned = "abandoned"


class ConsultationFormat(StrEnum):
    individual = "individual"
    group = "group"
    online = "online"
    workshop = "workshop"


_TRACK_VERSION = version_column()


class ConsultationTrack(SQLModel, table=True):
    """Accompaniment of a project idea (сопровождение проектного замысла), with or without an
    initiative yet."""

    __tablename__ = "consultation_track"
    __table_args__ = (
        Index("ix_consultation_track_created_at_id", "created_at", "id"),
        Index("ix_consultation_track_status_created_at_id", "status", "created_at", "id"),
        Index(
            "ix_consultation_track_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
    __mapper_args__ = {"version_id_col": _TRACK_VERSION}

    id: uuid.UUID = id_field()
    topic: str = Field(max_length=300)
    description: str = Field(default="", sa_type=Text)
    preferred_format: ConsultationFormat | None = Field(
        default=None, sa_type=StrEnumType(ConsultationFormat, 20)
    )
    initiative_id: uuid.UUID | None = Field(
        default=None, foreign_key="initiative.id", index=True, ondelete="RESTRICT"
    )
    requester_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="RESTRICT")
    status: ConsultationStatus = Field(
        default=ConsultationStatus.requested, sa_type=StrEnumType(ConsultationStatus, 20)
    )
    outcome: ConsultationOutcome | None = Field(
        default=None, sa_type=StrEnumType(ConsultationOutcome, 30)
    )
    close_comment: str | None = Field(default=None, sa_type=Text)
    decline_reason: str | None = Field(default=None, sa_type=Text)
    # Response-time facts for KPIs, kept on the row so they are one scan away.
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    first_session_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    session_count: int = Field(default=0)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    search_text: str = Field(sa_type=Text)
    version: int = Field(default=1, sa_column=_TRACK_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ConsultationConsultant(SQLModel, table=True):
    __tablename__ = "consultation_consultant"
    __table_args__ = (Index("ix_consultation_consultant_user_id_track_id", "user_id", "track_id"),)

    track_id: uuid.UUID = Field(
        foreign_key="consultation_track.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="RESTRICT")
    assigned_at: datetime = created_field()


_SESSION_VERSION = version_column()


class ConsultationSession(SQLModel, table=True):
    """One consultation meeting of a track."""

    __tablename__ = "consultation_session"
    __table_args__ = (
        Index("ix_consultation_session_track_id_held_at_id", "track_id", "held_at", "id"),
    )
    __mapper_args__ = {"version_id_col": _SESSION_VERSION}

    id: uuid.UUID = id_field()
    track_id: uuid.UUID = Field(foreign_key="consultation_track.id", ondelete="CASCADE")
    held_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    format: ConsultationFormat = Field(sa_type=StrEnumType(ConsultationFormat, 20))
    duration_minutes: int
    notes: str = Field(default="", sa_type=Text)
    next_steps: str = Field(default="", sa_type=Text)
    recorded_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    version: int = Field(default=1, sa_column=_SESSION_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class ConsultationSessionAttendee(SQLModel, table=True):
    __tablename__ = "consultation_session_attendee"

    session_id: uuid.UUID = Field(
        foreign_key="consultation_session.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="RESTRICT")
