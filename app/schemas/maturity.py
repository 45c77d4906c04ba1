import uuid
from datetime import date, datetime
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.models import EvidenceLinkKind, FunctionOrigin
from app.models.maturity import MAX_LEVEL, MIN_LEVEL
from app.schemas.common import InputModel, IsoDate, OutputModel
from app.schemas.refs import PersonRef
from app.services.maturity.capabilities import Capability, Gating
from app.services.maturity.evidence import EvidenceUnit

Level = Annotated[
    int,
    Field(
        ge=MIN_LEVEL,
        le=MAX_LEVEL,
        description="Уровень зрелости: 0 не выполняется, 1 начальный, 2 повторяемый, "
        "3 определённый, 4 измеряемый, 5 оптимизируемый (`GET /meta/enums`, `maturity_level`)",
        examples=[2],
    ),
]
FunctionCodeText = Annotated[str, Field(examples=["consulting"])]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=5000)]
# The calendar the office plans in; a date outside it is a typo, not a plan.
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _within_calendar(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"дата вне допустимого диапазона {FIRST_DAY}…{LAST_DAY}")
    return day


CalendarDay = Annotated[IsoDate, AfterValidator(_within_calendar)]


# --- the catalogue --------------------------------------------------------------------------


class LevelDescriptor(OutputModel):
    level: int = Field(examples=[2])
    label_ru: str = Field(examples=["Повторяемый"])
    label_en: str = Field(examples=["Repeatable"])
    descriptor: str = Field(
        description="Как этот уровень выглядит для функции",
        examples=[
            "Запросы на сопровождение принимаются и фиксируются; за каждым треком закреплён "
            "консультант, встречи записываются."
        ],
    )


class FunctionSummary(OutputModel):
    code: FunctionCodeText
    position: int = Field(description="Порядок в каталоге", examples=[14])
    origin: FunctionOrigin = Field(
        description="`regulation` — из Положения о проектном офисе, `new` — добавлена проектом"
    )
    title_ru: str = Field(examples=["Консультирование и сопровождение проектных замыслов"])
    title_en: str = Field(examples=["Consulting and accompanying project ideas"])
    description: str
    level: int = Field(description="Текущий уровень; 0, пока функцию не оценивали", examples=[1])
    target_level: int | None = Field(examples=[3])
    target_date: date | None = Field(examples=["2022-05-31"])
    assessed_at: datetime | None = Field(description="null — функцию ещё не оценивали")


# --- evidence -----------------------------------------------------------------------------------


class EvidenceFact(OutputModel):
    code: str = Field(examples=["median_days_to_first_session"])
    title_ru: str = Field(examples=["Медиана дней от запроса до первой консультации"])
    title_en: str = Field(examples=["Median days from request to the first session"])
    value: int | float | None = Field(
        description="null — нечего считать (медиана без единого случая)", examples=[4.5]
    )
    unit: EvidenceUnit
    breakdown: dict[str, int] | None = Field(
        default=None,
        description="Разбивка значения (по форматам, позициям, вариантам голосования)",
        examples=[{"reflective_session": 3, "formal_session": 2}],
    )


class SystemEvidence(OutputModel):
    """What the system counted for the function over 12 months, up to `period_to`."""

    period_from: date = Field(examples=["2021-06-01"])
    period_to: date = Field(examples=["2022-05-31"])
    facts: list[EvidenceFact]


class EvidenceLinkIn(InputModel):
    kind: EvidenceLinkKind = Field(examples=["meeting"])
    id: str = Field(
        min_length=1,
        max_length=40,
        description="UUID инициативы, заседания или события сети; номер версии устава",
        examples=["0b7e4c1a-5d2f-4e8b-9a61-3c9f2d7e8a10"],
    )

    @model_validator(mode="after")
    def _id_fits_kind(self) -> Self:
        if self.kind == EvidenceLinkKind.charter_version:
            if not (self.id.isascii() and self.id.isdigit() and 0 < int(self.id) < 10**6):
                raise ValueError("версия устава указывается её номером: 1, 2, …")
        else:
            try:
                self.id = str(uuid.UUID(self.id))
            except ValueError:
                raise ValueError(f"{self.kind.value}: ожидается UUID") from None
        return self


class EvidenceLink(OutputModel):
    kind: EvidenceLinkKind
    id: str = Field(examples=["0b7e4c1a-5d2f-4e8b-9a61-3c9f2d7e8a10"])
    title: str | None = Field(
        description="Название того, на что ссылка (null, если этого больше нет)",
        examples=["Рефлексивная сессия по проектным замыслам"],
    )


# --- assessments --------------------------------------------------------------------------------


