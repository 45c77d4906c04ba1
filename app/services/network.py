"""The life of the network: its events, and the graph of who works with whom.

The graph is assembled from edge sources, one function each (joint events, teams, reviews…):
a new kind of link is one more function in `EDGE_SOURCES`.
"""

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true, union
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete

from app.config import get_settings
from app.errors import Forbidden, InvalidInput, NotFound
from app.models import (
    ConsultationConsultant,
    ConsultationSession,
    ConsultationTrack,
    Initiative,
    InitiativeMember,
    InitiativeStatus,
    NetworkEdgeKind,
    NetworkEvent,
    NetworkEventKind,
    NetworkEventOrganization,
    NetworkEventParticipant,
    NetworkNodeKind,
    Organization,
    ReviewAssignment,
    ReviewStatus,
    Transition,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import Action, ObjectRule, can, passes
from app.schemas.network import (
    GraphEdge,
    GraphNode,
    NetworkEventCreate,
    NetworkEventPublic,
    NetworkEventSummary,
    NetworkEventUpdate,
    NetworkGraph,
    OrganizationRef,
    PersonRef,
)
from app.security import Principal
from app.services import events, initiatives, organizations
from app.services.lifecycle import TERMINAL
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text

ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "network_event_kind": {
        NetworkEventKind.seminar: ("Семинар", "Seminar"),
        NetworkEventKind.master_class: ("Мастер-класс", "Master class"),
        NetworkEventKind.lab: ("Лаборатория", "Lab"),
        NetworkEventKind.network_project_meeting: (
            "Встреча сетевого проекта",
            "Network project meeting",
        ),
        NetworkEventKind.open_lesson: ("Открытый урок", "Open lesson"),
        NetworkEventKind.conference: ("Конференция", "Conference"),
    },
    "network_node_kind": {
        NetworkNodeKind.person: ("Человек", "Person"),
        NetworkNodeKind.organization: ("Организация", "Organization"),
    },
    "network_edge_kind": {
        NetworkEdgeKind.joint_event: ("Участие в общих событиях", "Joint events"),
        NetworkEdgeKind.team: ("Одна команда инициативы", "Same initiative team"),
        NetworkEdgeKind.consultation: ("Консультирование", "Consultation"),
        NetworkEdgeKind.review: ("Экспертиза", "Review"),
        NetworkEdgeKind.affiliation: ("Место работы", "Affiliation"),
    },
}

# --- events: reading ----------------------------------------------------------------------------


def _load(session: Session, event_id: uuid.UUID) -> NetworkEvent:
    event = session.get(NetworkEvent, event_id)
    if event is None:
        raise NotFound("Событие сети не найдено", code="network_event_not_found")
    return event


def _public(session: Session, event: NetworkEvent) -> NetworkEventPublic:
    """Three queries whatever the size of the event: organizer, people, organizations."""
    organizer = session.execute(
        select(
            select(col(User.full_name)).where(col(User.id) == event.organizer_id).scalar_subquery(),
            select(col(Organization.short_name))
            .where(col(Organization.id) == event.organizer_organization_id)
            .scalar_subquery(),
        )
    ).one()
    people = session.execute(
        select(col(User.id), col(User.full_name))
        .join(NetworkEventParticipant, col(NetworkEventParticipant.user_id) == col(User.id))
        .where(col(NetworkEventParticipant.event_id) == event.id)
        .order_by(col(User.full_name), col(User.id))
    ).all()
    orgs = session.execute(
        select(col(Organization.id), col(Organization.short_name))
        .join(
            NetworkEventOrganization,
            col(NetworkEventOrganization.organization_id) == col(Organization.id),
        )
        .where(col(NetworkEventOrganization.event_id) == event.id)
        .order_by(col(Organization.short_name), col(Organization.id))
    ).all()
    return NetworkEventPublic(
        id=event.id,
        title=event.title,
        kind=event.kind,
        held_at=event.held_at,
        location=event.location,
        organizer_id=event.organizer_id,
        organizer_organization_id=event.organizer_organization_id,
        initiative_id=event.initiative_id,
        participants_count=len(people),
        organizations_count=len(orgs),
        version=event.version,
        created_at=event.created_at,
        updated_at=event.updated_at,
        description=event.description,
        organizer=PersonRef(id=event.organizer_id, full_name=organizer[0]),
        organizer_organization=(
            OrganizationRef(id=event.organizer_organization_id, short_name=organizer[1])
            if event.organizer_organization_id
            else None
        ),
        participants=[PersonRef(id=p[0], full_name=p[1]) for p in people],
        organizations=[OrganizationRef(id=o[0], short_name=o[1]) for o in orgs],
        created_by_id=event.created_by_id,
    )


