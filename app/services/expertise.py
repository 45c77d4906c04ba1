"""Expertise: criteria sets, review assignments, conclusions, summaries and expert growth."""

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from app.config import get_settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    Conclusion,
    ConclusionScore,
    CriteriaSet,
    Criterion,
    ExpertPosition,
    ExpertPositionGrant,
    Initiative,
    InitiativeMember,
    InitiativeStatus,
    InitiativeTopic,
    ReviewAssignment,
    ReviewStatus,
    Role,
    User,
    UserRole,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import Action, ObjectRule, can, passes
from app.schemas.expertise import (
    ConclusionDraft,
    ConclusionOut,
    ConclusionSubmit,
    CriteriaSetCreate,
    CriteriaSetOut,
    CriterionOut,
    CriterionSummary,
    ExpertiseSummary,
    ExpertProfile,
    ExpertSuggestion,
    PositionGrantIn,
    PositionHistory,
    QualityRating,
    ReviewAccept,
    ReviewAssign,
    ReviewCancel,
    ReviewDecline,
    ReviewOut,
    RoundSummary,
    ScoreIn,
    ScoreOut,
)
from app.security import Principal
from app.services import events, initiatives, lifecycle
from app.services.versioning import check_version
from app.text import topic_key

OPEN = (ReviewStatus.invited, ReviewStatus.accepted)
LADDER = list(ExpertPosition)
_NUMBER_ATTEMPTS = 5
_NUMBER_LOCK = 0x70726F6A63726974  # pg_advisory_xact_lock key: criteria set numbers
_ACTIVE_LOCK = 0x70726F6A61637476  # pg_advisory_xact_lock key: which criteria set is active
POSITION_LABELS = {
    ExpertPosition.content_expert: "содержательный эксперт",
    ExpertPosition.methodologist: "системный эксперт-методолог",
    ExpertPosition.developmental_expert: "развивающий эксперт",
    ExpertPosition.developer: "развиватель",
}

# --- criteria sets ----------------------------------------------------------------------------


def _criteria_sets_out(session: Session, sets: Sequence[CriteriaSet]) -> list[CriteriaSetOut]:
    ids = [s.id for s in sets]
    criteria: dict[uuid.UUID, list[CriterionOut]] = defaultdict(list)
    for criterion in session.scalars(
        select(Criterion)
        .where(col(Criterion.criteria_set_id).in_(ids))
        .order_by(col(Criterion.position))
    ):
        criteria[criterion.criteria_set_id].append(CriterionOut.model_validate(criterion))
    used = set(
        session.scalars(
            select(col(ReviewAssignment.criteria_set_id))
            .where(col(ReviewAssignment.criteria_set_id).in_(ids))
            .distinct()
        )
    )
    return [
        CriteriaSetOut(
            id=s.id,
            number=s.number,
            title=s.title,
            is_active=s.is_active,
            in_use=s.id in used,
            created_at=s.created_at,
            activated_at=s.activated_at,
            criteria=criteria[s.id],
        )
        for s in sets
    ]


CRITERIA_ORDER = SortKey([col(CriteriaSet.number)], [int], descending=True)


def list_criteria_sets(
    session: Session, *, cursor: str | None, limit: int
) -> tuple[list[CriteriaSetOut], str | None]:
    rows = session.scalars(
        paginate(select(CriteriaSet), CRITERIA_ORDER, cursor=cursor, limit=limit)
    ).all()
    page, next_cursor = split_page(rows, limit, lambda s: [s.number])
    return _criteria_sets_out(session, page), next_cursor


def _criteria_set(session: Session, set_id: uuid.UUID) -> CriteriaSet:
    found = session.get(CriteriaSet, set_id)
    if found is None:
        raise NotFound("Набор критериев не найден")
    return found


def get_criteria_set(session: Session, set_id: uuid.UUID) -> CriteriaSetOut:
    return _criteria_sets_out(session, [_criteria_set(session, set_id)])[0]


def _activate(session: Session, criteria_set: CriteriaSet) -> None:
    """Activations queue on PostgreSQL: without the lock, two at once each switch off the set
    active before both began and the second one's commit hits uq_criteria_set_one_active."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_ACTIVE_LOCK)))
    session.execute(
        update(CriteriaSet)
        .where(col(CriteriaSet.is_active).is_(True), col(CriteriaSet.id) != criteria_set.id)
        .values(is_active=False)
    )
    criteria_set.is_active = True
    criteria_set.activated_at = utcnow()


def _add_criteria(session: Session, set_id: uuid.UUID, data: CriteriaSetCreate) -> None:
    session.add_all(
        Criterion(criteria_set_id=set_id, position=i, **c.model_dump())
        for i, c in enumerate(data.criteria)
    )


def _add_numbered_criteria_set(session: Session, *, actor: Principal, title: str) -> CriteriaSet:
    """Numbers are max + 1: two office members creating sets at the same moment pick the same
    number and one insert hits the unique index. Nobody asked for that number, so the loser
    takes the next one instead of answering 409. On PostgreSQL creators also queue on a
    transaction lock first: retries alone lost five times in a row under schemathesis' parallel
    runs (the other creator kept committing the next number first)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_NUMBER_LOCK)))
    for _ in range(_NUMBER_ATTEMPTS):
        number = (session.execute(select(func.max(CriteriaSet.number))).scalar() or 0) + 1
        criteria_set = CriteriaSet(number=number, title=title, created_by_id=actor.id)
        try:
            with session.begin_nested():
                session.add(criteria_set)
        except IntegrityError:
            continue
        return criteria_set
    raise Conflict(
        "Наборы критериев сейчас создаются одновременно; повторите запрос",
        code="criteria_set_number_conflict",
    )


