"""Criteria sets: numbered editions of the expertise criteria, one of them active."""

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.errors import Conflict, NotFound
from app.models import (
    CriteriaSet,
    Criterion,
    ReviewAssignment,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.expertise import (
    CriteriaSetCreate,
    CriteriaSetOut,
    CriterionOut,
)
from app.security import Principal
from app.services import events

_NUMBER_ATTEMPTS = 5


_NUMBER_LOCK = 0x70726F6A63726974  # pg_advisory_xact_lock key: criteria set numbers


_ACTIVE_LOCK = 0x70726F6A61637476  # pg_advisory_xact_lock key: which criteria set is active


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
