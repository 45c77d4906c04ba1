"""Planning and holding meetings: numbers per academic year, attendance, status changes, and the
list of meetings."""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import exists, select, update
from sqlmodel import Session, col, delete

from app.db import insert_for
from app.errors import Conflict, InvalidInput
from app.models import (
    AgendaItem,
    Meeting,
    MeetingAttendee,
    MeetingCounter,
    MeetingFormat,
    MeetingStatus,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.meetings import (
    AttendeeIn,
    AttendeeOut,
    MeetingCreate,
    MeetingPublic,
    MeetingSummary,
    MeetingUpdate,
)
from app.security import Principal
from app.services import events, people
from app.services.meetings.reading import (
    load_meeting,
    meeting_public,
    reject_nulls,
    require_not_cancelled,
    visible,
)
from app.services.office_time import OFFICE_TZ, academic_year_of, local
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text


class MeetingSort(StrEnum):
    scheduled_at = "scheduled_at"
    scheduled_at_desc = "-scheduled_at"


_BY_DATE = ([col(Meeting.scheduled_at), col(Meeting.id)], [datetime, uuid.UUID])


SORT_KEYS = {
    MeetingSort.scheduled_at: SortKey(*_BY_DATE),
    MeetingSort.scheduled_at_desc: SortKey(*_BY_DATE, descending=True),
}


SUMMARY_COLUMNS = tuple(col(getattr(Meeting, name)) for name in MeetingSummary.model_fields)


def get_meeting(session: Session, *, actor: Principal, meeting_id: uuid.UUID) -> MeetingPublic:
    return meeting_public(session, load_meeting(session, actor, meeting_id))


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
    stmt = select(*SUMMARY_COLUMNS).where(visible(actor))
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


def _next_number(session: Session, academic_year: str) -> int:
    """Sequential per academic year even under concurrent creation: the counter row stays
    locked by the UPDATE until the creating transaction ends."""
    session.execute(
        insert_for(session, MeetingCounter)
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
    if status != MeetingStatus.held and any(a.attended is not None for a in attendees):
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
    _check_attendance_marks(data.attendees, MeetingStatus.planned)
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
    return meeting_public(session, meeting)


def _status_change(meeting: Meeting, data: MeetingUpdate, scheduled_at: datetime) -> None:
    target = data.status
    if target is None or target == meeting.status:
        if data.cancellation_reason is not None and meeting.status != MeetingStatus.cancelled:
            raise InvalidInput(
                "Причину отмены указывают вместе со `status: cancelled`",
                loc=["body", "cancellation_reason"],
            )
        return
    if meeting.status == MeetingStatus.held:
        raise Conflict(
            "Проведённое заседание нельзя вернуть в план или отменить",
            code="invalid_meeting_status",
            extra={"status": meeting.status.value, "requested": target.value},
        )
    if target == MeetingStatus.held:
        _check_can_be_held(scheduled_at)
    if target == MeetingStatus.cancelled and not data.cancellation_reason:
        raise InvalidInput(
            "Для отмены заседания нужна причина",
            loc=["body", "cancellation_reason"],
            code="reason_required",
        )
    if target != MeetingStatus.cancelled and data.cancellation_reason is not None:
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


def update_meeting(
    session: Session,
    *,
    actor: Principal,
    meeting_id: uuid.UUID,
    data: MeetingUpdate,
    if_match: int | None,
) -> MeetingPublic:
    meeting = load_meeting(session, actor, meeting_id)
    check_version(meeting.version, if_match=if_match, body_version=data.version)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    reject_nulls(patch, MEETING_NOT_NULL)
    require_not_cancelled(meeting)
    scheduled_at = data.scheduled_at or meeting.scheduled_at
    if data.scheduled_at is not None:
        if academic_year_of(data.scheduled_at) != meeting.academic_year:
            raise InvalidInput(
                f"Заседание № {meeting.number} относится к {meeting.academic_year} учебному "
                "году: перенос в другой год — это новое заседание",
                loc=["body", "scheduled_at"],
                code="academic_year_changed",
            )
        if meeting.status == MeetingStatus.held:
            _check_can_be_held(scheduled_at)
    _status_change(meeting, data, scheduled_at)
    target = data.status or meeting.status
    if data.reflection is not None and target != MeetingStatus.held:
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
    current = meeting_public(session, meeting)
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
    return meeting_public(session, meeting)
