"""The yardstick: a minimal Starlette app serving the users list page with one raw SQL query.

No framework layers, no ORM, no validation and no auth: one async endpoint, a DB-API call and
Starlette's JSONResponse. It answers `GET /users?role=R` or `?organization_id=U` (`limit`,
default 50) with the same JSON as `GET /api/v1/users`: the page ordered by full name then id,
roles aggregated in SQL, `next_cursor` encoded the same way.

    BENCH_DATABASE_URL=sqlite:///var/bench/bench.db \
        uvicorn --factory bench.baseline:create_app
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/projoffice_bench \
        uvicorn --factory bench.baseline:create_app

SQLite goes through the stdlib driver on the event loop (a query of a page takes well under a
millisecond, so a thread hop would cost more than it saves); PostgreSQL through psycopg's async
connections from a small pool, one query in flight per connection.
"""

import asyncio
import base64
import json
import os
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import make_url
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROLE_ORDER = {
    r: i
    for i, r in enumerate(
        ["admin", "office_head", "office_member", "expert", "participant", "observer"]
    )
}
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "8"))

COLUMNS = (
    "u.id, u.email, u.full_name, u.job_title, u.organization_id, u.is_active, u.version, "
    "u.created_at, u.updated_at"
)
SQLITE_ROLES = "(SELECT group_concat(r.role, ',') FROM user_role r WHERE r.user_id = u.id)"
PG_ROLES = "(SELECT string_agg(r.role, ',') FROM user_role r WHERE r.user_id = u.id)"
ROLE_FILTER = "EXISTS (SELECT 1 FROM user_role x WHERE x.user_id = u.id AND x.role = {p})"
ORG_FILTER = "u.organization_id = {p}"


def _sql(roles: str, where: str) -> str:
    return (
        f"SELECT {COLUMNS}, {roles} AS roles FROM app_user u WHERE {where} "
        "ORDER BY u.full_name, u.id LIMIT {limit}"
    )


def encode_cursor(full_name: str, user_id: str) -> str:
    raw = json.dumps([full_name, user_id], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _roles(raw: str | None) -> list[str]:
    return sorted(raw.split(","), key=ROLE_ORDER.__getitem__) if raw else []


def _sqlite_uuid(value: str | None) -> str | None:
    # SQLAlchemy stores UUIDs on SQLite as 32 hex digits.
    return str(uuid.UUID(value)) if value else None


def _sqlite_time(value: str) -> str:
    return value.replace(" ", "T") + "Z"


def _pg_time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _item(row: Any, as_uuid: Callable[[Any], str | None], as_time: Callable[[Any], str]) -> Any:
    return {
        "id": as_uuid(row[0]),
        "email": row[1],
        "full_name": row[2],
        "job_title": row[3],
        "organization_id": as_uuid(row[4]),
        "roles": _roles(row[9]),
        "is_active": bool(row[5]),
        "version": row[6],
        "created_at": as_time(row[7]),
        "updated_at": as_time(row[8]),
    }


def _page(rows: list[Any], limit: int, items: list[Any]) -> JSONResponse:
    next_cursor = (
        encode_cursor(items[-1]["full_name"], items[-1]["id"]) if len(rows) > limit else None
    )
    return JSONResponse({"items": items[:limit], "next_cursor": next_cursor})


def _filter(request: Request) -> tuple[str, str]:
    if role := request.query_params.get("role"):
        return ROLE_FILTER, role
    return ORG_FILTER, request.query_params["organization_id"]


def sqlite_app(path: str) -> Starlette:
    connection = sqlite3.connect(path, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")

    async def users(request: Request) -> JSONResponse:
        limit = int(request.query_params.get("limit", "50"))
        where, value = _filter(request)
        if where == ORG_FILTER:
            value = uuid.UUID(value).hex
        sql = _sql(SQLITE_ROLES, where.format(p="?")).format(limit=limit + 1)
        rows = connection.execute(sql, (value,)).fetchall()
        items = [_item(r, _sqlite_uuid, _sqlite_time) for r in rows[:limit]]
        return _page(rows, limit, items)

    return Starlette(routes=[Route("/users", users)])


def postgres_app(url: str) -> Starlette:
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

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        for _ in range(POOL_SIZE):
            pool.put_nowait(await psycopg.AsyncConnection.connect(conninfo, autocommit=True))
        yield
        while not pool.empty():
            await pool.get_nowait().close()

    async def users(request: Request) -> JSONResponse:
        limit = int(request.query_params.get("limit", "50"))
        where, value = _filter(request)
        sql = _sql(PG_ROLES, where.format(p="%s")).format(limit=limit + 1)
        connection = await pool.get()
        try:
            cursor = await connection.execute(sql, (value,))  # type: ignore[arg-type]
            rows = await cursor.fetchall()
        finally:
            pool.put_nowait(connection)
        items = [_item(r, lambda v: str(v) if v else None, _pg_time) for r in rows[:limit]]
        return _page(rows, limit, items)

    return Starlette(routes=[Route("/users", users)], lifespan=lifespan)


def create_app() -> Starlette:
    url = os.environ["BENCH_DATABASE_URL"]
    if url.startswith("sqlite"):
        return sqlite_app(make_url(url).database or "")
    return postgres_app(url)
