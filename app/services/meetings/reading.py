"""How a meeting and its parts are read: who sees which meeting, loading one, and the rows behind
the agenda, decision and meeting schemas."""

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Row, exists, or_, select, true
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    AgendaItem,
    Decision,
    Initiative,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    Transition,
    User,
)
from app.models.base import utcnow
from app.policy import ObjectRule, passes
from app.schemas.meetings import (
    AgendaItemPublic,
    AttendeeOut,
    DecisionPublic,
    MeetingPublic,
    Reflection,
)
from app.schemas.refs import InitiativeRef, PersonRef
from app.security import Principal


def visible(actor: Principal) -> ColumnElement[bool]:
    """Held meetings are open to every reader; planned and cancelled ones to the office,
    observers, the facilitator and the invited."""
    if not actor.is_user or passes(actor, ObjectRule.meeting_unheld_read):
        return true()
    return or_(
        col(Meeting.status) == MeetingStatus.held,
        col(Meeting.facilitator_id) == actor.id,
        exists().where(
            col(MeetingAttendee.meeting_id) == col(Meeting.id),
            col(MeetingAttendee.user_id) == actor.id,
        ),
    )


def load_meeting(session: Session, actor: Principal, meeting_id: uuid.UUID) -> Meeting:
    meeting = session.scalars(
        select(Meeting).where(col(Meeting.id) == meeting_id, visible(actor))
    ).first()
    if meeting is None:
        raise NotFound("Заседание не найдено", code="meeting_not_found")
    return meeting


def require_not_cancelled(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.cancelled:
        raise Conflict(
            "Заседание отменено: его нельзя менять",
            code="meeting_cancelled",
            extra={"status": meeting.status.value},
        )


def initiative_ref(row: Row[Any]) -> InitiativeRef | None:
    if row.initiative_code is None:
        return None
    return InitiativeRef(
        id=row.initiative_id,
        code=row.initiative_code,
        title=row.initiative_title,
        status=row.initiative_status,
    )


def agenda_stmt() -> Any:
    presenter = aliased(User)
    return (
        select(
            col(AgendaItem.id),
            col(AgendaItem.meeting_id),
            col(AgendaItem.position),
            col(AgendaItem.kind),
            col(AgendaItem.title),
            col(AgendaItem.description),
            col(AgendaItem.time_box_minutes),
            col(AgendaItem.initiative_id),
            col(Initiative.code).label("initiative_code"),
            col(Initiative.title).label("initiative_title"),
            col(Initiative.status).label("initiative_status"),
            col(AgendaItem.presenter_id),
            col(presenter.full_name).label("presenter_name"),
        )
        .outerjoin(Initiative, col(Initiative.id) == col(AgendaItem.initiative_id))
        .outerjoin(presenter, col(presenter.id) == col(AgendaItem.presenter_id))
    )


def agenda_public(row: Row[Any]) -> AgendaItemPublic:
    return AgendaItemPublic(
        id=row.id,
        meeting_id=row.meeting_id,
        position=row.position,
        kind=row.kind,
        title=row.title,
        description=row.description,
        time_box_minutes=row.time_box_minutes,
        initiative=initiative_ref(row),
        presenter=(
            PersonRef(id=row.presenter_id, full_name=row.presenter_name)
            if row.presenter_id
            else None
        ),
    )


def decision_stmt() -> Any:
    return (
        select(
            col(Decision.id),
            col(Decision.meeting_id),
            col(Decision.agenda_item_id),
            col(Decision.action),
            col(Decision.transition_id),
            col(Transition.from_status),
            col(Transition.to_status),
            col(Decision.text),
            col(Decision.votes_for),
            col(Decision.votes_against),
            col(Decision.votes_abstain),
            col(Decision.review_on),
            col(Decision.created_at),
            col(Decision.initiative_id),
            col(Initiative.code).label("initiative_code"),
            col(Initiative.title).label("initiative_title"),
            col(Initiative.status).label("initiative_status"),
            col(Decision.recorded_by_id),
            col(User.full_name).label("recorded_by_name"),
        )
        .join(User, col(User.id) == col(Decision.recorded_by_id))
        .outerjoin(Initiative, col(Initiative.id) == col(Decision.initiative_id))
        .outerjoin(Transition, col(Transition.id) == col(Decision.transition_id))
    )


def decision_public(row: Row[Any]) -> DecisionPublic:
    return DecisionPublic(
        id=row.id,
        meeting_id=row.meeting_id,
        agenda_item_id=row.agenda_item_id,
        action=row.action,
        initiative=initiative_ref(row),
        transition_id=row.transition_id,
        from_status=row.from_status,
        to_status=row.to_status,
        text=row.text,
        votes_for=row.votes_for,
        votes_against=row.votes_against,
        votes_abstain=row.votes_abstain,
        review_on=row.review_on,
        recorded_by=PersonRef(id=row.recorded_by_id, full_name=row.recorded_by_name),
        created_at=row.created_at,
    )


def meeting_public(session: Session, meeting: Meeting) -> MeetingPublic:
    """Four queries whatever the size of the meeting: facilitator, attendees, agenda,
    decisions."""
    facilitator = None
    if meeting.facilitator_id is not None:
        name = session.execute(
            select(col(User.full_name)).where(col(User.id) == meeting.facilitator_id)
        ).scalar_one()
        facilitator = PersonRef(id=meeting.facilitator_id, full_name=name)
    attendees = [
        AttendeeOut(user_id=r[0], full_name=r[1], job_title=r[2], attended=r[3])
        for r in session.execute(
            select(
                col(User.id),
                col(User.full_name),
                col(User.job_title),
                col(MeetingAttendee.attended),
            )
            .join(MeetingAttendee, col(MeetingAttendee.user_id) == col(User.id))
            .where(col(MeetingAttendee.meeting_id) == meeting.id)
            .order_by(col(User.full_name), col(User.id))
        ).all()
    ]
    agenda = session.execute(
        agenda_stmt()
        .where(col(AgendaItem.meeting_id) == meeting.id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    ).all()
    positions = {row.id: row.position for row in agenda}
    decisions = sorted(
        session.execute(decision_stmt().where(col(Decision.meeting_id) == meeting.id)).all(),
        key=lambda r: (positions.get(r.agenda_item_id, 0), r.created_at, str(r.id)),
    )
    return MeetingPublic.model_validate(
        {
            **meeting.model_dump(),
            "facilitator": facilitator,
            "attendees": attendees,
            "agenda_items": [agenda_public(r) for r in agenda],
            "decisions": [decision_public(r) for r in decisions],
            "reflection": Reflection(
                what_worked=meeting.reflection_worked,
                insights=meeting.reflection_insights,
                to_change=meeting.reflection_changes,
            ),
        }
    )


def reject_nulls(patch: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in patch and patch[name] is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )


def touch(meeting: Meeting) -> None:
    """The agenda and the decisions are part of the meeting: its version (ETag) moves."""
    meeting.updated_at = utcnow()
