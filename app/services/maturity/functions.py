"""The catalogue of the office's functions and the head's assessments of them: dated, never
edited (a new assessment supersedes the last), each kept with the facts the system counted for
the function when it was recorded."""

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, select
from sqlmodel import Session, col

from app.config import get_settings
from app.errors import InvalidInput, NotFound
from app.models import (
    CharterVersion,
    EvidenceLinkKind,
    FunctionOrigin,
    Initiative,
    MaturityAssessment,
    Meeting,
    NetworkEvent,
    OfficeFunction,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.maturity import (
    AssessmentCreate,
    AssessmentPublic,
    EvidenceLink,
    EvidenceLinkIn,
    FunctionPublic,
    FunctionSummary,
    LevelDescriptor,
    SystemEvidence,
)
from app.schemas.refs import PersonRef
from app.security import Principal
from app.services import events
from app.services.maturity.capabilities import CAPABILITIES
from app.services.maturity.evidence import count_evidence
from app.services.maturity.scale import (
    LEVEL_LABELS,
    Window,
    gap,
    is_overdue,
    is_stale,
    latest_assessments,
    office_day,
)

FUNCTION_ORDER = SortKey([col(OfficeFunction.position)], [int])
ASSESSMENT_ORDER = SortKey(
    [col(MaturityAssessment.assessed_at), col(MaturityAssessment.id)],
    [datetime, uuid.UUID],
    descending=True,
)


def _catalogue_entry(function: OfficeFunction) -> dict[str, Any]:
    return {
        "code": function.code,
        "position": function.position,
        "origin": function.origin,
        "title_ru": function.title_ru,
        "title_en": function.title_en,
        "description": function.description,
    }


def function_or_404(session: Session, code: str) -> OfficeFunction:
    function = session.get(OfficeFunction, code)
    if function is None:
        raise NotFound(f"Функция проектного офиса «{code}» не найдена", extra={"function": code})
    return function


# --- the catalogue ----------------------------------------------------------------------------


def list_functions(
    session: Session, *, origin: FunctionOrigin | None, cursor: str | None, limit: int
) -> tuple[list[FunctionSummary], str | None]:
    """In the catalogue's order, each with its current level: one statement."""
    latest = latest_assessments()
    stmt = select(
        OfficeFunction,
        latest.c.level,
        latest.c.target_level,
        latest.c.target_date,
        latest.c.assessed_at,
    ).outerjoin(
        latest, and_(latest.c.function_code == col(OfficeFunction.code), latest.c.rank == 1)
    )
    if origin is not None:
        stmt = stmt.where(col(OfficeFunction.origin) == origin)
    rows = session.execute(paginate(stmt, FUNCTION_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r[0].position])
    items = [
        FunctionSummary(
            **_catalogue_entry(function),
            level=level or 0,
            target_level=target_level,
            target_date=target_date,
            assessed_at=assessed_at,
        )
        for function, level, target_level, target_date, assessed_at in page
    ]
    return items, next_cursor


def get_function(session: Session, *, code: str, as_of: date | None) -> FunctionPublic:
    """The function as it stood at the end of `as_of` (today by default): the assessment then
    in force and the facts of the 12 months before."""
    function = function_or_404(session, code)
    now = utcnow()
    day = as_of or office_day(now)
    current = session.scalars(
        select(MaturityAssessment)
        .where(
            col(MaturityAssessment.function_code) == code,
            col(MaturityAssessment.assessed_on) <= day,
        )
        .order_by(*(c.desc() for c in ASSESSMENT_ORDER.columns))
        .limit(1)
    ).first()
    assessment = _public(session, [current])[0] if current is not None else None
    level = current.level if current is not None else 0
    target_level = current.target_level if current is not None else None
    target_date = current.target_date if current is not None else None
    evidence = count_evidence(session, code, Window.ending_on(day, now=now))
    return FunctionPublic(
        **_catalogue_entry(function),
        level=level,
        target_level=target_level,
        target_date=target_date,
        assessed_at=current.assessed_at if current is not None else None,
        as_of=day,
        levels=[
            LevelDescriptor(
                level=n,
                label_ru=LEVEL_LABELS[n][0],
                label_en=LEVEL_LABELS[n][1],
                descriptor=descriptor,
            )
            for n, descriptor in enumerate(function.level_descriptors, start=1)
        ],
        gap=gap(level, target_level),
        stale=is_stale(
            current.assessed_on if current is not None else None,
            as_of=day,
            months=get_settings().maturity_stale_months,
        ),
        overdue=is_overdue(level, target_level, target_date, day),
        current=assessment,
        capabilities=[c for c, spec in CAPABILITIES.items() if spec.function == code],
        system_evidence=SystemEvidence.model_validate(evidence) if evidence else None,
    )


# --- assessments ------------------------------------------------------------------------------


def create_assessment(
    session: Session, *, actor: Principal, code: str, data: AssessmentCreate
) -> AssessmentPublic:
    function_or_404(session, code)
    now = utcnow()
    today = office_day(now)
    if data.target_date is not None and data.target_date < today:
        raise InvalidInput(
            f"Срок цели {data.target_date.isoformat()} уже прошёл",
            loc=["body", "target_date"],
            code="target_date_passed",
        )
    _check_links(session, data.links)
    assessment = MaturityAssessment(
        function_code=code,
        level=data.level,
        target_level=data.target_level,
        target_date=data.target_date,
        evidence=data.evidence,
        comment=data.comment,
        links=[{"kind": link.kind.value, "id": link.id} for link in data.links],
        system_evidence=count_evidence(session, code, Window.ending_at(now)),
        assessed_by_id=actor.id,
        assessed_at=now,
        assessed_on=today,
    )
    session.add(assessment)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="maturity.assessed",
        entity_type="office_function",
        entity_id=code,
        data={
            "assessment_id": str(assessment.id),
            "level": data.level,
            "target_level": data.target_level,
            "target_date": data.target_date.isoformat() if data.target_date else None,
        },
    )
    return _public(session, [assessment])[0]


