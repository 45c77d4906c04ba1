"""Review assignments: the office asks an expert to review an initiative in a round, the expert
accepts or declines, the office cancels; who reads which reviews (blind reading, conflicts of
interest)."""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
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
    Initiative,
    InitiativeMember,
    InitiativeStatus,
    ReviewAssignment,
    ReviewStatus,
    Role,
    User,
    UserRole,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import ObjectRule, passes
from app.schemas.expertise import (
    ConclusionOut,
    ReviewAccept,
    ReviewAssign,
    ReviewCancel,
    ReviewDecline,
    ReviewOut,
    ScoreOut,
)
from app.security import Principal
from app.services import events, initiatives, lifecycle

OPEN = (ReviewStatus.invited, ReviewStatus.accepted)


def reviews_out(
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


def is_office(actor: Principal) -> bool:
    return passes(actor, ObjectRule.review_conclusions_read)


def refuse_conflict_of_interest(session: Session, actor: Principal, initiative: Initiative) -> None:
    """Office people who wrote an initiative or are on its team do not run its expertise: the
    same rule as the lifecycle's office decisions."""
    reason = lifecycle.independent_of_initiative(session, initiative, actor)
    if reason is not None:
        raise Forbidden(reason, code="conflict_of_interest")


def sees_all_reviews(
    session: Session, actor: Principal, initiative: Initiative, *, reviewing: bool
) -> bool:
    """Office roles see every review of an initiative, except one they wrote or are on the team
    of (they read it as its author does, blind) and one they review themselves while their own
    conclusion is not in (they read it as any expert does). `reviewing`: the caller holds an
    open assignment on it."""
    return (
        is_office(actor)
        and not reviewing
        and lifecycle.independent_of_initiative(session, initiative, actor) is None
    )


def list_initiative_reviews(
    session: Session, *, actor: Principal, initiative_id: uuid.UUID
) -> list[ReviewOut]:
    """Office roles see everything (see sees_all_reviews). An expert sees their own assignment,
    and the others' submitted conclusions of a round once theirs is in. The author and team see
    submitted conclusions, without the experts' identity when reviews are blind."""
    initiative = initiatives.load_visible(session, actor, initiative_id)
    rows = session.scalars(
        select(ReviewAssignment)
        .where(col(ReviewAssignment.initiative_id) == initiative.id)
        .order_by(col(ReviewAssignment.review_round), col(ReviewAssignment.created_at))
    ).all()
    reviewing = any(r.expert_id == actor.id and r.status in OPEN for r in rows)
    if sees_all_reviews(session, actor, initiative, reviewing=reviewing):
        return reviews_out(session, rows, hide_identity=set())
    blind = get_settings().blind_reviews
    own = [r for r in rows if r.expert_id == actor.id]
    submitted = [r for r in rows if r.status == ReviewStatus.submitted]
    if own:
        rounds_done = {r.review_round for r in own if r.status == ReviewStatus.submitted}
        others = [r for r in submitted if r.expert_id != actor.id and r.review_round in rounds_done]
        visible = sorted(own + others, key=lambda r: (r.review_round, r.created_at))
        return reviews_out(
            session, visible, hide_identity={r.id for r in others} if blind else set()
        )
    require_authors(session, actor, initiative)
    return reviews_out(
        session, submitted, hide_identity={r.id for r in submitted} if blind else set()
    )


def require_authors(session: Session, actor: Principal, initiative: Initiative) -> None:
    """The last audience of the conclusions: the initiative's author and team."""
    is_author, team_role = initiatives.membership(session, actor, initiative)
    if not is_author and team_role is None:
        raise Forbidden(
            "Экспертные заключения видят офис, эксперты инициативы и её авторы",
            code="reviews_hidden",
        )


def load_assignment(session: Session, actor: Principal, review_id: uuid.UUID) -> ReviewAssignment:
    """The assignment if the caller is its expert or an office role; otherwise a 404."""
    found = session.get(ReviewAssignment, review_id)
    if found is None or not (found.expert_id == actor.id or is_office(actor)):
        raise NotFound("Назначение на экспертизу не найдено", code="review_not_found")
    return found


def own_assignment(session: Session, actor: Principal, review_id: uuid.UUID) -> ReviewAssignment:
    found = session.get(ReviewAssignment, review_id)
    if found is None or found.expert_id != actor.id:
        raise NotFound("Назначение на экспертизу не найдено", code="review_not_found")
    return found


def open_assignment_of(actor: Principal, initiative_id: Any) -> Any:
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


def refuse_managing_peers(session: Session, actor: Principal, review: ReviewAssignment) -> None:
    """An office person reviewing an initiative themselves neither cancels nor rates the other
    experts' work on it while their own conclusion is not in: the answer would show them the
    conclusions they may not read yet."""
    if (
        review.expert_id != actor.id
        and session.execute(select(open_assignment_of(actor, review.initiative_id))).scalar_one()
    ):
        raise Forbidden(
            "Вы сами эксперт этой инициативы: сначала сдайте своё заключение",
            code="conflict_of_interest",
        )


def get_review(session: Session, *, actor: Principal, review_id: uuid.UUID) -> ReviewOut:
    """The expert's own assignment, or, for the office, one it sees in full; other people's
    reviews are 404 (an author reads the conclusions on their initiative, blind, from its
    reviews list)."""
    review = load_assignment(session, actor, review_id)
    if review.expert_id != actor.id:
        reviewing = session.execute(
            select(open_assignment_of(actor, review.initiative_id))
        ).scalar_one()
        initiative = session.get_one(Initiative, review.initiative_id)
        if not sees_all_reviews(session, actor, initiative, reviewing=reviewing):
            raise NotFound("Назначение на экспертизу не найдено", code="review_not_found")
    return reviews_out(session, [review], hide_identity=set())[0]


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
    if mine or not is_office(actor):
        # Anyone but the office sees only the assignments made to them.
        stmt = stmt.where(own)
    else:
        # The rows sees_all_reviews would refuse: the office person's own initiatives and those
        # they are reviewing themselves.
        reviewed = col(ReviewAssignment.initiative_id)
        related = reviewed.in_(initiatives.authored_or_team_of(actor.id))
        stmt = stmt.where(or_(own, ~or_(related, open_assignment_of(actor, reviewed))))
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
    return reviews_out(session, page, hide_identity=set()), next_cursor


def active_set_id(session: Session) -> uuid.UUID:
    found = session.scalars(
        select(col(CriteriaSet.id)).where(col(CriteriaSet.is_active).is_(True))
    ).first()
    if found is None:
        raise Conflict("Нет действующего набора критериев экспертизы", code="no_active_criteria")
    return found


def record_review_event(
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
    refuse_conflict_of_interest(session, actor, initiative)
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
        criteria_set_id=active_set_id(session),
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
    record_review_event(session, actor, review, "assigned", **data.model_dump(mode="json"))
    # Not get_review: an office member reviewing the initiative assigns the others too.
    return reviews_out(session, [review], hide_identity=set())[0]


def accept_review(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ReviewAccept
) -> ReviewOut:
    review = own_assignment(session, actor, review_id)
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
    record_review_event(
        session, actor, review, "accepted", competing_interests=data.competing_interests
    )
    return get_review(session, actor=actor, review_id=review.id)


def decline_review(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ReviewDecline
) -> ReviewOut:
    review = own_assignment(session, actor, review_id)
    if review.status not in OPEN:
        raise Conflict("Отказаться можно только до сдачи заключения", code="review_closed")
    review.status = ReviewStatus.declined
    review.declined_at = utcnow()
    review.decline_reason = data.reason
    session.flush()
    record_review_event(session, actor, review, "declined", reason=data.reason)
    return get_review(session, actor=actor, review_id=review.id)


def cancel_review(
    session: Session, *, actor: Principal, review_id: uuid.UUID, data: ReviewCancel
) -> ReviewOut:
    review = load_assignment(session, actor, review_id)
    refuse_conflict_of_interest(session, actor, session.get_one(Initiative, review.initiative_id))
    refuse_managing_peers(session, actor, review)
    if review.status not in OPEN:
        raise Conflict("Отменить можно только незавершённое назначение", code="review_closed")
    review.status = ReviewStatus.cancelled
    review.cancelled_at = utcnow()
    review.cancel_reason = data.reason
    session.flush()
    record_review_event(session, actor, review, "cancelled", reason=data.reason)
    return reviews_out(session, [review], hide_identity=set())[0]
