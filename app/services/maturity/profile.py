"""The office's maturity profile on a day, and its history: computed in SQL from the
assessments (each function's newest on or before the day; never assessed counts 0)."""

from datetime import date

from sqlalchemy import and_, func, select
from sqlmodel import Session, col

from app.config import get_settings
from app.models import MaturityAssessment, OfficeFunction
from app.models.base import utcnow
from app.schemas.maturity import HistoryPoint, MaturityHistory, MaturityProfile, ProfileFunction
from app.services.maturity.functions import function_or_404
from app.services.maturity.scale import (
    gap,
    is_overdue,
    is_stale,
    latest_assessments,
    office_day,
)


def _index(levels_sum: int, functions: int) -> float:
    return round(levels_sum / functions, 2) if functions else 0.0


def profile(session: Session, *, as_of: date | None) -> MaturityProfile:
    """Every function as it stood at the end of `as_of` (today by default), in one statement;
    before the first assessment every level is 0."""
    day = as_of or office_day(utcnow())
    months = get_settings().maturity_stale_months
    latest = latest_assessments(on_or_before=day)
    rows = session.execute(
        select(
            col(OfficeFunction.code),
            col(OfficeFunction.title_ru),
            col(OfficeFunction.title_en),
            col(OfficeFunction.origin),
            latest.c.level,
            latest.c.target_level,
            latest.c.target_date,
            latest.c.assessed_at,
            latest.c.assessed_on,
        )
        .outerjoin(
            latest, and_(latest.c.function_code == col(OfficeFunction.code), latest.c.rank == 1)
        )
        .order_by(col(OfficeFunction.position))
    ).all()
    functions = []
    for code, title_ru, title_en, origin, level, target, target_date, at, on in rows:
        level = level or 0
        functions.append(
            ProfileFunction(
                code=code,
                title_ru=title_ru,
                title_en=title_en,
                origin=origin,
                level=level,
                target_level=target,
                target_date=target_date,
                gap=gap(level, target),
                assessed_at=at,
                stale=is_stale(on, as_of=day, months=months),
                overdue=is_overdue(level, target, target_date, day),
            )
        )
    return MaturityProfile(
        as_of=day,
        index=_index(sum(f.level for f in functions), len(functions)),
        functions=functions,
        assessed_count=sum(1 for f in functions if f.assessed_at is not None),
        stale_count=sum(1 for f in functions if f.stale),
        overdue_count=sum(1 for f in functions if f.overdue),
    )


def history(session: Session, *, function: str | None) -> MaturityHistory:
    """One point per day an assessment was recorded: the function's level and target that
    evening, or (without `function`) the index of the whole profile."""
    if function is not None:
        function_or_404(session, function)
        return MaturityHistory(function=function, points=_function_points(session, function))
    return MaturityHistory(function=None, points=_index_points(session))


def _function_points(session: Session, code: str) -> list[HistoryPoint]:
    assessment = MaturityAssessment
    last_of_day = (
        func.row_number()
        .over(
            partition_by=col(assessment.assessed_on),
            order_by=(col(assessment.assessed_at).desc(), col(assessment.id).desc()),
        )
        .label("rank")
    )
    ranked = (
        select(
            col(assessment.assessed_on),
            col(assessment.level),
            col(assessment.target_level),
            last_of_day,
        )
        .where(col(assessment.function_code) == code)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.assessed_on, ranked.c.level, ranked.c.target_level)
        .where(ranked.c.rank == 1)
        .order_by(ranked.c.assessed_on)
    ).all()
    return [
        HistoryPoint(as_of=day, level=level, target_level=target, index=None)
        for day, level, target in rows
    ]


def _index_points(session: Session) -> list[HistoryPoint]:
    assessment = MaturityAssessment
    days = select(col(assessment.assessed_on).label("day")).distinct().subquery()
    standing = (
        func.row_number()
        .over(
            partition_by=(days.c.day, col(assessment.function_code)),
            order_by=(col(assessment.assessed_at).desc(), col(assessment.id).desc()),
        )
        .label("rank")
    )
    ranked = (
        select(days.c.day, col(assessment.level), standing)
        .select_from(days)
        .join(assessment, col(assessment.assessed_on) <= days.c.day)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.day, func.sum(ranked.c.level))
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.day)
        .order_by(ranked.c.day)
    ).all()
    functions = session.execute(select(func.count()).select_from(OfficeFunction)).scalar_one()
    return [
        HistoryPoint(as_of=day, level=None, target_level=None, index=_index(int(total), functions))
        for day, total in rows
    ]