def get_event(session: Session, *, event_id: uuid.UUID) -> NetworkEventPublic:
    return _public(session, _load(session, event_id))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


EVENT_ORDER = SortKey(
    [col(NetworkEvent.held_at), col(NetworkEvent.id)], [datetime, uuid.UUID], descending=True
)


def list_events(
    session: Session,
    *,
    kind: NetworkEventKind | None,
    date_from: date | None,
    date_to: date | None,
    organization_id: uuid.UUID | None,
    participant_id: uuid.UUID | None,
    initiative_id: uuid.UUID | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[NetworkEventSummary], str | None]:
    """Latest first. `organization_id` and `participant_id` match organizers too."""
    participants = (
        select(func.count())
        .where(col(NetworkEventParticipant.event_id) == col(NetworkEvent.id))
        .correlate(NetworkEvent)
        .scalar_subquery()
    )
    orgs = (
        select(func.count())
        .where(col(NetworkEventOrganization.event_id) == col(NetworkEvent.id))
        .correlate(NetworkEvent)
        .scalar_subquery()
    )
    stmt = select(
        col(NetworkEvent.id),
        col(NetworkEvent.title),
        col(NetworkEvent.kind),
        col(NetworkEvent.held_at),
        col(NetworkEvent.location),
        col(NetworkEvent.organizer_id),
        col(NetworkEvent.organizer_organization_id),
        col(NetworkEvent.initiative_id),
        participants.label("participants_count"),
        orgs.label("organizations_count"),
        col(NetworkEvent.version),
        col(NetworkEvent.created_at),
        col(NetworkEvent.updated_at),
    )
    if kind is not None:
        stmt = stmt.where(col(NetworkEvent.kind) == kind)
    if date_from is not None:
        stmt = stmt.where(col(NetworkEvent.held_at) >= _day_start(date_from))
    if date_to is not None:
        stmt = stmt.where(col(NetworkEvent.held_at) < _day_start(date_to + timedelta(days=1)))
    if organization_id is not None:
        stmt = stmt.where(
            or_(
                col(NetworkEvent.organizer_organization_id) == organization_id,
                col(NetworkEvent.id).in_(
                    select(col(NetworkEventOrganization.event_id)).where(
                        col(NetworkEventOrganization.organization_id) == organization_id
                    )
                ),
            )
        )
    if participant_id is not None:
        stmt = stmt.where(
            or_(
                col(NetworkEvent.organizer_id) == participant_id,
                col(NetworkEvent.id).in_(
                    select(col(NetworkEventParticipant.event_id)).where(
                        col(NetworkEventParticipant.user_id) == participant_id
                    )
                ),
            )
        )
    if initiative_id is not None:
        stmt = stmt.where(col(NetworkEvent.initiative_id) == initiative_id)
    if q:
        stmt = stmt.where(
            col(NetworkEvent.search_text).like(contains_pattern(q), escape=LIKE_ESCAPE)
        )
    rows = session.execute(paginate(stmt, EVENT_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.held_at, r.id])
    return [NetworkEventSummary.model_validate(r._mapping) for r in page], next_cursor


# --- events: writing ----------------------------------------------------------------------------


def _check_people(session: Session, ids: Sequence[uuid.UUID], *, loc: list[str]) -> None:
    if not ids:
        return
    found = set(session.scalars(select(col(User.id)).where(col(User.id).in_(list(ids)))).all())
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            f"Пользователи не найдены: {', '.join(missing)}",
            loc=loc,
            code="unknown_user",
            extra={"user_ids": missing},
        )


def _check_organizations(session: Session, ids: Sequence[uuid.UUID], *, loc: list[str]) -> None:
    if not ids:
        return
    found = set(
        session.scalars(
            select(col(Organization.id)).where(col(Organization.id).in_(list(ids)))
        ).all()
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            f"Организации не найдены: {', '.join(missing)}",
            loc=loc,
            code="unknown_organization",
            extra={"organization_ids": missing},
        )


