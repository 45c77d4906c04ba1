"""Meetings of the project office (заседания): agenda, attendance, decisions that move
initiatives through their lifecycle, reflection, and the minutes as Markdown."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, exists, func, or_, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    AgendaItem,
    AgendaItemKind,
    Decision,
    Initiative,
    Meeting,
    MeetingAttendee,
    MeetingCounter,
    MeetingFormat,
    MeetingStatus,
    Transition,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import ObjectRule, passes
from app.schemas.initiatives import TransitionCreate
from app.schemas.meetings import (
    AgendaItemCreate,
    AgendaItemPublic,
    AgendaItemUpdate,
    AttendeeIn,
    AttendeeOut,
    DecisionCreate,
    DecisionPublic,
    MeetingCreate,
    MeetingPublic,
    MeetingSummary,
    MeetingUpdate,
    Reflection,
    web_link_problem,
)
from app.schemas.refs import InitiativeRef, PersonRef
from app.security import Principal
from app.services import events, initiatives, people
from app.services.lifecycle import STEPS, LifecycleAction
from app.services.office_time import OFFICE_TZ, academic_year_of, local, ru_date, ru_datetime
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text

M = MeetingStatus

FORMAT_LABELS: dict[MeetingFormat, tuple[str, str]] = {
    MeetingFormat.formal_session: ("Заседание", "Formal session"),
    MeetingFormat.reflective_session: ("Рефлексивная сессия", "Reflective session"),
    MeetingFormat.open_space: ("Открытое пространство", "Open space"),
    MeetingFormat.expert_lab: ("Экспертная лаборатория", "Expert lab"),
    MeetingFormat.world_cafe: ("Мировое кафе", "World café"),
    MeetingFormat.pitch_session: ("Питч-сессия", "Pitch session"),
    MeetingFormat.strategy_session: ("Стратегическая сессия", "Strategy session"),
}
STATUS_LABELS: dict[MeetingStatus, tuple[str, str]] = {
    M.planned: ("Запланировано", "Planned"),
    M.held: ("Проведено", "Held"),
    M.cancelled: ("Отменено", "Cancelled"),
}
AGENDA_KIND_LABELS: dict[AgendaItemKind, tuple[str, str]] = {
    AgendaItemKind.initiative_review: ("Рассмотрение инициативы", "Initiative review"),
    AgendaItemKind.project_report: ("Отчёт о реализации проекта", "Project report"),
    AgendaItemKind.presentation: ("Представление опыта", "Presentation"),
    AgendaItemKind.discussion: ("Обсуждение", "Discussion"),
    AgendaItemKind.reflection: ("Рефлексия", "Reflection"),
}


class MeetingSort(StrEnum):
    scheduled_at = "scheduled_at"
    scheduled_at_desc = "-scheduled_at"


_BY_DATE = ([col(Meeting.scheduled_at), col(Meeting.id)], [datetime, uuid.UUID])
SORT_KEYS = {
    MeetingSort.scheduled_at: SortKey(*_BY_DATE),
    MeetingSort.scheduled_at_desc: SortKey(*_BY_DATE, descending=True),
}
SUMMARY_COLUMNS = tuple(col(getattr(Meeting, name)) for name in MeetingSummary.model_fields)
AGENDA_ORDER = SortKey([col(AgendaItem.position), col(AgendaItem.id)], [int, uuid.UUID])
DECISION_ORDER = SortKey([col(Decision.created_at), col(Decision.id)], [datetime, uuid.UUID])
DECISION_ORDER_DESC = SortKey(
    [col(Decision.created_at), col(Decision.id)], [datetime, uuid.UUID], descending=True
)


# --- who sees what ----------------------------------------------------------------------------


def _visible(actor: Principal) -> ColumnElement[bool]:
    """Held meetings are open to every reader; planned and cancelled ones to the office,
    observers, the facilitator and the invited."""
    if not actor.is_user or passes(actor, ObjectRule.meeting_unheld_read):
        return true()
    return or_(
        col(Meeting.status) == M.held,
        col(Meeting.facilitator_id) == actor.id,
        exists().where(
            col(MeetingAttendee.meeting_id) == col(Meeting.id),
            col(MeetingAttendee.user_id) == actor.id,
        ),
    )


def _load(session: Session, actor: Principal, meeting_id: uuid.UUID) -> Meeting:
    meeting = session.scalars(
        select(Meeting).where(col(Meeting.id) == meeting_id, _visible(actor))
    ).first()
    if meeting is None:
        raise NotFound("Заседание не найдено", code="meeting_not_found")
    return meeting


def _require_not_cancelled(meeting: Meeting) -> None:
    if meeting.status == M.cancelled:
        raise Conflict(
            "Заседание отменено: его нельзя менять",
            code="meeting_cancelled",
            extra={"status": meeting.status.value},
        )


# --- reading ----------------------------------------------------------------------------------


def _initiative_ref(row: Row[Any]) -> InitiativeRef | None:
    if row.initiative_code is None:
        return None
    return InitiativeRef(
        id=row.initiative_id,
        code=row.initiative_code,
        title=row.initiative_title,
        status=row.initiative_status,
    )


def _agenda_stmt() -> Any:
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


def _agenda_public(row: Row[Any]) -> AgendaItemPublic:
    return AgendaItemPublic(
        id=row.id,
        meeting_id=row.meeting_id,
        position=row.position,
        kind=row.kind,
        title=row.title,
        description=row.description,
        time_box_minutes=row.time_box_minutes,
        initiative=_initiative_ref(row),
        presenter=(
            PersonRef(id=row.presenter_id, full_name=row.presenter_name)
            if row.presenter_id
            else None
        ),
    )


def _decision_stmt() -> Any:
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


def _decision_public(row: Row[Any]) -> DecisionPublic:
    return DecisionPublic(
        id=row.id,
        meeting_id=row.meeting_id,
        agenda_item_id=row.agenda_item_id,
        action=row.action,
        initiative=_initiative_ref(row),
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


def _public(session: Session, meeting: Meeting) -> MeetingPublic:
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
        _agenda_stmt()
        .where(col(AgendaItem.meeting_id) == meeting.id)
        .order_by(col(AgendaItem.position), col(AgendaItem.id))
    ).all()
    positions = {row.id: row.position for row in agenda}
    decisions = sorted(
        session.execute(_decision_stmt().where(col(Decision.meeting_id) == meeting.id)).all(),
        key=lambda r: (positions.get(r.agenda_item_id, 0), r.created_at, str(r.id)),
    )
    return MeetingPublic.model_validate(
        {
            **meeting.model_dump(),
            "facilitator": facilitator,
            "attendees": attendees,
            "agenda_items": [_agenda_public(r) for r in agenda],
            "decisions": [_decision_public(r) for r in decisions],
            "reflection": Reflection(
                what_worked=meeting.reflection_worked,
                insights=meeting.reflection_insights,
                to_change=meeting.reflection_changes,
            ),
        }
    )


def get_meeting(session: Session, *, actor: Principal, meeting_id: uuid.UUID) -> MeetingPublic:
    return _public(session, _load(session, actor, meeting_id))


def _day_start(day: date) -> datetime | None:
    """When a local day starts, in UTC; None at the ends of the calendar, which bound nothing
    (0001-01-01 local starts before the first UTC moment there is)."""
    try:
        return datetime.combine(day, time(0, 0), tzinfo=OFFICE_TZ).astimezone(UTC)
    except OverflowError:
        return None


def list_meetings(
    session: Session,
    *,
    actor: Principal,
    academic_year: str | None,
    statuses: Sequence[MeetingStatus],
    meeting_format: MeetingFormat | None,
    initiative_id: uuid.UUID | None,
    date_from: date | None,
    date_to: date | None,
    q: str | None,
    sort: MeetingSort,
    cursor: str | None,
    limit: int,
) -> tuple[list[MeetingSummary], str | None]:
    stmt = select(*SUMMARY_COLUMNS).where(_visible(actor))
    if academic_year is not None:
        stmt = stmt.where(col(Meeting.academic_year) == academic_year)
    if statuses:
        stmt = stmt.where(col(Meeting.status).in_(list(statuses)))
    if meeting_format is not None:
        stmt = stmt.where(col(Meeting.format) == meeting_format)
    if initiative_id is not None:
        stmt = stmt.where(
            exists().where(
                col(AgendaItem.meeting_id) == col(Meeting.id),
                col(AgendaItem.initiative_id) == initiative_id,
            )
        )
    start = _day_start(date_from) if date_from is not None else None
    if start is not None:
        stmt = stmt.where(col(Meeting.scheduled_at) >= start)
    if date_to is not None and date_to < date.max:
        end = _day_start(date_to + timedelta(days=1))
    else:
        end = None
    if end is not None:
        stmt = stmt.where(col(Meeting.scheduled_at) < end)
    if q:
        stmt = stmt.where(col(Meeting.search_text).like(contains_pattern(q), escape=LIKE_ESCAPE))
    rows = session.execute(paginate(stmt, SORT_KEYS[sort], cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.scheduled_at, r.id])
    return [MeetingSummary.model_validate(r._mapping) for r in page], next_cursor


# --- meetings ---------------------------------------------------------------------------------


def _next_number(session: Session, academic_year: str) -> int:
    """Sequential per academic year even under concurrent creation: the counter row stays
    locked by the UPDATE until the creating transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(MeetingCounter)
        .values(academic_year=academic_year, last_number=0)
        .on_conflict_do_nothing(index_elements=["academic_year"])
    )
    number: int = session.execute(
        update(MeetingCounter)
        .where(col(MeetingCounter.academic_year) == academic_year)
        .values(last_number=col(MeetingCounter.last_number) + 1)
        .returning(col(MeetingCounter.last_number))
    ).scalar_one()
    return number


