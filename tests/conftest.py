"""Each run gets its own database built by Alembic; each test starts from empty tables.

SQLite by default; PostgreSQL when TEST_DATABASE_URL names a server (a throw-away database is
created there and dropped at the end).
"""

import atexit
import os
import secrets
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, event, text
from sqlalchemy.engine import Engine, make_url

SERVER_URL = os.environ.get("TEST_DATABASE_URL")
os.environ["PROJOFFICE_ENV"] = "test"
# One key for the run and every server it starts, instead of a key file in var/.
os.environ.setdefault("PROJOFFICE_JWT_SECRET", secrets.token_urlsafe(48))
os.environ.pop("PROJOFFICE_DOCS_ENABLED", None)


def _create_postgres_database(server_url: str) -> tuple[str, Callable[[], None]]:
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"projoffice_test_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))

    def drop() -> None:
        from app.db import get_engine

        get_engine().dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    # Under xdist the controller imports this module too but runs no session fixture: without
    # this its database stayed behind after every run.
    atexit.register(drop)
    return url.set(database=name).render_as_string(hide_password=False), drop


def _prepare_database(tmp_dir: Path) -> tuple[str, Callable[[], None]]:
    if SERVER_URL:
        return _create_postgres_database(SERVER_URL)
    path = tmp_dir / "test.db"
    return f"sqlite:///{path}", lambda: None


_TMP = Path(os.environ.get("TMPDIR", "/tmp")) / f"projoffice-tests-{uuid.uuid4().hex[:8]}"
_TMP.mkdir(parents=True, exist_ok=True)
atexit.register(shutil.rmtree, _TMP, ignore_errors=True)
DATABASE_URL, _drop_database = _prepare_database(_TMP)
os.environ["PROJOFFICE_DATABASE_URL"] = DATABASE_URL

from app.config import get_settings  # noqa: E402
from app.db import get_engine, get_write_engine, statement_listeners  # noqa: E402
from app.migrations import alembic_config  # noqa: E402

get_settings.cache_clear()
get_engine.cache_clear()
get_write_engine.cache_clear()


_TABLES: list[str] = []
# Reference data the migrations seed (a fresh database has it): kept between tests.
SEEDED_TABLES = frozenset({"alembic_version", "office_function"})


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    from alembic import command

    command.upgrade(alembic_config(), "head")
    # Empty what the migrations built (children first), not what the models declare.
    built = MetaData()
    built.reflect(get_engine())
    _TABLES.extend(t.name for t in reversed(built.sorted_tables) if t.name not in SEEDED_TABLES)
    yield DATABASE_URL
    _drop_database()


@pytest.fixture(autouse=True)
def _empty_tables(database: str) -> Iterator[None]:
    yield
    engine = get_engine()
    tables = _TABLES
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture
def engine() -> Engine:
    return get_engine()


@pytest.fixture
def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        self.statements.append(args[2])

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(engine: Engine) -> Iterator[QueryCounter]:
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    # Reads on the event loop go to the driver past the engine's events.
    statement_listeners.append(counter.statements.append)
    yield counter
    statement_listeners.remove(counter.statements.append)
    event.remove(engine, "before_cursor_execute", counter)


pytest_plugins = ["tests.factories"]