def _check_initiative(session: Session, actor: Principal, initiative_id: uuid.UUID | None) -> None:
    """A linked initiative must be one the caller can see (someone's draft is unknown)."""
    if initiative_id is None:
        return
    try:
        initiatives.get_initiative(session, actor=actor, initiative_id=initiative_id)
    except NotFound as exc:
        raise InvalidInput(
            f"Инициатива {initiative_id} не найдена",
            loc=["body", "initiative_id"],
            code="unknown_initiative",
        ) from exc


def _organization_of(session: Session, user_id: uuid.UUID) -> uuid.UUID | None:
    organization_id: uuid.UUID | None = session.scalars(
        select(col(User.organization_id)).where(col(User.id) == user_id)
    ).first()
    return organization_id


def _refresh_search(event: NetworkEvent) -> None:
    event.search_text = search_text(event.title, event.description, event.location)


def _set_members(
    session: Session,
    event_id: uuid.UUID,
    *,
    people: list[uuid.UUID] | None,
    orgs: list[uuid.UUID] | None,
) -> None:
    if people is not None:
        session.execute(
            delete(NetworkEventParticipant).where(col(NetworkEventParticipant.event_id) == event_id)
        )
        session.add_all(NetworkEventParticipant(event_id=event_id, user_id=u) for u in people)
    if orgs is not None:
        session.execute(
            delete(NetworkEventOrganization).where(
                col(NetworkEventOrganization.event_id) == event_id
            )
        )
        session.add_all(
            NetworkEventOrganization(event_id=event_id, organization_id=o) for o in orgs
        )


def create_event(
    session: Session, *, actor: Principal, data: NetworkEventCreate
) -> NetworkEventPublic:
    organizer_id = data.organizer_id or actor.id
    _check_people(session, [organizer_id], loc=["body", "organizer_id"])
    _check_people(session, data.participant_ids, loc=["body", "participant_ids"])
    _check_organizations(session, data.organization_ids, loc=["body", "organization_ids"])
    organizer_org = data.organizer_organization_id
    if organizer_org is None:
        organizer_org = (
            actor.organization_id
            if organizer_id == actor.id
            else _organization_of(session, organizer_id)
        )
    else:
        organizations.ensure_exists(
            session, organizer_org, loc=["body", "organizer_organization_id"]
        )
    _check_initiative(session, actor, data.initiative_id)
    now = utcnow()
    event = NetworkEvent(
        title=data.title,
        kind=data.kind,
        description=data.description,
        location=data.location,
        held_at=data.held_at.astimezone(UTC),
        organizer_id=organizer_id,
        organizer_organization_id=organizer_org,
        initiative_id=data.initiative_id,
        created_by_id=actor.id,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    _refresh_search(event)
    session.add(event)
    session.flush()
    _set_members(session, event.id, people=data.participant_ids, orgs=data.organization_ids)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="network_event.created",
        entity_type="network_event",
        entity_id=event.id,
        data={
            **data.model_dump(mode="json"),
            "organizer_id": str(organizer_id),
            "organizer_organization_id": str(organizer_org) if organizer_org else None,
        },
    )
    return _public(session, event)


NOT_NULL = (
    "title",
    "kind",
    "description",
    "held_at",
    "organizer_id",
    "participant_ids",
    "organization_ids",
)