def _refresh_search(meeting: Meeting) -> None:
    meeting.search_text = search_text(meeting.title, meeting.place)


def _set_attendees(session: Session, meeting_id: uuid.UUID, attendees: list[AttendeeIn]) -> None:
    session.execute(delete(MeetingAttendee).where(col(MeetingAttendee.meeting_id) == meeting_id))
    session.add_all(
        MeetingAttendee(meeting_id=meeting_id, user_id=a.user_id, attended=a.attended)
        for a in attendees
    )


def _check_attendance_marks(attendees: list[AttendeeIn], status: MeetingStatus) -> None:
    if status != M.held and any(a.attended is not None for a in attendees):
        raise InvalidInput(
            "Присутствие отмечают на проведённом заседании: сначала `status: held`",
            loc=["body", "attendees"],
            code="meeting_not_held",
        )


def _check_can_be_held(scheduled_at: datetime) -> None:
    if local(scheduled_at).date() > local(utcnow()).date():
        raise Conflict(
            "Заседание ещё не наступило: отметить его проведённым можно в день заседания или позже",
            code="meeting_in_future",
        )


def create_meeting(session: Session, *, actor: Principal, data: MeetingCreate) -> MeetingPublic:
    _check_attendance_marks(data.attendees, M.planned)
    people.ensure_active(session, [data.facilitator_id], loc=["body", "facilitator_id"])
    people.ensure_active(session, [a.user_id for a in data.attendees], loc=["body", "attendees"])
    academic_year = academic_year_of(data.scheduled_at)
    now = utcnow()
    meeting = Meeting(
        **data.model_dump(exclude={"attendees", "title"}),
        title=data.title or "",
        academic_year=academic_year,
        number=_next_number(session, academic_year),
        created_by_id=actor.id,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    _refresh_search(meeting)
    session.add(meeting)
    session.flush()
    _set_attendees(session, meeting.id, data.attendees)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.created",
        entity_type="meeting",
        entity_id=meeting.id,
        data={
            "number": meeting.number,
            "academic_year": academic_year,
            **data.model_dump(mode="json"),
        },
    )
    return _public(session, meeting)


