"""The expert's conclusion: scores per criterion, a draft and its submission, and the office's
rating of its quality."""

import uuid

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import Conflict, Forbidden, InvalidInput
from app.models import (
    Conclusion,
    ConclusionScore,
    Criterion,
    Initiative,
    ReviewAssignment,
    ReviewStatus,
)
from app.models.base import utcnow
from app.schemas.expertise import (
    ConclusionDraft,
    ConclusionSubmit,
    QualityRating,
    ReviewOut,
    ScoreIn,
)
from app.security import Principal
from app.services.expertise.assignments import (
    get_review,
    load_assignment,
    own_assignment,
    record_review_event,
    refuse_conflict_of_interest,
    refuse_managing_peers,
    reviews_out,
)
from app.services.versioning import check_version


def _validate_scores(
    session: Session, review: ReviewAssignment, scores: list[ScoreIn], *, complete: bool
) -> dict[str, tuple[Criterion, ScoreIn]]:
    criteria = {
        c.code: c
        for c in session.scalars(
            select(Criterion).where(col(Criterion.criteria_set_id) == review.criteria_set_id)
        )
    }
    given: dict[str, tuple[Criterion, ScoreIn]] = {}
    for i, item in enumerate(scores):
        loc: list[str | int] = ["body", "scores", i]
        criterion = criteria.get(item.criterion)
        if criterion is None:
            raise InvalidInput(
                f"Нет критерия «{item.criterion}» в наборе этой экспертизы",
                loc=[*loc, "criterion"],
                code="unknown_criterion",
            )
        if item.criterion in given:
            raise InvalidInput(
                f"Критерий «{item.criterion}» оценён дважды", loc=loc, code="duplicate_criterion"
            )
        if not 0 <= item.score <= criterion.max_score:
            raise InvalidInput(
                f"Оценка по критерию «{criterion.title_ru}» ({item.criterion}) должна быть "
                f"от 0 до {criterion.max_score}",
                loc=[*loc, "score"],
                code="score_out_of_range",
            )
        if complete and not item.comment:
            raise InvalidInput(
                f"Обоснуйте оценку по критерию «{criterion.title_ru}» ({item.criterion}): "
                "у каждой оценки в заключении есть комментарий",
                loc=[*loc, "comment"],
                code="comment_required",
            )
        given[item.criterion] = (criterion, item)
    if complete:
        missing = [code for code in criteria if code not in given]
        if missing:
            raise InvalidInput(
                f"Не оценены критерии: {', '.join(missing)}",
                loc=["body", "scores"],
                code="missing_criteria",
                extra={"missing": missing},
            )
    return given


def _write_conclusion(
    session: Session,
    review: ReviewAssignment,
    data: ConclusionDraft | ConclusionSubmit,
    given: dict[str, tuple[Criterion, ScoreIn]],
) -> None:
    conclusion = session.get(Conclusion, review.id)
    if conclusion is None:
        conclusion = Conclusion(assignment_id=review.id)
        session.add(conclusion)
    conclusion.recommendation = data.recommendation
    conclusion.summary = data.summary
    conclusion.developmental_feedback = data.developmental_feedback
    conclusion.updated_at = utcnow()
    session.flush()
    session.execute(
        ConclusionScore.__table__.delete().where(  # type: ignore[attr-defined]
            ConclusionScore.__table__.c.assignment_id == review.id  # type: ignore[attr-defined]
        )
    )
    session.add_all(
        ConclusionScore(
            assignment_id=review.id, criterion_id=c.id, score=item.score, comment=item.comment
        )
        for c, item in given.values()
    )


def _require_accepted(review: ReviewAssignment) -> None:
    if review.status == ReviewStatus.submitted:
        raise Conflict("Заключение уже сдано и не изменяется", code="conclusion_submitted")
    if review.status != ReviewStatus.accepted:
        raise Conflict("Сначала примите приглашение на экспертизу", code="review_not_accepted")


def save_draft(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ConclusionDraft
) -> ReviewOut:
    review = own_assignment(session, actor, review_id)
    _require_accepted(review)
    given = _validate_scores(session, review, data.scores, complete=False)
    _write_conclusion(session, review, data, given)
    session.flush()
    return get_review(session, actor=actor, review_id=review.id)


def submit_conclusion(
    session: Session,
    *,
    actor: Principal,
    review_id: uuid.UUID,
    data: ConclusionSubmit,
    if_match: int | None,
) -> ReviewOut:
    review = own_assignment(session, actor, review_id)
    _require_accepted(review)
    check_version(review.version, if_match=if_match, body_version=None)
    given = _validate_scores(session, review, data.scores, complete=True)
    _write_conclusion(session, review, data, given)
    review.status = ReviewStatus.submitted
    review.submitted_at = utcnow()
    session.flush()
    record_review_event(
        session,
        actor,
        review,
        "submitted",
        recommendation=data.recommendation.value,
        on_time=review.submitted_at <= review.due_at,
    )
    return get_review(session, actor=actor, review_id=review.id)


def rate_quality(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: QualityRating
) -> ReviewOut:
    review = load_assignment(session, actor, review_id)
    refuse_conflict_of_interest(session, actor, session.get_one(Initiative, review.initiative_id))
    refuse_managing_peers(session, actor, review)
    conclusion = session.get(Conclusion, review.id)
    if review.status != ReviewStatus.submitted or conclusion is None:
        raise Conflict("Оценить можно только сданное заключение", code="conclusion_not_submitted")
    if review.expert_id == actor.id:
        raise Forbidden("Нельзя оценивать собственное заключение", code="own_conclusion")
    conclusion.quality_rating = data.rating
    conclusion.quality_rated_by_id = actor.id
    session.flush()
    record_review_event(session, actor, review, "quality_rated", rating=data.rating)
    return reviews_out(session, [review], hide_identity=set())[0]
