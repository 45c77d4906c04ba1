"""Small factories: people, organizations and tokens straight through the services."""

import itertools
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine
from app.main import create_app
from app.models import OrganizationKind, Role
from app.schemas.organizations import OrganizationCreate
from app.schemas.users import UserCreate
from app.security import Principal, create_token, hash_password
from app.services import organizations, users

PASSWORD = "correct-horse-battery"
_HASH = hash_password(PASSWORD)
_counter = itertools.count(1)
SYSTEM = Principal(id=uuid.UUID(int=0), kind="system", name="tests")


@dataclass
class Person:
    id: uuid.UUID
    email: str
    roles: list[Role]
    organization_id: uuid.UUID | None
    headers: dict[str, str]


def access_headers(user_id: uuid.UUID, *, family_id: uuid.UUID | None = None) -> dict[str, str]:
    token, _ = create_token(
        get_settings(),
        subject=str(user_id),
        token_type="access",
        lifetime=timedelta(minutes=5),
        family_id=family_id,
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def app() -> Any:
    return create_app()


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make_org() -> Callable[..., uuid.UUID]:
    def make(
        name: str | None = None,
        kind: OrganizationKind = OrganizationKind.school,
        short_name: str | None = None,
    ) -> uuid.UUID:
        n = next(_counter)
        with Session(get_engine()) as session:
            org = organizations.create_organization(
                session,
                actor=SYSTEM,
                data=OrganizationCreate(
                    name=name or f"МБОУ СОШ № {n}",
                    short_name=short_name or f"СОШ {n}",
                    kind=kind,
                ),
            )
            session.commit()
            return org.id

    return make


@pytest.fixture
def make_user() -> Callable[..., Person]:
    def make(
        *roles: Role,
        email: str | None = None,
        full_name: str | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> Person:
        n = next(_counter)
        chosen = list(roles) or [Role.participant]
        with Session(get_engine()) as session:
            user = users.create_user(
                session,
                actor=SYSTEM,
                data=UserCreate(
                    email=email or f"user{n}@example.org",
                    full_name=full_name or f"Тестовый Пользователь {n}",
                    organization_id=organization_id,
                    roles=chosen,
                    password=PASSWORD,
                ),
                hashed_password=_HASH,
            )
            session.commit()
        return Person(
            id=user.id,
            email=user.email,
            roles=user.roles,
            organization_id=organization_id,
            headers=access_headers(user.id),
        )

    return make


@pytest.fixture
def admin(make_user: Callable[..., Person]) -> Person:
    return make_user(Role.admin)


@pytest.fixture
def office_head(make_user: Callable[..., Person]) -> Person:
    return make_user(Role.office_head)


@pytest.fixture
def office_member(make_user: Callable[..., Person]) -> Person:
    return make_user(Role.office_member)


@pytest.fixture
def participant(make_user: Callable[..., Person]) -> Person:
    return make_user(Role.participant)


@pytest.fixture
def observer(make_user: Callable[..., Person]) -> Person:
    return make_user(Role.observer)


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    assert body["type"]
    if code is not None:
        assert body["code"] == code, body
    return body
