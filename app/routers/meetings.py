import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status
from fastapi.responses import PlainTextResponse

from app.deps import Cursor, IfMatch, Limit, SearchQuery, SessionDep, gated, require, set_etag
from app.errors import problem_responses
from app.models import MeetingFormat, MeetingStatus
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.common import IsoDate
from app.schemas.initiatives import AcademicYear
from app.schemas.meetings import (
    AgendaItemCreate,
    AgendaItemPublic,
    AgendaItemUpdate,
    DecisionCreate,
    DecisionPublic,
    MeetingCreate,
    MeetingPublic,
    MeetingSummary,
    MeetingUpdate,
)
from app.security import Principal
from app.services.lifecycle import LifecycleAction
from app.services.maturity.capabilities import Capability
from app.services.meetings import agenda, decisions, minutes, planning
from app.services.meetings.planning import MeetingSort

router = APIRouter(prefix="/meetings", tags=["meetings"])

Reader = Annotated[Principal, Depends(require(Action.meetings_read))]
Writer = Annotated[Principal, Depends(require(Action.meetings_write))]
# Informal formats come with the office's maturity (enforced only when configured).
FormatsGate = Annotated[None, Depends(gated(Capability.informal_meeting_formats))]

MINUTES_EXAMPLE = """# Протокол заседания проектного офиса № 3

- **Учебный год:** 2020-2021
- **Дата и время:** 18 февраля 2021 г., 15:00 (местное время, UTC+5)
- **Формат:** Рефлексивная сессия
- **Статус:** Проведено

## Присутствовали (7)

1. Воронцова Марина Игоревна — Руководитель проектного офиса

## Повестка

1. **«УникУм»** (Рассмотрение инициативы; INI-2020-0003; 20 мин)

## Решения

### 1. По пункту 1: «УникУм»

**Решили:** Одобрить программу

- **Действие:** «Одобрить» — инициатива INI-2020-0003: «Экспертиза» → «Одобрена»
- **Голосовали:** за — 7, против — 0, воздержались — 0

## Рефлексия

### Что получилось

Работа в малых группах.
"""


class MarkdownResponse(PlainTextResponse):
    media_type = "text/markdown"


