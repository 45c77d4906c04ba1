import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

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
from app.models import AmendmentStatus
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.charter import (
    MAX_VERSION,
    AcknowledgementPage,
    AcknowledgementPublic,
    AmendmentCreate,
    AmendmentPublic,
    AmendmentSummary,
    AmendmentTransitionCreate,
    AmendmentUpdate,
    CharterDiff,
    CharterVersionCreate,
    CharterVersionPublic,
    CharterVersionSummary,
    CommentCreate,
    CommentPublic,
    SectionKey,
    VoteCast,
    VotePublic,
)
from app.schemas.common import IsoDate
from app.security import Principal
from app.services.charter import acknowledgements, adoption, amendments, discussion, versions
from app.services.maturity.capabilities import Capability

router = APIRouter(prefix="/charter", tags=["charter"])

Reader = Annotated[Principal, Depends(require(Action.charter_read))]
Proposer = Annotated[Principal, Depends(require(Action.charter_propose))]
Commenter = Annotated[Principal, Depends(require(Action.charter_comment))]
Voter = Annotated[Principal, Depends(require(Action.charter_vote))]
# Amending the rules by vote comes with the office's maturity (enforced only when configured).
AmendmentsGate = Annotated[None, Depends(gated(Capability.charter_amendments))]
Acknowledger = Annotated[Principal, Depends(require(Action.charter_acknowledge))]
Adopter = Annotated[Principal, Depends(require(Action.charter_adopt))]
AcknowledgementReader = Annotated[Principal, Depends(require(Action.charter_acknowledgements_read))]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_VERSION, description="Номер версии устава")]

FIRST_VERSION_EXAMPLE = {
    "sections": [
        {
            "key": "purpose",
            "title": "Назначение сети",
            "text": "Сеть объединяет педагогов и школы округа для развития инициатив.",
        },
        {
            "key": "meetings",
            "title": "Как проходят встречи",
            "text": "Сеть встречается не реже раза в четверть.",
        },
    ],
    "effective_from": "2021-09-01",
    "summary": "Первая редакция устава сети",
}


@router.get(
    "",
    summary="Действующий устав сети",
    responses=problem_responses(401, 403, 404, 422),
)
def get_charter(
    session: SessionDep,
    actor: Reader,
    as_of: Annotated[
        IsoDate | None,
        Query(description="Дата, на которую нужен текст устава; по умолчанию — сегодня"),
    ] = None,
) -> CharterVersionPublic:
    """The version in force today, or on `as_of`. 404 before the first version took effect,
    with the date it did."""
    return versions.get_in_force(session, actor=actor, as_of=as_of)


