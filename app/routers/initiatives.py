import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.deps import (
    CurrentUser,
    Cursor,
    DbDep,
    IfMatch,
    Limit,
    SearchQuery,
    SessionDep,
    require,
    set_etag,
)
from app.errors import problem_responses
from app.models import EducationLevel, InitiativeStatus
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.initiatives import (
    AcademicYear,
    AvailableAction,
    InitiativeCreate,
    InitiativePublic,
    InitiativeSummary,
    InitiativeUpdate,
    TeamReplace,
    TransitionCreate,
    TransitionPublic,
)
from app.security import Principal
from app.services import initiatives
from app.services.initiatives import InitiativeSort

router = APIRouter(prefix="/initiatives", tags=["initiatives"])

Reader = Annotated[Principal, Depends(require(Action.initiatives_read))]
Creator = Annotated[Principal, Depends(require(Action.initiatives_create))]


@router.get("", summary="Список инициатив", responses=problem_responses(401, 403, 422))
async def list_initiatives(
    db: DbDep,
    actor: Reader,
    status: Annotated[
        list[InitiativeStatus] | None,
        Query(max_length=13, description="Один или несколько статусов: `?status=a&status=b`"),
    ] = None,
    organization_id: uuid.UUID | None = None,
    education_level: EducationLevel | None = None,
    academic_year: Annotated[AcademicYear | None, Query()] = None,
    author_id: uuid.UUID | None = None,
    mine: Annotated[bool, Query(description="Только мои: я автор или в команде")] = False,
    topic: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    q: SearchQuery = None,
    sort: Annotated[
        InitiativeSort, Query(description="Порядок; `-` перед полем — по убыванию")
    ] = InitiativeSort.created_at_desc,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[InitiativeSummary]:
    """Initiatives the caller may see (drafts only their own), filtered and keyset-paginated.
    `q` searches title, summary, code and topics, case-insensitively in Cyrillic."""
    items, next_cursor = await initiatives.list_initiatives(
        db,
        actor=actor,
        statuses=status or [],
        organization_id=organization_id,
        education_level=education_level,
        academic_year=academic_year,
        author_id=author_id,
        mine=mine,
        topic=topic,
        q=q,
        sort=sort,
        cursor=cursor,
        limit=limit,
    )
    return Page[InitiativeSummary](items=items, next_cursor=next_cursor)


@router.post(
    "",
    summary="Подать проектный замысел (черновик)",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422),
)
def create_initiative(
    session: SessionDep, actor: Creator, data: InitiativeCreate, response: Response
) -> InitiativePublic:
    """Creates a draft with a code `INI-<year>-<NNNN>`; the caller becomes its author."""
    initiative = initiatives.create_initiative(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/initiatives/{initiative.id}"
    set_etag(response, initiative.version)
    return initiative


@router.get(
    "/{initiative_id}", summary="Инициатива", responses=problem_responses(401, 403, 404, 422)
)
def get_initiative(
    session: SessionDep, actor: Reader, initiative_id: uuid.UUID, response: Response
) -> InitiativePublic:
    initiative = initiatives.get_initiative(session, actor=actor, initiative_id=initiative_id)
    set_etag(response, initiative.version)
    return initiative


@router.patch(
    "/{initiative_id}",
    summary="Изменить инициативу",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_initiative(
    session: SessionDep,
    actor: CurrentUser,
    initiative_id: uuid.UUID,
    data: InitiativeUpdate,
    if_match: IfMatch,
    response: Response,
) -> InitiativePublic:
    """The author and team edit content in «Черновик» and «На доработке» (409 otherwise);
    office roles edit `topics` and `academic_year` at any time."""
    initiative = initiatives.update_initiative(
        session, actor=actor, initiative_id=initiative_id, data=data, if_match=if_match
    )
    set_etag(response, initiative.version)
    return initiative


@router.put(
    "/{initiative_id}/team",
    summary="Заменить команду",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def replace_team(
    session: SessionDep,
    actor: CurrentUser,
    initiative_id: uuid.UUID,
    data: TeamReplace,
    if_match: IfMatch,
    response: Response,
) -> InitiativePublic:
    """The whole team at once (lead, member, mentor), while the content may be edited."""
    initiative = initiatives.replace_team(
        session, actor=actor, initiative_id=initiative_id, data=data, if_match=if_match
    )
    set_etag(response, initiative.version)
    return initiative


@router.post(
    "/{initiative_id}/transitions",
    summary="Выполнить действие жизненного цикла",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def create_transition(
    session: SessionDep,
    actor: CurrentUser,
    initiative_id: uuid.UUID,
    data: TransitionCreate,
    if_match: IfMatch,
    response: Response,
) -> InitiativePublic:
    """Moves the initiative by the lifecycle table (`GET /api/v1/meta/lifecycle`). 403 when the
    caller may never take this action, or `conflict_of_interest` when an office step is asked
    by the initiative's author or a member of its team; 409 when the state does not allow it
    (the body lists `allowed_actions`) or a guard fails (`blocked_by`)."""
    initiative = initiatives.transition(
        session, actor=actor, initiative_id=initiative_id, data=data, if_match=if_match
    )
    set_etag(response, initiative.version)
    return initiative


@router.get(
    "/{initiative_id}/transitions",
    summary="История жизненного цикла",
    responses=problem_responses(401, 403, 404, 422),
)
def list_transitions(
    session: SessionDep,
    actor: Reader,
    initiative_id: uuid.UUID,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[TransitionPublic]:
    """Who moved the initiative, when, from where to where, and why; oldest first."""
    items, next_cursor = initiatives.list_transitions(
        session, actor=actor, initiative_id=initiative_id, cursor=cursor, limit=limit
    )
    return Page[TransitionPublic](items=items, next_cursor=next_cursor)


@router.get(
    "/{initiative_id}/actions",
    summary="Что я могу сделать сейчас",
    responses=problem_responses(401, 403, 404, 422),
)
def list_actions(
    session: SessionDep, actor: Reader, initiative_id: uuid.UUID
) -> list[AvailableAction]:
    """The lifecycle actions open to the caller in the current state; those held back by a
    guard come with `allowed: false` and the reasons (`no_conflict_of_interest` for office
    steps on one's own or one's team's initiative)."""
    return initiatives.available_actions(session, actor=actor, initiative_id=initiative_id)