def _status_change(meeting: Meeting, data: MeetingUpdate, scheduled_at: datetime) -> None:
    target = data.status
    if target is None or target == meeting.status:
        if data.cancellation_reason is not None and meeting.status != M.cancelled:
            raise InvalidInput(
                "Причину отмены указывают вместе со `status: cancelled`",
                loc=["body", "cancellation_reason"],
            )
        return
    if meeting.status == M.held:
        raise Conflict(
            "Проведённое заседание нельзя вернуть в план или отменить",
            code="invalid_meeting_status",
            extra={"status": meeting.status.value, "requested": target.value},
        )
    if target == M.held:
        _check_can_be_held(scheduled_at)
    if target == M.cancelled and not data.cancellation_reason:
        raise InvalidInput(
            "Для отмены заседания нужна причина",
            loc=["body", "cancellation_reason"],
            code="reason_required",
        )
    if target != M.cancelled and data.cancellation_reason is not None:
        raise InvalidInput(
            "Причину отмены указывают вместе со `status: cancelled`",
            loc=["body", "cancellation_reason"],
        )


def _snapshot(meeting: Meeting, attendees: list[AttendeeOut]) -> dict[str, Any]:
    return {
        **meeting.model_dump(mode="json"),
        "attendees": [{"user_id": str(a.user_id), "attended": a.attended} for a in attendees],
        "reflection": {
            "what_worked": meeting.reflection_worked,
            "insights": meeting.reflection_insights,
            "to_change": meeting.reflection_changes,
        },
    }


