from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import anyio
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine

from app.config import get_settings
from app.errors import DomainError


def normalize_url(url: str) -> str:
    """Accept the usual `postgresql://` spelling and route it to psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _tune_sqlite(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
    # The driver's own implicit BEGIN is switched off so `_begin_sqlite` decides how to begin.
    dbapi_connection.isolation_level = None
    # WAL lets readers work while one writer commits; the busy timeout turns lock contention
    # into a short wait instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _begin_sqlite(connection: Connection) -> None:
    # A write transaction takes the write lock up front (BEGIN IMMEDIATE): a deferred one that
    # read first and writes later fails with "database is locked" when another writer got in
    # between, instead of waiting its turn.
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _tune_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    # An unreachable server (a dropped network, a hung host) must fail a request in seconds,
    # as a 503, rather than hold it and its worker until the OS gives up; the URL may say
    # otherwise (`?connect_timeout=`).
    connect_args = {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 5}
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=connect_args,
    )


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return build_engine(settings.database_url, pool_size=settings.db_pool_size)


@lru_cache
def get_write_engine() -> Engine:
    """The same pool; on SQLite its transactions begin IMMEDIATE (see `_begin_sqlite`)."""
    return get_engine().execution_options(sqlite_begin="IMMEDIATE")


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _end(session: Session, error: BaseException | None) -> None:
    with session:
        if error is None or (isinstance(error, DomainError) and error.keep_changes):
            session.commit()
        else:
            session.rollback()


async def session_scope(request: Request) -> AsyncIterator[Session]:
    """One request = one transaction: commit when the handler returns, roll back on any error.

    Async, so that opening the session (no I/O) and ending a read cost no worker-thread hop
    (bench/README.md): a read transaction holds no lock, so ending it never waits. Ending a
    write may wait for a lock or a disk flush, so that runs in a worker thread."""
    read = request.method in READ_METHODS
    session = Session(get_engine() if read else get_write_engine(), expire_on_commit=False)
    try:
        yield session
    except BaseException as error:
        await _finish(session, error, read=read)
        raise
    await _finish(session, None, read=read)


async def _finish(session: Session, error: BaseException | None, *, read: bool) -> None:
    if read:
        _end(session, error)
        return
    # Shielded: a cancelled request (client gone) still gets its transaction ended.
    with anyio.CancelScope(shield=True):
        await run_in_threadpool(_end, session, error)
