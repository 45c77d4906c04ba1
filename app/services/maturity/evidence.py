"""The facts the system can count for a function over a period, so that a claimed level can be
checked against what happened.

`PROVIDERS` maps a function's code to the function that counts its facts, each in a few
aggregate statements that run the same on SQLite and PostgreSQL. A capability that records
more (project implementation: risks, change requests, reports) adds its providers here; a
function without one shows `system_evidence: null`.
"""

from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Select,
    and_,
    case,
    distinct,
    func,
    or_,
    select,
    union,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import Session, col

from app.models import (
    Amendment,
    AmendmentVote,
    CharterVersion,
    ConsultationOutcome,
    ConsultationTrack,
    ExpertPositionGrant,
    Initiative,
    MeetingFormat,
    MeetingStatus,
    NetworkEvent,
    NetworkEventOrganization,
    ReviewAssignment,
    ReviewStatus,
    Role,
    Transition,
    UserRole,
)
from app.models.meetings import Meeting
from app.services.maturity.scale import FunctionCode, Window

__all__ = ["PROVIDERS", "EvidenceUnit", "Fact", "count_evidence"]


class EvidenceUnit(StrEnum):
    number = "number"
    days = "days"
    share = "share"


UNIT_LABELS: dict[EvidenceUnit, tuple[str, str]] = {
    EvidenceUnit.number: ("Число", "Number"),
    EvidenceUnit.days: ("Дней", "Days"),
    EvidenceUnit.share: ("Доля (0–1)", "Share (0-1)"),
}


@dataclass(frozen=True, slots=True)
class Fact:
    code: str
    title_ru: str
    title_en: str
    value: float | int | None
    unit: EvidenceUnit
    breakdown: dict[str, int] | None = None


Provider = Callable[[Session, Window], list[Fact]]


# --- SQL that reads the same on both databases ---------------------------------------------------


class days_between(FunctionElement[float]):  # noqa: N801 (an SQL function's name)
    """Days from the first timestamp to the second, fractional."""

    type = Float()
    inherit_cache = True


