"""Migrations on a database with data in it: the suite's own database is migrated while empty,
so what a migration does to existing rows (and a downgrade to them) is tried here, on a
throw-away database of the suite's kind filled with the demo data."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session

from alembic import command
from app import demo
from app.db import build_engine
from app.migrations import alembic_config
from tests.conftest import SERVER_URL

TABLES = ("initiative", "initiative_topic", "initiative_member", "transition", "review_assignment")


@pytest.fixture
def populated(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    if SERVER_URL:
        server = make_url(SERVER_URL).set(drivername="postgresql+psycopg")
        name = f"projoffice_migration_{uuid.uuid4().hex[:8]}"
        admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
        url = server.set(database=name).render_as_string(hide_password=False)
    else:
        url = f"sqlite:///{tmp_path / 'populated.db'}"
    engine = build_engine(url)
    try:
        config = alembic_config()
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        command.upgrade(config, "head")
        with Session(engine) as session:
            demo.load_demo_data(session)
            session.commit()
        yield url, engine
    finally:
        engine.dispose()
        if SERVER_URL:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def _counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def _submitted(engine: Engine) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT code, submitted_at FROM initiative")).all())


def test_submitted_at_survives_a_downgrade_and_is_rebuilt_from_the_history(populated):
    """Downgrading past `initiative.submitted_at` keeps every row (on SQLite the batch copy of
    the table used to fail on the foreign keys pointing at it), and upgrading again takes each
    initiative's first submission from its transitions, as the lifecycle had set it."""
    url, engine = populated
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    before, set_by_lifecycle = _counts(engine), _submitted(engine)
    assert any(at is None for at in set_by_lifecycle.values())  # the demo's draft
    assert sum(at is not None for at in set_by_lifecycle.values()) >= 10
    engine.dispose()
    command.downgrade(config, "5d2e9a7c4b10")
    assert _counts(engine) == before
    engine.dispose()
    command.upgrade(config, "head")
    assert _counts(engine) == before
    assert _submitted(engine) == set_by_lifecycle
