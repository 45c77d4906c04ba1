import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import AwareDatetime

from app.deps import Cursor, Limit, SessionDep, require
from app.errors import problem_responses
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.events import EventPublic
from app.security import Principal
from app.services import events

router = APIRouter(prefix="/audit", tags=["audit"])


@router.get(
    "",
    summary="Журнал действий",
    responses=problem_responses(401, 403, 422),
)
def list_events(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Action.audit_read))],
    actor_id: uuid.UUID | None = None,
    action: Annotated[str | None, Query(max_length=80, examples=["user.created"])] = None,
    entity_type: Annotated[str | None, Query(max_length=60, examples=["organization"])] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[
        AwareDatetime | None, Query(description="С этого момента (включительно)")
    ] = None,
    until: Annotated[
        AwareDatetime | None, Query(description="До этого момента (не включая)")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[EventPublic]:
    """Every write of the system, newest first; append-only."""
    rows, next_cursor = events.list_events(
        session,
        actor_id=actor_id,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        since=since,
        until=until,
        cursor=cursor,
        limit=limit,
    )
    return Page[EventPublic](
        items=[EventPublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )
