"""Alembic, as the CLI, the readiness check and the tests use it: the configuration for the
database of the settings, and the revision the code expects."""

from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory

from app.config import PROJECT_ROOT, get_settings


def alembic_config() -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", get_settings().database_url.replace("%", "%%"))
    return config


@lru_cache
def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
