import asyncio
import inspect
import json
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast
from weakref import WeakKeyDictionary

import anyio
import psycopg
from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import event, type_coerce
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.types import NullType
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


def _build_sqlite_engine(url: str, **pool: int) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15}, **pool)
    event.listen(engine, "connect", _tune_sqlite)
    event.listen(engine, "begin", _begin_sqlite)
    return engine


def _postgres_connect_args(url: str) -> dict[str, Any]:
    # An unreachable server (a dropped network, a hung host) must fail a request in seconds,
    # as a 503, rather than hold it and its worker until the OS gives up; the URL may say
    # otherwise (`?connect_timeout=`).
    return {} if "connect_timeout" in make_url(url).query else {"connect_timeout": 5}


def build_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _build_sqlite_engine(url)
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args=_postgres_connect_args(url),
    )


def build_loop_engine(url: str, *, pool_size: int) -> Engine:
    """The engine of the reads that run on the event loop (`request_db`). On SQLite, a pool of
    its own, exactly `pool_size` connections, so that a checkout there never waits for a
    connection some worker thread holds. On PostgreSQL it only names the dialect and the
    server: `_PgPool` holds the connections."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _build_sqlite_engine(url, pool_size=pool_size, max_overflow=0)
    return create_engine(url, pool_size=1, max_overflow=0)


@lru_cache
def get_engine() -> Engine:
    settings = get_settings()
    return build_engine(settings.database_url, pool_size=settings.db_pool_size)


@lru_cache
def get_write_engine() -> Engine:
    """The same pool; on SQLite its transactions begin IMMEDIATE (see `_begin_sqlite`)."""
    return get_engine().execution_options(sqlite_begin="IMMEDIATE")


def insert_for(session: Session, table: Any) -> postgresql.Insert:
    """An INSERT for the session's database that takes `on_conflict_do_nothing/_do_update`
    (the two dialects spell them alike)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return cast(postgresql.Insert, sqlite.insert(table))


def raw(column: Any) -> Any:
    """`column` read as the driver returns it, as `Db.rows` reads every column: SQLAlchemy
    converts nothing per row (SQLite's hex text of a UUID and its naive UTC timestamps,
    PostgreSQL's UUID and datetime objects). Pydantic parses those in Rust when the output
    schema is built, for a fraction of what SQLAlchemy's Python converters cost per value
    (bench/README.md)."""
    return type_coerce(column, NullType()).label(column.key)


def raw_utc(value: str | datetime) -> str | datetime:
    """A timestamp read as the driver returns it (`raw`, `Db.rows`), made explicitly UTC as the
    API answers it."""
    if isinstance(value, str):
        return value + "Z"  # SQLite keeps UTC as naive text
    return value if value.utcoffset() == _ZERO else value.astimezone(UTC)


