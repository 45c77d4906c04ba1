import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from app.deps import Cursor, IfMatch, Limit, SearchQuery, SessionDep, gated, require, set_etag
from app.errors import problem_responses
from app.models import NetworkEventKind
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.common import IsoDate
from app.schemas.network import (
    NetworkEventCreate,
    NetworkEventPublic,
    NetworkEventSummary,
    NetworkEventUpdate,
    NetworkGraph,
)
from app.security import Principal
from app.services import network
from app.services.maturity.capabilities import Capability

router = APIRouter(prefix="/network", tags=["network"])

Reader = Annotated[Principal, Depends(require(Action.network_read))]
Writer = Annotated[Principal, Depends(require(Action.network_events_write))]
# Recording the network's life comes with the office's maturity (enforced only when configured).
EventsGate = Annotated[None, Depends(gated(Capability.network_events))]
DateFrom = Annotated[IsoDate | None, Query(alias="from", description="С этой даты включительно")]
DateTo = Annotated[IsoDate | None, Query(alias="to", description="По эту дату включительно")]


@router.get("/events", summary="События сети", responses=problem_responses(401, 403, 422))
def list_events(
    session: SessionDep,
    _: Reader,
    kind: NetworkEventKind | None = None,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    organization_id: Annotated[
        uuid.UUID | None, Query(description="Организация-участник или организатор")
    ] = None,
    participant_id: Annotated[
        uuid.UUID | None, Query(description="Участник или организатор")
    ] = None,
    initiative_id: uuid.UUID | None = None,
    q: SearchQuery = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[NetworkEventSummary]:
    """Seminars, master classes, labs, network project meetings, open lessons and conferences,
    latest first. `q` searches title, description and place."""
    items, next_cursor = network.list_events(
        session,
        kind=kind,
        date_from=date_from,
        date_to=date_to,
        organization_id=organization_id,
        participant_id=participant_id,
        initiative_id=initiative_id,
        q=q,
        cursor=cursor,
        limit=limit,
    )
    return Page[NetworkEventSummary](items=items, next_cursor=next_cursor)


@router.post(
    "/events",
    summary="Записать событие сети",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_event(
    session: SessionDep, actor: Writer, _: EventsGate, data: NetworkEventCreate, response: Response
) -> NetworkEventPublic:
    """Any network member records an activity: organizer (default: you, with your
    organization), participating people and organizations, date and a linked initiative.
    Under `PROJOFFICE_MATURITY_GATING=enforced` a 409 `capability_not_mastered` while the
    network function is below its required level."""
    event = network.create_event(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/network/events/{event.id}"
    set_etag(response, event.version)
    return event


@router.get(
    "/events/{event_id}",
    summary="Событие сети",
    responses=problem_responses(401, 403, 404, 422),
)
def get_event(
    session: SessionDep, _: Reader, event_id: uuid.UUID, response: Response
) -> NetworkEventPublic:
    event = network.get_event(session, event_id=event_id)
    set_etag(response, event.version)
    return event


@router.patch(
    "/events/{event_id}",
    summary="Исправить событие сети",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_event(
    session: SessionDep,
    actor: Writer,
    event_id: uuid.UUID,
    data: NetworkEventUpdate,
    if_match: IfMatch,
    response: Response,
) -> NetworkEventPublic:
    """The organizer, whoever recorded it, and the office correct it; lists are replaced
    whole."""
    event = network.update_event(
        session, actor=actor, event_id=event_id, data=data, if_match=if_match
    )
    set_etag(response, event.version)
    return event


GraphFrom = Annotated[
    IsoDate | None,
    Query(
        alias="from",
        description="С этой даты включительно; по умолчанию — за "
        f"{network.GRAPH_DEFAULT_DAYS} дней до `to`",
    ),
]
GraphTo = Annotated[
    IsoDate | None,
    Query(
        alias="to",
        description="По эту дату включительно; по умолчанию — сегодня (или "
        f"{network.GRAPH_DEFAULT_DAYS} дней с `from`)",
    ),
]


@router.get("/graph", summary="Граф связей сети", responses=problem_responses(401, 403, 422))
def get_graph(
    session: SessionDep,
    actor: Reader,
    date_from: GraphFrom = None,
    date_to: GraphTo = None,
    max_edges: Annotated[
        int,
        Query(
            ge=1,
            le=network.GRAPH_MAX_EDGES,
            description="Сколько самых сильных связей вернуть: по умолчанию "
            f"{network.GRAPH_DEFAULT_EDGES}, не больше {network.GRAPH_MAX_EDGES}",
        ),
    ] = network.GRAPH_DEFAULT_EDGES,
) -> NetworkGraph:
    """People and organizations as nodes; weighted edges for taking part in the same events,
    working in one initiative team, meeting at the same consultation sessions (for those who
    see all consultations), an expert's conclusion on an author's initiative (with blind
    reviews only for those who see experts' names), and a person's organization. Each edge
    carries its weight per kind, for a frontend to draw and filter; `edge_kinds` says which
    kinds the caller's graph includes.

    **Period.** `from` and `to` are inclusive UTC dates. Without them the graph covers the
    last 90 days up to today (about a school quarter: the network as it lives now); with one
    of them, 90 days from or up to it; `period_from` and `period_to` say which days were
    used. A period is at most 366 days, so any academic year (1 September to 31 August)
    fits; a longer one is 422 `period_too_long`. Why: an event links every pair of its
    people, so the work grows with the square of the events' sizes. On a city's network
    (20 000 people, 33 000 events a year) 90 days answer in about 3 s and a year in about
    8 s, where the whole history took minutes. Ask year by year for a longer history (the
    demo's events are in 2020-2022: `?from=2021-09-01&to=2022-08-31`).

    **What links.** Joint events: the organizer and participants of each event, pairwise,
    and so their organizations. Teams: the author and the current team of each submitted
    initiative alive in the period. Consultations: the people of each session held in the
    period, pairwise — who recorded it, its attendees and the track's requester (the
    session's own record, so a consultant replaced later keeps the sessions they held).
    Reviews: expert and author, per conclusion submitted. Affiliation: everyone with a link
    in the period, and the organizer of an event even with nobody else recorded at it, is
    linked to their organization.

    The response is bounded: only the `max_edges` heaviest edges (ties by ids) and the nodes
    at their ends are returned; `truncated` is true when the period has more, with
    `total_edges` and `total_nodes` of the whole graph. A node's `degree` and `strength`
    count all its links. The weights, the ranking and the counts are computed in the
    database in one statement."""
    return network.graph(
        session, actor=actor, date_from=date_from, date_to=date_to, max_edges=max_edges
    )