def create_criteria_set(
    session: Session, *, actor: Principal, data: CriteriaSetCreate
) -> CriteriaSetOut:
    criteria_set = _add_numbered_criteria_set(session, actor=actor, title=data.title)
    number = criteria_set.number
    _add_criteria(session, criteria_set.id, data)
    if data.activate:
        _activate(session, criteria_set)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="criteria_set.created",
        entity_type="criteria_set",
        entity_id=criteria_set.id,
        data={"number": number, **data.model_dump(mode="json")},
    )
    return get_criteria_set(session, criteria_set.id)


def replace_criteria_set(
    session: Session, *, actor: Principal, set_id: uuid.UUID, data: CriteriaSetCreate
) -> CriteriaSetOut:
    criteria_set = _criteria_set(session, set_id)
    in_use = session.execute(
        select(col(ReviewAssignment.id)).where(col(ReviewAssignment.criteria_set_id) == set_id)
    ).first()
    if in_use:
        raise Conflict(
            "По этому набору уже назначались экспертизы: создайте новую редакцию набора",
            code="criteria_set_in_use",
        )
    session.execute(
        Criterion.__table__.delete().where(Criterion.__table__.c.criteria_set_id == set_id)  # type: ignore[attr-defined]
    )
    criteria_set.title = data.title
    _add_criteria(session, set_id, data)
    if data.activate:
        _activate(session, criteria_set)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="criteria_set.replaced",
        entity_type="criteria_set",
        entity_id=set_id,
        data=data.model_dump(mode="json"),
    )
    return get_criteria_set(session, set_id)


def activate_criteria_set(
    session: Session, *, actor: Principal, set_id: uuid.UUID
) -> CriteriaSetOut:
    criteria_set = _criteria_set(session, set_id)
    if not criteria_set.is_active:
        _activate(session, criteria_set)
        session.flush()
        events.record(
            session,
            actor=actor,
            action="criteria_set.activated",
            entity_type="criteria_set",
            entity_id=set_id,
        )
    return get_criteria_set(session, set_id)


# --- reading reviews --------------------------------------------------------------------------


def _reviews_out(
    session: Session, rows: Sequence[ReviewAssignment], *, hide_identity: set[uuid.UUID]
) -> list[ReviewOut]:
    """Three queries whatever the number of reviews: names, conclusions, scores."""
    ids = [r.id for r in rows]
    names = dict(
        session.execute(
            select(col(User.id), col(User.full_name)).where(
                col(User.id).in_({r.expert_id for r in rows})
            )
        ).all()
    )
    conclusions = {
        c.assignment_id: c
        for c in session.scalars(select(Conclusion).where(col(Conclusion.assignment_id).in_(ids)))
    }
    scores: dict[uuid.UUID, list[ScoreOut]] = defaultdict(list)
    for assignment_id, code, score, comment in session.execute(
        select(
            col(ConclusionScore.assignment_id),
            col(Criterion.code),
            col(ConclusionScore.score),
            col(ConclusionScore.comment),
        )
        .join(Criterion, col(Criterion.id) == col(ConclusionScore.criterion_id))
        .where(col(ConclusionScore.assignment_id).in_(ids))
        .order_by(col(Criterion.position))
    ):
        scores[assignment_id].append(ScoreOut(criterion=code, score=score, comment=comment))
    now = utcnow()
    result = []
    for r in rows:
        hidden = r.id in hide_identity
        conclusion = conclusions.get(r.id)
        result.append(
            ReviewOut(
                id=r.id,
                initiative_id=r.initiative_id,
                review_round=r.review_round,
                expert_id=None if hidden else r.expert_id,
                expert_name=None if hidden else names.get(r.expert_id),
                position=r.position,
                status=r.status,
                overdue=r.status in OPEN and r.due_at < now,
                due_at=r.due_at,
                competing_interests=None if hidden else r.competing_interests,
                conflict_override_reason=None if hidden else r.conflict_override_reason,
                decline_reason=None if hidden else r.decline_reason,
                cancel_reason=r.cancel_reason,
                created_at=r.created_at,
                accepted_at=r.accepted_at,
                submitted_at=r.submitted_at,
                version=r.version,
                conclusion=None
                if conclusion is None
                else ConclusionOut(
                    scores=scores[r.id],
                    recommendation=conclusion.recommendation,
                    summary=conclusion.summary,
                    developmental_feedback=conclusion.developmental_feedback,
                    quality_rating=conclusion.quality_rating,
                    updated_at=conclusion.updated_at,
                ),
            )
        )
    return result