def _marks(attendees: list[dict[str, Any]]) -> set[tuple[str, bool | None]]:
    return {(a["user_id"], a["attended"]) for a in attendees}


# Edit fields that refuse an explicit null (422), where the column is NOT NULL or null means
# nothing; a null `title` clears it (the column keeps "").
MEETING_NOT_NULL = ("scheduled_at", "format", "attendees", "status", "reflection")
AGENDA_ITEM_NOT_NULL = ("kind", "title", "description", "position")


def _reject_nulls(patch: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in patch and patch[name] is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )


def update_meeting(
    session: Session,
    *,
    actor: Principal,
    meeting_id: uuid.UUID,
    data: MeetingUpdate,
    if_match: int | None,
) -> MeetingPublic:
    meeting = _load(session, actor, meeting_id)
    check_version(meeting.version, if_match=if_match, body_version=data.version)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    _reject_nulls(patch, MEETING_NOT_NULL)
    _require_not_cancelled(meeting)
    scheduled_at = data.scheduled_at or meeting.scheduled_at
    if data.scheduled_at is not None:
        if academic_year_of(data.scheduled_at) != meeting.academic_year:
            raise InvalidInput(
                f"Заседание № {meeting.number} относится к {meeting.academic_year} учебному "
                "году: перенос в другой год — это новое заседание",
                loc=["body", "scheduled_at"],
                code="academic_year_changed",
            )
        if meeting.status == M.held:
            _check_can_be_held(scheduled_at)
    _status_change(meeting, data, scheduled_at)
    target = data.status or meeting.status
    if data.reflection is not None and target != M.held:
        raise Conflict(
            "Рефлексию записывают после заседания: сначала отметьте его проведённым",
            code="meeting_not_held",
        )
    if data.attendees is not None:
        _check_attendance_marks(data.attendees, target)
        people.ensure_active(
            session, [a.user_id for a in data.attendees], loc=["body", "attendees"]
        )
    if data.facilitator_id is not None:
        people.ensure_active(session, [data.facilitator_id], loc=["body", "facilitator_id"])
    current = _public(session, meeting)
    before = _snapshot(meeting, current.attendees)
    after = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    if "title" in after and after["title"] is None:
        after["title"] = ""
    if "attendees" in after and _marks(after["attendees"]) == _marks(before["attendees"]):
        after["attendees"] = before["attendees"]  # the same people and marks, in another order
    if data.scheduled_at is not None and data.scheduled_at == meeting.scheduled_at:
        after["scheduled_at"] = before["scheduled_at"]
    diff = events.changes(before, after)
    if not diff:
        return current
    if data.attendees is not None:  # first: its DELETE autoflushes, one edit is one UPDATE
        _set_attendees(session, meeting.id, data.attendees)
    for name, value in patch.items():
        if name in {"attendees", "reflection"}:
            continue
        setattr(meeting, name, "" if name == "title" and value is None else value)
    if data.reflection is not None:
        meeting.reflection_worked = data.reflection.what_worked
        meeting.reflection_insights = data.reflection.insights
        meeting.reflection_changes = data.reflection.to_change
    _refresh_search(meeting)
    meeting.updated_at = utcnow()
    session.flush()
    action = "meeting.updated"
    if "status" in diff:
        action = f"meeting.{meeting.status.value}"
    events.record(
        session,
        actor=actor,
        action=action,
        entity_type="meeting",
        entity_id=meeting.id,
        data={"number": meeting.number, "changes": diff},
    )
    return _public(session, meeting)


def _touch(meeting: Meeting) -> None:
    """The agenda and the decisions are part of the meeting: its version (ETag) moves."""
    meeting.updated_at = utcnow()


# --- agenda -----------------------------------------------------------------------------------