class AssessmentCreate(InputModel):
    level: Level
    target_level: Level | None = Field(
        default=None, description="Уровень, к которому офис идёт; не ниже `level`"
    )
    target_date: CalendarDay | None = Field(
        default=None,
        description="К какому дню достичь `target_level`; не раньше сегодняшнего",
        examples=["2022-05-31"],
    )
    evidence: LongText = Field(
        default="",
        description="На чём основана оценка: что офис делает и как это видно",
        examples=["С сентября принято 9 запросов, за каждым закреплён консультант"],
    )
    links: list[EvidenceLinkIn] = Field(
        default_factory=list,
        max_length=50,
        description="Инициативы, заседания, события сети, версии устава в подтверждение",
    )
    comment: Comment = Field(default="", examples=["Следующий шаг — описать порядок"])

    @field_validator("target_level")
    @classmethod
    def _target_not_below_level(cls, value: int | None, info: ValidationInfo) -> int | None:
        level = info.data.get("level")
        if value is not None and level is not None and value < level:
            raise ValueError(f"цель ниже текущего уровня {level}")
        return value

    @field_validator("target_date")
    @classmethod
    def _target_date_in_calendar(cls, value: date | None, info: ValidationInfo) -> date | None:
        if value is None:
            return None
        # Absent from `info.data` when target_level itself failed: reported there.
        if "target_level" in info.data and info.data["target_level"] is None:
            raise ValueError("срок задаётся вместе с целевым уровнем `target_level`")
        return value

    @field_validator("links")
    @classmethod
    def _links_unique(cls, value: list[EvidenceLinkIn]) -> list[EvidenceLinkIn]:
        keys = [(link.kind, link.id) for link in value]
        if len(set(keys)) != len(keys):
            raise ValueError("ссылка указана дважды")
        return value


class AssessmentPublic(OutputModel):
    id: uuid.UUID
    function: FunctionCodeText
    level: int = Field(examples=[2])
    target_level: int | None = Field(examples=[3])
    target_date: date | None = Field(examples=["2022-05-31"])
    gap: int | None = Field(description="`target_level − level`; null без цели", examples=[1])
    evidence: str
    links: list[EvidenceLink]
    comment: str
    assessed_by: PersonRef
    assessed_at: datetime
    assessed_on: date = Field(description="День оценки по времени офиса (UTC+5)")
    system_evidence: SystemEvidence | None = Field(
        description="Что система насчитала по функции за 12 месяцев до оценки (зафиксировано "
        "вместе с ней); null — по функции система пока ничего не считает"
    )


class FunctionPublic(FunctionSummary):
    as_of: date = Field(description="На какой день показаны уровень и факты")
    levels: list[LevelDescriptor] = Field(description="Что означают уровни 1–5 для функции")
    gap: int | None = Field(examples=[2])
    stale: bool = Field(description="Последняя оценка старше PROJOFFICE_MATURITY_STALE_MONTHS")
    overdue: bool = Field(description="Срок цели прошёл, а уровень ниже цели")
    current: AssessmentPublic | None = Field(description="Оценка, действующая на `as_of`")
    capabilities: list[Capability] = Field(description="Возможности API, которыми она управляет")
    system_evidence: SystemEvidence | None = Field(
        description="Что система насчитала по функции за 12 месяцев до `as_of`; null — по "
        "функции система пока ничего не считает"
    )


# --- profile and history ------------------------------------------------------------------------


class ProfileFunction(OutputModel):
    code: FunctionCodeText
    title_ru: str = Field(examples=["Консультирование и сопровождение проектных замыслов"])
    title_en: str = Field(examples=["Consulting and accompanying project ideas"])
    origin: FunctionOrigin
    level: int = Field(examples=[2])
    target_level: int | None = Field(examples=[3])
    target_date: date | None = Field(examples=["2022-05-31"])
    gap: int | None = Field(examples=[1])
    assessed_at: datetime | None = Field(description="null — функцию ещё не оценивали")
    stale: bool
    overdue: bool


class MaturityProfile(OutputModel):
    as_of: date = Field(examples=["2022-05-31"])
    index: float = Field(
        description="Средний уровень по всем функциям (не оценённые — 0)", examples=[1.76]
    )
    functions: list[ProfileFunction]
    assessed_count: int = Field(description="Сколько функций оценено к `as_of`", examples=[17])
    stale_count: int = Field(examples=[0])
    overdue_count: int = Field(examples=[1])


class HistoryPoint(OutputModel):
    as_of: date = Field(description="День, в который менялась оценка", examples=["2021-05-20"])
    level: int | None = Field(description="Уровень функции (ряд одной функции)", examples=[1])
    target_level: int | None = Field(description="Её цель на тот день", examples=[3])
    index: float | None = Field(description="Индекс зрелости (ряд индекса)", examples=[1.24])


class MaturityHistory(OutputModel):
    function: str | None = Field(description="Код функции; null — ряд индекса")
    points: list[HistoryPoint]


# --- capabilities -------------------------------------------------------------------------------


class CapabilityPublic(OutputModel):
    code: Capability
    title_ru: str = Field(examples=["Запросы на консультирование и сопровождение замыслов"])
    title_en: str = Field(examples=["Consultation requests"])
    function: FunctionCodeText
    function_title_ru: str = Field(examples=["Консультирование и сопровождение проектных замыслов"])
    required_level: int = Field(
        description="PROJOFFICE_MATURITY_REQUIRED_LEVELS (по умолчанию 1)", examples=[1]
    )
    current_level: int = Field(examples=[0])
    mastered: bool = Field(description="`current_level ≥ required_level`")
    operations: list[str] = Field(examples=[["POST /api/v1/consultations"]])
    condition: str | None = Field(
        description="Когда запрос пользуется возможностью, если не всегда",
        examples=["только заседания в неформальном формате (не «Заседание»)"],
    )


class CapabilityList(OutputModel):
    gating: Gating = Field(
        description="PROJOFFICE_MATURITY_GATING: `advisory` — ничего не блокируется; "
        "`enforced` — неосвоенная возможность отвечает 409 `capability_not_mastered`"
    )
    capabilities: list[CapabilityPublic]
