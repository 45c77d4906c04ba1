"""The life of the network: its events, and the graph of who works with whom.

The graph is assembled from edge sources, one function each (joint events, teams, reviews…):
a new kind of link is one more function in `EDGE_SOURCES`.
"""

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    text,
    union,
    union_all,
)
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, delete

from app.config import get_settings
from app.errors import Forbidden, InvalidInput, NotFound
from app.models import (
    ConsultationSession,
    ConsultationSessionAttendee,
    ConsultationTrack,
    Initiative,
    InitiativeMember,
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
    """[start, end) in UTC."""

    start: datetime
    end: datetime

    def happened(self, moment: Any) -> ColumnElement[bool]:
        return and_(moment >= self.start, moment < self.end)


Links = Select[*tuple[Any, ...]]
Groups = CompoundSelect[*tuple[Any, ...]]


@dataclass(frozen=True, slots=True)
class EdgeSource:
    """One kind of link: which node kinds it joins and the statement of its rows in a period,
    labelled `a`, `b`, `weight` (the pair in either order; rows of the same pair add up)."""

    kind: NetworkEdgeKind
    links: Callable[[Period], Links]
    # Whether the caller may see these links at all (e.g. blind reviews).
    shown_to: Callable[[Principal], bool] = lambda _: True


def _pairs(name: str, groups: Groups) -> Links:
    """Each unordered pair of `member_id`s sharing a `group_id`, once per group (`a < b`)."""
    # Built once, joined to itself (SQLite would build a subquery once per side).
    members = groups.cte(name).prefix_with("MATERIALIZED")
    a, b = aliased(members), aliased(members)
    return (
        select(a.c.member_id.label("a"), b.c.member_id.label("b"), literal(1).label("weight"))
        .select_from(a)
        .join(b, and_(a.c.group_id == b.c.group_id, a.c.member_id < b.c.member_id))
    )


def joint_event_people(period: Period) -> Links:
    """People who took part in the same events (the organizer takes part in their event)."""
    # Without the organizer among the participants the rows are distinct as they stand.
    groups: Groups = union_all(
        select(
            col(NetworkEventParticipant.event_id).label("group_id"),
            col(NetworkEventParticipant.user_id).label("member_id"),
        )
        .join(NetworkEvent, col(NetworkEvent.id) == col(NetworkEventParticipant.event_id))
        .where(
            period.happened(col(NetworkEvent.held_at)),
            col(NetworkEventParticipant.user_id) != col(NetworkEvent.organizer_id),
        ),
        select(
            col(NetworkEvent.id).label("group_id"),
            col(NetworkEvent.organizer_id).label("member_id"),
        ).where(period.happened(col(NetworkEvent.held_at))),
    )
    return _pairs("event_people", groups)


def joint_event_organizations(period: Period) -> Links:
    """Organizations that took part in the same events (the organizer's one included)."""
    groups: Groups = union_all(
        select(
            col(NetworkEventOrganization.event_id).label("group_id"),
            col(NetworkEventOrganization.organization_id).label("member_id"),
        )
        .join(NetworkEvent, col(NetworkEvent.id) == col(NetworkEventOrganization.event_id))
        .where(
            period.happened(col(NetworkEvent.held_at)),
            # Null-safe: an event may have no organizing organization.
            col(NetworkEventOrganization.organization_id).is_distinct_from(
                col(NetworkEvent.organizer_organization_id)
            ),
        ),
        select(
            col(NetworkEvent.id).label("group_id"),
            col(NetworkEvent.organizer_organization_id).label("member_id"),
        ).where(
            col(NetworkEvent.organizer_organization_id).is_not(None),
            period.happened(col(NetworkEvent.held_at)),
        ),
    )
    return _pairs("event_organizations", groups)


TERMINAL_STATUSES = sorted(TERMINAL)


def team_people(period: Period) -> Links:
    """Author and team of the same initiative, while it was alive in the period. Drafts never
    submitted stay private. The team is the current one: a member removed from it is gone from
    its past too (the team keeps no history)."""
    # Terminal states have no way out: one that ended before the period did so once.
    alive = (
        select(col(Initiative.id), col(Initiative.author_id))
        .where(
            col(Initiative.submitted_at) < period.end,
            exists().where(col(InitiativeMember.initiative_id) == col(Initiative.id)),
            ~exists().where(
                col(Transition.initiative_id) == col(Initiative.id),
                col(Transition.to_status).in_(TERMINAL_STATUSES),
                col(Transition.at) < period.start,
            ),
        )
        .cte("alive_initiatives")
        .prefix_with("MATERIALIZED")
    )
    groups: Groups = union_all(
        select(
            col(InitiativeMember.initiative_id).label("group_id"),
            col(InitiativeMember.user_id).label("member_id"),
        )
        .join(alive, alive.c.id == col(InitiativeMember.initiative_id))
        .where(col(InitiativeMember.user_id) != alive.c.author_id),
        select(alive.c.id.label("group_id"), alive.c.author_id.label("member_id")),
    )
    return _pairs("team_members", groups)


def review_people(period: Period) -> Links:
    """An expert and the author of an initiative they wrote a conclusion on, when submitted."""
    return (
        select(
            col(ReviewAssignment.expert_id).label("a"),
            col(Initiative.author_id).label("b"),
            literal(1).label("weight"),
        )
        .join(Initiative, col(Initiative.id) == col(ReviewAssignment.initiative_id))
        .where(
            col(ReviewAssignment.status) == ReviewStatus.submitted,
            period.happened(col(ReviewAssignment.submitted_at)),
        )
    )


def _sees_reviewers(actor: Principal) -> bool:
    # With blind reviews only those who see experts' identities anyway see who reviewed whom.
    return not get_settings().blind_reviews or can(actor, Action.experts_read)


def consultation_people(period: Period) -> Links:
    """The people of each consultation session held in the period, pairwise: whoever recorded
    it (the consultant who held it), its attendees and the track's requester. The session's
    own record, not the track's consultants of today: a consultant replaced later keeps the
    sessions they held, one assigned later gains none."""
    held = select(col(ConsultationSession.id)).where(
        period.happened(col(ConsultationSession.held_at))
    )
    groups: Groups = union(
        select(
            col(ConsultationSession.id).label("group_id"),
            col(ConsultationSession.recorded_by_id).label("member_id"),
        ).where(col(ConsultationSession.id).in_(held)),
        select(
            col(ConsultationSession.id).label("group_id"),
            col(ConsultationTrack.requester_id).label("member_id"),
        )
        .join(ConsultationTrack, col(ConsultationTrack.id) == col(ConsultationSession.track_id))
        .where(col(ConsultationSession.id).in_(held)),
        select(
            col(ConsultationSessionAttendee.session_id).label("group_id"),
            col(ConsultationSessionAttendee.user_id).label("member_id"),
        ).where(col(ConsultationSessionAttendee.session_id).in_(held)),
    )
    return _pairs("session_people", groups)


def _sees_all_consultations(actor: Principal) -> bool:
    # The same rule as the consultations list: a participant sees only their own tracks.
    return not actor.is_user or passes(actor, ObjectRule.consultation_read)


PERSON, ORGANIZATION = NetworkNodeKind.person, NetworkNodeKind.organization

EDGE_SOURCES: list[EdgeSource] = [
    EdgeSource(NetworkEdgeKind.joint_event, joint_event_people),
    EdgeSource(NetworkEdgeKind.joint_event, joint_event_organizations),
    EdgeSource(NetworkEdgeKind.team, team_people),
    EdgeSource(NetworkEdgeKind.review, review_people, _sees_reviewers),
    EdgeSource(NetworkEdgeKind.consultation, consultation_people, _sees_all_consultations),
]

# The graph's default and longest period. An event links every pair of its people, so the
# work grows with the square of the events' sizes times their number in the period. On the
# benchmark's city (bench/seed_large.py at full scale: 20 000 people, 200 000 events over six
# years, PostgreSQL) the last 90 days take about 3 s and a year about 8 s, where the whole
# history took more than five minutes in Python (37 s even in SQL). So by default a school
# quarter, the network as it lives now; at most 366 days, which any academic year fits.
GRAPH_DEFAULT_DAYS = 90
GRAPH_MAX_DAYS = 366


def _period(date_from: date | None, date_to: date | None) -> tuple[date, date, Period]:
    """Both ends inclusive, and the UTC moments they span. A missing end is
    `GRAPH_DEFAULT_DAYS` from the other; without either, the period ends today."""
    try:
        first, last = _period_days(date_from, date_to)
        return first, last, Period(start=_day_start(first), end=_day_start(last + ONE_DAY))
    except OverflowError:
        raise InvalidInput(
            "Период выходит за пределы календаря", loc=["query", "from"], code="invalid_period"
        ) from None


ONE_DAY = timedelta(days=1)


def _period_days(date_from: date | None, date_to: date | None) -> tuple[date, date]:
    if date_from and date_to and date_to < date_from:
        raise InvalidInput(
            "Конец периода раньше начала", loc=["query", "to"], code="invalid_period"
        )
    span = timedelta(days=GRAPH_DEFAULT_DAYS - 1)
    if date_to is None:
        date_to = date_from + span if date_from else utcnow().date()
    if date_from is None:
        date_from = date_to - span
    days = (date_to - date_from).days + 1
    if days > GRAPH_MAX_DAYS:
        raise InvalidInput(
            f"Период графа не длиннее {GRAPH_MAX_DAYS} дней, а указано {days}: "
            "разбейте его на годы",
            loc=["query", "to"],
            code="period_too_long",
            extra={"max_days": GRAPH_MAX_DAYS, "days": days},
        )
    return date_from, date_to


GRAPH_DEFAULT_EDGES = 1000
GRAPH_MAX_EDGES = 5000
EDGE_KINDS = list(NetworkEdgeKind)


def _ordered(x: Any, y: Any) -> tuple[Any, Any]:
    """The pair as (smaller id, larger id): SQL's order of UUIDs is their text's order on both
    databases, so Python's `str` order of the result agrees with it."""
    return case((x < y, x), else_=y), case((x < y, y), else_=x)


def _graph_statement(sources: Sequence[EdgeSource], period: Period, max_edges: int) -> Links:
    """The kept edges with their weight per kind, both ends' degree, strength and label, and
    the whole graph's edge and node counts on every row: one statement."""
    parts = []
    for source in sources:
        rows = source.links(period).subquery()
        low, high = _ordered(rows.c.a, rows.c.b)
        parts.append(
            select(
                low.label("a"),
                high.label("b"),
                literal(EDGE_KINDS.index(source.kind)).label("kind"),
                rows.c.weight,
            ).where(rows.c.a != rows.c.b)
        )
    links = union_all(*parts).subquery()
    affiliation_code = EDGE_KINDS.index(NetworkEdgeKind.affiliation)
    linked = (
        select(
            links.c.a,
            links.c.b,
            func.sum(links.c.weight).label("weight"),
            *(
                func.sum(case((links.c.kind == code, links.c.weight), else_=0)).label(f"k{code}")
                for code in range(len(EDGE_KINDS))
            ),
        )
        .group_by(links.c.a, links.c.b)
        .cte("linked")
        .prefix_with("MATERIALIZED")
    )
    ends = union_all(
        select(linked.c.a.label("node"), linked.c.weight), select(linked.c.b, linked.c.weight)
    ).subquery()
    linked_nodes = (
        select(
            ends.c.node,
            func.count().label("degree"),
            func.sum(ends.c.weight).label("strength"),
        )
        .group_by(ends.c.node)
        .cte("linked_nodes")
        .prefix_with("MATERIALIZED")
    )
    # Anyone active in the period is tied to their organization: linked to someone, or the
    # organizer of an event even with nobody else recorded at it. No other source joins a
    # person to an organization, so these edges are new pairs of weight 1.
    active = union(
        select(linked_nodes.c.node),
        select(col(NetworkEvent.organizer_id)).where(period.happened(col(NetworkEvent.held_at))),
    )
    affiliated = (
        select(col(User.id).label("person"), col(User.organization_id).label("organization"))
        .where(col(User.organization_id).is_not(None), col(User.id).in_(active))
        .cte("affiliated")
        .prefix_with("MATERIALIZED")
    )
    low, high = _ordered(affiliated.c.person, affiliated.c.organization)
    pairs = union_all(
        select(linked),
        select(
            low.label("a"),
            high.label("b"),
            literal(1).label("weight"),
            *(
                literal(int(code == affiliation_code)).label(f"k{code}")
                for code in range(len(EDGE_KINDS))
            ),
        ),
    ).subquery()
    node_parts = union_all(
        select(linked_nodes),
        select(affiliated.c.person, literal(1), literal(1)),
        select(affiliated.c.organization, literal(1), literal(1)),
    ).subquery()
    nodes = (
        select(
            node_parts.c.node,
            func.sum(node_parts.c.degree).label("degree"),
            func.sum(node_parts.c.strength).label("strength"),
        )
        .group_by(node_parts.c.node)
        .cte("nodes")
        .prefix_with("MATERIALIZED")
    )
    kept = (
        select(pairs)
        .order_by(pairs.c.weight.desc(), pairs.c.a, pairs.c.b)
        .limit(max_edges)
        .subquery()
    )
    total_edges = (
        select(func.count()).select_from(linked).scalar_subquery()
        + select(func.count()).select_from(affiliated).scalar_subquery()
    )
    stats_a, stats_b = aliased(nodes), aliased(nodes)
    person_a, person_b = aliased(User), aliased(User)
    org_a, org_b = aliased(Organization), aliased(Organization)
    return (
        select(
            kept,
            stats_a.c.degree.label("degree_a"),
            stats_a.c.strength.label("strength_a"),
            stats_b.c.degree.label("degree_b"),
            stats_b.c.strength.label("strength_b"),
            col(person_a.full_name).label("person_a"),
            col(person_a.organization_id).label("organization_a"),
            col(org_a.short_name).label("org_a"),
            col(person_b.full_name).label("person_b"),
            col(person_b.organization_id).label("organization_b"),
            col(org_b.short_name).label("org_b"),
            total_edges.label("total_edges"),
            select(func.count()).select_from(nodes).scalar_subquery().label("total_nodes"),
        )
        .join(stats_a, stats_a.c.node == kept.c.a)
        .join(stats_b, stats_b.c.node == kept.c.b)
        .outerjoin(person_a, col(person_a.id) == kept.c.a)
        .outerjoin(org_a, col(org_a.id) == kept.c.a)
        .outerjoin(person_b, col(person_b.id) == kept.c.b)
        .outerjoin(org_b, col(org_b.id) == kept.c.b)
    )


def graph(
    session: Session,
    *,
    actor: Principal,
    date_from: date | None,
    date_to: date | None,
    max_edges: int = GRAPH_DEFAULT_EDGES,
) -> NetworkGraph:
    """Nodes are people and organizations with at least one link in the period; a person
    active in it is also linked to their organization (`affiliation`). Only the `max_edges`
    strongest edges and their ends are returned (`truncated` says so); degrees and strengths
    count every link. The pairs are weighed, ranked and counted in the database: one
    statement."""
    first, last, period = _period(date_from, date_to)
    sources = [s for s in EDGE_SOURCES if s.shown_to(actor)]
    used = [*dict.fromkeys(s.kind for s in sources), NetworkEdgeKind.affiliation]
    if session.get_bind().dialect.name == "postgresql":
        # The planner overestimates the self-joins by orders of magnitude and would spend a
        # second or two JIT-compiling a statement that runs in about as long without it.
        session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(_graph_statement(sources, period, max_edges)).all()
    nodes: dict[uuid.UUID, GraphNode] = {}
    edges: list[GraphEdge] = []
    for row in rows:
        for node_id, degree, strength, person, organization_id, org in (
            (row.a, row.degree_a, row.strength_a, row.person_a, row.organization_a, row.org_a),
            (row.b, row.degree_b, row.strength_b, row.person_b, row.organization_b, row.org_b),
        ):
            nodes[node_id] = GraphNode(
                id=node_id,
                kind=ORGANIZATION if person is None else PERSON,
                label=org if person is None else person,
                organization_id=organization_id,
                degree=degree,
                strength=strength,
            )
        weights = row._mapping
        by_kind = {kind: weights[f"k{code}"] for code, kind in enumerate(EDGE_KINDS)}
        by_kind = {kind: weight for kind, weight in by_kind.items() if weight}
        edges.append(GraphEdge(source=row.a, target=row.b, weight=row.weight, by_kind=by_kind))
    total_edges = rows[0].total_edges if rows else 0
    return NetworkGraph(
        period_from=first,
        period_to=last,
        edge_kinds=used,
        nodes=sorted(nodes.values(), key=lambda n: (n.kind is ORGANIZATION, n.label, str(n.id))),
        edges=sorted(edges, key=lambda e: (str(e.source), str(e.target))),
        truncated=len(edges) < total_edges,
        total_nodes=rows[0].total_nodes if rows else 0,
        total_edges=total_edges,
    )