def update_event(
    session: Session,
    *,
    actor: Principal,
    event_id: uuid.UUID,
    data: NetworkEventUpdate,
    if_match: int | None,
) -> NetworkEventPublic:
    event = _load(session, event_id)
    if actor.id not in (event.created_by_id, event.organizer_id) and not can(
        actor, Action.network_events_manage
    ):
        raise Forbidden(
            "Исправлять событие могут его организатор, автор записи и проектный офис",
            code="not_event_organizer",
        )
    check_version(event.version, if_match=if_match, body_version=data.version)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    for name in NOT_NULL:
        if name in patch and patch[name] is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )
    if "organizer_id" in patch:
        _check_people(session, [patch["organizer_id"]], loc=["body", "organizer_id"])
    if patch.get("participant_ids"):
        _check_people(session, patch["participant_ids"], loc=["body", "participant_ids"])
    if patch.get("organization_ids"):
        _check_organizations(session, patch["organization_ids"], loc=["body", "organization_ids"])
    if patch.get("organizer_organization_id"):
        organizations.ensure_exists(
            session, patch["organizer_organization_id"], loc=["body", "organizer_organization_id"]
        )
    if patch.get("initiative_id"):
        _check_initiative(session, actor, patch["initiative_id"])
    current = _public(session, event)
    before = {
        **current.model_dump(mode="json"),
        "participant_ids": [str(p.id) for p in current.participants],
        "organization_ids": [str(o.id) for o in current.organizations],
    }
    after = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    for key in ("participant_ids", "organization_ids"):
        if key in after and sorted(after[key]) == sorted(before[key]):
            del after[key]  # the same people in another order are no change
    diff = events.changes(before, after)
    if not diff:
        return current
    for name, value in patch.items():
        if name not in ("participant_ids", "organization_ids"):
            setattr(event, name, value)
    if "held_at" in patch:
        event.held_at = patch["held_at"].astimezone(UTC)
    _refresh_search(event)
    event.updated_at = utcnow()
    session.flush()  # one UPDATE, one version step, before the member rows change
    _set_members(
        session, event.id, people=patch.get("participant_ids"), orgs=patch.get("organization_ids")
    )
    session.flush()
    events.record(
        session,
        actor=actor,
        action="network_event.updated",
        entity_type="network_event",
        entity_id=event.id,
        data={"changes": diff},
    )
    return _public(session, event)


# --- graph --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Period:
    """[start, end) in UTC; either side may be open."""

    start: datetime | None
    end: datetime | None

    def happened(self, moment: Any) -> ColumnElement[bool]:
        conditions = []
        if self.start is not None:
            conditions.append(moment >= self.start)
        if self.end is not None:
            conditions.append(moment < self.end)
        return and_(*conditions) if conditions else true()


EdgeRows = Iterable[tuple[uuid.UUID, uuid.UUID, int]]


@dataclass(frozen=True, slots=True)
class EdgeSource:
    """One kind of link: which node kinds it joins and how to collect `(a, b, weight)` rows."""

    kind: NetworkEdgeKind
    ends: tuple[NetworkNodeKind, NetworkNodeKind]
    collect: Callable[[Session, Period], EdgeRows]
    # Whether the caller may see these links at all (e.g. blind reviews).
    shown_to: Callable[[Principal], bool] = lambda _: True


def _pairs(members: Any, weight_of: Any, period_filter: ColumnElement[bool]) -> Select[Any]:
    """Unordered pairs of `member_id`s sharing a `group_id`, counted: `a < b`, one row a pair."""
    a, b = aliased(members), aliased(members)
    return (
        select(a.c.member_id, b.c.member_id, func.count())
        .select_from(a)
        .join(b, and_(a.c.group_id == b.c.group_id, a.c.member_id < b.c.member_id))
        .join(weight_of, weight_of.c.id == a.c.group_id)
        .where(period_filter)
        .group_by(a.c.member_id, b.c.member_id)
    )


def joint_event_people(session: Session, period: Period) -> EdgeRows:
    """People who took part in the same events (the organizer takes part in their event)."""
    members = union(
        select(
            col(NetworkEventParticipant.event_id).label("group_id"),
            col(NetworkEventParticipant.user_id).label("member_id"),
        ),
        select(
            col(NetworkEvent.id).label("group_id"),
            col(NetworkEvent.organizer_id).label("member_id"),
        ),
    ).subquery()
    held = select(col(NetworkEvent.id), col(NetworkEvent.held_at)).subquery()
    rows = session.execute(_pairs(members, held, period.happened(held.c.held_at))).all()
    return [(r[0], r[1], r[2]) for r in rows]


def joint_event_organizations(session: Session, period: Period) -> EdgeRows:
    """Organizations that took part in the same events (the organizer's one included)."""
    members = union(
        select(
            col(NetworkEventOrganization.event_id).label("group_id"),
            col(NetworkEventOrganization.organization_id).label("member_id"),
        ),
        select(
            col(NetworkEvent.id).label("group_id"),
            col(NetworkEvent.organizer_organization_id).label("member_id"),
        ).where(col(NetworkEvent.organizer_organization_id).is_not(None)),
    ).subquery()
    held = select(col(NetworkEvent.id), col(NetworkEvent.held_at)).subquery()
    rows = session.execute(_pairs(members, held, period.happened(held.c.held_at))).all()
    return [(r[0], r[1], r[2]) for r in rows]


