import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.deps import (
    CurrentUser,
    Cursor,
    IfMatch,
    Limit,
    SearchQuery,
    SessionDep,
    gated,
    require,
    set_etag,
)
from app.errors import problem_responses
from app.models import ConsultationStatus
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.consultations import (
    ConsultationClose,
    ConsultationCreate,
    ConsultationDecline,
    ConsultationPublic,
    ConsultationSummary,
    ConsultationUpdate,
    SessionCreate,
    SessionPublic,
    SessionUpdate,
)
from app.security import Principal
from app.services import consultations
from app.services.consultations import ConsultationSort
from app.services.maturity.capabilities import Capability

router = APIRouter(prefix="/consultations", tags=["consultations"])

Reader = Annotated[Principal, Depends(require(Action.consultations_read))]
Requester = Annotated[Principal, Depends(require(Action.consultations_request))]
Manager = Annotated[Principal, Depends(require(Action.consultations_manage))]
# The office takes requests once it consults (its maturity; enforced only when configured).
RequestsGate = Annotated[None, Depends(gated(Capability.consultation_requests))]


@router.get(
    "", summary="Список консультационных треков", responses=problem_responses(401, 403, 422)
)
def list_consultations(
    session: SessionDep,
    actor: Reader,
    status: Annotated[
        list[ConsultationStatus] | None,
        Query(max_length=4, description="Один или несколько статусов: `?status=a&status=b`"),
    ] = None,
    consultant_id: uuid.UUID | None = None,
    requester_id: uuid.UUID | None = None,
    initiative_id: uuid.UUID | None = None,
    mine: Annotated[
        bool, Query(description="Только мои: я запросил сопровождение или консультирую")
    ] = False,
    q: SearchQuery = None,
    sort: Annotated[
        ConsultationSort, Query(description="По дате запроса; `-` — новые сначала")
    ] = ConsultationSort.created_at_desc,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ConsultationSummary]:
    """Tracks the caller may see: a participant their own requests, a consultant the tracks
    they accompany, office roles and observers all. `q` searches topic and description. Each
    item carries the response-time facts KPIs use (`session_count`, `hours_to_first_session`)."""
    items, next_cursor = consultations.list_tracks(
        session,
        actor=actor,
        statuses=status or [],
        consultant_id=consultant_id,
        requester_id=requester_id,
        initiative_id=initiative_id,
        mine=mine,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page[ConsultationSummary](items=items, next_cursor=next_cursor)


@router.post(
    "",
    summary="Запросить консультирование и сопровождение замысла",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def request_consultation(
    session: SessionDep,
    actor: Requester,
    _: RequestsGate,
    data: ConsultationCreate,
    response: Response,
) -> ConsultationPublic:
    """For one's own submitted initiative (`initiative_id`) or for an idea that has no
    initiative yet. The track starts as `requested` until the office assigns consultants.
    Under `PROJOFFICE_MATURITY_GATING=enforced` a 409 `capability_not_mastered` while the
    consulting function is below its required level (`GET /office/capabilities`)."""
    track = consultations.request_consultation(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/consultations/{track.id}"
    set_etag(response, track.version)
    return track


@router.get(
    "/{track_id}",
    summary="Консультационный трек",
    responses=problem_responses(401, 403, 404, 422),
)
def get_consultation(
    session: SessionDep, actor: Reader, track_id: uuid.UUID, response: Response
) -> ConsultationPublic:
    """With its consultants and the response-time facts KPIs use: `hours_to_first_session`,
    `session_count`. Someone else's track is a 404."""
    track = consultations.get_track(session, actor=actor, track_id=track_id)
    set_etag(response, track.version)
    return track


@router.patch(
    "/{track_id}",
    summary="Изменить трек, назначить консультантов",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_consultation(
    session: SessionDep,
    actor: CurrentUser,
    track_id: uuid.UUID,
    data: ConsultationUpdate,
    if_match: IfMatch,
    response: Response,
) -> ConsultationPublic:
    """Office roles assign `consultant_ids` (office members or experts); a requested track then
    becomes `active`. The requester and the consultants edit the topic and link the initiative
    that grew out of the idea (the requester's own, submitted, and not finished: a finished
    one is a 409 `initiative_finished`, as on request). A closed or declined track is a 409."""
    track = consultations.update_track(
        session, actor=actor, track_id=track_id, data=data, if_match=if_match
    )
    set_etag(response, track.version)
    return track


@router.post(
    "/{track_id}/decline",
    summary="Отклонить запрос",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def decline_consultation(
    session: SessionDep,
    actor: Manager,
    track_id: uuid.UUID,
    data: ConsultationDecline,
    if_match: IfMatch,
    response: Response,
) -> ConsultationPublic:
    """The office declines a request it has not taken on, with a reason the requester reads."""
    track = consultations.decline_track(
        session, actor=actor, track_id=track_id, data=data, if_match=if_match
    )
    set_etag(response, track.version)
    return track


@router.post(
    "/{track_id}/close",
    summary="Завершить сопровождение с итогом",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def close_consultation(
    session: SessionDep,
    actor: CurrentUser,
    track_id: uuid.UUID,
    data: ConsultationClose,
    if_match: IfMatch,
    response: Response,
) -> ConsultationPublic:
    """By a consultant of the track or the office staff. `initiative_submitted` needs the
    initiative the idea became (already linked or given here as `initiative_id`)."""
    track = consultations.close_track(
        session, actor=actor, track_id=track_id, data=data, if_match=if_match
    )
    set_etag(response, track.version)
    return track


@router.get(
    "/{track_id}/sessions",
    summary="Консультации трека",
    responses=problem_responses(401, 403, 404, 422),
)
def list_sessions(
    session: SessionDep,
    actor: Reader,
    track_id: uuid.UUID,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[SessionPublic]:
    """In the order they were held; the requester reads them too."""
    items, next_cursor = consultations.list_sessions(
        session, actor=actor, track_id=track_id, cursor=cursor, limit=limit
    )
    return Page[SessionPublic](items=items, next_cursor=next_cursor)


@router.post(
    "/{track_id}/sessions",
    summary="Записать проведённую консультацию",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def record_session(
    session: SessionDep,
    actor: CurrentUser,
    track_id: uuid.UUID,
    data: SessionCreate,
    response: Response,
) -> SessionPublic:
    """By a consultant of the track or the office staff, on an active track (409 when it is
    still requested, closed or declined); `held_at` is neither in the future nor before the
    track was requested (422 `session_before_request`)."""
    record = consultations.record_session(session, actor=actor, track_id=track_id, data=data)
    response.headers["Location"] = f"/api/v1/consultations/{track_id}/sessions/{record.id}"
    set_etag(response, record.version)
    return record


@router.get(
    "/{track_id}/sessions/{session_id}",
    summary="Консультация",
    responses=problem_responses(401, 403, 404, 422),
)
def get_session(
    session: SessionDep,
    actor: Reader,
    track_id: uuid.UUID,
    session_id: uuid.UUID,
    response: Response,
) -> SessionPublic:
    record = consultations.get_session(
        session, actor=actor, track_id=track_id, session_id=session_id
    )
    set_etag(response, record.version)
    return record


@router.patch(
    "/{track_id}/sessions/{session_id}",
    summary="Исправить запись консультации",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_session(
    session: SessionDep,
    actor: CurrentUser,
    track_id: uuid.UUID,
    session_id: uuid.UUID,
    data: SessionUpdate,
    if_match: IfMatch,
    response: Response,
) -> SessionPublic:
    """Notes, next steps, attendees or the time, while the track is open."""
    record = consultations.update_session(
        session,
        actor=actor,
        track_id=track_id,
        session_id=session_id,
        data=data,
        if_match=if_match,
    )
    set_etag(response, record.version)
    return record
