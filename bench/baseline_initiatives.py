"""The yardstick of bench/load.py: the first page of the initiatives list with one raw SQL query.

No framework layers, no ORM, no validation and no auth: one async Starlette endpoint, a DB-API
call and Starlette's JSONResponse. `GET /initiatives?limit=N` (default 50) answers the same JSON
as `GET /api/v1/initiatives?limit=N` does for the person whose id is in `BENCH_ACTOR_ID` (a
signed-in office person, not an admin): the initiatives they may see (no drafts but their own
and their team's, nor drafts withdrawn unsent), newest first, `next_cursor` encoded the same
way as app/pagination.py.

    BENCH_DATABASE_URL=sqlite:///var/bench/load-sqlite.db BENCH_ACTOR_ID=<uuid> \
        uvicorn --factory bench.baseline_initiatives:create_app

SQLite goes through the stdlib driver on the event loop, PostgreSQL through psycopg's async
connections from a small pool, as bench/baseline.py does for the users list.
"""

import asyncio
import base64
import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "8"))

COLUMNS = (
    "i.id, i.code, i.title, i.kind, i.education_level, i.academic_year, i.status, "
    "i.organization_id, i.author_id, i.topics, i.review_round, i.version, i.created_at, "
    "i.updated_at"
)
# The app's visibility rule for a signed-in person who is not an admin: past the draft (a draft
# withdrawn before it was ever submitted stays private), or their own, or their team's.
VISIBLE = (
    "(i.submitted_at IS NOT NULL OR i.author_id = {p} OR i.id IN "
    "(SELECT m.initiative_id FROM initiative_member m WHERE m.user_id = {p}))"
)


def page_sql(placeholder: str) -> str:
    return (
        f"SELECT {COLUMNS} FROM initiative i WHERE {VISIBLE.format(p=placeholder)} "
        "ORDER BY i.created_at DESC, i.id DESC LIMIT {limit}"
    )


def _as_json_time(value: datetime) -> str:
    # What pydantic writes for an aware UTC datetime.
    return value.isoformat().replace("+00:00", "Z")


def _encode_cursor(created_at: datetime, initiative_id: str) -> str:
    raw = json.dumps(
        [created_at.isoformat(), initiative_id], separators=(",", ":"), ensure_ascii=False
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _page(
    rows: list[Any],
    limit: int,
    as_uuid: Callable[[Any], str],
    as_time: Callable[[Any], datetime],
    as_list: Callable[[Any], list[str]],
) -> JSONResponse:
    items = []
    last: tuple[datetime, str] | None = None
    for row in rows[:limit]:
        created, updated = as_time(row[12]), as_time(row[13])
        item_id = as_uuid(row[0])
        last = (created, item_id)
        items.append(
            {
                "id": item_id,
                "code": row[1],
                "title": row[2],
                "kind": row[3],
                "education_level": row[4],
                "academic_year": row[5],
                "status": row[6],
                "organization_id": as_uuid(row[7]),
                "author_id": as_uuid(row[8]),
                "topics": as_list(row[9]),
                "review_round": row[10],
                "version": row[11],
                "created_at": _as_json_time(created),
                "updated_at": _as_json_time(updated),
            }
        )
    next_cursor = _encode_cursor(*last) if last and len(rows) > limit else None
    return JSONResponse({"items": items, "next_cursor": next_cursor})


def _limit(request: Request) -> int:
    return int(request.query_params.get("limit", "50"))


def sqlite_app(path: str, actor: uuid.UUID) -> Starlette:
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    sql = page_sql("?")

    def as_uuid(value: str) -> str:
        return str(uuid.UUID(value))  # SQLAlchemy stores UUIDs on SQLite as 32 hex digits

    def as_time(value: str) -> datetime:
        return datetime.fromisoformat(value).replace(tzinfo=UTC)

    async def initiatives(request: Request) -> JSONResponse:
        limit = _limit(request)
        rows = connection.execute(sql.format(limit=limit + 1), (actor.hex, actor.hex)).fetchall()
        return _page(rows, limit, as_uuid, as_time, json.loads)

    return Starlette(routes=[Route("/initiatives", initiatives)])


def postgres_app(url: str, actor: uuid.UUID) -> Starlette:
    parsed = make_url(url)
    conninfo = psycopg.conninfo.make_conninfo(
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password,
        dbname=parsed.database,
        options="-c TimeZone=UTC",
    )
    pool: asyncio.Queue[psycopg.AsyncConnection[Any]] = asyncio.Queue()
    sql = page_sql("%s")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for _ in range(POOL_SIZE):
            pool.put_nowait(await psycopg.AsyncConnection.connect(conninfo, autocommit=True))
        yield
        while not pool.empty():
            await pool.get_nowait().close()

    def as_list(value: Any) -> list[str]:
        return json.loads(value) if isinstance(value, str) else list(value)

    async def initiatives(request: Request) -> JSONResponse:
        limit = _limit(request)
        connection = await pool.get()
        try:
            cursor = await connection.execute(sql.format(limit=limit + 1), (actor, actor))
            rows = await cursor.fetchall()
        finally:
            pool.put_nowait(connection)
        return _page(rows, limit, str, lambda v: v.astimezone(UTC), as_list)

    return Starlette(routes=[Route("/initiatives", initiatives)], lifespan=lifespan)


def create_app() -> Starlette:
    url = os.environ["BENCH_DATABASE_URL"]
    actor = uuid.UUID(os.environ["BENCH_ACTOR_ID"])
    if url.startswith("sqlite"):
        return sqlite_app(make_url(url).database or "", actor)
    return postgres_app(url, actor)