def _agenda_item(session: Session, meeting: Meeting, item_id: uuid.UUID) -> AgendaItem:
    item = session.scalars(
        select(AgendaItem).where(
            col(AgendaItem.id) == item_id, col(AgendaItem.meeting_id) == meeting.id
        )
    ).first()
    if item is None:
        raise NotFound("Пункт повестки не найден", code="agenda_item_not_found")
    return item


def _one_agenda_item(session: Session, item_id: uuid.UUID) -> AgendaItemPublic:
    return _agenda_public(
        session.execute(_agenda_stmt().where(col(AgendaItem.id) == item_id)).one()
    )


def list_agenda_items(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[AgendaItemPublic], str | None]:
    _load(session, actor, meeting_id)
    stmt = _agenda_stmt().where(col(AgendaItem.meeting_id) == meeting_id)
    rows = session.execute(paginate(stmt, AGENDA_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.position, r.id])
    return [_agenda_public(r) for r in page], next_cursor


def _agenda_size(session: Session, meeting_id: uuid.UUID) -> int:
    size: int = session.execute(
        select(func.count()).where(col(AgendaItem.meeting_id) == meeting_id)
    ).scalar_one()
    return size


def _shift(session: Session, meeting_id: uuid.UUID, lo: int, hi: int | None, by: int) -> None:
    """Move the items at positions lo..hi (to the end when hi is None) by `by` places."""
    stmt = update(AgendaItem).where(
        col(AgendaItem.meeting_id) == meeting_id, col(AgendaItem.position) >= lo
    )
    if hi is not None:
        stmt = stmt.where(col(AgendaItem.position) <= hi)
    session.execute(stmt.values(position=col(AgendaItem.position) + by))


def _item_initiative_title(
    session: Session, actor: Principal, initiative_id: uuid.UUID | None, *, loc: list[str]
) -> str | None:
    if initiative_id is None:
        return None
    try:
        return initiatives.get_initiative(session, actor=actor, initiative_id=initiative_id).title
    except NotFound as exc:
        raise InvalidInput("Инициатива не найдена", loc=loc, code="unknown_initiative") from exc


def _require_initiative_for_review(kind: AgendaItemKind, initiative_id: uuid.UUID | None) -> None:
    if kind == AgendaItemKind.initiative_review and initiative_id is None:
        raise InvalidInput(
            "Для рассмотрения инициативы укажите `initiative_id`",
            loc=["body", "initiative_id"],
            code="initiative_required",
        )


def add_agenda_item(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, data: AgendaItemCreate
) -> AgendaItemPublic:
    meeting = _load(session, actor, meeting_id)
    _require_not_cancelled(meeting)
    _require_initiative_for_review(data.kind, data.initiative_id)
    initiative_title = _item_initiative_title(
        session, actor, data.initiative_id, loc=["body", "initiative_id"]
    )
    title = data.title or initiative_title
    if title is None:
        raise InvalidInput("Укажите название пункта повестки", loc=["body", "title"])
    people.ensure_active(session, [data.presenter_id], loc=["body", "presenter_id"])
    size = _agenda_size(session, meeting.id)
    position = min(data.position or size + 1, size + 1)
    _shift(session, meeting.id, position, None, +1)
    item = AgendaItem(
        **data.model_dump(exclude={"title", "position"}),
        meeting_id=meeting.id,
        title=title,
        position=position,
    )
    session.add(item)
    _touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.agenda_item_added",
        entity_type="meeting",
        entity_id=meeting.id,
        data={"agenda_item_id": str(item.id), **data.model_dump(mode="json"), "position": position},
    )
    return _one_agenda_item(session, item.id)


def _has_decisions(session: Session, item_id: uuid.UUID) -> bool:
    found = session.execute(
        select(col(Decision.id)).where(col(Decision.agenda_item_id) == item_id).limit(1)
    ).first()
    return found is not None