TERMINAL_STATUSES = sorted(TERMINAL)


def team_people(session: Session, period: Period) -> EdgeRows:
    """Author and team of the same initiative, while it was alive in the period. Drafts never
    submitted stay private."""
    members = union(
        select(
            col(InitiativeMember.initiative_id).label("group_id"),
            col(InitiativeMember.user_id).label("member_id"),
        ),
        select(col(Initiative.id).label("group_id"), col(Initiative.author_id).label("member_id")),
    ).subquery()
    ended = (
        select(col(Transition.initiative_id).label("id"), func.max(col(Transition.at)).label("at"))
        .where(col(Transition.to_status).in_(TERMINAL_STATUSES))
        .group_by(col(Transition.initiative_id))
        .subquery()
    )
    alive = (
        select(col(Initiative.id), col(Initiative.created_at), ended.c.at.label("ended_at"))
        .outerjoin(ended, ended.c.id == col(Initiative.id))
        .where(
            col(Initiative.status) != InitiativeStatus.draft,
            exists().where(
                col(Transition.initiative_id) == col(Initiative.id),
                col(Transition.action) == "submit",
            ),
        )
        .subquery()
    )
    conditions = []
    if period.end is not None:
        conditions.append(alive.c.created_at < period.end)
    if period.start is not None:
        conditions.append(or_(alive.c.ended_at.is_(None), alive.c.ended_at >= period.start))
    rows = session.execute(_pairs(members, alive, and_(true(), *conditions))).all()
    return [(r[0], r[1], r[2]) for r in rows]


