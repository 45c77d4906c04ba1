"""What the parts of the capability share: the maturity scale, the catalogue's codes, the
office's calendar of assessments and the query of each function's newest assessment."""

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from sqlalchemy import Subquery, func, select
from sqlmodel import col

from app.models import FunctionOrigin, MaturityAssessment
from app.models.maturity import MAX_LEVEL, MIN_LEVEL
from app.services.office_time import OFFICE_TZ, local

LEVELS = range(MIN_LEVEL, MAX_LEVEL + 1)
LEVEL_LABELS: dict[int, tuple[str, str]] = {
    0: ("Не выполняется", "Not performed"),
    1: ("Начальный", "Initial"),
    2: ("Повторяемый", "Repeatable"),
    3: ("Определённый", "Defined"),
    4: ("Измеряемый", "Measured"),
    5: ("Оптимизируемый", "Optimising"),
}
ORIGIN_LABELS: dict[FunctionOrigin, tuple[str, str]] = {
    FunctionOrigin.regulation: ("Функция по Положению о проектном офисе", "From the Regulation"),
    FunctionOrigin.new: ("Новая функция проекта «Проектный офис+»", "New in the project"),
}
# The facts behind a level are those of the last 12 months.
EVIDENCE_MONTHS = 12


class FunctionCode(StrEnum):
    """The codes of the catalogue the migration seeds, for the code that names a function
    (a test keeps the two equal)."""

    initiative_review = "initiative_review"
    project_portfolio = "project_portfolio"
    effectiveness_kpi = "effectiveness_kpi"
    best_practices = "best_practices"
    central_planning = "central_planning"
    risks_and_changes = "risks_and_changes"
    summary_reporting = "summary_reporting"
    results_integration = "results_integration"
    methodological_documents = "methodological_documents"
    motivation_system = "motivation_system"
    competence_development = "competence_development"
    stakeholder_communications = "stakeholder_communications"
    interaction_and_conflicts = "interaction_and_conflicts"
    consulting = "consulting"
    network_development = "network_development"
    reflective_meetings = "reflective_meetings"
    expert_positions = "expert_positions"


# --- the office's calendar -----------------------------------------------------------------


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, or the month's last day when it is shorter."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def day_start(day: date) -> datetime:
    """The office's midnight that begins `day`."""
    return datetime.combine(day, time(), tzinfo=OFFICE_TZ)


def office_day(moment: datetime) -> date:
    return local(moment).date()


@dataclass(frozen=True, slots=True)
class Window:
    """The 12 months of facts behind a level: `start` included, `end` excluded; `period_from`
    and `period_to` are the office's calendar days it covers."""

    start: datetime
    end: datetime
    period_from: date
    period_to: date

    @classmethod
    def ending_at(cls, moment: datetime) -> "Window":
        last = office_day(moment)
        first = months_before(last, EVIDENCE_MONTHS) + timedelta(days=1)
        return cls(day_start(first), moment, first, last)

    @classmethod
    def ending_on(cls, day: date, *, now: datetime) -> "Window":
        """The 12 months up to the end of `day`; up to `now` when the day is not over."""
        if day >= office_day(now):
            return cls.ending_at(now)
        first = months_before(day, EVIDENCE_MONTHS) + timedelta(days=1)
        return cls(day_start(first), day_start(day + timedelta(days=1)), first, day)


# --- a function's standing on a day ------------------------------------------------------------


def latest_assessments(*, on_or_before: date | None = None) -> Subquery:
    """Every assessment ranked within its function, newest first (`rank` 1 is the one that
    stood on the day), in one statement on both databases."""
    rank = (
        func.row_number()
        .over(
            partition_by=col(MaturityAssessment.function_code),
            order_by=(
                col(MaturityAssessment.assessed_at).desc(),
                col(MaturityAssessment.id).desc(),
            ),
        )
        .label("rank")
    )
    stmt = select(*MaturityAssessment.__table__.columns, rank)  # type: ignore[attr-defined]
    if on_or_before is not None:
        stmt = stmt.where(col(MaturityAssessment.assessed_on) <= on_or_before)
    return stmt.subquery("latest")


def gap(level: int, target_level: int | None) -> int | None:
    return None if target_level is None else target_level - level


def is_stale(assessed_on: date | None, *, as_of: date, months: int) -> bool:
    """Assessed, but longer ago than the setting allows; a function never assessed is not
    stale (its `assessed_at` is null)."""
    return assessed_on is not None and assessed_on < months_before(as_of, months)


def is_overdue(level: int, target_level: int | None, target_date: date | None, as_of: date) -> bool:
    """The target's date has passed and the level is still below it."""
    return (
        target_level is not None
        and target_date is not None
        and target_date < as_of
        and level < target_level
    )
