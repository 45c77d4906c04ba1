"""The activity log: written by every service write, read by audit (and later webhooks, KPIs)."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Event
from app.pagination import SortKey, paginate, split_page
from app.security import Principal

AUDIT_ORDER = SortKey(columns=[col(Event.id)], types=[int], descending=True)


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    entity_type: str,
    entity_id: uuid.UUID | str,
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        actor_id=actor.id if actor else None,
        actor_kind=actor.kind if actor else "system",
        action=action,
        entity_type=entity_type,
        entity_id=str(entity_id),
        data=data or {},
    )
    session.add(event)
    return event


def changes(before: BaseModel | dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """`{field: [old, new]}` for the fields that really changed, JSON-ready."""
    old = before if isinstance(before, dict) else before.model_dump(mode="json")
    diff: dict[str, list[Any]] = {}
    for key, new_value in after.items():
        if old.get(key) != new_value:
            diff[key] = [old.get(key), new_value]
    return diff


def list_events(
    session: Session,
    *,
    actor_id: uuid.UUID | None,
    action: str | None,
    entity_type: str | None,
    entity_id: str | None,
    since: datetime | None,
    until: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Event], str | None]:
    stmt = select(Event)
    if actor_id is not None:
        stmt = stmt.where(col(Event.actor_id) == actor_id)
    if action is not None:
        stmt = stmt.where(col(Event.action) == action)
    if entity_type is not None:
        stmt = stmt.where(col(Event.entity_type) == entity_type)
    if entity_id is not None:
        stmt = stmt.where(col(Event.entity_id) == entity_id)
    if since is not None:
        stmt = stmt.where(col(Event.at) >= since)
    if until is not None:
        stmt = stmt.where(col(Event.at) < until)
    rows = session.scalars(paginate(stmt, AUDIT_ORDER, cursor=cursor, limit=limit)).all()
    return split_page(rows, limit, lambda e: [e.id])