def list_assessments(
    session: Session, *, code: str, cursor: str | None, limit: int
) -> tuple[list[AssessmentPublic], str | None]:
    """Newest first: the first is the one in force."""
    function_or_404(session, code)
    stmt = select(MaturityAssessment).where(col(MaturityAssessment.function_code) == code)
    rows = session.scalars(paginate(stmt, ASSESSMENT_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda a: [a.assessed_at, a.id])
    return _public(session, page), next_cursor


def get_assessment(session: Session, *, code: str, assessment_id: uuid.UUID) -> AssessmentPublic:
    function_or_404(session, code)
    assessment = session.scalars(
        select(MaturityAssessment).where(
            col(MaturityAssessment.id) == assessment_id,
            col(MaturityAssessment.function_code) == code,
        )
    ).first()
    if assessment is None:
        raise NotFound("Оценка не найдена")
    return _public(session, [assessment])[0]


# --- what an assessment points to -------------------------------------------------------------


def _link_titles(
    session: Session, kind: EvidenceLinkKind, ids: Sequence[str]
) -> dict[str, str | None]:
    """The title of each linked object that exists (and, for an initiative, left its author's
    drafts: a private draft is no evidence), by its id as an assessment keeps it."""
    if kind == EvidenceLinkKind.charter_version:
        numbers = [int(i) for i in ids]
        found = session.scalars(
            select(col(CharterVersion.number)).where(col(CharterVersion.number).in_(numbers))
        ).all()
        return {str(n): f"Устав сети, редакция {n}" for n in found}
    keys = [uuid.UUID(i) for i in ids]
    if kind == EvidenceLinkKind.initiative:
        rows = session.execute(
            select(col(Initiative.id), col(Initiative.code), col(Initiative.title)).where(
                col(Initiative.id).in_(keys), col(Initiative.submitted_at).is_not(None)
            )
        ).all()
        return {str(i): f"{c} «{t}»" for i, c, t in rows}
    if kind == EvidenceLinkKind.meeting:
        meetings = session.execute(
            select(
                col(Meeting.id), col(Meeting.title), col(Meeting.number), col(Meeting.academic_year)
            ).where(col(Meeting.id).in_(keys))
        ).all()
        return {
            str(i): title or f"Заседание № {number} ({year})" for i, title, number, year in meetings
        }
    events_found = session.execute(
        select(col(NetworkEvent.id), col(NetworkEvent.title)).where(col(NetworkEvent.id).in_(keys))
    ).all()
    return {str(i): title for i, title in events_found}


def _check_links(session: Session, links: list[EvidenceLinkIn]) -> None:
    by_kind: dict[EvidenceLinkKind, list[str]] = {}
    for link in links:
        by_kind.setdefault(link.kind, []).append(link.id)
    found = {kind: _link_titles(session, kind, ids) for kind, ids in by_kind.items()}
    for index, link in enumerate(links):
        if link.id not in found[link.kind]:
            raise InvalidInput(
                f"Не найдено, на что ссылается оценка: {link.kind.value} {link.id}",
                loc=["body", "links", index, "id"],
                code="unknown_link",
                extra={"kind": link.kind.value, "id": link.id},
            )


def _public(session: Session, rows: Sequence[MaturityAssessment]) -> list[AssessmentPublic]:
    """One query for the assessors' names and one per kind of link, whatever the page size."""
    if not rows:
        return []
    assessor_ids = list({r.assessed_by_id for r in rows})
    names = dict(
        session.execute(
            select(col(User.id), col(User.full_name)).where(col(User.id).in_(assessor_ids))
        ).all()
    )
    by_kind: dict[EvidenceLinkKind, set[str]] = {}
    for row in rows:
        for link in row.links:
            by_kind.setdefault(EvidenceLinkKind(link["kind"]), set()).add(link["id"])
    titles = {kind: _link_titles(session, kind, sorted(ids)) for kind, ids in by_kind.items()}
    return [
        AssessmentPublic(
            id=row.id,
            function=row.function_code,
            level=row.level,
            target_level=row.target_level,
            target_date=row.target_date,
            gap=gap(row.level, row.target_level),
            evidence=row.evidence,
            links=[
                EvidenceLink(
                    kind=EvidenceLinkKind(link["kind"]),
                    id=link["id"],
                    title=titles[EvidenceLinkKind(link["kind"])].get(link["id"]),
                )
                for link in row.links
            ],
            comment=row.comment,
            assessed_by=PersonRef(id=row.assessed_by_id, full_name=names[row.assessed_by_id]),
            assessed_at=row.assessed_at,
            assessed_on=row.assessed_on,
            system_evidence=(
                SystemEvidence.model_validate(row.system_evidence) if row.system_evidence else None
            ),
        )
        for row in rows
    ]
