"""The activity log: written by every service write, read by audit (and later webhooks, KPIs)."""

import csv
import io
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Result, Select, Text, cast, select
from sqlmodel import Session, col

from app.db import get_engine
from app.models import Event
from app.pagination import SortKey, paginate, split_page
from app.security import Principal

S = TypeVar("S", bound="Select[*tuple[Any, ...]]")

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
        actor_id=actor.id if actor and actor.kind != "system" else None,
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


@dataclass(frozen=True, slots=True)
class EventFilter:
    """The audit filters, the same for the JSON pages and the CSV export."""

    actor_id: uuid.UUID | None = None
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def apply(self, stmt: S) -> S:
        if self.actor_id is not None:
            stmt = stmt.where(col(Event.actor_id) == self.actor_id)
        if self.action is not None:
            stmt = stmt.where(col(Event.action) == self.action)
        if self.entity_type is not None:
            stmt = stmt.where(col(Event.entity_type) == self.entity_type)
        if self.entity_id is not None:
            stmt = stmt.where(col(Event.entity_id) == self.entity_id)
        if self.since is not None:
            stmt = stmt.where(col(Event.at) >= self.since)
        if self.until is not None:
            stmt = stmt.where(col(Event.at) < self.until)
        return stmt


def list_events(
    session: Session, *, filters: EventFilter, cursor: str | None, limit: int
) -> tuple[Sequence[Event], str | None]:
    stmt = filters.apply(select(Event))
    rows = session.scalars(paginate(stmt, AUDIT_ORDER, cursor=cursor, limit=limit)).all()
    return split_page(rows, limit, lambda e: [e.id])


CSV_COLUMNS = ("id", "at", "actor_id", "actor_kind", "action", "entity_type", "entity_id", "data")
CSV_CHUNK_ROWS = 2000
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def export_events_csv(*, filters: EventFilter) -> Iterator[bytes]:
    """Every matching event, newest first, as CSV in chunks of `CSV_CHUNK_ROWS` rows.

    The stream outlives the request's session, so it reads through a connection and a
    transaction of its own (one snapshot for the whole file), with a server-side cursor on
    PostgreSQL. The connection is opened and the query started here, before the response
    begins, so an unreachable database is still a 503 problem rather than a cut-off file."""
    stmt = filters.apply(
        select(
            col(Event.id),
            col(Event.at),
            col(Event.actor_id),
            col(Event.actor_kind),
            col(Event.action),
            col(Event.entity_type),
            col(Event.entity_id),
            # The JSON text as stored: no parsing and re-serialising a million documents.
            cast(col(Event.data), Text),
        )
    ).order_by(col(Event.id).desc())
    resources = ExitStack()
    try:
        connection = resources.enter_context(get_engine().connect())
        resources.enter_context(connection.begin())
        result = connection.execution_options(
            stream_results=True, yield_per=CSV_CHUNK_ROWS
        ).execute(stmt)
    except BaseException:
        resources.close()
        raise
    return _csv_chunks(result, resources)


def _csv_chunks(result: "Result[*tuple[Any, ...]]", resources: ExitStack) -> Iterator[bytes]:
    with resources:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for rows in result.partitions():
            writer.writerows(
                (
                    event_id,
                    at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
                    actor_id or "",
                    actor_kind,
                    _csv_text(action),
                    _csv_text(entity_type),
                    _csv_text(entity_id),
                    data,
                )
                for event_id, at, actor_id, actor_kind, action, entity_type, entity_id, data in rows
            )
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
        tail = buffer.getvalue()
        if tail:
            yield tail.encode()