@compiles(days_between)
def _days_between_postgresql(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(EXTRACT(EPOCH FROM ({end} - {start})) / 86400.0)"


@compiles(days_between, "sqlite")
def _days_between_sqlite(element: days_between, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as ISO text, which julianday() reads.
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"(julianday({end}) - julianday({start}))"


def median(values: Select[Any]) -> Select[Any]:
    """The median of the one column `values` selects; null when it selects no row. Window
    functions instead of percentile_cont, which SQLite lacks."""
    inner = values.subquery()
    value = inner.c[0]
    ranked = (
        select(
            value.label("value"),
            func.row_number().over(order_by=value).label("n"),
            func.count().over().label("total"),
        )
        .where(value.is_not(None))
        .subquery()
    )
    middle = or_(ranked.c.n == (ranked.c.total + 1) // 2, ranked.c.n == (ranked.c.total + 2) // 2)
    return select(func.avg(ranked.c.value)).where(middle)


def _within(column: Any, window: Window) -> ColumnElement[bool]:
    return and_(column >= window.start, column < window.end)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _counts_by(
    session: Session, key: Any, *where: ColumnElement[bool], counted: Any = None
) -> dict[str, int]:
    """`{key: count}` of the rows `where` selects: of rows, or of distinct `counted` values."""
    count = func.count() if counted is None else func.count(distinct(counted))
    rows = session.execute(select(key, count).where(*where).group_by(key)).all()
    return {str(value): n for value, n in rows}


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _days(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# --- the providers --------------------------------------------------------------------------------


def _consulting(session: Session, window: Window) -> list[Fact]:
    track = ConsultationTrack
    opened = _within(col(track.created_at), window)
    closed = _within(col(track.closed_at), window)
    requested, finished, became = session.execute(
        select(
            _count_if(opened),
            _count_if(closed),
            _count_if(and_(closed, col(track.outcome) == ConsultationOutcome.initiative_submitted)),
        ).where(or_(opened, closed))
    ).one()
    to_first = session.execute(
        median(
            select(days_between(col(track.created_at), col(track.first_session_at))).where(
                _within(col(track.first_session_at), window)
            )
        )
    ).scalar()
    return [
        Fact(
            "tracks_opened",
            "Открыто треков сопровождения",
            "Tracks opened",
            requested,
            EvidenceUnit.number,
        ),
        Fact("tracks_closed", "Завершено треков", "Tracks closed", finished, EvidenceUnit.number),
        Fact(
            "ideas_became_initiatives",
            "Замыслов, ставших инициативами (среди завершённых)",
            "Ideas that became initiatives (of the tracks closed)",
            became,
            EvidenceUnit.number,
        ),
        Fact(
            "median_days_to_first_session",
            "Медиана дней от запроса до первой консультации",
            "Median days from request to the first session",
            _days(to_first),
            EvidenceUnit.days,
        ),
    ]


def _network(session: Session, window: Window) -> list[Fact]:
    event = NetworkEvent
    office = select(col(UserRole.user_id)).where(
        col(UserRole.role).in_([Role.office_head, Role.office_member])
    )
    held = _within(col(event.held_at), window)
    total, organizers, outside = session.execute(
        select(
            func.count(),
            func.count(distinct(col(event.organizer_id))),
            _count_if(col(event.organizer_id).not_in(office)),
        ).where(held)
    ).one()
    organizations = union(
        select(col(event.organizer_organization_id).label("organization_id")).where(
            held, col(event.organizer_organization_id).is_not(None)
        ),
        select(col(NetworkEventOrganization.organization_id))
        .join(event, col(event.id) == col(NetworkEventOrganization.event_id))
        .where(held),
    ).subquery()
    involved = session.execute(select(func.count()).select_from(organizations)).scalar_one()
    return [
        Fact("events_held", "Событий сети", "Network events", total, EvidenceUnit.number),
        Fact(
            "distinct_organizers",
            "Разных организаторов",
            "Distinct organizers",
            organizers,
            EvidenceUnit.number,
        ),
        Fact(
            "organized_outside_office_share",
            "Доля событий, организованных не членами проектного офиса",
            "Share of events organised outside the office",
            _share(int(outside), total),
            EvidenceUnit.share,
        ),
        Fact(
            "organizations_involved",
            "Организаций, участвовавших в событиях",
            "Organisations involved",
            involved,
            EvidenceUnit.number,
        ),
    ]


def _meetings(session: Session, window: Window) -> list[Fact]:
    meeting = Meeting
    reflected = or_(
        col(meeting.reflection_worked) != "",
        col(meeting.reflection_insights) != "",
        col(meeting.reflection_changes) != "",
    )
    rows = session.execute(
        select(col(meeting.format), func.count(), _count_if(reflected))
        .where(
            col(meeting.status) == MeetingStatus.held,
            _within(col(meeting.scheduled_at), window),
        )
        .group_by(col(meeting.format))
    ).all()
    by_format = {MeetingFormat(f).value: n for f, n, _ in rows}
    total = sum(by_format.values())
    informal = total - by_format.get(MeetingFormat.formal_session.value, 0)
    return [
        Fact(
            "meetings_held",
            "Проведено заседаний (по форматам)",
            "Meetings held (by format)",
            total,
            EvidenceUnit.number,
            breakdown=by_format,
        ),
        Fact(
            "informal_share",
            "Доля заседаний в неформальных форматах",
            "Share of meetings in informal formats",
            _share(informal, total),
            EvidenceUnit.share,
        ),
        Fact(
            "reflections_recorded",
            "Заседаний с записанной рефлексией",
            "Meetings with a recorded reflection",
            sum(int(r) for _, _, r in rows),
            EvidenceUnit.number,
        ),
    ]


def _expert_positions(session: Session, window: Window) -> list[Fact]:
    review = ReviewAssignment
    submitted = and_(
        col(review.status) == ReviewStatus.submitted, _within(col(review.submitted_at), window)
    )
    per_position = _counts_by(
        session, col(review.position), submitted, counted=col(review.expert_id)
    )
    people, conclusions = session.execute(
        select(func.count(distinct(col(review.expert_id))), func.count()).where(submitted)
    ).one()
    grants = _counts_by(
        session,
        col(ExpertPositionGrant.position),
        _within(col(ExpertPositionGrant.granted_at), window),
    )
    return [
        Fact(
            "experts_at_work",
            "Экспертов, сдавших заключения (по позициям)",
            "Experts who submitted conclusions (by position)",
            people,
            EvidenceUnit.number,
            breakdown=per_position,
        ),
        Fact(
            "moves_up",
            "Переходов на новую позицию (по позициям)",
            "Moves up to a new position (by position reached)",
            sum(grants.values()),
            EvidenceUnit.number,
            breakdown=grants,
        ),
        Fact(
            "conclusions_submitted",
            "Сдано экспертных заключений",
            "Conclusions submitted",
            conclusions,
            EvidenceUnit.number,
        ),
    ]


DECISIONS = ("approve", "reject")


def _initiative_review(session: Session, window: Window) -> list[Fact]:
    step = Transition
    in_window = _within(col(step.at), window)
    steps = _counts_by(
        session, col(step.action), col(step.action).in_([*DECISIONS, "request_revision"]), in_window
    )
    to_decision = session.execute(
        median(
            select(days_between(col(Initiative.submitted_at), col(step.at)))
            .select_from(step)
            .join(Initiative, col(Initiative.id) == col(step.initiative_id))
            .where(col(step.action).in_(DECISIONS), in_window)
        )
    ).scalar()
    decided = {action: steps.get(action, 0) for action in DECISIONS}
    return [
        Fact(
            "initiatives_decided",
            "Принято решений по инициативам (одобрено, отклонено)",
            "Initiatives decided (approved, rejected)",
            sum(decided.values()),
            EvidenceUnit.number,
            breakdown=decided,
        ),
        Fact(
            "median_days_to_decision",
            "Медиана дней от подачи до решения",
            "Median days from submission to decision",
            _days(to_decision),
            EvidenceUnit.days,
        ),
        Fact(
            "revisions_requested",
            "Возвратов на доработку",
            "Revisions requested",
            steps.get("request_revision", 0),
            EvidenceUnit.number,
        ),
    ]


PROJECT_STEPS = {
    "start": ("projects_started", "Начато реализаций проектов", "Projects started"),
    "complete": ("projects_completed", "Завершено проектов", "Projects completed"),
    "close": ("projects_closed", "Закрыто проектов", "Projects closed"),
    "cancel": ("projects_cancelled", "Прекращено проектов", "Projects cancelled"),
}


def _central_planning(session: Session, window: Window) -> list[Fact]:
    counts = _counts_by(
        session,
        col(Transition.action),
        col(Transition.action).in_(list(PROJECT_STEPS)),
        _within(col(Transition.at), window),
    )
    return [
        Fact(code, ru, en, counts.get(action, 0), EvidenceUnit.number)
        for action, (code, ru, en) in PROJECT_STEPS.items()
    ]


def _interaction(session: Session, window: Window) -> list[Fact]:
    proposed = session.execute(
        select(func.count()).where(_within(col(Amendment.created_at), window))
    ).scalar_one()
    votes = _counts_by(
        session, col(AmendmentVote.vote), _within(col(AmendmentVote.cast_at), window)
    )
    adopted = session.execute(
        select(func.count()).where(_within(col(CharterVersion.adopted_at), window))
    ).scalar_one()
    return [
        Fact(
            "amendments_proposed",
            "Предложено поправок к уставу",
            "Charter amendments proposed",
            proposed,
            EvidenceUnit.number,
        ),
        Fact(
            "votes_cast",
            "Голосов по поправкам (по вариантам)",
            "Votes cast on amendments (by choice)",
            sum(votes.values()),
            EvidenceUnit.number,
            breakdown=votes,
        ),
        Fact(
            "charter_versions_adopted",
            "Принято редакций устава",
            "Charter versions adopted",
            adopted,
            EvidenceUnit.number,
        ),
    ]


# Keyed by the catalogue's codes (a FunctionCode is its code).
PROVIDERS: dict[str, Provider] = {
    FunctionCode.initiative_review: _initiative_review,
    FunctionCode.central_planning: _central_planning,
    FunctionCode.interaction_and_conflicts: _interaction,
    FunctionCode.consulting: _consulting,
    FunctionCode.network_development: _network,
    FunctionCode.reflective_meetings: _meetings,
    FunctionCode.expert_positions: _expert_positions,
}


def count_evidence(session: Session, function_code: str, window: Window) -> dict[str, Any] | None:
    """The function's facts over the window, JSON-ready (as an assessment keeps them); None
    when the system records nothing it could count for the function."""
    provider = PROVIDERS.get(function_code)
    if provider is None:
        return None
    return {
        "period_from": window.period_from.isoformat(),
        "period_to": window.period_to.isoformat(),
        "facts": [{**asdict(fact), "unit": fact.unit.value} for fact in provider(session, window)],
    }
