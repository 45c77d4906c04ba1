"""Lifecycle guards and effects that belong to expertise. Kept apart from the rest of the
package (which imports the lifecycle) so the lifecycle table can name them without an import
cycle."""

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.config import get_settings
from app.models import CriteriaSet, Initiative, ReviewAssignment, ReviewStatus
from app.models.base import utcnow
from app.security import Principal
from app.services import events


def active_criteria_set(session: Session, _: Initiative, __: Principal) -> str | None:
    found = session.execute(
        select(col(CriteriaSet.id)).where(col(CriteriaSet.is_active).is_(True))
    ).first()
    return None if found else "Нет действующего набора критериев экспертизы"


def _count(session: Session, initiative: Initiative, status: ReviewStatus) -> int:
    return int(
        session.execute(
            select(func.count()).where(
                col(ReviewAssignment.initiative_id) == initiative.id,
                col(ReviewAssignment.review_round) == initiative.review_round,
                col(ReviewAssignment.status) == status,
            )
        ).scalar_one()
    )


def enough_conclusions(session: Session, initiative: Initiative, _: Principal) -> str | None:
    needed = get_settings().min_conclusions
    submitted = _count(session, initiative, ReviewStatus.submitted)
    if submitted >= needed:
        return None
    return (
        f"Нужно не меньше {needed} экспертных заключений раунда {initiative.review_round}; "
        f"подано {submitted}"
    )


def no_pending_reviews(session: Session, initiative: Initiative, _: Principal) -> str | None:
    pending = _count(session, initiative, ReviewStatus.accepted)
    if pending == 0:
        return None
    return f"Эксперты приняли, но ещё не сдали заключения: {pending}"


def close_open_reviews(session: Session, initiative: Initiative, actor: Principal) -> None:
    """When an initiative leaves expertise, the round's invitations and accepted but unsubmitted
    assignments end with it: a conclusion on a closed round would otherwise still be accepted,
    and the expert would keep it as open load."""
    # Without no_autoflush the query would flush the initiative's new status early, and the
    # transition's own flush would then count a second version.
    with session.no_autoflush:
        open_reviews = session.scalars(
            select(ReviewAssignment).where(
                col(ReviewAssignment.initiative_id) == initiative.id,
                col(ReviewAssignment.status).in_([ReviewStatus.invited, ReviewStatus.accepted]),
            )
        ).all()
    reason = f"Раунд экспертизы {initiative.review_round} закрыт: инициатива вышла из экспертизы"
    now = utcnow()
    for review in open_reviews:
        review.status = ReviewStatus.cancelled
        review.cancelled_at = now
        review.cancel_reason = reason
        events.record(
            session,
            actor=actor,
            action="review.cancelled",
            entity_type="review",
            entity_id=review.id,
            data={"initiative_id": str(initiative.id), "reason": reason},
        )
