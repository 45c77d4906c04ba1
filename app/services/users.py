import uuid
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy import Select, bindparam, delete, exists, select, update
from sqlmodel import Session, col

from app.db import Db, raw, raw_utc
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import RefreshToken, Role, User, UserRole
from app.models.base import utcnow
from app.pagination import SortKey, cursor_values, paginate_bound, split_page
from app.policy import Action, can
from app.schemas.users import PasswordChange, UserCreate, UserPublic, UserSelfUpdate, UserUpdate
from app.security import SYSTEM, Principal, hash_password, verify_password
from app.services import events, organizations
from app.services.principals import parse_roles, roles_column
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text

ORDER = SortKey(columns=[col(User.full_name), col(User.id)], types=[str, uuid.UUID])
PUBLIC_COLUMNS = (
    raw(col(User.id)),
    col(User.email),
    col(User.full_name),
    col(User.job_title),
    raw(col(User.organization_id)),
    col(User.is_active),
    col(User.version),
    raw(col(User.created_at)),
    raw(col(User.updated_at)),
)


def normalize_email(email: str) -> str:
    return email.strip().lower()


_PUBLIC: Select[Any] = select(*PUBLIC_COLUMNS, roles_column().label("roles"))
_BY_ID = _PUBLIC.where(col(User.id) == bindparam("user_id"))


def _public_fields(row: Sequence[Any]) -> dict[str, Any]:
    # Unpacked by position: a Row's attribute lookup by name costs more than the model itself.
    # Ids and timestamps come as the driver read them (`raw`, `Db.rows`); pydantic parses them.
    (
        user_id,
        email,
        full_name,
        job_title,
        organization_id,
        is_active,
        version,
        created_at,
        updated_at,
        roles,
    ) = row
    return {
        "id": user_id,
        "email": email,
        "full_name": full_name,
        "job_title": job_title,
        "organization_id": organization_id,
        "roles": parse_roles(roles),
        "is_active": is_active,
        "version": version,
        "created_at": raw_utc(created_at),
        "updated_at": raw_utc(updated_at),
    }


def _row_to_public(row: Sequence[Any]) -> UserPublic:
    return UserPublic.model_validate(_public_fields(row))


# A page is validated in one call: cheaper than one model at a time.
_PUBLIC_LIST = TypeAdapter(list[UserPublic])


def get_user(session: Session, user_id: uuid.UUID) -> UserPublic:
    row = session.execute(_BY_ID, {"user_id": user_id}).first()
    if row is None:
        raise NotFound("Пользователь не найден")
    return _row_to_public(row)


@lru_cache(maxsize=16)
def _filtered(*, q: bool, role: bool, organization: bool, active: bool) -> Select[Any]:
    """The list statement for one combination of filters, built once; the filter values are
    bound when it runs. Building a statement and its cache key per request cost more than the
    query itself (bench/README.md)."""
    stmt = _PUBLIC
    if q:
        stmt = stmt.where(col(User.search_text).like(bindparam("q"), escape=LIKE_ESCAPE))
    if role:
        # EXISTS, not `id IN (…)`: SQLite would drive the query from the role index, build the
        # whole set (80 000 participants) and sort it; this walks the name index and stops at
        # the page. PostgreSQL plans both forms alike.
        stmt = stmt.where(
            exists().where(
                col(UserRole.user_id) == col(User.id), col(UserRole.role) == bindparam("role")
            )
        )
    if organization:
        stmt = stmt.where(col(User.organization_id) == bindparam("organization_id"))
    if active:
        stmt = stmt.where(col(User.is_active) == bindparam("is_active"))
    return stmt


_FEW = frozenset({Role.admin, Role.office_head, Role.office_member})


@lru_cache(maxsize=256)
def _page(
    *, q: bool, role: bool, organization: bool, active: bool, after: bool, limit: int
) -> Select[Any]:
    stmt = _filtered(q=q, role=role, organization=organization, active=active)
    return paginate_bound(stmt, ORDER, after=after, limit=limit)


