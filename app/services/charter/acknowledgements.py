"""Members' agreement with the version in force, and who has given it."""

import uuid
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlmodel import Session, col

from app.db import insert_for
from app.errors import Conflict
from app.models import (
    CharterAcknowledgement,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.charter import (
    AcknowledgementPage,
    AcknowledgementPublic,
    MemberAcknowledgement,
)
from app.security import Principal
from app.services import events
from app.services.charter.versions import in_force_number, load_version, ru_day
from app.services.charter.voting import members_filter


def acknowledge(
    session: Session, *, actor: Principal, number: int
) -> tuple[AcknowledgementPublic, bool]:
    """Agreement with the version in force; repeating it changes nothing. Returns whether it
    was new."""
    version = load_version(session, number)
    today = utcnow().date()
    in_force = in_force_number(session, today)
    if in_force != version.number:
        when = (
            f"вступит в силу {ru_day(version.effective_from)}"
            if version.effective_from > today
            else "уже заменена"
        )
        now_text = f"сейчас действует версия {in_force}" if in_force else "устав ещё не действует"
        raise Conflict(
            f"Версия {number} не действует сегодня ({when}); {now_text}",
            code="version_not_in_force",
            extra={"version": number, "in_force_version": in_force},
        )
    created = session.execute(
        insert_for(session, CharterAcknowledgement)
        .values(version_number=number, user_id=actor.id, at=utcnow())
        .on_conflict_do_nothing(index_elements=["version_number", "user_id"])
        .returning(col(CharterAcknowledgement.at))
    ).first()
    if created is not None:
        events.record(
            session,
            actor=actor,
            action="charter_version.acknowledged",
            entity_type="charter_version",
            entity_id=version.id,
            data={"number": number},
        )
        session.flush()
        at = created[0]
    else:
        at = session.execute(
            select(col(CharterAcknowledgement.at)).where(
                col(CharterAcknowledgement.version_number) == number,
                col(CharterAcknowledgement.user_id) == actor.id,
            )
        ).scalar_one()
    return AcknowledgementPublic(
        version_number=number, user_id=actor.id, at=at
    ), created is not None


MEMBER_ORDER = SortKey([col(User.full_name), col(User.id)], [str, uuid.UUID])


def list_acknowledgements(
    session: Session,
    *,
    number: int,
    acknowledged: bool | None,
    cursor: str | None,
    limit: int,
) -> AcknowledgementPage:
    """Every active network member with the moment they acknowledged version `number`, or
    null; sorted by name."""
    load_version(session, number)
    joined = and_(
        col(CharterAcknowledgement.user_id) == col(User.id),
        col(CharterAcknowledgement.version_number) == number,
    )
    totals = session.execute(
        select(func.count(), func.count(col(CharterAcknowledgement.at)))
        .select_from(User)
        .outerjoin(CharterAcknowledgement, joined)
        .where(members_filter())
    ).one()
    stmt: Select[*tuple[Any, ...]] = (
        select(
            col(User.id).label("user_id"),
            col(User.full_name),
            col(User.organization_id),
            col(CharterAcknowledgement.at).label("acknowledged_at"),
        )
        .outerjoin(CharterAcknowledgement, joined)
        .where(members_filter())
    )
    if acknowledged is True:
        stmt = stmt.where(col(CharterAcknowledgement.at).is_not(None))
    elif acknowledged is False:
        stmt = stmt.where(col(CharterAcknowledgement.at).is_(None))
    rows = session.execute(paginate(stmt, MEMBER_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.full_name, r.user_id])
    return AcknowledgementPage(
        version_number=number,
        members_total=totals[0],
        acknowledged_total=totals[1],
        items=[MemberAcknowledgement.model_validate(r._mapping) for r in page],
        next_cursor=next_cursor,
    )
