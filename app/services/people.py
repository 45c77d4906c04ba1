"""People referenced from other resources: checked in one query, named in one query."""

import uuid
from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import InvalidInput
from app.models import Role, User
from app.services.principals import parse_roles, roles_column


def active_roles(session: Session, user_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Role]]:
    """The roles of those of `user_ids` who exist and are active."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(col(User.id), roles_column()).where(
            col(User.id).in_(list(user_ids)), col(User.is_active).is_(True)
        )
    ).all()
    return {row[0]: parse_roles(row[1]) for row in rows}


def ensure_active(
    session: Session, user_ids: Iterable[uuid.UUID | None], *, loc: Sequence[str | int]
) -> dict[uuid.UUID, list[Role]]:
    """422 naming the unknown or deactivated people; their roles otherwise."""
    wanted = list(dict.fromkeys(i for i in user_ids if i is not None))
    found = active_roles(session, wanted)
    missing = [str(i) for i in wanted if i not in found]
    if missing:
        raise InvalidInput(
            f"Пользователи не найдены или неактивны: {', '.join(missing)}",
            loc=loc,
            code="unknown_user",
            extra={"user_ids": missing},
        )
    return found
