import uuid
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.models import EducationLevel, InitiativeKind, InitiativeStatus, TeamRole
from app.schemas.common import InputModel, IsoDate, NotNull, OutputModel
from app.services.lifecycle import LifecycleAction
from app.text import topic_key

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
TaskText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
TOPIC_MAX = 100


def _topic_key_fits(topic: str) -> str:
    # Folding may lengthen a topic (NFKC expands ligatures): its key must fit the column too.
    if len(topic_key(topic)) > TOPIC_MAX:
        raise ValueError(f"тема длиннее {TOPIC_MAX} символов после нормализации")
    return topic


Topic = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=TOPIC_MAX),
    AfterValidator(_topic_key_fits),
]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]


def _academic_year(value: str) -> str:
    first, _, second = value.partition("-")
    if not (len(first) == 4 and first.isdigit() and len(second) == 4 and second.isdigit()):
        raise ValueError("учебный год записывается как ГГГГ-ГГГГ, например 2021-2022")
    if int(second) != int(first) + 1:
        raise ValueError(f"годы учебного года должны идти подряд: {first}-{int(first) + 1}")
    if not 2000 <= int(first) <= 2100:
        raise ValueError("учебный год вне допустимого диапазона 2000-2101")
    return value


def _unique_topics(topics: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for topic in topics:
        seen.setdefault(topic_key(topic), topic)
    return list(seen.values())


AcademicYear = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=9),
    AfterValidator(_academic_year),
    Field(examples=["2021-2022"]),
]
Topics = Annotated[list[Topic], Field(max_length=20), AfterValidator(_unique_topics)]
Tasks = Annotated[list[TaskText], Field(max_length=50)]


class TeamMemberIn(InputModel):
    user_id: uuid.UUID
    role: TeamRole = TeamRole.member


Team = Annotated[list[TeamMemberIn], Field(max_length=50)]


class TeamMemberOut(OutputModel):
    user_id: uuid.UUID
    full_name: str
    role: TeamRole


class _Dates(InputModel):
    start_date: IsoDate | None = None
    end_date: IsoDate | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Self:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValueError("дата окончания раньше даты начала")
        return self


class InitiativeCreate(_Dates):
    title: Title = Field(
        examples=["Смысловое чтение как основа умения работать с информацией в начальной школе"]
    )
    summary: LongText = ""
    problem: LongText = ""
    goal: LongText = ""
    tasks: Tasks = Field(default_factory=list)
    expected_results: LongText = ""
    kind: InitiativeKind = InitiativeKind.project
    education_level: EducationLevel = Field(examples=["primary"])
    academic_year: AcademicYear
    topics: Topics = Field(
        default_factory=list, examples=[["смысловое чтение", "метапредметные результаты"]]
    )
    organization_id: uuid.UUID | None = Field(
        default=None, description="По умолчанию — организация автора"
    )
    team: Team = Field(default_factory=list)


class InitiativeUpdate(_Dates):
    """Content fields (author and team, in draft or revision) and metadata (`topics`,
    `academic_year`: office roles at any time). Omitted fields stay as they are."""

    title: Annotated[Title | None, NotNull] = None
    summary: Annotated[LongText | None, NotNull] = None
    problem: Annotated[LongText | None, NotNull] = None
    goal: Annotated[LongText | None, NotNull] = None
    tasks: Annotated[Tasks | None, NotNull] = None
    expected_results: Annotated[LongText | None, NotNull] = None
    kind: Annotated[InitiativeKind | None, NotNull] = None
    education_level: Annotated[EducationLevel | None, NotNull] = None
    academic_year: Annotated[AcademicYear | None, NotNull] = None
    topics: Annotated[Topics | None, NotNull] = None
    organization_id: Annotated[uuid.UUID | None, NotNull] = None
    version: int | None = Field(default=None, ge=1)


class TeamReplace(InputModel):
    members: Team
    version: int | None = Field(default=None, ge=1)


class InitiativeSummary(OutputModel):
    id: uuid.UUID
    code: str = Field(examples=["INI-2026-0007"])
    title: str
    kind: InitiativeKind
    education_level: EducationLevel
    academic_year: str
    status: InitiativeStatus
    organization_id: uuid.UUID
    author_id: uuid.UUID
    topics: list[str]
    review_round: int
    version: int
    created_at: datetime
    updated_at: datetime


class InitiativePublic(InitiativeSummary):
    summary: str
    problem: str
    goal: str
    tasks: list[str]
    expected_results: str
    start_date: date | None
    end_date: date | None
    author_name: str
    organization_name: str
    team: list[TeamMemberOut]
    submitted_at: datetime | None = Field(
        description="Когда инициатива впервые подана (с этого момента её видят все читатели)"
    )


class TransitionCreate(InputModel):
    action: LifecycleAction
    comment: Comment | None = None
    version: int | None = Field(default=None, ge=1)


class TransitionPublic(OutputModel):
    id: int
    action: LifecycleAction
    from_status: InitiativeStatus
    to_status: InitiativeStatus
    actor_id: uuid.UUID
    actor_name: str
    comment: str | None
    review_round: int
    at: datetime


class AvailableAction(OutputModel):
    action: LifecycleAction
    label_ru: str
    label_en: str
    target: InitiativeStatus
    allowed: bool
    requires_comment: bool
    blocked_by: list[dict[str, str]] = Field(
        description="Условия, которые ещё не выполнены: [{guard, reason}]"
    )


class LifecycleState(OutputModel):
    code: InitiativeStatus
    ru: str
    en: str
    terminal: bool


class LifecycleGuard(OutputModel):
    code: str
    description: str
    status: int = Field(
        description="Ответ, когда условие не выполнено: 403 — этому человеку шаг недоступен "
        "(конфликт интересов), 409 — инициатива ещё не готова к шагу",
        examples=[409],
    )


class LifecycleStep(OutputModel):
    action: LifecycleAction
    ru: str
    en: str
    sources: list[InitiativeStatus]
    target: InitiativeStatus
    parties: list[str] = Field(description="Кто может: роли или отношение к инициативе")
    requires_comment: bool
    guards: list[LifecycleGuard]
    effects: list[str]


class Lifecycle(OutputModel):
    initial: InitiativeStatus
    states: list[LifecycleState]
    actions: list[LifecycleStep]