def driver_uuid(value: str | uuid.UUID | None) -> uuid.UUID | None:
    """A UUID read through `Db.rows` (SQLite hands back its hex text)."""
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def driver_json(value: Any) -> Any:
    """A JSON column read through `Db.rows` (SQLite hands back its text)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_ZERO = timedelta(0)


def _end(session: Session, error: BaseException | None) -> None:
    with session:
        if error is None or (isinstance(error, DomainError) and error.keep_changes):
            session.commit()
        else:
            session.rollback()


Rows = list[tuple[Any, ...]]

# Called with the SQL of every statement `Db.rows` sends past SQLAlchemy's engine events (the
# tests count queries with it).
statement_listeners: list[Callable[[str], None]] = []


@dataclass(frozen=True, slots=True)
class _DriverStatement:
    """A read statement compiled once for a dialect: its SQL and how to bind values to it.

    Hot reads run it on the driver's connection: SQLAlchemy's execution context and result
    processing cost more than the query (bench/README.md). Rows come back as the driver reads
    them, whatever the column types: SQLite's hex text of a UUID, its naive UTC timestamps and
    0/1 flags, PostgreSQL's UUID and datetime objects."""

    sql: str
    compiled: SQLCompiler
    positions: tuple[str, ...] | None
    processors: dict[str, Callable[[Any], Any]]

    @classmethod
    def compile(cls, stmt: ClauseElement, dialect: Dialect) -> "_DriverStatement":
        compiled = stmt.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        sql = compiled.string
        # Constants SQLAlchemy renders only at execution: the separator of aggregate_strings,
        # the list of a constant IN.
        literals = set()
        for bind in compiled.literal_execute_params | compiled.post_compile_params:
            if bind.value is None:
                continue  # bound at execution: refused below
            name = compiled.bind_names[bind]
            items = bind.value if bind.expanding else [bind.value]
            literal = ", ".join(compiled.render_literal_value(v, bind.type) for v in items)
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", literal)
            literals.add(name)
        if "__[POSTCOMPILE_" in sql:
            raise ValueError("a hot read cannot take an expanding IN; bind each value")
        processors: dict[str, Callable[[Any], Any]] = {}
        for bind, name in compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None and name not in literals:
                processors[name] = processor
        positions = None
        if compiled.positiontup is not None:
            positions = tuple(n for n in compiled.positiontup if n not in literals)
        return cls(sql, compiled, positions, processors)

    def parameters(self, values: Mapping[str, Any]) -> Any:
        params = dict(self.compiled.construct_params(values) or {})
        for name, processor in self.processors.items():
            params[name] = processor(params[name])
        if self.positions is None:
            return params
        return tuple(params[name] for name in self.positions)


class _Statements:
    """`_DriverStatement`s by statement. Hot reads build their statements once, so this stays
    small; a statement built per request would be compiled per request (and is dropped)."""

    LIMIT = 512

    def __init__(self, dialect: Dialect) -> None:
        self.dialect = dialect
        self._compiled: dict[ClauseElement, _DriverStatement] = {}

    def __call__(self, stmt: Executable) -> _DriverStatement:
        assert isinstance(stmt, ClauseElement)
        found = self._compiled.get(stmt)
        if found is None:
            if len(self._compiled) >= self.LIMIT:
                self._compiled.clear()
            found = self._compiled[stmt] = _DriverStatement.compile(stmt, self.dialect)
        return found


@cache
def _statements(dialect_name: str) -> _Statements:
    dialect = get_engine().dialect
    assert dialect.name == dialect_name
    return _Statements(dialect)


def _session_rows(session: Session, stmt: Executable, params: Mapping[str, Any]) -> Rows:
    connection = session.connection()
    statement = _statements(connection.dialect.name)(stmt)
    result = connection.exec_driver_sql(statement.sql, statement.parameters(params))
    return [tuple(row) for row in result]


class Db:
    """The request's one transaction.

    A sync route (which FastAPI runs in a worker thread) works on `session`. A dependency or an
    async route awaits `rows(stmt, params)` for each read statement. This one runs them in a
    worker thread, as any database work that may wait for a pooled connection or a lock must
    when it is called from the event loop."""

    def __init__(self, session: Session, *, read: bool) -> None:
        self._session = session
        self.read = read

    @property
    def session(self) -> Session:
        return self._session

    async def rows(
        self, stmt: Executable, params: Mapping[str, Any], *, scan: bool = False
    ) -> Rows:
        """Every row of `stmt` as the driver returns it (see `_DriverStatement`). `scan`: the
        statement may read much of a table to fill its page (a text search, a rare filter)."""
        return await run_in_threadpool(_session_rows, self._session, stmt, params)

    async def end(self, error: BaseException | None) -> None:
        if self.read:
            # A read transaction holds no lock, so ending it never waits.
            _end(self._session, error)
            return
        # Ending a write may wait for a lock or a disk flush. Shielded: a cancelled request
        # (client gone) still gets its transaction ended.
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(_end, self._session, error)


class _LoopDb(Db):
    """A read transaction on the event loop, on one connection of the loop's own pool, begun
    by the first statement and ended by `end`. Async routes read through `rows`."""

    def __init__(self) -> None:
        self.read = True

    @property
    def session(self) -> Session:
        raise TypeError("an async route reads through Db.rows")


