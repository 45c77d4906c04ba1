import uuid
from datetime import datetime
from typing import Annotated, Self

from pydantic import Field, StrictBool, StringConstraints, model_validator

from app.models import ExpertPosition, Recommendation, ReviewStatus
from app.schemas.common import InputModel, IsoDateTime, OutputModel

Code = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_]{1,39}$")]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=10_000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=2000)]


class CriterionIn(InputModel):
    code: Code = Field(examples=["relevance"])
    title_ru: Title = Field(examples=["Актуальность"])
    title_en: Title = Field(examples=["Relevance"])
    description: Text = ""
    max_score: int = Field(ge=1, le=100, examples=[5])
    weight: float = Field(gt=0, le=100, examples=[1.0])


class CriterionOut(OutputModel):
    code: str
    title_ru: str
    title_en: str
    description: str
    max_score: int
    weight: float


class CriteriaSetCreate(InputModel):
    title: Title = Field(examples=["Критерии экспертизы проектных замыслов, редакция 2"])
    criteria: list[CriterionIn] = Field(min_length=1, max_length=30)
    activate: StrictBool = Field(default=False, description="Сразу сделать набор действующим")

    @model_validator(mode="after")
    def _unique_codes(self) -> Self:
        codes = [c.code for c in self.criteria]
        if len(set(codes)) != len(codes):
            raise ValueError("коды критериев должны быть уникальными")
        return self


class CriteriaSetOut(OutputModel):
    id: uuid.UUID
    number: int
    title: str
    is_active: bool
    in_use: bool = Field(description="По набору уже назначались экспертизы: он не изменяется")
    created_at: datetime
    activated_at: datetime | None
    criteria: list[CriterionOut]


class ReviewAssign(InputModel):
    expert_id: uuid.UUID
    position: ExpertPosition = Field(examples=["content_expert"])
    due_at: IsoDateTime = Field(examples=["2026-12-15T18:00:00+05:00"])
    conflict_override_reason: Reason | None = Field(
        default=None,
        description="Только руководитель офиса: почему эксперт из той же организации допустим",
    )


class ReviewAccept(InputModel):
    competing_interests: Annotated[
        str, StringConstraints(strip_whitespace=True, max_length=2000)
    ] = Field(default="", description="Возможный конфликт интересов; пусто — нет")


class ReviewDecline(InputModel):
    reason: Reason


class ReviewCancel(InputModel):
    reason: Reason


class ScoreIn(InputModel):
    criterion: Code = Field(examples=["relevance"])
    score: int = Field(examples=[4])
    comment: Text = ""


class ConclusionDraft(InputModel):
    """Saved as a draft; any part may be missing until it is submitted."""

    scores: list[ScoreIn] = Field(default_factory=list, max_length=30)
    recommendation: Recommendation | None = None
    summary: Text = ""
    developmental_feedback: Text = ""


RequiredText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)
]


class ConclusionSubmit(InputModel):
    """Every score carries its comment (422 comment_required naming the criterion)."""

    scores: list[ScoreIn] = Field(min_length=1, max_length=30)
    recommendation: Recommendation
    summary: RequiredText
    developmental_feedback: RequiredText = Field(
        description="Вопросы автору, как их задал бы развивающий эксперт",
        examples=["Что изменится для ученика через год? Как вы это заметите?"],
    )


class QualityRating(InputModel):
    rating: int = Field(ge=1, le=5, description="Оценка качества заключения офисом, 1–5")


class ScoreOut(OutputModel):
    criterion: str
    score: int
    comment: str


class ConclusionOut(OutputModel):
    scores: list[ScoreOut]
    recommendation: Recommendation | None
    summary: str
    developmental_feedback: str
    quality_rating: int | None
    updated_at: datetime


class ReviewOut(OutputModel):
    id: uuid.UUID
    initiative_id: uuid.UUID
    review_round: int
    expert_id: uuid.UUID | None = Field(description="Скрыт от автора при слепой экспертизе")
    expert_name: str | None
    position: ExpertPosition
    status: ReviewStatus
    overdue: bool
    due_at: datetime
    competing_interests: str | None
    conflict_override_reason: str | None
    decline_reason: str | None
    cancel_reason: str | None
    created_at: datetime
    accepted_at: datetime | None
    submitted_at: datetime | None
    version: int
    conclusion: ConclusionOut | None


class CriterionSummary(OutputModel):
    criterion: str
    title_ru: str
    mean_score: float
    max_score: int
    mean_normalized: float


class RoundSummary(OutputModel):
    review_round: int
    conclusions: int
    weighted_mean: float | None = Field(description="Взвешенный средний балл, 0–100")
    criteria: list[CriterionSummary]
    recommendations: dict[str, int]
    spread: float | None = Field(description="Разброс нормированных баллов экспертов, 0–100")
    disagreement: bool = Field(description="Эксперты сильно расходятся в оценках")


class ExpertiseSummary(OutputModel):
    initiative_id: uuid.UUID
    current_round: int
    min_conclusions: int
    rounds: list[RoundSummary]


class ExpertSuggestion(OutputModel):
    expert_id: uuid.UUID
    full_name: str
    organization_id: uuid.UUID | None
    score: float
    open_reviews: int
    reasons: list[str]


class PositionGrantIn(InputModel):
    position: ExpertPosition
    reason: Reason


class PositionHistory(OutputModel):
    position: ExpertPosition
    first_reached_at: datetime
    source: str = Field(
        description="granted — решение руководителя; conclusion — первое заключение"
    )
    conclusions: int = Field(description="Сдано заключений в этой позиции")
    on_time_rate: float | None = Field(
        description="Доля заключений в этой позиции, сданных в срок, 0–1"
    )
    average_quality: float | None = Field(
        description="Средняя оценка качества заключений в этой позиции (1–5), если офис оценивал"
    )
    reason: str | None


class ExpertProfile(OutputModel):
    user_id: uuid.UUID
    full_name: str
    organization_id: uuid.UUID | None
    positions: list[PositionHistory]
    conclusions_submitted: int
    on_time_rate: float | None = Field(description="Доля заключений, сданных в срок, 0–1")
    average_quality: float | None
    open_reviews: int
