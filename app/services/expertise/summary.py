"""The expertise summary of an initiative: rounds, scores per criterion, the experts' spread and
whether they disagree strongly."""

import uuid
from collections import Counter, defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.config import get_settings
from app.models import (
    Conclusion,
    ConclusionScore,
    Criterion,
    ReviewAssignment,
    ReviewStatus,
)
from app.schemas.expertise import (
    CriterionSummary,
    ExpertiseSummary,
    RoundSummary,
)
from app.security import Principal
from app.services import initiatives
from app.services.expertise.assignments import OPEN, require_authors, sees_all_reviews


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
    if not sees_all_reviews(session, actor, initiative, reviewing=reviewing):
        if own:
            rounds_done = {r for r, status in own if status == ReviewStatus.submitted}
            submitted = submitted & col(ReviewAssignment.review_round).in_(rounds_done)
        else:
            require_authors(session, actor, initiative)
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