def update_agenda_item(
    session: Session,
    *,
    actor: Principal,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    data: AgendaItemUpdate,
) -> AgendaItemPublic:
    meeting = _load(session, actor, meeting_id)
    item = _agenda_item(session, meeting, item_id)
    _require_not_cancelled(meeting)
    patch = data.model_dump(exclude_unset=True)
    _reject_nulls(patch, AGENDA_ITEM_NOT_NULL)
    if "initiative_id" in patch and patch["initiative_id"] != item.initiative_id:
        if _has_decisions(session, item.id):
            raise Conflict(
                "По пункту уже приняты решения: инициативу в нём менять нельзя",
                code="agenda_item_has_decisions",
            )
        _item_initiative_title(
            session, actor, patch["initiative_id"], loc=["body", "initiative_id"]
        )
    _require_initiative_for_review(
        patch.get("kind", item.kind), patch.get("initiative_id", item.initiative_id)
    )
    if patch.get("presenter_id") is not None:
        people.ensure_active(session, [patch["presenter_id"]], loc=["body", "presenter_id"])
    after = data.model_dump(mode="json", exclude_unset=True)
    if "position" in patch:
        patch["position"] = after["position"] = min(
            patch["position"], _agenda_size(session, meeting.id)
        )
    diff = events.changes(item.model_dump(mode="json"), after)
    if not diff:
        return _one_agenda_item(session, item.id)
    if "position" in diff:
        old, new = item.position, patch["position"]
        if new < old:
            _shift(session, meeting.id, new, old - 1, +1)
        else:
            _shift(session, meeting.id, old + 1, new, -1)
    for name, value in patch.items():
        setattr(item, name, value)
    _touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.agenda_item_updated",
        entity_type="meeting",
        entity_id=meeting.id,
        data={"agenda_item_id": str(item.id), "changes": diff},
    )
    return _one_agenda_item(session, item.id)


def remove_agenda_item(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    meeting = _load(session, actor, meeting_id)
    item = _agenda_item(session, meeting, item_id)
    _require_not_cancelled(meeting)
    if _has_decisions(session, item.id):
        raise Conflict(
            "По пункту уже приняты решения: его нельзя убрать из повестки",
            code="agenda_item_has_decisions",
        )
    position = item.position
    session.delete(item)
    session.flush()
    _shift(session, meeting.id, position + 1, None, -1)
    _touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.agenda_item_removed",
        entity_type="meeting",
        entity_id=meeting.id,
        data={"agenda_item_id": str(item_id), "title": item.title, "position": position},
    )


# --- decisions --------------------------------------------------------------------------------