async def list_users(
    db: Db,
    *,
    q: str | None,
    role: Role | None,
    organization_id: uuid.UUID | None,
    is_active: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[UserPublic], str | None]:
    stmt = _page(
        q=bool(q),
        role=role is not None,
        organization=organization_id is not None,
        active=is_active is not None,
        after=bool(cursor),
        limit=limit,
    )
    values = {
        "q": contains_pattern(q) if q else None,
        "role": role,
        "organization_id": organization_id,
        "is_active": is_active,
        **(cursor_values(cursor, ORDER) if cursor else {}),
    }
    # A page walks the name index and stops at the limit, unless what it looks for is rare: a
    # text search, office people and admins (a handful in a city's network), the deactivated.
    scan = bool(q) or role in _FEW or is_active is False
    rows = await db.rows(stmt, values, scan=scan)
    page = _PUBLIC_LIST.validate_python([_public_fields(r) for r in rows])
    return split_page(page, limit, lambda u: [u.full_name, u.id])


def _refresh_search(user: User) -> None:
    user.search_text = search_text(user.full_name, user.email, user.job_title)


def _ensure_email_free(session: Session, email: str) -> None:
    if session.execute(select(col(User.id)).where(col(User.email) == email)).first() is not None:
        raise Conflict(f"Пользователь с email {email} уже есть", code="duplicate_email")


def _set_roles(session: Session, user_id: uuid.UUID, roles: list[Role]) -> None:
    session.execute(delete(UserRole).where(col(UserRole.user_id) == user_id))
    session.add_all(UserRole(user_id=user_id, role=role) for role in roles)


def revoke_refresh_tokens(
    session: Session, user_id: uuid.UUID, *, keep_family: uuid.UUID | None = None
) -> None:
    stmt = update(RefreshToken).where(
        col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None)
    )
    if keep_family is not None:
        stmt = stmt.where(col(RefreshToken.family_id) != keep_family)
    session.execute(stmt.values(revoked_at=utcnow()))


def create_user(
    session: Session,
    *,
    actor: Principal | None,
    data: UserCreate,
    hashed_password: str | None = None,
) -> UserPublic:
    email = normalize_email(data.email)
    _ensure_email_free(session, email)
    organizations.ensure_exists(session, data.organization_id, loc=["body", "organization_id"])
    now = utcnow()
    user = User(
        email=email,
        full_name=data.full_name,
        job_title=data.job_title,
        organization_id=data.organization_id,
        hashed_password=hashed_password or hash_password(data.password),
        search_text="",
        created_at=now,
        updated_at=now,
    )
    _refresh_search(user)
    session.add(user)
    session.flush()
    _set_roles(session, user.id, data.roles)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="user.created",
        entity_type="user",
        entity_id=user.id,
        data=data.model_dump(mode="json", exclude={"password"}),
    )
    return get_user(session, user.id)


def _load(session: Session, user_id: uuid.UUID) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("Пользователь не найден")
    return user


def _apply(
    session: Session,
    *,
    actor: Principal,
    user: User,
    patch: dict[str, Any],
    if_match: int | None,
    body_version: int | None,
) -> UserPublic:
    current = get_user(session, user.id)
    check_version(current.version, if_match=if_match, body_version=body_version)
    if "organization_id" in patch:
        organizations.ensure_exists(
            session, patch["organization_id"], loc=["body", "organization_id"]
        )
    comparable = {
        key: [r.value for r in value] if key == "roles" else value for key, value in patch.items()
    }
    diff = events.changes(current.model_dump(mode="json"), _jsonable(comparable))
    if not diff:
        return current
    for key, value in patch.items():
        if key != "roles":
            setattr(user, key, value)
    _refresh_search(user)
    user.updated_at = utcnow()
    # updated_at makes the row dirty, so its version moves even when only roles changed; the
    # row is flushed once, before the role and token statements, so it moves by exactly one.
    session.flush()
    if "roles" in diff:
        _set_roles(session, user.id, patch["roles"])
    if patch.get("is_active") is False:
        revoke_refresh_tokens(session, user.id)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="user.updated",
        entity_type="user",
        entity_id=user.id,
        data={"changes": diff},
    )
    return get_user(session, user.id)


