"""Rows shared by a whole test class, for the generated tests whose requests change nothing.

Hundreds of generated cases that each make their own people and then empty every table cost
minutes on PostgreSQL; a class of refused requests can share its callers and empty the tables
once, at its end. A class opts in by overriding `_empty_tables` (see `SharedRows`).
"""

import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.db import get_engine
from app.models import OrganizationKind, Role
from app.schemas.organizations import OrganizationCreate
from app.schemas.users import UserCreate
from app.security import hash_password
from app.services import organizations, users
from tests.factories import PASSWORD, SYSTEM, Person, access_headers

PASSWORD_HASH = hash_password(PASSWORD)


def make_person(*roles: Role, with_organization: bool = True) -> Person:
    n = secrets.token_hex(4)
    with Session(get_engine()) as session:
        organization_id = None
        if with_organization:
            organization_id = organizations.create_organization(
                session,
                actor=SYSTEM,
                data=OrganizationCreate(
                    name=f"Школа {n}", short_name=f"Ш {n}", kind=OrganizationKind.school
                ),
            ).id
        user = users.create_user(
            session,
            actor=SYSTEM,
            data=UserCreate(
                email=f"shared-{n}@example.org",
                full_name=f"Общий Пользователь {n}",
                organization_id=organization_id,
                roles=list(roles) or [Role.participant],
                password=PASSWORD,
            ),
            hashed_password=PASSWORD_HASH,
        )
        session.commit()
    return Person(user.id, user.email, user.roles, organization_id, access_headers(user.id))


def empty_all_tables() -> None:
    from tests.conftest import _TABLES

    engine = get_engine()
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(_TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in _TABLES:
                conn.execute(text(f"DELETE FROM {table}"))


class SharedRows:
    """Base for a class whose tests share rows: no per-test cleanup, one at the class's end."""

    @pytest.fixture(autouse=True)
    def _empty_tables(self) -> None:
        """Replaces conftest's per-test cleanup for this class."""

    @pytest.fixture(scope="class", autouse=True)
    @classmethod
    def _empty_tables_after_class(cls, database: str) -> Iterator[None]:
        yield
        empty_all_tables()