def _is_office(actor: Principal) -> bool:
    return passes(actor, ObjectRule.review_conclusions_read)


def _refuse_conflict_of_interest(
    session: Session, actor: Principal, initiative: Initiative
) -> None:
    """Office people who wrote an initiative or are on its team do not run its expertise: the
    same rule as the lifecycle's office decisions."""
    reason = lifecycle.independent_of_initiative(session, initiative, actor)
    if reason is not None:
        raise Forbidden(reason, code="conflict_of_interest")


def _sees_all_reviews(
    session: Session, actor: Principal, initiative: Initiative, *, reviewing: bool
) -> bool:
    """Office roles see every review of an initiative, except one they wrote or are on the team
    of (they read it as its author does, blind) and one they review themselves while their own
    conclusion is not in (they read it as any expert does). `reviewing`: the caller holds an
    open assignment on it."""
    return (
        _is_office(actor)
        and not reviewing
        and lifecycle.independent_of_initiative(session, initiative, actor) is None
    )


def list_initiative_reviews(
    session: Session, *, actor: Principal, initiative_id: uuid.UUID
) -> list[ReviewOut]:
    """Office roles see everything (see _sees_all_reviews). An expert sees their own assignment,
    and the others' submitted conclusions of a round once theirs is in. The author and team see
    submitted conclusions, without the experts' identity when reviews are blind."""
    initiative = initiatives.load_visible(session, actor, initiative_id)
    rows = session.scalars(
        select(ReviewAssignment)
        .where(col(ReviewAssignment.initiative_id) == initiative.id)
        .order_by(col(ReviewAssignment.review_round), col(ReviewAssignment.created_at))
    ).all()
    reviewing = any(r.expert_id == actor.id and r.status in OPEN for r in rows)
    if _sees_all_reviews(session, actor, initiative, reviewing=reviewing):
        return _reviews_out(session, rows, hide_identity=set())
    blind = get_settings().blind_reviews
    own = [r for r in rows if r.expert_id == actor.id]
    submitted = [r for r in rows if r.status == ReviewStatus.submitted]
    if own:
        rounds_done = {r.review_round for r in own if r.status == ReviewStatus.submitted}
        others = [r for r in submitted if r.expert_id != actor.id and r.review_round in rounds_done]
        visible = sorted(own + others, key=lambda r: (r.review_round, r.created_at))
        return _reviews_out(
            session, visible, hide_identity={r.id for r in others} if blind else set()
        )
    _require_authors(session, actor, initiative)
    return _reviews_out(
        session, submitted, hide_identity={r.id for r in submitted} if blind else set()
    )


def _require_authors(session: Session, actor: Principal, initiative: Initiative) -> None:
    """The last audience of the conclusions: the initiative's author and team."""
    is_author, team_role = initiatives.membership(session, actor, initiative)
    if not is_author and team_role is None:
        raise Forbidden(
            "Экспертные заключения видят офис, эксперты инициативы и её авторы",
            code="reviews_hidden",
        )


def _assignment(session: Session, actor: Principal, review_id: uuid.UUID) -> ReviewAssignment:
    """The assignment if the caller is its expert or an office role; otherwise a 404."""
    found = session.get(ReviewAssignment, review_id)
    if found is None or not (found.expert_id == actor.id or _is_office(actor)):
        raise NotFound("Назначение на экспертизу не найдено", code="review_not_found")
    return found


def _own_assignment(session: Session, actor: Principal, review_id: uuid.UUID) -> ReviewAssignment:
    found = session.get(ReviewAssignment, review_id)
    if found is None or found.expert_id != actor.id:
        raise NotFound("Назначение на экспертизу не найдено", code="review_not_found")
    return found


def _open_assignment_of(actor: Principal, initiative_id: Any) -> Any:
    """EXISTS: the caller holds an invited or accepted assignment on that initiative."""
    mine = aliased(ReviewAssignment)
    return (
        select(col(mine.id))
        .where(
            col(mine.initiative_id) == initiative_id,
            col(mine.expert_id) == actor.id,
            col(mine.status).in_(OPEN),
        )
        .exists()
    )


def _refuse_managing_peers(session: Session, actor: Principal, review: ReviewAssignment) -> None:
    """An office person reviewing an initiative themselves neither cancels nor rates the other
    experts' work on it while their own conclusion is not in: the answer would show them the
    conclusions they may not read yet."""
    if (
        review.expert_id != actor.id
        and session.execute(select(_open_assignment_of(actor, review.initiative_id))).scalar_one()
    ):
        raise Forbidden(
            "Вы сами эксперт этой инициативы: сначала сдайте своё заключение",
            code="conflict_of_interest",
        )


