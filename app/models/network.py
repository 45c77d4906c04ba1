"""The life of the network: its events and who took part in them."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class NetworkEventKind(StrEnum):
    seminar = "seminar"
    master_class = "master_class"
    lab = "lab"
    network_project_meeting = "network_project_meeting"
    open_lesson = "open_lesson"
    conference = "conference"


class NetworkNodeKind(StrEnum):
    person = "person"
    organization = "organization"


class NetworkEdgeKind(StrEnum):
    """Why two nodes of the network graph are linked."""

    joint_event = "joint_event"
    team = "team"
    consultation = "consultation"
    review = "review"
    affiliation = "affiliation"


_VERSION = version_column()


class NetworkEvent(SQLModel, table=True):
    """An activity of the network: a seminar, a master class, a lab, an open lesson…"""

    __tablename__ = "network_event"
    __table_args__ = (
        Index("ix_network_event_held_at_id", "held_at", "id"),
        Index("ix_network_event_kind_held_at_id", "kind", "held_at", "id"),
        Index("ix_network_event_initiative_id_held_at_id", "initiative_id", "held_at", "id"),
        Index(
            "ix_network_event_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    title: str = Field(max_length=300)
    kind: NetworkEventKind = Field(sa_type=StrEnumType(NetworkEventKind, 40))
    description: str = Field(default="", sa_type=Text)
    location: str | None = Field(default=None, max_length=300)
    held_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    organizer_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT", index=True)
    organizer_organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organization.id", ondelete="RESTRICT", index=True
    )
    initiative_id: uuid.UUID | None = Field(
        default=None, foreign_key="initiative.id", ondelete="SET NULL"
    )
    created_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    search_text: str = Field(sa_type=Text)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class NetworkEventParticipant(SQLModel, table=True):
    __tablename__ = "network_event_participant"
    __table_args__ = (
        Index("ix_network_event_participant_user_id_event_id", "user_id", "event_id"),
    )

    event_id: uuid.UUID = Field(
        foreign_key="network_event.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="RESTRICT")


class NetworkEventOrganization(SQLModel, table=True):
    __tablename__ = "network_event_organization"
    __table_args__ = (
        Index(
            "ix_network_event_organization_organization_id_event_id",
            "organization_id",
            "event_id",
        ),
    )

    event_id: uuid.UUID = Field(
        foreign_key="network_event.id", primary_key=True, ondelete="CASCADE"
    )
    organization_id: uuid.UUID = Field(
        foreign_key="organization.id", primary_key=True, ondelete="RESTRICT"
    )