def list_decisions(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[DecisionPublic], str | None]:
    _load(session, actor, meeting_id)
    stmt = _decision_stmt().where(col(Decision.meeting_id) == meeting_id)
    rows = session.execute(paginate(stmt, DECISION_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    return [_decision_public(r) for r in page], next_cursor


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
    stmt = _decision_stmt()
    if initiative_id is not None:
        stmt = stmt.where(col(Decision.initiative_id) == initiative_id)
    if action is not None:
        stmt = stmt.where(col(Decision.action) == action.value)
    if review_due_by is not None:
        stmt = stmt.where(col(Decision.review_on) <= review_due_by)
    rows = session.execute(paginate(stmt, DECISION_ORDER_DESC, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    return [_decision_public(r) for r in page], next_cursor


def record_decision(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, data: DecisionCreate
) -> DecisionPublic:
    meeting = _load(session, actor, meeting_id)
    _require_not_cancelled(meeting)
    if meeting.status != M.held:
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
    _touch(meeting)
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
    row = session.execute(_decision_stmt().where(col(Decision.id) == decision.id)).one()
    return _decision_public(row)


# --- minutes ----------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})


def _inline(text: str) -> str:
    """User text inside a Markdown line: one line, no markup of its own."""
    return " ".join(text.split()).translate(_MD_SPECIAL)


def _block(text: str) -> str:
    """User paragraphs: their own Markdown stays, raw HTML does not."""
    return text.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str) -> str:
    """An autolink for a link the API accepts today; a value stored before that rule may be
    anything, and is printed as plain text instead."""
    return f"<{url}>" if web_link_problem(url) is None else _inline(url)


def _person(attendee: AttendeeOut) -> str:
    job = f" — {_inline(attendee.job_title)}" if attendee.job_title else ""
    return f"{_inline(attendee.full_name)}{job}"


def minutes(session: Session, *, actor: Principal, meeting_id: uuid.UUID) -> str:
    meeting = get_meeting(session, actor=actor, meeting_id=meeting_id)
    status_ru = STATUS_LABELS[meeting.status][0]
    lines = [
        f"# Протокол заседания проектного офиса № {meeting.number}",
        "",
    ]
    if meeting.title:
        lines += [f"**{_inline(meeting.title)}**", ""]
    facts = [
        ("Учебный год", meeting.academic_year),
        ("Дата и время", f"{ru_datetime(meeting.scheduled_at)} (местное время, UTC+5)"),
        ("Формат", FORMAT_LABELS[meeting.format][0]),
        ("Место", _inline(meeting.place) if meeting.place else None),
        ("Ссылка", _link(meeting.online_url) if meeting.online_url else None),
        ("Ведущий", _inline(meeting.facilitator.full_name) if meeting.facilitator else None),
        ("Статус", status_ru),
    ]
    lines += [f"- **{label}:** {value}" for label, value in facts if value]
    if meeting.status == M.cancelled and meeting.cancellation_reason:
        lines.append(f"- **Причина отмены:** {_inline(meeting.cancellation_reason)}")
    lines.append("")

    present = [a for a in meeting.attendees if a.attended is True]
    absent = [a for a in meeting.attendees if a.attended is False]
    unmarked = [a for a in meeting.attendees if a.attended is None]
    groups = [
        (f"Присутствовали ({len(present)})", present),
        (f"Отсутствовали ({len(absent)})", absent),
        (
            "Приглашены" if meeting.status == M.planned else "Присутствие не отмечено",
            unmarked,
        ),
    ]
    if not meeting.attendees:
        lines += ["## Участники", "", "Список участников не заполнен.", ""]
    for heading, group in groups:
        if group:
            lines += [f"## {heading}", ""]
            lines += [f"{n}. {_person(a)}" for n, a in enumerate(group, 1)]
            lines.append("")

    lines += ["## Повестка", ""]
    if not meeting.agenda_items:
        lines += ["Повестка не сформирована.", ""]
    for item in meeting.agenda_items:
        details = [AGENDA_KIND_LABELS[item.kind][0]]
        if item.initiative:
            details.append(item.initiative.code)
        if item.presenter:
            details.append(f"докладчик: {_inline(item.presenter.full_name)}")
        if item.time_box_minutes:
            details.append(f"{item.time_box_minutes} мин")
        lines.append(f"{item.position}. **{_inline(item.title)}** ({'; '.join(details)})")
        if item.description:
            lines += ["", *(f"   {line}" for line in _block(item.description).splitlines())]
    lines.append("")

    lines += ["## Решения", ""]
    if not meeting.decisions:
        lines += ["Решения не принимались." if meeting.status == M.held else "Решений нет.", ""]
    items = {item.id: item for item in meeting.agenda_items}
    for n, decision in enumerate(meeting.decisions, 1):
        item = items[decision.agenda_item_id]
        lines += [
            f"### {n}. По пункту {item.position}: {_inline(item.title)}",
            "",
            f"**Решили:** {_block(decision.text)}",
            "",
        ]
        if decision.action and decision.initiative:
            step = STEPS[LifecycleAction(decision.action)]
            move = ""
            if decision.from_status and decision.to_status:
                move = (
                    f": «{initiatives.STATUS_LABELS_RU[decision.from_status]}» → "
                    f"«{initiatives.STATUS_LABELS_RU[decision.to_status]}»"
                )
            lines.append(
                f"- **Действие:** «{step.label_ru}» — инициатива {decision.initiative.code} "
                f"«{_inline(decision.initiative.title)}»{move}"
            )
        if decision.votes_for is not None:
            lines.append(
                f"- **Голосовали:** за — {decision.votes_for}, против — "
                f"{decision.votes_against}, воздержались — {decision.votes_abstain}"
            )
        if decision.review_on:
            lines.append(f"- **Вернуться к вопросу:** {ru_date(decision.review_on)}")
        if decision.action or decision.votes_for is not None or decision.review_on:
            lines.append("")

    reflection = meeting.reflection
    if any([reflection.what_worked, reflection.insights, reflection.to_change]):
        lines += ["## Рефлексия", ""]
        for heading, text in (
            ("Что получилось", reflection.what_worked),
            ("Инсайты", reflection.insights),
            ("Что изменить в следующий раз", reflection.to_change),
        ):
            if text:
                lines += [f"### {heading}", "", _block(text), ""]

    lines += ["---", "", f"Протокол сформирован {ru_datetime(utcnow())}."]
    return "\n".join(lines) + "\n"
