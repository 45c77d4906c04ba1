"""Experts' growth: their positions on the ladder, profiles with on-time rate and quality, and the
head's grants of a new position."""

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlmodel import Session, col

from app.errors import NotFound
from app.models import (
    Conclusion,
    ExpertPosition,
    ExpertPositionGrant,
    ReviewAssignment,
    ReviewStatus,
    Role,
    User,
    UserRole,
)
from app.pagination import SortKey, paginate, split_page
from app.policy import Action, can
from app.schemas.expertise import (
    ExpertProfile,
    PositionGrantIn,
    PositionHistory,
)
from app.security import Principal
from app.services import events
from app.services.expertise.assignments import OPEN

LADDER = list(ExpertPosition)


class ExpertStats:
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


def experts_query() -> Any:
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
    rows = session.execute(paginate(experts_query(), EXPERT_ORDER, cursor=cursor, limit=limit))
    page, next_cursor = split_page(rows.all(), limit, lambda r: [r.full_name, r.id])
    stats = ExpertStats(session, [r.id for r in page])
    return [stats.profile(r.id, r.full_name, r.organization_id) for r in page], next_cursor


def expert_profile(session: Session, *, actor: Principal, user_id: uuid.UUID) -> ExpertProfile:
    if user_id != actor.id and not can(actor, Action.experts_read):
        raise NotFound("Эксперт не найден")
    row = session.execute(experts_query().where(col(User.id) == user_id)).first()
    if row is None:
        raise NotFound("Эксперт не найден")
    return ExpertStats(session, [user_id]).profile(row.id, row.full_name, row.organization_id)


def grant_position(
    session: Session, *, actor: Principal, user_id: uuid.UUID, data: PositionGrantIn
) -> ExpertProfile:
    if session.execute(experts_query().where(col(User.id) == user_id)).first() is None:
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