def get_review(session: Session, *, actor: Principal, review_id: uuid.UUID) -> ReviewOut:
    """The expert's own assignment, or, for the office, one it sees in full; other people's
    reviews are 404 (an author reads the conclusions on their initiative, blind, from its
    reviews list)."""
    review = _assignment(session, actor, review_id)
    if review.expert_id != actor.id:
        reviewing = session.execute(
            select(_open_assignment_of(actor, review.initiative_id))
        ).scalar_one()
        initiative = session.get_one(Initiative, review.initiative_id)
        if not _sees_all_reviews(session, actor, initiative, reviewing=reviewing):
            raise NotFound("Назначение на экспертизу не найдено", code="review_not_found")
    return _reviews_out(session, [review], hide_identity=set())[0]


REVIEW_ORDER = SortKey(
    [col(ReviewAssignment.created_at), col(ReviewAssignment.id)], [datetime, uuid.UUID],
    descending=True,
)  # fmt: skip


def list_reviews(
    session: Session,
    *,
    actor: Principal,
    mine: bool,
    status: ReviewStatus | None,
    initiative_id: uuid.UUID | None,
    expert_id: uuid.UUID | None,
    overdue: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[ReviewOut], str | None]:
    stmt = select(ReviewAssignment)
    own = col(ReviewAssignment.expert_id) == actor.id
    if mine or not _is_office(actor):
        # Anyone but the office sees only the assignments made to them.
        stmt = stmt.where(own)
    else:
        # The rows _sees_all_reviews would refuse: the office person's own initiatives and those
        # they are reviewing themselves.
        reviewed = col(ReviewAssignment.initiative_id)
        related = reviewed.in_(initiatives.authored_or_team_of(actor.id))
        stmt = stmt.where(or_(own, ~or_(related, _open_assignment_of(actor, reviewed))))
    if status is not None:
        stmt = stmt.where(col(ReviewAssignment.status) == status)
    if initiative_id is not None:
        stmt = stmt.where(col(ReviewAssignment.initiative_id) == initiative_id)
    if expert_id is not None:
        stmt = stmt.where(col(ReviewAssignment.expert_id) == expert_id)
    if overdue is not None:
        late = col(ReviewAssignment.status).in_(OPEN) & (col(ReviewAssignment.due_at) < utcnow())
        stmt = stmt.where(late if overdue else ~late)
    rows = session.scalars(paginate(stmt, REVIEW_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    return _reviews_out(session, page, hide_identity=set()), next_cursor


# --- assigning --------------------------------------------------------------------------------


def _active_set_id(session: Session) -> uuid.UUID:
    found = session.scalars(
        select(col(CriteriaSet.id)).where(col(CriteriaSet.is_active).is_(True))
    ).first()
    if found is None:
        raise Conflict("Нет действующего набора критериев экспертизы", code="no_active_criteria")
    return found


def _record(
    session: Session, actor: Principal, review: ReviewAssignment, action: str, **data: Any
) -> None:
    events.record(
        session,
        actor=actor,
        action=f"review.{action}",
        entity_type="review",
        entity_id=review.id,
        data={"initiative_id": str(review.initiative_id), **data},
    )


def assign_review(
    session: Session, *, actor: Principal, initiative_id: uuid.UUID, data: ReviewAssign
) -> ReviewOut:
    initiative = initiatives.load_visible(session, actor, initiative_id)
    _refuse_conflict_of_interest(session, actor, initiative)
    if initiative.status != InitiativeStatus.expertise:
        raise Conflict(
            "Экспертов назначают, когда инициатива на экспертизе",
            code="initiative_not_in_expertise",
            extra={"status": initiative.status.value},
        )
    if data.due_at <= utcnow():
        raise InvalidInput("Срок сдачи уже прошёл", loc=["body", "due_at"], code="due_in_past")
    # Before the role check: the author is refused for who they are, whatever their roles.
    team = set(
        session.scalars(
            select(col(InitiativeMember.user_id)).where(
                col(InitiativeMember.initiative_id) == initiative.id
            )
        )
    )
    if data.expert_id == initiative.author_id or data.expert_id in team:
        raise Conflict(
            "Автор и команда не могут быть экспертами своей инициативы",
            code="conflict_of_interest",
        )
    expert = session.execute(
        select(col(User.id), col(User.organization_id), col(User.is_active)).where(
            col(User.id) == data.expert_id,
            select(col(UserRole.user_id))
            .where(col(UserRole.user_id) == col(User.id), col(UserRole.role) == Role.expert)
            .exists(),
        )
    ).first()
    if expert is None or not expert.is_active:
        raise InvalidInput(
            "Пользователь не найден или не имеет роли эксперта",
            loc=["body", "expert_id"],
            code="not_an_expert",
        )
    if expert.organization_id == initiative.organization_id:
        if data.conflict_override_reason is None:
            raise Conflict(
                "Эксперт из той же организации, что и инициатива: назначить его может только "
                "руководитель офиса, указав причину (conflict_override_reason)",
                code="same_organization",
            )
        if not passes(actor, ObjectRule.review_conflict_override):
            raise Forbidden(
                "Снять конфликт интересов может только руководитель проектного офиса",
                code="override_forbidden",
            )
    elif data.conflict_override_reason is not None:
        raise InvalidInput(
            "Конфликта интересов нет: причина снятия не нужна",
            loc=["body", "conflict_override_reason"],
        )
    already = session.execute(
        select(col(ReviewAssignment.id)).where(
            col(ReviewAssignment.initiative_id) == initiative.id,
            col(ReviewAssignment.review_round) == initiative.review_round,
            col(ReviewAssignment.expert_id) == data.expert_id,
            col(ReviewAssignment.status).not_in([ReviewStatus.declined, ReviewStatus.cancelled]),
        )
    ).first()
    if already:
        raise Conflict("Эксперт уже назначен в этом раунде", code="already_assigned")
    review = ReviewAssignment(
        initiative_id=initiative.id,
        review_round=initiative.review_round,
        expert_id=data.expert_id,
        position=data.position,
        criteria_set_id=_active_set_id(session),
        due_at=data.due_at,
        assigned_by_id=actor.id,
        conflict_override_reason=data.conflict_override_reason,
    )
    try:
        with session.begin_nested():
            session.add(review)
    except IntegrityError:
        # Another office member assigned the same expert a moment ago: the check above could
        # not see their uncommitted row, uq_review_assignment_live_expert does.
        raise Conflict("Эксперт уже назначен в этом раунде", code="already_assigned") from None
    _record(session, actor, review, "assigned", **data.model_dump(mode="json"))
    # Not get_review: an office member reviewing the initiative assigns the others too.
    return _reviews_out(session, [review], hide_identity=set())[0]


def accept_review(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ReviewAccept
) -> ReviewOut:
    review = _own_assignment(session, actor, review_id)
    if review.status != ReviewStatus.invited:
        raise Conflict(
            f"Принять можно только новое приглашение; сейчас: {review.status.value}",
            code="review_not_invited",
        )
    if review.due_at < utcnow():
        raise Conflict("Срок экспертизы уже прошёл", code="review_overdue")
    review.status = ReviewStatus.accepted
    review.accepted_at = utcnow()
    review.competing_interests = data.competing_interests or None
    session.flush()
    _record(session, actor, review, "accepted", competing_interests=data.competing_interests)
    return get_review(session, actor=actor, review_id=review.id)


def decline_review(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ReviewDecline
) -> ReviewOut:
    review = _own_assignment(session, actor, review_id)
    if review.status not in OPEN:
        raise Conflict("Отказаться можно только до сдачи заключения", code="review_closed")
    review.status = ReviewStatus.declined
    review.declined_at = utcnow()
    review.decline_reason = data.reason
    session.flush()
    _record(session, actor, review, "declined", reason=data.reason)
    return get_review(session, actor=actor, review_id=review.id)


def cancel_review(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ReviewCancel
) -> ReviewOut:
    review = _assignment(session, actor, review_id)
    _refuse_conflict_of_interest(session, actor, session.get_one(Initiative, review.initiative_id))
    _refuse_managing_peers(session, actor, review)
    if review.status not in OPEN:
        raise Conflict("Отменить можно только незавершённое назначение", code="review_closed")
    review.status = ReviewStatus.cancelled
    review.cancelled_at = utcnow()
    review.cancel_reason = data.reason
    session.flush()
    _record(session, actor, review, "cancelled", reason=data.reason)
    return _reviews_out(session, [review], hide_identity=set())[0]


# --- conclusions ------------------------------------------------------------------------------


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
    review = _own_assignment(session, actor, review_id)
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
    review = _own_assignment(session, actor, review_id)
    _require_accepted(review)
    check_version(review.version, if_match=if_match, body_version=None)
    given = _validate_scores(session, review, data.scores, complete=True)
    _write_conclusion(session, review, data, given)
    review.status = ReviewStatus.submitted
    review.submitted_at = utcnow()
    session.flush()
    _record(
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
    review = _assignment(session, actor, review_id)
    _refuse_conflict_of_interest(session, actor, session.get_one(Initiative, review.initiative_id))
    _refuse_managing_peers(session, actor, review)
    conclusion = session.get(Conclusion, review.id)
    if review.status != ReviewStatus.submitted or conclusion is None:
        raise Conflict("Оценить можно только сданное заключение", code="conclusion_not_submitted")
    if review.expert_id == actor.id:
        raise Forbidden("Нельзя оценивать собственное заключение", code="own_conclusion")
    conclusion.quality_rating = data.rating
    conclusion.quality_rated_by_id = actor.id
    session.flush()
    _record(session, actor, review, "quality_rated", rating=data.rating)
    return _reviews_out(session, [review], hide_identity=set())[0]


# --- summary ----------------------------------------------------------------------------------


def expertise_summary(
    session: Session, *, actor: Principal, initiative_id: uuid.UUID
) -> ExpertiseSummary:
    initiative = initiatives.load_visible(session, actor, initiative_id)
    submitted = (col(ReviewAssignment.initiative_id) == initiative.id) & (
        col(ReviewAssignment.status) == ReviewStatus.submitted
    )
    # The audience of the conclusions themselves (list_initiative_reviews): a round's means
    # would otherwise give away the scores of the one expert who has submitted.
    own = session.execute(
        select(col(ReviewAssignment.review_round), col(ReviewAssignment.status)).where(
            col(ReviewAssignment.initiative_id) == initiative.id,
            col(ReviewAssignment.expert_id) == actor.id,
        )
    ).all()
    reviewing = any(status in OPEN for _, status in own)
    if not _sees_all_reviews(session, actor, initiative, reviewing=reviewing):
        if own:
            rounds_done = {r for r, status in own if status == ReviewStatus.submitted}
            submitted = submitted & col(ReviewAssignment.review_round).in_(rounds_done)
        else:
            _require_authors(session, actor, initiative)
    settings = get_settings()
    normalized = col(ConclusionScore.score) * 100.0 / col(Criterion.max_score)
    # Per conclusion: its weighted normalised score (0-100), computed in SQL.
    per_conclusion = session.execute(
        select(
            col(ReviewAssignment.review_round),
            col(ReviewAssignment.id),
            (func.sum(normalized * col(Criterion.weight)) / func.sum(col(Criterion.weight))),
        )
        .join(ConclusionScore, col(ConclusionScore.assignment_id) == col(ReviewAssignment.id))
        .join(Criterion, col(Criterion.id) == col(ConclusionScore.criterion_id))
        .where(submitted)
        .group_by(col(ReviewAssignment.review_round), col(ReviewAssignment.id))
    ).all()
    per_criterion = session.execute(
        select(
            col(ReviewAssignment.review_round),
            col(Criterion.code),
            col(Criterion.title_ru),
            col(Criterion.max_score),
            func.avg(col(ConclusionScore.score)),
            func.avg(normalized),
            func.min(col(Criterion.position)),
        )
        .join(ConclusionScore, col(ConclusionScore.assignment_id) == col(ReviewAssignment.id))
        .join(Criterion, col(Criterion.id) == col(ConclusionScore.criterion_id))
        .where(submitted)
        .group_by(
            col(ReviewAssignment.review_round),
            col(Criterion.code),
            col(Criterion.title_ru),
            col(Criterion.max_score),
        )
        .order_by(col(ReviewAssignment.review_round), func.min(col(Criterion.position)))
    ).all()
    recommendations = session.execute(
        select(
            col(ReviewAssignment.review_round),
            col(Conclusion.recommendation),
            func.count(),
        )
        .join(Conclusion, col(Conclusion.assignment_id) == col(ReviewAssignment.id))
        .where(submitted)
        .group_by(col(ReviewAssignment.review_round), col(Conclusion.recommendation))
    ).all()
    rounds: dict[int, dict[str, Any]] = defaultdict(
        lambda: {"scores": [], "criteria": [], "recommendations": Counter()}
    )
    for round_no, _, value in per_conclusion:
        rounds[round_no]["scores"].append(float(value))
    for round_no, code, title, max_score, mean, mean_norm, _ in per_criterion:
        rounds[round_no]["criteria"].append(
            CriterionSummary(
                criterion=code,
                title_ru=title,
                mean_score=round(float(mean), 2),
                max_score=max_score,
                mean_normalized=round(float(mean_norm), 1),
            )
        )
    for round_no, recommendation, count in recommendations:
        rounds[round_no]["recommendations"][str(recommendation)] = count
    summaries = []
    for round_no in sorted(rounds):
        scores = rounds[round_no]["scores"]
        spread = max(scores) - min(scores) if len(scores) > 1 else None
        summaries.append(
            RoundSummary(
                review_round=round_no,
                conclusions=len(scores),
                weighted_mean=round(sum(scores) / len(scores), 1) if scores else None,
                criteria=rounds[round_no]["criteria"],
                recommendations=dict(rounds[round_no]["recommendations"]),
                spread=round(spread, 1) if spread is not None else None,
                disagreement=spread is not None and spread > settings.disagreement_threshold,
            )
        )
    return ExpertiseSummary(
        initiative_id=initiative.id,
        current_round=initiative.review_round,
        min_conclusions=settings.min_conclusions,
        rounds=summaries,
    )


# --- expert growth ----------------------------------------------------------------------------


class _Stats:
    """Aggregates per expert and position, each computed by one grouped query."""

    def __init__(self, session: Session, user_ids: Iterable[uuid.UUID] | None = None) -> None:
        ids = None if user_ids is None else list(user_ids)
        submitted = col(ReviewAssignment.status) == ReviewStatus.submitted
        stmt = (
            select(
                col(ReviewAssignment.expert_id),
                col(ReviewAssignment.position),
                func.count(),
                func.min(col(ReviewAssignment.submitted_at)),
                func.sum(
                    case(
                        (col(ReviewAssignment.submitted_at) <= col(ReviewAssignment.due_at), 1),
                        else_=0,
                    )
                ),
                func.avg(col(Conclusion.quality_rating)),
            )
            .join(Conclusion, col(Conclusion.assignment_id) == col(ReviewAssignment.id))
            .where(submitted)
            .group_by(col(ReviewAssignment.expert_id), col(ReviewAssignment.position))
        )
        grants = select(
            col(ExpertPositionGrant.user_id),
            col(ExpertPositionGrant.position),
            col(ExpertPositionGrant.granted_at),
            col(ExpertPositionGrant.reason),
        ).order_by(col(ExpertPositionGrant.granted_at))
        load = (
            select(col(ReviewAssignment.expert_id), func.count())
            .where(col(ReviewAssignment.status).in_(OPEN))
            .group_by(col(ReviewAssignment.expert_id))
        )
        if ids is not None:
            stmt = stmt.where(col(ReviewAssignment.expert_id).in_(ids))
            grants = grants.where(col(ExpertPositionGrant.user_id).in_(ids))
            load = load.where(col(ReviewAssignment.expert_id).in_(ids))
        self.by_position: dict[uuid.UUID, dict[ExpertPosition, Any]] = defaultdict(dict)
        for row in session.execute(stmt):
            self.by_position[row[0]][ExpertPosition(row[1])] = row
        self.grants: dict[uuid.UUID, dict[ExpertPosition, tuple[datetime, str]]] = defaultdict(dict)
        for user_id, position, granted_at, reason in session.execute(grants):
            self.grants[user_id].setdefault(ExpertPosition(position), (granted_at, reason))
        self.load: dict[uuid.UUID, int] = dict(session.execute(load).all())

    def positions(self, user_id: uuid.UUID) -> list[PositionHistory]:
        history = []
        for position in LADDER:
            row = self.by_position[user_id].get(position)
            grant = self.grants[user_id].get(position)
            dates: list[tuple[datetime, str, str | None]] = []
            if grant:
                dates.append((grant[0], "granted", grant[1]))
            if row is not None:
                dates.append((row[3], "conclusion", None))
            if not dates:
                continue
            first, source, reason = min(dates, key=lambda d: d[0])
            history.append(
                PositionHistory(
                    position=position,
                    first_reached_at=first,
                    source=source,
                    conclusions=row[2] if row is not None else 0,
                    on_time_rate=round(int(row[4] or 0) / row[2], 3) if row else None,
                    average_quality=(
                        round(float(row[5]), 2) if row is not None and row[5] is not None else None
                    ),
                    reason=reason,
                )
            )
        return history

    def profile(self, user_id: uuid.UUID, full_name: str, org: uuid.UUID | None) -> ExpertProfile:
        rows = self.by_position[user_id].values()
        total = sum(r[2] for r in rows)
        on_time = sum(int(r[4] or 0) for r in rows)
        rated = [(float(r[5]), r[2]) for r in rows if r[5] is not None]
        weight = sum(n for _, n in rated)
        return ExpertProfile(
            user_id=user_id,
            full_name=full_name,
            organization_id=org,
            positions=self.positions(user_id),
            conclusions_submitted=total,
            on_time_rate=round(on_time / total, 3) if total else None,
            average_quality=round(sum(q * n for q, n in rated) / weight, 2) if weight else None,
            open_reviews=self.load.get(user_id, 0),
        )

    def grows_into(self, user_id: uuid.UUID, position: ExpertPosition) -> bool:
        """Ready for the next rung: at least two conclusions on the previous one, rated 4+."""
        rung = LADDER.index(position)
        if rung == 0:
            return False
        row = self.by_position[user_id].get(LADDER[rung - 1])
        return row is not None and row[2] >= 2 and row[5] is not None and float(row[5]) >= 4


def _experts_query() -> Any:
    return select(col(User.id), col(User.full_name), col(User.organization_id)).where(
        col(User.is_active).is_(True),
        select(col(UserRole.user_id))
        .where(col(UserRole.user_id) == col(User.id), col(UserRole.role) == Role.expert)
        .exists(),
    )


EXPERT_ORDER = SortKey([col(User.full_name), col(User.id)], [str, uuid.UUID])


def list_experts(
    session: Session, *, cursor: str | None, limit: int
) -> tuple[list[ExpertProfile], str | None]:
    rows = session.execute(paginate(_experts_query(), EXPERT_ORDER, cursor=cursor, limit=limit))
    page, next_cursor = split_page(rows.all(), limit, lambda r: [r.full_name, r.id])
    stats = _Stats(session, [r.id for r in page])
    return [stats.profile(r.id, r.full_name, r.organization_id) for r in page], next_cursor


def expert_profile(session: Session, *, actor: Principal, user_id: uuid.UUID) -> ExpertProfile:
    if user_id != actor.id and not can(actor, Action.experts_read):
        raise NotFound("Эксперт не найден")
    row = session.execute(_experts_query().where(col(User.id) == user_id)).first()
    if row is None:
        raise NotFound("Эксперт не найден")
    return _Stats(session, [user_id]).profile(row.id, row.full_name, row.organization_id)


def grant_position(
    session: Session, *, actor: Principal, user_id: uuid.UUID, data: PositionGrantIn
) -> ExpertProfile:
    if session.execute(_experts_query().where(col(User.id) == user_id)).first() is None:
        raise NotFound("Эксперт не найден")
    grant = ExpertPositionGrant(
        user_id=user_id, position=data.position, reason=data.reason, granted_by_id=actor.id
    )
    session.add(grant)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="expert.position_granted",
        entity_type="user",
        entity_id=user_id,
        data=data.model_dump(mode="json"),
    )
    return expert_profile(session, actor=actor, user_id=user_id)


def suggest_experts(
    session: Session,
    *,
    actor: Principal,
    initiative_id: uuid.UUID,
    position: ExpertPosition,
    limit: int,
) -> list[ExpertSuggestion]:
    """Eligible experts ranked by experience with the topics and the education level, open
    load and readiness for the position; conflicts of interest are left out."""
    initiative = initiatives.load_visible(session, actor, initiative_id)
    _refuse_conflict_of_interest(session, actor, initiative)
    excluded = set(
        session.scalars(
            select(col(InitiativeMember.user_id)).where(
                col(InitiativeMember.initiative_id) == initiative.id
            )
        )
    ) | {initiative.author_id}
    excluded |= set(
        session.scalars(
            select(col(ReviewAssignment.expert_id)).where(
                col(ReviewAssignment.initiative_id) == initiative.id,
                col(ReviewAssignment.review_round) == initiative.review_round,
                col(ReviewAssignment.status).not_in(
                    [ReviewStatus.declined, ReviewStatus.cancelled]
                ),
            )
        )
    )
    candidates = [
        r
        for r in session.execute(_experts_query())
        if r.id not in excluded and r.organization_id != initiative.organization_id
    ]
    ids = [r.id for r in candidates]
    submitted = col(ReviewAssignment.status) == ReviewStatus.submitted
    topics = list(initiative.topics)
    topic_hits: dict[uuid.UUID, int] = {}
    if topics:
        topic_hits = dict(
            session.execute(
                select(
                    col(ReviewAssignment.expert_id),
                    func.count(func.distinct(col(ReviewAssignment.id))),
                )
                .join(
                    InitiativeTopic,
                    col(InitiativeTopic.initiative_id) == col(ReviewAssignment.initiative_id),
                )
                .where(
                    submitted,
                    col(ReviewAssignment.expert_id).in_(ids),
                    col(InitiativeTopic.topic).in_([topic_key(t) for t in topics]),
                )
                .group_by(col(ReviewAssignment.expert_id))
            ).all()
        )
    level_hits: dict[uuid.UUID, int] = dict(
        session.execute(
            select(col(ReviewAssignment.expert_id), func.count())
            .join(Initiative, col(Initiative.id) == col(ReviewAssignment.initiative_id))
            .where(
                submitted,
                col(ReviewAssignment.expert_id).in_(ids),
                col(Initiative.education_level) == initiative.education_level,
            )
            .group_by(col(ReviewAssignment.expert_id))
        ).all()
    )
    stats = _Stats(session, ids)
    suggestions = []
    label = POSITION_LABELS[position]
    for r in candidates:
        held = {p.position for p in stats.positions(r.id)}
        score, reasons = 0.0, []
        if position in held:
            score += 3
            reasons.append(f"уже работал(а) в позиции «{label}»")
        elif stats.grows_into(r.id, position):
            score += 2
            previous = POSITION_LABELS[LADDER[LADDER.index(position) - 1]]
            reasons.append(
                f"рост: хорошие заключения в позиции «{previous}» — предлагаем позицию «{label}»"
            )
        elif position == LADDER[0]:
            score += 1
            reasons.append(f"начальная позиция «{label}»")
        if topic_hits.get(r.id):
            score += topic_hits[r.id]
            reasons.append(f"заключений по темам инициативы: {topic_hits[r.id]}")
        if level_hits.get(r.id):
            score += 0.5 * level_hits[r.id]
            reasons.append(f"заключений по этому уровню образования: {level_hits[r.id]}")
        open_reviews = stats.load.get(r.id, 0)
        if open_reviews:
            score -= open_reviews
            reasons.append(f"открытых экспертиз сейчас: {open_reviews}")
        else:
            reasons.append("свободен(на): открытых экспертиз нет")
        suggestions.append(
            ExpertSuggestion(
                expert_id=r.id,
                full_name=r.full_name,
                organization_id=r.organization_id,
                score=score,
                open_reviews=open_reviews,
                reasons=reasons,
            )
        )
    suggestions.sort(key=lambda s: (-s.score, s.full_name))
    return suggestions[:limit]