@router.get("/versions", summary="Версии устава", responses=problem_responses(401, 403, 422))
def list_versions(
    session: SessionDep, _: Reader, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[CharterVersionSummary]:
    """Every adopted version, newest first, without the text."""
    items, next_cursor = versions.list_versions(session, cursor=cursor, limit=limit)
    return Page[CharterVersionSummary](items=items, next_cursor=next_cursor)


@router.post(
    "/versions",
    summary="Принять новую версию устава",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def adopt_version(
    session: SessionDep,
    actor: Adopter,
    data: Annotated[
        CharterVersionCreate,
        Body(
            openapi_examples={
                "amendments": {
                    "summary": "Из принятых поправок",
                    "value": {
                        "amendment_ids": ["3f1c2d9e-8a4b-4c55-9d2e-1b7a0c6e5f41"],
                        "effective_from": "2022-01-10",
                        "summary": "Уточнены форматы встреч сети",
                    },
                },
                "first": {
                    "summary": "Первая версия (устав ещё не принят)",
                    "value": FIRST_VERSION_EXAMPLE,
                },
            }
        ),
    ],
    response: Response,
) -> CharterVersionPublic:
    """The office head merges accepted amendments into the next version, in the order given.
    Amendments written against an older version are merged when the sections they touch did
    not change since; otherwise 409 `amendment_conflict` names each section, the amendment's
    base version and the versions that changed it (`extra.conflicts`), as it does for two
    amendments of one adoption touching the same section. Open and accepted amendments that
    the new version makes stale become `superseded` (the amendment shows
    `superseded_by_version` and its `conflicts`); adopting one the vote had accepted is that
    same 409 `amendment_conflict`. Amendments not accepted by a vote are 409
    `amendment_not_accepted`. On an empty charter the first version is adopted from `sections`
    instead."""
    version = adoption.adopt_version(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/charter/versions/{version.number}"
    return version


@router.get(
    "/versions/{number}",
    summary="Версия устава",
    responses=problem_responses(401, 403, 404, 422),
)
def get_version(session: SessionDep, actor: Reader, number: VersionNumber) -> CharterVersionPublic:
    return versions.get_version(session, actor=actor, number=number)


@router.get(
    "/versions/{number}/diff",
    summary="Чем версия отличается от другой",
    responses=problem_responses(401, 403, 404, 422),
)
def diff_version(
    session: SessionDep,
    _: Reader,
    number: VersionNumber,
    against: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_VERSION,
            description="С какой версией сравнить: по умолчанию с предыдущей, 0 — с пустой",
        ),
    ] = None,
) -> CharterDiff:
    """Sections added, removed and modified; for modified text a word-level diff (`equal`,
    `delete`, `insert` segments to colour red and green), and a unified diff of the whole
    text."""
    return versions.diff_versions(session, number=number, against=against)


@router.post(
    "/versions/{number}/acknowledgements",
    summary="Подтвердить согласие с уставом",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": AcknowledgementPublic, "description": "Согласие уже было подтверждено"},
        **problem_responses(401, 403, 404, 409, 422),
    },
)
def acknowledge(
    session: SessionDep, actor: Acknowledger, number: VersionNumber, response: Response
) -> AcknowledgementPublic:
    """A network member confirms they agree to the version in force (409 for any other
    version). Repeating it changes nothing and answers 200."""
    acknowledgement, created = acknowledgements.acknowledge(session, actor=actor, number=number)
    if not created:
        response.status_code = status.HTTP_200_OK
    return acknowledgement


