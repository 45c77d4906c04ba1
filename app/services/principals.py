import uuid
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import ScalarSelect, Select, bindparam, exists, func, literal, select
from sqlmodel import Session, col

from app.db import Db, driver_json, driver_uuid
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


_ACCOUNT: Select[*tuple[Any, ...]] = select(
    col(ServiceAccount.name), col(ServiceAccount.is_active), col(ServiceAccount.scopes)
).where(col(ServiceAccount.id) == bindparam("account_id"))

Lookup = tuple[
    Select[*tuple[Any, ...]], dict[str, Any], Callable[[Sequence[Any]], Principal | None]
]


def _lookup(subject: str, family_id: uuid.UUID | None) -> Lookup | None:
    """The one query that finds the caller behind a token subject, and how its row becomes
    the principal (None when deactivated or their login was ended)."""
    try:
        if subject.startswith(SERVICE_SUBJECT_PREFIX):
            account_id = uuid.UUID(subject.removeprefix(SERVICE_SUBJECT_PREFIX))

            def account(row: Sequence[Any]) -> Principal | None:
                name, is_active, scopes = row
                if not is_active:
                    return None
                scopes = frozenset(driver_json(scopes))
                return Principal(id=account_id, kind="service", name=name, scopes=scopes)

            return _ACCOUNT, {"account_id": account_id}, account
        user_id = uuid.UUID(subject)
    except ValueError:
        return None

    def user(row: Sequence[Any]) -> Principal | None:
        name, organization_id, is_active, roles, revoked = row
        if not is_active or revoked:
            return None
        return Principal(
            id=user_id,
            kind="user",
            name=name,
            organization_id=driver_uuid(organization_id),
            roles=frozenset(parse_roles(roles)),
            family_id=family_id,
        )

    # One query per request: the person, their roles and whether their login was ended.
    if family_id is None:
        return _USER, {"user_id": user_id}, user
    return _USER_IN_FAMILY, {"user_id": user_id, "family_id": family_id}, user


def load_principal(
    session: Session, subject: str, family_id: uuid.UUID | None = None
) -> Principal | None:
    """The active caller behind a token subject, or None (deactivated, deleted, malformed)."""
    lookup = _lookup(subject, family_id)
    if lookup is None:
        return None
    stmt, params, build = lookup
    row = session.connection().execute(stmt, params).first()
    return None if row is None else build(row)


async def read_principal(
    db: Db, subject: str, family_id: uuid.UUID | None = None
) -> Principal | None:
    """`load_principal` for a dependency: on the event loop where the request's reads are."""
    lookup = _lookup(subject, family_id)
    if lookup is None:
        return None
    stmt, params, build = lookup
    rows = await db.rows(stmt, params)
    return build(rows[0]) if rows else None
