import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.deps import CurrentUser, Cursor, IfMatch, Limit, SessionDep, gated, require, set_etag
from app.errors import problem_responses
from app.models import ExpertPosition, ReviewStatus
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.expertise import (
    ConclusionDraft,
    ConclusionSubmit,
    CriteriaSetCreate,
    CriteriaSetOut,
    ExpertiseSummary,
    ExpertProfile,
    ExpertSuggestion,
    PositionGrantIn,
    QualityRating,
    ReviewAccept,
    ReviewAssign,
    ReviewCancel,
    ReviewDecline,
    ReviewOut,
)
from app.security import Principal
from app.services.expertise import assignments, conclusions, criteria, experts, suggestions, summary
from app.services.maturity.capabilities import Capability

criteria_router = APIRouter(prefix="/criteria-sets", tags=["criteria"])
reviews_router = APIRouter(tags=["reviews"])
experts_router = APIRouter(prefix="/experts", tags=["experts"])

CriteriaReader = Annotated[Principal, Depends(require(Action.criteria_read))]
CriteriaWriter = Annotated[Principal, Depends(require(Action.criteria_write))]
Manager = Annotated[Principal, Depends(require(Action.reviews_manage))]
# Suggestions by position come with the office's maturity (enforced only when configured).
SuggestionsGate = Annotated[None, Depends(gated(Capability.expert_suggestions))]


