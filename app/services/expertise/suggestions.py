"""Which experts to ask for an initiative: topics they know, their load, conflicts of interest and
the position they are growing into."""

import uuid

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.models import (
    ExpertPosition,
    Initiative,
    InitiativeMember,
    InitiativeTopic,
    ReviewAssignment,
    ReviewStatus,
)
from app.schemas.expertise import (
    ExpertSuggestion,
)
from app.security import Principal
from app.services import initiatives
from app.services.expertise.assignments import refuse_conflict_of_interest
from app.services.expertise.experts import LADDER, ExpertStats, experts_query
from app.text import topic_key

POSITION_LABELS = {
    ExpertPosition.content_expert: "содержательный эксперт",
    ExpertPosition.methodologist: "системный эксперт-методолог",
    ExpertPosition.developmental_expert: "развивающий эксперт",
    ExpertPosition.developer: "развиватель",
}


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
    refuse_conflict_of_interest(session, actor, initiative)
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
        for r in session.execute(experts_query())
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
    stats = ExpertStats(session, ids)
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
