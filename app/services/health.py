from typing import Literal

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine
from app.migrations import head_revision

DatabaseState = Literal["ok", "unreachable", "not_migrated"]


def database_state() -> DatabaseState:
    """`not_migrated` when the schema is not at Alembic's head: a process serving before
    `projoffice migrate` (or after a downgrade) would answer with errors, not data."""
    try:
        with get_engine().connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return "not_migrated"
            revisions = connection.execute(text("SELECT version_num FROM alembic_version"))
            at_head = list(revisions.scalars()) == [head_revision()]
    except SQLAlchemyError:
        return "unreachable"
    return "ok" if at_head else "not_migrated"