@criteria_router.get(
    "", summary="Наборы критериев экспертизы", responses=problem_responses(401, 403, 422)
)
def list_criteria_sets(
    session: SessionDep, _: CriteriaReader, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[CriteriaSetOut]:
    """Newest edition first; exactly one is active."""
    items, next_cursor = criteria.list_criteria_sets(session, cursor=cursor, limit=limit)
    return Page[CriteriaSetOut](items=items, next_cursor=next_cursor)


@criteria_router.post(
    "",
    summary="Создать редакцию набора критериев",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_criteria_set(
    session: SessionDep, actor: CriteriaWriter, data: CriteriaSetCreate, response: Response
) -> CriteriaSetOut:
    """The next number is assigned; 409 `criteria_set_number_conflict` only if concurrent
    creations keep taking it (retry)."""
    created = criteria.create_criteria_set(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/criteria-sets/{created.id}"
    return created


@criteria_router.get(
    "/{set_id}", summary="Набор критериев", responses=problem_responses(401, 403, 404, 422)
)
def get_criteria_set(session: SessionDep, _: CriteriaReader, set_id: uuid.UUID) -> CriteriaSetOut:
    return criteria.get_criteria_set(session, set_id)


@criteria_router.put(
    "/{set_id}",
    summary="Исправить набор, пока по нему не назначали экспертиз",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def replace_criteria_set(
    session: SessionDep, actor: CriteriaWriter, set_id: uuid.UUID, data: CriteriaSetCreate
) -> CriteriaSetOut:
    """A set already used by an assignment never changes (409): make a new edition instead."""
    return criteria.replace_criteria_set(session, actor=actor, set_id=set_id, data=data)


@criteria_router.post(
    "/{set_id}/activate",
    summary="Ввести набор в действие",
    responses=problem_responses(401, 403, 404, 422),
)
def activate_criteria_set(
    session: SessionDep, actor: CriteriaWriter, set_id: uuid.UUID
) -> CriteriaSetOut:
    """New assignments use the active set; the previous one stops being active."""
    return criteria.activate_criteria_set(session, actor=actor, set_id=set_id)


@reviews_router.post(
    "/initiatives/{initiative_id}/reviews",
    summary="Назначить эксперта",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 409, 422),
)
def assign_review(
    session: SessionDep,
    actor: Manager,
    initiative_id: uuid.UUID,
    data: ReviewAssign,
    response: Response,
) -> ReviewOut:
    """Invites an expert to the current round. Authors and team are never eligible; an
    expert of the same organization needs the office head's recorded override."""
    review = assignments.assign_review(session, actor=actor, initiative_id=initiative_id, data=data)
    response.headers["Location"] = f"/api/v1/reviews/{review.id}"
    return review


@reviews_router.get(
    "/initiatives/{initiative_id}/reviews",
    summary="Экспертизы инициативы",
    responses=problem_responses(401, 403, 404, 422),
)
def list_initiative_reviews(
    session: SessionDep, actor: CurrentUser, initiative_id: uuid.UUID
) -> list[ReviewOut]:
    """Office roles see all; authors see submitted conclusions (blind by default); an expert
    sees the others' conclusions only after submitting their own."""
    return assignments.list_initiative_reviews(session, actor=actor, initiative_id=initiative_id)


@reviews_router.get(
    "/initiatives/{initiative_id}/expertise-summary",
    summary="Сводка экспертизы по раундам",
    responses=problem_responses(401, 403, 404, 422),
)
def expertise_summary(
    session: SessionDep, actor: CurrentUser, initiative_id: uuid.UUID
) -> ExpertiseSummary:
    """Per round: weighted mean (0–100), per-criterion means, recommendations, and whether
    the experts disagree strongly."""
    return summary.expertise_summary(session, actor=actor, initiative_id=initiative_id)


@reviews_router.get(
    "/initiatives/{initiative_id}/expert-suggestions",
    summary="Подбор экспертов",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def suggest_experts(
    session: SessionDep,
    actor: Manager,
    _: SuggestionsGate,
    initiative_id: uuid.UUID,
    position: ExpertPosition,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[ExpertSuggestion]:
    """Eligible experts, best first, each with the reasons for its place. Under
    `PROJOFFICE_MATURITY_GATING=enforced` a 409 `capability_not_mastered` while the expert
    positions function is below its required level (a suggestion is computed, not read)."""
    return suggestions.suggest_experts(
        session, actor=actor, initiative_id=initiative_id, position=position, limit=limit
    )


@reviews_router.get("/reviews", summary="Экспертизы", responses=problem_responses(401, 403, 422))
def list_reviews(
    session: SessionDep,
    actor: CurrentUser,
    mine: Annotated[bool, Query(description="Только назначенные мне")] = False,
    review_status: Annotated[ReviewStatus | None, Query(alias="status")] = None,
    initiative_id: uuid.UUID | None = None,
    expert_id: uuid.UUID | None = None,
    overdue: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ReviewOut]:
    """An expert gets their own assignments; office roles get all, filtered."""
    items, next_cursor = assignments.list_reviews(
        session,
        actor=actor,
        mine=mine,
        status=review_status,
        initiative_id=initiative_id,
        expert_id=expert_id,
        overdue=overdue,
        cursor=cursor,
        limit=limit,
    )
    return Page[ReviewOut](items=items, next_cursor=next_cursor)


@reviews_router.get(
    "/reviews/{review_id}", summary="Экспертиза", responses=problem_responses(401, 403, 404, 422)
)
def get_review(
    session: SessionDep, actor: CurrentUser, review_id: uuid.UUID, response: Response
) -> ReviewOut:
    review = assignments.get_review(session, actor=actor, review_id=review_id)
    set_etag(response, review.version)
    return review


@reviews_router.post(
    "/reviews/{review_id}/accept",
    summary="Принять приглашение",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def accept_review(
    session: SessionDep, actor: CurrentUser, review_id: uuid.UUID, data: ReviewAccept
) -> ReviewOut:
    """The expert declares competing interests, if any."""
    return assignments.accept_review(session, actor=actor, review_id=review_id, data=data)


@reviews_router.post(
    "/reviews/{review_id}/decline",
    summary="Отказаться",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def decline_review(
    session: SessionDep, actor: CurrentUser, review_id: uuid.UUID, data: ReviewDecline
) -> ReviewOut:
    return assignments.decline_review(session, actor=actor, review_id=review_id, data=data)


@reviews_router.put(
    "/reviews/{review_id}/conclusion",
    summary="Сохранить черновик заключения",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def save_draft(
    session: SessionDep, actor: CurrentUser, review_id: uuid.UUID, data: ConclusionDraft
) -> ReviewOut:
    """Any part may still be missing; scores given are checked against their criteria."""
    return conclusions.save_draft(session, actor=actor, review_id=review_id, data=data)


@reviews_router.post(
    "/reviews/{review_id}/submit",
    summary="Сдать заключение",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def submit_conclusion(
    session: SessionDep,
    actor: CurrentUser,
    review_id: uuid.UUID,
    data: ConclusionSubmit,
    if_match: IfMatch,
) -> ReviewOut:
    """Every criterion scored within its range; immutable afterwards."""
    return conclusions.submit_conclusion(
        session, actor=actor, review_id=review_id, data=data, if_match=if_match
    )


@reviews_router.post(
    "/reviews/{review_id}/cancel",
    summary="Отменить назначение",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def cancel_review(
    session: SessionDep, actor: Manager, review_id: uuid.UUID, data: ReviewCancel
) -> ReviewOut:
    return assignments.cancel_review(session, actor=actor, review_id=review_id, data=data)


@reviews_router.put(
    "/reviews/{review_id}/quality",
    summary="Оценить качество заключения",
    responses=problem_responses(401, 403, 404, 409, 422),
)
def rate_quality(
    session: SessionDep, actor: Manager, review_id: uuid.UUID, data: QualityRating
) -> ReviewOut:
    """The office's 1–5 rating of a submitted conclusion; it feeds the expert's growth."""
    return conclusions.rate_quality(session, actor=actor, review_id=review_id, data=data)


@experts_router.get("", summary="Эксперты", responses=problem_responses(401, 403, 422))
def list_experts(
    session: SessionDep,
    _: Annotated[Principal, Depends(require(Action.experts_read))],
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[ExpertProfile]:
    """Every active expert with positions, output, punctuality and quality."""
    items, next_cursor = experts.list_experts(session, cursor=cursor, limit=limit)
    return Page[ExpertProfile](items=items, next_cursor=next_cursor)


@experts_router.get(
    "/{user_id}/profile",
    summary="Профиль роста эксперта",
    responses=problem_responses(401, 403, 404, 422),
)
def expert_profile(session: SessionDep, actor: CurrentUser, user_id: uuid.UUID) -> ExpertProfile:
    """Positions held over time and when each was first reached; office roles and the expert."""
    return experts.expert_profile(session, actor=actor, user_id=user_id)


@experts_router.post(
    "/{user_id}/positions",
    summary="Зафиксировать новую позицию эксперта",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
)
def grant_position(
    session: SessionDep,
    actor: Annotated[Principal, Depends(require(Action.expert_positions_grant))],
    user_id: uuid.UUID,
    data: PositionGrantIn,
) -> ExpertProfile:
    return experts.grant_position(session, actor=actor, user_id=user_id, data=data)
