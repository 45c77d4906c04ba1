import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.models import ConsultationFormat, ConsultationOutcome, ConsultationStatus
from app.schemas.common import InputModel, IsoDateTime, NotNull, OutputModel
from app.schemas.refs import InitiativeRef, PersonRef

Topic = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=5000)]


def _unique(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("один и тот же человек указан дважды")
    return ids


PeopleIds = Annotated[list[uuid.UUID], Field(max_length=50), AfterValidator(_unique)]
ConsultantIds = Annotated[
    list[uuid.UUID], Field(min_length=1, max_length=10), AfterValidator(_unique)
]
Version = Annotated[
    int | None, Field(ge=1, description="Версия, которую правили; 409 при несовпадении")
]


class ConsultationCreate(InputModel):
    topic: Topic = Field(examples=["Как превратить клуб любителей чтения в сетевой проект"])
    description: LongText = Field(
        default="",
        examples=["Есть замысел сетевого читательского клуба трёх школ; нужна помощь с целью."],
    )
    preferred_format: ConsultationFormat | None = Field(default=None, examples=["individual"])
    initiative_id: uuid.UUID | None = Field(
        default=None,
        description="Своя инициатива (автор или команда); без неё — консультация по замыслу",
    )


class ConsultationUpdate(InputModel):
    """Office roles assign consultants (a requested track becomes active); the requester and
    the consultants edit the topic and link the initiative born from the idea. Omitted fields
    stay as they are."""

    topic: Annotated[Topic | None, NotNull] = None
    description: Annotated[LongText | None, NotNull] = None
    preferred_format: ConsultationFormat | None = Field(
        default=None, description="null — формат не важен"
    )
    initiative_id: uuid.UUID | None = Field(
        default=None, description="null — отвязать трек от инициативы"
    )
    consultant_ids: Annotated[ConsultantIds | None, NotNull] = Field(
        default=None, description="Члены проектного офиса или эксперты; заменяют прежний состав"
    )
    version: Version = None


class ConsultationClose(InputModel):
    outcome: ConsultationOutcome = Field(examples=["initiative_submitted"])
    comment: Comment | None = Field(
        default=None, examples=["Замысел оформлен в инициативу и подан в проектный офис"]
    )
    initiative_id: uuid.UUID | None = Field(
        default=None,
        description="Инициатива, выросшая из замысла; обязательна для `initiative_submitted`, "
        "если трек ещё не связан с инициативой",
    )
    version: Version = None


class ConsultationDecline(InputModel):
    reason: Reason = Field(examples=["Запрос относится к ведению методического центра"])
    version: Version = None


class ConsultationSummary(OutputModel):
    id: uuid.UUID
    topic: str
    status: ConsultationStatus
    outcome: ConsultationOutcome | None
    preferred_format: ConsultationFormat | None
    requester_id: uuid.UUID
    requester_name: str
    initiative_id: uuid.UUID | None
    session_count: int = Field(description="Сколько консультаций проведено")
    first_session_at: datetime | None
    hours_to_first_session: float | None = Field(
        description="Часы от запроса до первой консультации (для KPI)", examples=[50.5]
    )
    version: int
    created_at: datetime = Field(description="Когда запрошено сопровождение")
    updated_at: datetime


class ConsultationPublic(ConsultationSummary):
    description: str
    initiative: InitiativeRef | None
    consultants: list[PersonRef]
    accepted_at: datetime | None = Field(description="Когда назначены консультанты")
    closed_at: datetime | None
    close_comment: str | None
    decline_reason: str | None


class SessionCreate(InputModel):
    held_at: IsoDateTime = Field(examples=["2026-10-12T14:00:00+05:00"])
    format: ConsultationFormat = Field(examples=["individual"])
    duration_minutes: int = Field(ge=5, le=600, examples=[60])
    notes: LongText = Field(default="", examples=["Обсудили проблему и целевую группу"])
    next_steps: LongText = Field(default="", examples=["Сформулировать цель и три задачи"])
    attendee_ids: PeopleIds = Field(default_factory=list)


class SessionUpdate(InputModel):
    held_at: Annotated[IsoDateTime | None, NotNull] = None
    format: Annotated[ConsultationFormat | None, NotNull] = None
    duration_minutes: Annotated[int | None, NotNull] = Field(default=None, ge=5, le=600)
    notes: Annotated[LongText | None, NotNull] = None
    next_steps: Annotated[LongText | None, NotNull] = None
    attendee_ids: Annotated[PeopleIds | None, NotNull] = None
    version: Version = None


class SessionPublic(OutputModel):
    id: uuid.UUID
    track_id: uuid.UUID
    held_at: datetime
    format: ConsultationFormat
    duration_minutes: int
    notes: str
    next_steps: str
    attendees: list[PersonRef]
    recorded_by: PersonRef
    version: int
    created_at: datetime
    updated_at: datetime