def review_people(session: Session, period: Period) -> EdgeRows:
    """An expert and the author of an initiative they wrote a conclusion on, when submitted."""
    rows = session.execute(
        select(col(ReviewAssignment.expert_id), col(Initiative.author_id), func.count())
        .join(Initiative, col(Initiative.id) == col(ReviewAssignment.initiative_id))
        .where(
            col(ReviewAssignment.status) == ReviewStatus.submitted,
            period.happened(col(ReviewAssignment.submitted_at)),
        )
        .group_by(col(ReviewAssignment.expert_id), col(Initiative.author_id))
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _sees_reviewers(actor: Principal) -> bool:
    # With blind reviews only those who see experts' identities anyway see who reviewed whom.
    return not get_settings().blind_reviews or can(actor, Action.experts_read)


def consultation_people(session: Session, period: Period) -> EdgeRows:
    """A consultant and the person they accompany, weighted by the sessions held."""
    rows = session.execute(
        select(
            col(ConsultationConsultant.user_id),
            col(ConsultationTrack.requester_id),
            func.count(col(ConsultationSession.id)),
        )
        .select_from(ConsultationSession)
        .join(ConsultationTrack, col(ConsultationTrack.id) == col(ConsultationSession.track_id))
        .join(
            ConsultationConsultant,
            col(ConsultationConsultant.track_id) == col(ConsultationTrack.id),
        )
        .where(period.happened(col(ConsultationSession.held_at)))
        .group_by(col(ConsultationConsultant.user_id), col(ConsultationTrack.requester_id))
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _sees_all_consultations(actor: Principal) -> bool:
    # The same rule as the consultations list: a participant sees only their own tracks.
    return not actor.is_user or passes(actor, ObjectRule.consultation_read)


PERSON, ORGANIZATION = NetworkNodeKind.person, NetworkNodeKind.organization

EDGE_SOURCES: list[EdgeSource] = [
    EdgeSource(NetworkEdgeKind.joint_event, (PERSON, PERSON), joint_event_people),
    EdgeSource(
        NetworkEdgeKind.joint_event, (ORGANIZATION, ORGANIZATION), joint_event_organizations
    ),
    EdgeSource(NetworkEdgeKind.team, (PERSON, PERSON), team_people),
    EdgeSource(NetworkEdgeKind.review, (PERSON, PERSON), review_people, _sees_reviewers),
    EdgeSource(
        NetworkEdgeKind.consultation,
        (PERSON, PERSON),
        consultation_people,
        _sees_all_consultations,
    ),
]


def _period(date_from: date | None, date_to: date | None) -> Period:
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(
            "Конец периода раньше начала", loc=["query", "to"], code="invalid_period"
        )
    return Period(
        start=_day_start(date_from) if date_from else None,
        end=_day_start(date_to + timedelta(days=1)) if date_to else None,
    )


GRAPH_DEFAULT_EDGES = 1000
GRAPH_MAX_EDGES = 5000


def _strongest(
    weights: dict[tuple[uuid.UUID, uuid.UUID], dict[NetworkEdgeKind, int]], limit: int
) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """The `limit` heaviest pairs (ties by the ids, so a cut is stable), in (source, target)
    order."""
    ranked = sorted(
        weights, key=lambda pair: (-sum(weights[pair].values()), str(pair[0]), str(pair[1]))
    )
    return sorted(ranked[:limit], key=lambda pair: (str(pair[0]), str(pair[1])))


def graph(
    session: Session,
    *,
    actor: Principal,
    date_from: date | None,
    date_to: date | None,
    max_edges: int = GRAPH_DEFAULT_EDGES,
) -> NetworkGraph:
    """Nodes are people and organizations with at least one link in the period; a person is
    also linked to their organization (`affiliation`). Only the `max_edges` strongest edges and
    their ends are returned (`truncated` says so); degrees and strengths count every link. A
    constant number of queries."""
    period = _period(date_from, date_to)
    weights: dict[tuple[uuid.UUID, uuid.UUID], dict[NetworkEdgeKind, int]] = {}
    kinds: dict[uuid.UUID, NetworkNodeKind] = {}
    used: list[NetworkEdgeKind] = []
    for source in EDGE_SOURCES:
        if not source.shown_to(actor):
            continue
        if source.kind not in used:
            used.append(source.kind)
        for a, b, weight in source.collect(session, period):
            if a == b:
                continue
            kinds[a], kinds[b] = source.ends
            pair = (a, b) if str(a) < str(b) else (b, a)
            by_kind = weights.setdefault(pair, {})
            by_kind[source.kind] = by_kind.get(source.kind, 0) + weight
    people = [i for i, k in kinds.items() if k is PERSON]
    person_rows = (
        session.execute(
            select(col(User.id), col(User.full_name), col(User.organization_id)).where(
                col(User.id).in_(people)
            )
        ).all()
        if people
        else []
    )
    for person_id, _, organization_id in person_rows:
        if organization_id is not None:
            kinds[organization_id] = ORGANIZATION
            pair = (
                (person_id, organization_id)
                if str(person_id) < str(organization_id)
                else (organization_id, person_id)
            )
            weights.setdefault(pair, {})[NetworkEdgeKind.affiliation] = 1
    if person_rows:
        used.append(NetworkEdgeKind.affiliation)
    degree: dict[uuid.UUID, int] = {}
    strength: dict[uuid.UUID, int] = {}
    for (a, b), by_kind in weights.items():
        for node in (a, b):
            degree[node] = degree.get(node, 0) + 1
            strength[node] = strength.get(node, 0) + sum(by_kind.values())
    kept = _strongest(weights, max_edges)
    edges = [
        GraphEdge(source=a, target=b, weight=sum(weights[a, b].values()), by_kind=weights[a, b])
        for a, b in kept
    ]
    shown = {node for pair in kept for node in pair}
    org_ids = [i for i in shown if kinds[i] is ORGANIZATION]
    org_labels = dict(
        session.execute(
            select(col(Organization.id), col(Organization.short_name)).where(
                col(Organization.id).in_(org_ids)
            )
        ).all()
        if org_ids
        else []
    )
    nodes = [
        GraphNode(
            id=r[0],
            kind=PERSON,
            label=r[1],
            organization_id=r[2],
            degree=degree.get(r[0], 0),
            strength=strength.get(r[0], 0),
        )
        for r in sorted(person_rows, key=lambda r: (r[1], str(r[0])))
        if r[0] in shown
    ]
    nodes += [
        GraphNode(
            id=org_id,
            kind=ORGANIZATION,
            label=label,
            organization_id=None,
            degree=degree.get(org_id, 0),
            strength=strength.get(org_id, 0),
        )
        for org_id, label in sorted(org_labels.items(), key=lambda item: (item[1], str(item[0])))
    ]
    return NetworkGraph(
        period_from=date_from,
        period_to=date_to,
        edge_kinds=used,
        nodes=nodes,
        edges=edges,
        truncated=len(kept) < len(weights),
        total_nodes=len(kinds),
        total_edges=len(weights),
    )
