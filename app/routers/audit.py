import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import StreamingResponse

from app.deps import Cursor, Limit, SessionDep, require
from app.errors import problem_responses
from app.negotiation import CSV_MEDIA_TYPE, wants_csv
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.common import IsoDateTime
from app.schemas.events import EventPublic
from app.security import Principal
from app.services import events

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    summary="Журнал действий",
    response_model=Page[EventPublic],
    responses={
        200: {
            "description": "Страница событий (JSON) или все подходящие события (CSV)",
            "content": {
                CSV_MEDIA_TYPE: {
                    "schema": {"type": "string"},
                    "example": (
                        "id,at,actor_id,actor_kind,action,entity_type,entity_id,data\r\n"
                        "7,2026-11-28T09:30:00Z,,system,organization.created,organization,"
                        '9a2b…,"{""name"": ""МБОУ СОШ № 1""}"\r\n'
                    ),
                }
            },
        },
        **problem_responses(401, 403, 422),
    },
)
def list_events(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Action.audit_read))],
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=80, examples=["user.created"])] = None,
    entity_type: Annotated[str | None, Query(max_length=60, examples=["organization"])] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        IsoDateTime | None, Query(description="С этого момента (включительно)")
    ] = None,
    until: Annotated[IsoDateTime | None, Query(description="До этого момента (не включая)")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
    output_format: Annotated[
        Literal["json", "csv"] | None,
        Query(
            alias="format",
            description="`csv` — то же, что `Accept: text/csv`: выгрузка всех подходящих событий",
        ),
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Page[EventPublic] | StreamingResponse:
    """Every write of the system, newest first; append-only.

    With `Accept: text/csv` (or `?format=csv`) the answer is every event that matches the
    filters, streamed as CSV (`cursor` and `limit` apply to the JSON pages only); `data` is the
    event's JSON document."""
    filters = events.EventFilter(
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
    )
    if wants_csv(output_format, accept):
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        return StreamingResponse(
            events.export_events_csv(filters=filters),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="audit-{stamp}.csv"'},
        )
    rows, next_cursor = events.list_events(session, filters=filters, cursor=cursor, limit=limit)
    return Page[EventPublic](
        items=[EventPublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )
