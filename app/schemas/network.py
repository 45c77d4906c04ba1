import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.models import NetworkEdgeKind, NetworkEventKind, NetworkNodeKind
from app.schemas.common import InputModel, IsoDateTime, NotNull, OutputModel

EventTitle = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Location = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]


def _unique(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("идентификатор указан дважды")
    return ids


People = Annotated[list[uuid.UUID], Field(max_length=500), AfterValidator(_unique)]
Organizations = Annotated[list[uuid.UUID], Field(max_length=100), AfterValidator(_unique)]


class NetworkEventCreate(InputModel):
    title: EventTitle = Field(examples=["Семинар «Смысловое чтение на уроках математики»"])
    kind: NetworkEventKind = Field(examples=["seminar"])
    description: Description = ""
    location: Location | None = Field(default=None, examples=["МАОУ Гимназия, актовый зал"])
    held_at: IsoDateTime = Field(examples=["2021-11-18T10:00:00+05:00"])
    organizer_id: uuid.UUID | None = Field(default=None, description="По умолчанию — вы")
    organizer_organization_id: uuid.UUID | None = Field(
        default=None, description="По умолчанию — организация организатора"
    )
    organization_ids: Organizations = Field(
        default_factory=list, description="Организации-участники (кроме организатора)"
    )
    participant_ids: People = Field(
        default_factory=list, description="Участники (организатор учитывается сам)"
    )
    initiative_id: uuid.UUID | None = Field(
        default=None, description="Инициатива, в рамках которой прошло событие"
    )


class NetworkEventUpdate(InputModel):
    """Omitted fields stay as they are; lists are replaced whole."""

    title: Annotated[EventTitle | None, NotNull] = None
    kind: Annotated[NetworkEventKind | None, NotNull] = None
    description: Annotated[Description | None, NotNull] = None
    location: Location | None = Field(default=None, description="null — место не указано")
    held_at: Annotated[IsoDateTime | None, NotNull] = None
    organizer_id: Annotated[uuid.UUID | None, NotNull] = None
    organizer_organization_id: uuid.UUID | None = None
    organization_ids: Annotated[Organizations | None, NotNull] = None
    participant_ids: Annotated[People | None, NotNull] = None
    initiative_id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=1)


class PersonRef(OutputModel):
    id: uuid.UUID
    full_name: str


class OrganizationRef(OutputModel):
    id: uuid.UUID
    short_name: str


class NetworkEventSummary(OutputModel):
    id: uuid.UUID
    title: str
    kind: NetworkEventKind
    held_at: datetime
    location: str | None
    organizer_id: uuid.UUID
    organizer_organization_id: uuid.UUID | None
    initiative_id: uuid.UUID | None
    participants_count: int
    organizations_count: int
    version: int
    created_at: datetime
    updated_at: datetime


class NetworkEventPublic(NetworkEventSummary):
    description: str
    organizer: PersonRef
    organizer_organization: OrganizationRef | None
    participants: list[PersonRef]
    organizations: list[OrganizationRef]
    created_by_id: uuid.UUID


class GraphNode(OutputModel):
    id: uuid.UUID
    kind: NetworkNodeKind
    label: str
    organization_id: uuid.UUID | None = Field(description="Для человека — его организация")
    degree: int = Field(description="Сколько у узла связей")
    strength: int = Field(description="Сумма весов его связей")


class GraphEdge(OutputModel):
    source: uuid.UUID
    target: uuid.UUID
    weight: int
    by_kind: dict[NetworkEdgeKind, int] = Field(
        description="Вес по видам связи", examples=[{"joint_event": 3, "team": 1}]
    )


class NetworkGraph(OutputModel):
    period_from: date = Field(description="Первый день периода графа (включительно, UTC)")
    period_to: date = Field(description="Последний день периода графа (включительно, UTC)")
    edge_kinds: list[NetworkEdgeKind] = Field(description="Виды связей, учтённые в графе")
    nodes: list[GraphNode] = Field(description="Концы возвращённых связей")
    edges: list[GraphEdge] = Field(
        description="Самые сильные связи, не больше `max_edges`, по (source, target)"
    )
    truncated: bool = Field(description="Возвращены не все связи периода: их больше `max_edges`")
    total_nodes: int = Field(description="Сколько узлов в полном графе периода")
    total_edges: int = Field(description="Сколько связей в полном графе периода")
