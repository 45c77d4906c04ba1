import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer
from sqlmodel import Field, SQLModel

from app.models.base import created_field


class Event(SQLModel, table=True):
    """Append-only activity log: every write of every service lands here."""

    __tablename__ = "event"
    __table_args__ = (
        Index("ix_event_entity", "entity_type", "entity_id", "id"),
        Index("ix_event_actor_id_id", "actor_id", "id"),
        Index("ix_event_action_id", "action", "id"),
        Index("ix_event_at", "at"),
    )

    # An integer key gives the log a total order that keyset pagination and webhooks can follow.
    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer(), "sqlite"),
    )
    at: datetime = created_field()
    actor_id: uuid.UUID | None = Field(default=None)
    actor_kind: str = Field(max_length=20)
    action: str = Field(max_length=80)
    entity_type: str = Field(max_length=60)
    entity_id: str = Field(max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