class _SqliteLoopDb(_LoopDb):
    """SQLite on the event loop: a page read through an index costs a fraction of a
    millisecond, less than a hop to a worker thread and back costs under load. A `scan` still
    goes to a worker thread: SQLite runs a query in the calling thread, and a search through
    100 000 rows (a third of a second) would hold up every other request."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine
        self._statements = _statements("sqlite")
        self._pooled: PoolProxiedConnection | None = None
        self._connection: sqlite3.Connection | None = None

    def _fetch(self, sql: str, params: Any) -> Rows:
        if self._connection is None:
            self._pooled = self._engine.raw_connection()
            self._connection = self._pooled.driver_connection
            assert isinstance(self._connection, sqlite3.Connection)
            self._connection.execute("BEGIN DEFERRED")
        for listener in statement_listeners:
            listener(sql)
        return self._connection.execute(sql, params).fetchall()

    async def rows(
        self, stmt: Executable, params: Mapping[str, Any], *, scan: bool = False
    ) -> Rows:
        statement = self._statements(stmt)
        values = statement.parameters(params)
        try:
            if scan:
                return await run_in_threadpool(self._fetch, statement.sql, values)
            return self._fetch(statement.sql, values)
        except sqlite3.Error as error:
            raise _database_error(error, statement.sql, values, sqlite3.Error) from error

    async def end(self, error: BaseException | None) -> None:
        connection, pooled = self._connection, self._pooled
        self._connection = self._pooled = None
        if connection is not None and pooled is not None:
            try:
                connection.execute("COMMIT" if error is None else "ROLLBACK")
            finally:
                pooled.close()


class _PgPool:
    """psycopg's async connections for the reads on the event loop, straight: SQLAlchemy's
    asyncio layer costs several times more per statement than the statement itself
    (bench/README.md). At most `size` are open; `request_db`'s slots make sure a request
    never waits for one."""

    # A connection idle for longer is pinged before use: the server may have restarted
    # meanwhile. One in steady use proved itself alive moments ago.
    PING_AFTER = 1.0
    RECYCLE_AFTER = 1800.0

    def __init__(self, engine: Engine) -> None:
        _, kwargs = engine.dialect.create_connect_args(engine.url)
        self._connect = {**kwargs, **_postgres_connect_args(engine.url.render_as_string())}
        self._idle: list[tuple[psycopg.AsyncConnection[Any], float, float]] = []

    async def acquire(self) -> tuple[psycopg.AsyncConnection[Any], float]:
        now = time.monotonic()
        while self._idle:
            connection, opened, since = self._idle.pop()
            if connection.closed or now - opened > self.RECYCLE_AFTER:
                await connection.close()
                continue
            if now - since > self.PING_AFTER:
                try:
                    await connection.execute("SELECT 1")
                    await connection.rollback()
                except psycopg.Error:
                    await connection.close()
                    continue
            return connection, opened
        # Not autocommit: psycopg begins the transaction with the first statement.
        connection = await psycopg.AsyncConnection.connect(**self._connect)
        return connection, now

    async def release(self, connection: psycopg.AsyncConnection[Any], opened: float) -> None:
        idle = connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if connection.closed or connection.broken or not idle:
            await connection.close()
            return
        self._idle.append((connection, opened, time.monotonic()))

    async def dispose(self) -> None:
        while self._idle:
            await self._idle.pop()[0].close()


def _database_error(error: Exception, sql: str, params: Any, base: type[Exception]) -> DBAPIError:
    # The same exceptions SQLAlchemy raises, so that the same handlers answer (503, 422, …).
    wrapped = DBAPIError.instance(sql, params, error, base)
    assert isinstance(wrapped, DBAPIError)
    return wrapped


class _PgLoopDb(_LoopDb):
    """PostgreSQL on the event loop: the loop serves other requests while the server works."""

    def __init__(self, pool: _PgPool) -> None:
        super().__init__()
        self._pool = pool
        self._statements = _statements("postgresql")
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._opened = 0.0

    async def rows(
        self, stmt: Executable, params: Mapping[str, Any], *, scan: bool = False
    ) -> Rows:
        statement = self._statements(stmt)
        values = statement.parameters(params)
        try:
            if self._connection is None:
                self._connection, self._opened = await self._pool.acquire()
            for listener in statement_listeners:
                listener(statement.sql)
            cursor = await self._connection.execute(statement.sql, values)
            return await cursor.fetchall()
        except psycopg.Error as error:
            raise _database_error(error, statement.sql, values, psycopg.Error) from error

    async def end(self, error: BaseException | None) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        with anyio.CancelScope(shield=True):
            try:
                await (connection.commit() if error is None else connection.rollback())
            except psycopg.Error as failure:
                if error is None:
                    raise _database_error(failure, "COMMIT", None, psycopg.Error) from failure
            finally:
                await self._pool.release(connection, self._opened)


@dataclass
class _LoopReads:
    engine: Engine
    pool: _PgPool | None
    # At most as many requests as the pool has connections hold one of the loop's
    # transactions, so a checkout on the loop never waits (and never stalls every other
    # request with it).
    slots: asyncio.Semaphore

    def open(self) -> Db:
        if self.pool is not None:
            return _PgLoopDb(self.pool)
        return _SqliteLoopDb(self.engine)


# Per event loop: an async connection belongs to the loop that opened it (a server has one
# loop per process; the tests open one per client).
_loop_reads: "WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopReads]" = WeakKeyDictionary()


def _current_loop_reads() -> _LoopReads:
    loop = asyncio.get_running_loop()
    reads = _loop_reads.get(loop)
    if reads is None:
        settings = get_settings()
        size = settings.db_pool_size
        engine = build_loop_engine(settings.database_url, pool_size=size)
        pool = None if engine.dialect.name == "sqlite" else _PgPool(engine)
        reads = _loop_reads[loop] = _LoopReads(engine, pool, asyncio.Semaphore(size))
    return reads


async def dispose_loop_reads() -> None:
    """Close this loop's read connections (the app's shutdown)."""
    reads = _loop_reads.pop(asyncio.get_running_loop(), None)
    if reads is not None:
        if reads.pool is not None:
            await reads.pool.dispose()
        reads.engine.dispose()


@cache
def _awaits_reads(endpoint: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(endpoint)


async def request_db(request: Request) -> AsyncIterator[Db]:
    """One request = one transaction: commit when the handler returns, roll back on any error.

    An `async def` route that reads (GET) does its database work through `Db.rows`, on the
    event loop: no hop to a worker thread at all. Every other route gets a session for its
    worker thread."""
    if request.method in READ_METHODS and _awaits_reads(request.scope["endpoint"]):
        reads = _current_loop_reads()
        async with reads.slots:
            db = reads.open()
            try:
                yield db
            except BaseException as error:
                await db.end(error)
                raise
            await db.end(None)
        return
    read = request.method in READ_METHODS
    engine = get_engine() if read else get_write_engine()
    async with _NO_QUEUE if read or engine.dialect.name != "sqlite" else _sqlite_writer_turn():
        db = Db(Session(engine, expire_on_commit=False), read=read)
        try:
            yield db
        except BaseException as error:
            await db.end(error)
            raise
        await db.end(None)


class _NoQueue:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *_: object) -> None:
        return None


_NO_QUEUE = _NoQueue()

# SQLite has one writer, and its busy handler polls with growing sleeps: under contention a
# newcomer often takes the lock before a writer that has waited for seconds (16 concurrent
# writers gave transitions a p99 of 3.7 s and sign-ins 8 s, bench/README.md). This process's
# write requests queue here instead, first come first served (asyncio.Lock wakes its waiters
# in order), and reach BEGIN IMMEDIATE one at a time, without a worker thread each waiting in
# the busy handler. The busy handler is left for writers of other processes (the CLI).
_sqlite_writers: "WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock]" = WeakKeyDictionary()


def _sqlite_writer_turn() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    turn = _sqlite_writers.get(loop)
    if turn is None:
        turn = _sqlite_writers[loop] = asyncio.Lock()
    return turn
