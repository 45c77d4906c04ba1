"""Keyset pagination with opaque cursors: stable under inserts, no OFFSET scans."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field
from sqlalchemy import Select, bindparam, literal, tuple_

from app.errors import InvalidInput

T = TypeVar("T")
Q = TypeVar("Q", bound="Select[*tuple[Any, ...]]")
DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Opaque cursor of the next page; null on the last page"
    )


def _as_uuid(value: str) -> uuid.UUID:
    return uuid.UUID(value)


def _as_datetime(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _as_str(value: str) -> str:
    return value


PARSERS: dict[type, Callable[[str], Any]] = {
    uuid.UUID: _as_uuid,
    datetime: _as_datetime,
    str: _as_str,
    int: int,
}


@dataclass(frozen=True, slots=True)
class SortKey:
    """The columns a list is ordered by (ascending, unique together) and how to read them back."""

    columns: Sequence[Any]  # instrumented columns or SQL expressions
    types: Sequence[type]
    descending: bool = False


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, datetime) else str(v) for v in values],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, key: SortKey) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(key.types):
            raise ValueError("wrong arity")
        return [PARSERS[kind](str(value)) for kind, value in zip(key.types, raw, strict=True)]
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError) as exc:
        raise InvalidInput(
            "Курсор страницы повреждён или устарел", loc=["query", "cursor"], code="invalid_cursor"
        ) from exc


def paginate(stmt: Q, key: SortKey, *, cursor: str | None, limit: int) -> Q:
    """Order by the key, skip past the cursor and fetch one row more to know if a page follows."""
    if cursor:
        values = decode_cursor(cursor, key)
        # Bind with each column's own type so UUIDs and UTC datetimes compare as stored.
        bound = tuple_(
            *(literal(v, type_=c.type) for c, v in zip(key.columns, values, strict=True))
        )
        current = tuple_(*key.columns)
        stmt = stmt.where(current < bound if key.descending else current > bound)
    order = [c.desc() for c in key.columns] if key.descending else list(key.columns)
    return stmt.order_by(*order).limit(limit + 1)


def paginate_bound(stmt: Q, key: SortKey, *, after: bool, limit: int) -> Q:
    """`paginate` for a statement built once: the cursor's values are bound when it runs
    (`cursor_values`), so every page of a list shares one statement."""
    if after:
        bound = tuple_(*(bindparam(f"cursor_{i}", type_=c.type) for i, c in enumerate(key.columns)))
        current = tuple_(*key.columns)
        stmt = stmt.where(current < bound if key.descending else current > bound)
    order = [c.desc() for c in key.columns] if key.descending else list(key.columns)
    return stmt.order_by(*order).limit(limit + 1)


def cursor_values(cursor: str, key: SortKey) -> dict[str, Any]:
    """The values `paginate_bound(after=True)` binds for `cursor`."""
    return {f"cursor_{i}": v for i, v in enumerate(decode_cursor(cursor, key))}


def split_page(
    rows: Sequence[T], limit: int, key_of: Callable[[T], Sequence[Any]]
) -> tuple[list[T], str | None]:
    items = list(rows[:limit])
    next_cursor = encode_cursor(key_of(items[-1])) if len(rows) > limit and items else None
    return items, next_cursor