@router.get(
    "/versions/{number}/acknowledgements",
    summary="Кто подтвердил согласие с версией",
    responses=problem_responses(401, 403, 404, 422),
)
def list_acknowledgements(
    session: SessionDep,
    _: AcknowledgementReader,
    number: VersionNumber,
    acknowledged: Annotated[
        bool | None, Query(description="true — только подтвердившие, false — ещё нет")
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> AcknowledgementPage:
    """Every active network member with when they acknowledged version `number` (null: not
    yet), by name, with the totals."""
    return acknowledgements.list_acknowledgements(
        session, number=number, acknowledged=acknowledged, cursor=cursor, limit=limit
    )


@router.get("/amendments", summary="Поправки к уставу", responses=problem_responses(401, 403, 422))
def list_amendments(
    session: SessionDep,
    actor: Reader,
    status: Annotated[
        list[AmendmentStatus] | None,
        Query(max_length=7, description="Один или несколько статусов: `?status=a&status=b`"),
    ] = None,
    base_version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    proposer_id: uuid.UUID | None = None,
    mine: Annotated[bool, Query(description="Только предложенные мной")] = False,
    q: SearchQuery = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AmendmentSummary]:
    """Newest first. Drafts are seen by their proposer and the office only."""
    items, next_cursor = amendments.list_amendments(
        session,
        actor=actor,
        statuses=status or [],
        base_version=base_version,
        proposer_id=proposer_id,
        mine=mine,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page[AmendmentSummary](items=items, next_cursor=next_cursor)


@router.post(
    "/amendments",
    summary="Предложить поправку",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_amendment(
    session: SessionDep,
    actor: Proposer,
    _: AmendmentsGate,
    data: AmendmentCreate,
    response: Response,
) -> AmendmentPublic:
    """A draft against `base_version` (default: the latest): sections to `add`, `modify` or
    `remove`, with a rationale. A key the base does not have is a 422; sections changed since
    an older base are a 409. Under `PROJOFFICE_MATURITY_GATING=enforced` a 409
    `capability_not_mastered` while the interaction function is below its required level."""
    amendment = amendments.create_amendment(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/charter/amendments/{amendment.id}"
    set_etag(response, amendment.version)
    return amendment


@router.get(
    "/amendments/{amendment_id}",
    summary="Поправка",
    responses=problem_responses(401, 403, 404, 422),
)
def get_amendment(
    session: SessionDep, actor: Reader, amendment_id: uuid.UUID, response: Response
) -> AmendmentPublic:
    """With the live tally, the caller's vote and, once closed, how the vote was decided."""
    amendment = amendments.get_amendment(session, actor=actor, amendment_id=amendment_id)
    set_etag(response, amendment.version)
    return amendment


@router.patch(
    "/amendments/{amendment_id}",
    summary="Изменить поправку",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_amendment(
    session: SessionDep,
    actor: Proposer,
    amendment_id: uuid.UUID,
    data: AmendmentUpdate,
    if_match: IfMatch,
    response: Response,
) -> AmendmentPublic:
    """The proposer edits it while it is a draft or under discussion (409 later)."""
    amendment = amendments.update_amendment(
        session, actor=actor, amendment_id=amendment_id, data=data, if_match=if_match
    )
    set_etag(response, amendment.version)
    return amendment


@router.post(
    "/amendments/{amendment_id}/transitions",
    summary="Продвинуть поправку",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def transition_amendment(
    session: SessionDep,
    actor: CurrentUser,
    amendment_id: uuid.UUID,
    data: AmendmentTransitionCreate,
    if_match: IfMatch,
    response: Response,
) -> AmendmentPublic:
    """`open_discussion` (draft → discussion), `open_voting` (discussion → voting, for the
    voting window of the settings), `close_voting` (voting → accepted | rejected by quorum,
    threshold and blocks): the office. `withdraw`: the proposer, until the vote closes.
    403 for a caller who may not take the action, 409 when the status does not allow it."""
    amendment = amendments.transition(
        session, actor=actor, amendment_id=amendment_id, data=data, if_match=if_match
    )
    set_etag(response, amendment.version)
    return amendment


@router.get(
    "/amendments/{amendment_id}/comments",
    summary="Обсуждение поправки",
    responses=problem_responses(401, 403, 404, 422),
)
def list_comments(
    session: SessionDep,
    actor: Reader,
    amendment_id: uuid.UUID,
    section_key: Annotated[SectionKey | None, Query(description="Только о разделе")] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[CommentPublic]:
    """Oldest first."""
    items, next_cursor = discussion.list_comments(
        session,
        actor=actor,
        amendment_id=amendment_id,
        section_key=section_key,
        cursor=cursor,
        limit=limit,
    )
    return Page[CommentPublic](items=items, next_cursor=next_cursor)


@router.post(
    "/amendments/{amendment_id}/comments",
    summary="Прокомментировать поправку",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def add_comment(
    session: SessionDep, actor: Commenter, amendment_id: uuid.UUID, data: CommentCreate
) -> CommentPublic:
    """Until the vote closes; `section_key` anchors the comment to a section of the base
    version or one the amendment adds."""
    return discussion.add_comment(session, actor=actor, amendment_id=amendment_id, data=data)


@router.put(
    "/amendments/{amendment_id}/vote",
    summary="Проголосовать",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def cast_vote(
    session: SessionDep,
    actor: Voter,
    _: AmendmentsGate,
    amendment_id: uuid.UUID,
    data: Annotated[
        VoteCast,
        Body(
            openapi_examples={
                "agree": {"summary": "За", "value": {"vote": "agree"}},
                "block": {
                    "summary": "Блокирую (с обоснованием)",
                    "value": {
                        "vote": "block",
                        "reason": "Правило исключает школы без проектного опыта",
                    },
                },
            }
        ),
    ],
) -> VotePublic:
    """One vote per member, changeable until the voting window ends (409 outside it). The same
    vote again changes nothing. `block` needs a `reason` (422). Gated by maturity as proposing."""
    return discussion.cast_vote(session, actor=actor, amendment_id=amendment_id, data=data)


@router.get(
    "/amendments/{amendment_id}/votes",
    summary="Голоса по поправке",
    responses=problem_responses(401, 403, 404, 422),
)
def list_votes(
    session: SessionDep,
    actor: Reader,
    amendment_id: uuid.UUID,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[VotePublic]:
    """Open voting: who voted how, and why."""
    items, next_cursor = discussion.list_votes(
        session, actor=actor, amendment_id=amendment_id, cursor=cursor, limit=limit
    )
    return Page[VotePublic](items=items, next_cursor=next_cursor)