def _reject_nulls(patch: dict[str, Any], *fields: str) -> None:
    for name in fields:
        if name in patch and patch[name] is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )


def _jsonable(values: dict[str, Any]) -> dict[str, Any]:
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in values.items()}


def update_user(
    session: Session,
    *,
    actor: Principal,
    user_id: uuid.UUID,
    data: UserUpdate,
    if_match: int | None,
) -> UserPublic:
    user = _load(session, user_id)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    _reject_nulls(patch, "full_name", "is_active", "roles")
    if user.id == actor.id:
        # Nobody grants themselves powers or locks themselves out: another administrator does.
        current = get_user(session, user.id)
        if "roles" in patch and set(patch["roles"]) != set(current.roles):
            raise Forbidden(
                "Свои роли изменяет другой администратор",
                code="own_roles",
                extra={"field": "roles"},
            )
        if "is_active" in patch and patch["is_active"] != current.is_active:
            raise Forbidden(
                "Свою учётную запись деактивирует другой администратор",
                code="own_roles",
                extra={"field": "is_active"},
            )
    return _apply(
        session, actor=actor, user=user, patch=patch, if_match=if_match, body_version=data.version
    )


def update_me(
    session: Session, *, actor: Principal, data: UserSelfUpdate, if_match: int | None
) -> UserPublic:
    user = _load(session, actor.id)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    _reject_nulls(patch, "full_name")
    return _apply(
        session, actor=actor, user=user, patch=patch, if_match=if_match, body_version=data.version
    )


def reset_password(
    session: Session, *, actor: Principal, user_id: uuid.UUID, password: str
) -> None:
    """An operator sets a person's password (`projoffice create-admin`); their logins end."""
    user = _load(session, user_id)
    user.hashed_password = hash_password(password)
    user.updated_at = utcnow()
    revoke_refresh_tokens(session, user.id)
    session.flush()
    events.record(
        session, actor=actor, action="user.password_reset", entity_type="user", entity_id=user.id
    )


def change_password(session: Session, *, actor: Principal, data: PasswordChange) -> None:
    user = _load(session, actor.id)
    if not verify_password(data.current_password, user.hashed_password):
        raise InvalidInput(
            "Текущий пароль неверен", loc=["body", "current_password"], code="wrong_password"
        )
    user.hashed_password = hash_password(data.new_password)
    user.updated_at = utcnow()
    # Every other login ends; the one that changed the password goes on.
    revoke_refresh_tokens(session, user.id, keep_family=actor.family_id)
    session.flush()
    events.record(
        session, actor=actor, action="user.password_changed", entity_type="user", entity_id=user.id
    )


def get_visible_user(session: Session, *, actor: Principal, user_id: uuid.UUID) -> UserPublic:
    if user_id != actor.id and not can(actor, Action.users_read):
        raise NotFound("Пользователь не найден")
    return get_user(session, user_id)


def ensure_admin(session: Session, *, data: UserCreate) -> bool:
    """Create the administrator; a person with that email already there gets the role, is
    reactivated and takes the password given (the way back in for a locked-out office)."""
    email = normalize_email(data.email)
    existing = session.scalars(select(User).where(col(User.email) == email)).first()
    if existing is None:
        create_user(session, actor=SYSTEM, data=data.model_copy(update={"roles": [Role.admin]}))
        return True
    current = get_user(session, existing.id)
    update_user(
        session,
        actor=SYSTEM,
        user_id=existing.id,
        data=UserUpdate(roles=sorted({*current.roles, Role.admin}), is_active=True),
        if_match=None,
    )
    reset_password(session, actor=SYSTEM, user_id=existing.id, password=data.password)
    return False
