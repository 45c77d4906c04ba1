"""Decisions of a held meeting; one that names a lifecycle action moves its initiative in the same
transaction."""

import uuid
from datetime import date, datetime

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.errors import Conflict, InvalidInput
from app.models import (
    AgendaItem,
    Decision,
    MeetingStatus,
    Transition,
)
from app.pagination import SortKey, paginate, split_page
from app.schemas.initiatives import TransitionCreate
from app.schemas.meetings import (
    DecisionCreate,
    DecisionPublic,
)
from app.security import Principal
from app.services import events, initiatives
from app.services.lifecycle import LifecycleAction
from app.services.meetings.reading import (
    decision_public,
    decision_stmt,
    load_meeting,
    require_not_cancelled,
    touch,
)
from app.services.office_time import local, ru_date

DECISION_ORDER = SortKey([col(Decision.created_at), col(Decision.id)], [datetime, uuid.UUID])


DECISION_ORDER_DESC = SortKey(
    [col(Decision.created_at), col(Decision.id)], [datetime, uuid.UUID], descending=True
)


def list_decisions(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[DecisionPublic], str | None]:
    load_meeting(session, actor, meeting_id)
    stmt = decision_stmt().where(col(Decision.meeting_id) == meeting_id)
    rows = session.execute(paginate(stmt, DECISION_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    return [decision_public(r) for r in page], next_cursor


def search_decisions(
    session: Session,
    *,
    actor: Principal,
    initiative_id: uuid.UUID | None,
    action: LifecycleAction | None,
    review_due_by: date | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DecisionPublic], str | None]:
    """Decisions are only ever taken at held meetings, which every reader sees."""
    stmt = decision_stmt()
    if initiative_id is not None:
        stmt = stmt.where(col(Decision.initiative_id) == initiative_id)
    if action is not None:
        stmt = stmt.where(col(Decision.action) == action.value)
    if review_due_by is not None:
        stmt = stmt.where(col(Decision.review_on) <= review_due_by)
    rows = session.execute(paginate(stmt, DECISION_ORDER_DESC, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    return [decision_public(r) for r in page], next_cursor


def record_decision(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, data: DecisionCreate
) -> DecisionPublic:
    meeting = load_meeting(session, actor, meeting_id)
    require_not_cancelled(meeting)
    if meeting.status != MeetingStatus.held:
        raise Conflict(
            "Решения записывают на проведённом заседании: сначала отметьте его проведённым",
            code="meeting_not_held",
            extra={"status": meeting.status.value},
        )
    item = session.scalars(
        select(AgendaItem).where(
            col(AgendaItem.id) == data.agenda_item_id, col(AgendaItem.meeting_id) == meeting.id
        )
    ).first()
    if item is None:
        raise InvalidInput(
            "Такого пункта нет в повестке этого заседания: решение принимают только по повестке",
            loc=["body", "agenda_item_id"],
            code="not_on_agenda",
        )
    if data.action is not None and item.initiative_id is None:
        raise InvalidInput(
            "В этом пункте повестки нет инициативы: решение по жизненному циклу принимают "
            "только об инициативе из повестки",
            loc=["body", "action"],
            code="initiative_not_on_agenda",
        )
    if data.review_on is not None and data.review_on < local(meeting.scheduled_at).date():
        raise InvalidInput(
            "Дата возврата к вопросу раньше самого заседания", loc=["body", "review_on"]
        )
    transition_id = None
    if data.action is not None and item.initiative_id is not None:
        # Same transaction, same guards: a refused step raises and nothing here is written.
        initiatives.transition(
            session,
            actor=actor,
            initiative_id=item.initiative_id,
            data=TransitionCreate(
                action=data.action,
                comment=f"Решение заседания проектного офиса № {meeting.number} "
                f"({ru_date(local(meeting.scheduled_at).date())}): {data.text}",
                version=data.initiative_version,
            ),
            if_match=None,
        )
        transition_id = session.execute(
            select(func.max(col(Transition.id))).where(
                col(Transition.initiative_id) == item.initiative_id
            )
        ).scalar_one()
    decision = Decision(
        **data.model_dump(exclude={"action", "initiative_version"}),
        meeting_id=meeting.id,
        initiative_id=item.initiative_id,
        action=data.action.value if data.action else None,
        transition_id=transition_id,
        recorded_by_id=actor.id,
    )
    session.add(decision)
    touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.decision_recorded",
        entity_type="meeting",
        entity_id=meeting.id,
        data={
            "decision_id": str(decision.id),
            "initiative_id": str(item.initiative_id) if item.initiative_id else None,
            "transition_id": transition_id,
            **data.model_dump(mode="json", exclude={"initiative_version"}),
        },
    )
    row = session.execute(decision_stmt().where(col(Decision.id) == decision.id)).one()
    return decision_public(row)
