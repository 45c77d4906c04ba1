import uuid
from typing import Any

from sqlalchemy import ScalarSelect, exists, func, literal, select
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


def parse_roles(raw: str | None) -> list[Role]:
    return sorted((Role(r) for r in raw.split(",")), key=list(Role).index) if raw else []


def user_subject(user_id: uuid.UUID) -> str:
    return str(user_id)


def service_subject(account_id: uuid.UUID) -> str:
    return SERVICE_SUBJECT_PREFIX + str(account_id)


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
    revoked: Any = literal(False)
    if family_id is not None:
        revoked = exists().where(
            col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_not(None)
        )
    # One query per request: the person, their roles and whether their login was ended.
    row = session.execute(
        select(
            col(User.full_name),
            col(User.organization_id),
            col(User.is_active),
            roles_column(),
            revoked,
        ).where(col(User.id) == user_id)
    ).first()
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