@router.get("", summary="Список заседаний", responses=problem_responses(401, 403, 422))
def list_meetings(
    session: SessionDep,
    actor: Reader,
    academic_year: Annotated[AcademicYear | None, Query()] = None,
    status: Annotated[
        list[MeetingStatus] | None,
        Query(max_length=3, description="Один или несколько статусов: `?status=a&status=b`"),
    ] = None,
    meeting_format: Annotated[
        MeetingFormat | None, Query(alias="format", description="Формат заседания")
    ] = None,
    initiative_id: Annotated[
        uuid.UUID | None, Query(description="Заседания, где инициатива была в повестке")
    ] = None,
    date_from: Annotated[
        IsoDate | None, Query(description="С этой даты (местное время), ГГГГ-ММ-ДД")
    ] = None,
    date_to: Annotated[IsoDate | None, Query(description="По эту дату включительно")] = None,
    q: SearchQuery = None,
    sort: Annotated[
        MeetingSort, Query(description="По дате заседания; `-` — поздние сначала")
    ] = MeetingSort.scheduled_at_desc,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[MeetingSummary]:
    """Held meetings for everyone; planned and cancelled ones for office roles, observers and
    those invited. `q` searches the title and the place."""
    items, next_cursor = planning.list_meetings(
        session,
        actor=actor,
        academic_year=academic_year,
        statuses=status or [],
        meeting_format=meeting_format,
        initiative_id=initiative_id,
        date_from=date_from,
        date_to=date_to,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page[MeetingSummary](items=items, next_cursor=next_cursor)


@router.post(
    "",
    summary="Запланировать заседание",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_meeting(
    session: SessionDep, actor: Writer, _: FormatsGate, data: MeetingCreate, response: Response
) -> MeetingPublic:
    """The next number of the academic year `scheduled_at` falls in (1 September to 31 August,
    local time) is assigned. The meeting starts `planned`. Under
    `PROJOFFICE_MATURITY_GATING=enforced` an informal format is a 409
    `capability_not_mastered` while the reflective meetings function is below its level."""
    meeting = planning.create_meeting(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/meetings/{meeting.id}"
    set_etag(response, meeting.version)
    return meeting


@router.get(
    "/decisions",
    summary="Решения заседаний",
    responses=problem_responses(401, 403, 422),
)
def search_decisions(
    session: SessionDep,
    actor: Reader,
    initiative_id: uuid.UUID | None = None,
    action: LifecycleAction | None = None,
    review_due_by: Annotated[
        IsoDate | None,
        Query(description="Решения, к которым пора вернуться (review_on ≤ даты)"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DecisionPublic]:
    """Across all meetings, newest first: what the office decided about an initiative, and
    which decisions are due for review."""
    items, next_cursor = decisions.search_decisions(
        session,
        actor=actor,
        initiative_id=initiative_id,
        action=action,
        review_due_by=review_due_by,
        cursor=cursor,
        limit=limit,
    )
    return Page[DecisionPublic](items=items, next_cursor=next_cursor)


@router.get("/{meeting_id}", summary="Заседание", responses=problem_responses(401, 403, 404, 422))
def get_meeting(
    session: SessionDep, actor: Reader, meeting_id: uuid.UUID, response: Response
) -> MeetingPublic:
    """With attendees and attendance, the agenda, the decisions and the reflection."""
    meeting = planning.get_meeting(session, actor=actor, meeting_id=meeting_id)
    set_etag(response, meeting.version)
    return meeting


@router.patch(
    "/{meeting_id}",
    summary="Изменить, провести или отменить заседание",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_meeting(
    session: SessionDep,
    actor: Writer,
    _: FormatsGate,
    meeting_id: uuid.UUID,
    data: MeetingUpdate,
    if_match: IfMatch,
    response: Response,
) -> MeetingPublic:
    """`{"status": "held"}` marks it held (not before its day); `{"status": "cancelled",
    "cancellation_reason": …}` cancels it. Attendance (`attendees[].attended`) and the
    reflection are recorded on a held meeting. A cancelled meeting is no longer edited (409).
    Changing to an informal `format` is gated by maturity as on creation."""
    meeting = planning.update_meeting(
        session, actor=actor, meeting_id=meeting_id, data=data, if_match=if_match
    )
    set_etag(response, meeting.version)
    return meeting


@router.get(
    "/{meeting_id}/agenda-items",
    summary="Повестка заседания",
    responses=problem_responses(401, 403, 404, 422),
)
def list_agenda_items(
    session: SessionDep,
    actor: Reader,
    meeting_id: uuid.UUID,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AgendaItemPublic]:
    """In agenda order."""
    items, next_cursor = agenda.list_agenda_items(
        session, actor=actor, meeting_id=meeting_id, cursor=cursor, limit=limit
    )
    return Page[AgendaItemPublic](items=items, next_cursor=next_cursor)


@router.post(
    "/{meeting_id}/agenda-items",
    summary="Добавить пункт повестки",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def add_agenda_item(
    session: SessionDep,
    actor: Writer,
    meeting_id: uuid.UUID,
    data: AgendaItemCreate,
) -> AgendaItemPublic:
    """At `position` (the others move down) or at the end. `initiative_review` needs an
    initiative; the title defaults to the initiative's."""
    return agenda.add_agenda_item(session, actor=actor, meeting_id=meeting_id, data=data)


@router.patch(
    "/{meeting_id}/agenda-items/{item_id}",
    summary="Изменить или переставить пункт повестки",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def update_agenda_item(
    session: SessionDep,
    actor: Writer,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    data: AgendaItemUpdate,
) -> AgendaItemPublic:
    """A new `position` moves the item and renumbers the others. The initiative of an item with
    decisions stays (409)."""
    return agenda.update_agenda_item(
        session, actor=actor, meeting_id=meeting_id, item_id=item_id, data=data
    )


@router.delete(
    "/{meeting_id}/agenda-items/{item_id}",
    summary="Убрать пункт из повестки",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def remove_agenda_item(
    session: SessionDep, actor: Writer, meeting_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    """Not once a decision was taken on it (409)."""
    agenda.remove_agenda_item(session, actor=actor, meeting_id=meeting_id, item_id=item_id)


@router.get(
    "/{meeting_id}/decisions",
    summary="Решения заседания",
    responses=problem_responses(401, 403, 404, 422),
)
def list_decisions(
    session: SessionDep,
    actor: Reader,
    meeting_id: uuid.UUID,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[DecisionPublic]:
    """In the order they were recorded."""
    items, next_cursor = decisions.list_decisions(
        session, actor=actor, meeting_id=meeting_id, cursor=cursor, limit=limit
    )
    return Page[DecisionPublic](items=items, next_cursor=next_cursor)


@router.post(
    "/{meeting_id}/decisions",
    summary="Записать решение",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def record_decision(
    session: SessionDep,
    actor: Writer,
    meeting_id: uuid.UUID,
    data: DecisionCreate,
) -> DecisionPublic:
    """On a held meeting (409 otherwise), about an item of its agenda (422 otherwise). Without
    `action` it is a note for the minutes; with one (`approve`, `reject`, `request_revision`,
    `start`, `close`…) it performs that step of the item's initiative through the lifecycle, in
    the same transaction and with the same rules: who may (403; `conflict_of_interest` for the
    initiative's author or team), from which state and which guards (409 with the reason). When
    the step is refused, nothing is recorded."""
    return decisions.record_decision(session, actor=actor, meeting_id=meeting_id, data=data)


@router.get(
    "/{meeting_id}/minutes",
    summary="Протокол заседания (Markdown)",
    response_class=MarkdownResponse,
    responses={
        200: {
            "description": "Протокол для печати",
            "content": {"text/markdown": {"example": MINUTES_EXAMPLE}},
        },
        **problem_responses(401, 403, 404, 422),
    },
)
def get_minutes(session: SessionDep, actor: Reader, meeting_id: uuid.UUID) -> str:
    """The protocol with Russian headings: details, attendees, agenda, decisions with their
    tallies and lifecycle steps, and the reflection. Ready to print or to convert to PDF."""
    return minutes.minutes(session, actor=actor, meeting_id=meeting_id)
