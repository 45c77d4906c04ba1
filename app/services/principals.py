import uuid
from functools import lru_cache
from typing import Any

from sqlalchemy import ScalarSelect, Select, bindparam, exists, func, literal, select
from sqlmodel import Session, col

from app.models import RefreshToken, Role, ServiceAccount, User, UserRole
from app.security import Principal

SERVICE_SUBJECT_PREFIX = "sa:"


def roles_column() -> ScalarSelect[Any]:
    """The user's roles as one comma-separated string, aggregated in SQL (no N+1)."""
    return (
        select(func.aggregate_strings(col(UserRole.role), ","))
        .where(col(UserRole.user_id) == col(User.id))
        .correlate(User)
        .scalar_subquery()
    )


_ROLE_ORDER = {role: index for index, role in enumerate(Role)}


@lru_cache(maxsize=64)
def _parse_roles(raw: str) -> tuple[Role, ...]:
    return tuple(sorted(map(Role, raw.split(",")), key=_ROLE_ORDER.__getitem__))


def parse_roles(raw: str | None) -> list[Role]:
    return list(_parse_roles(raw)) if raw else []


def user_subject(user_id: uuid.UUID) -> str:
    return str(user_id)


def service_subject(account_id: uuid.UUID) -> str:
    return SERVICE_SUBJECT_PREFIX + str(account_id)


def _user_stmt(*, with_family: bool) -> Select[Any]:
    revoked: Any = literal(False)
    if with_family:
        revoked = exists().where(
            col(RefreshToken.family_id) == bindparam("family_id"),
            col(RefreshToken.revoked_at).is_not(None),
        )
    return select(
        col(User.full_name),
        col(User.organization_id),
        col(User.is_active),
        roles_column(),
        revoked,
    ).where(col(User.id) == bindparam("user_id"))


# Built once, values bound per request: building a statement and its cache key costs more
# than running this one (bench/README.md).
_USER = _user_stmt(with_family=False)
_USER_IN_FAMILY = _user_stmt(with_family=True)


def load_principal(
    session: Session, subject: str, family_id: uuid.UUID | None = None
) -> Principal | None:
    """The active caller behind a token subject, or None (deactivated, deleted, malformed)."""
    try:
        if subject.startswith(SERVICE_SUBJECT_PREFIX):
            account_id = uuid.UUID(subject.removeprefix(SERVICE_SUBJECT_PREFIX))
            account = session.get(ServiceAccount, account_id)
            if account is None or not account.is_active:
                return None
            return Principal(
                id=account.id,
                kind="service",
                name=account.name,
                scopes=frozenset(account.scopes),
            )
        user_id = uuid.UUID(subject)
    except ValueError:
        return None
    # One query per request: the person, their roles and whether their login was ended.
    if family_id is None:
        row = session.execute(_USER, {"user_id": user_id}).first()
    else:
        row = session.execute(_USER_IN_FAMILY, {"user_id": user_id, "family_id": family_id}).first()
    if row is None or not row[2] or row[4]:
        return None
    return Principal(
        id=user_id,
        kind="user",
        name=row[0],
        organization_id=row[1],
        roles=frozenset(parse_roles(row[3])),
        family_id=family_id,
    )
