"""Consultation tracks: accompaniment of teachers' and schools' project ideas.

requested ──assign consultants──▶ active ──close {outcome}──▶ closed
    └──decline {reason}──▶ declined
"""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Row, false, func, or_, select, true
from sqlmodel import Session, col, delete

from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    ConsultationConsultant,
    ConsultationFormat,
    ConsultationOutcome,
    ConsultationSession,
    ConsultationSessionAttendee,
    ConsultationStatus,
    ConsultationTrack,
    Initiative,
    InitiativeStatus,
    Role,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import ObjectRule, passes
from app.schemas.consultations import (
    ConsultationClose,
    ConsultationCreate,
    ConsultationDecline,
    ConsultationPublic,
    ConsultationSummary,
    ConsultationUpdate,
    SessionCreate,
    SessionPublic,
    SessionUpdate,
)
from app.schemas.initiatives import InitiativePublic
from app.schemas.refs import InitiativeRef, PersonRef
from app.security import Principal
from app.services import events, initiatives, people
from app.services.lifecycle import TERMINAL
from app.services.office_time import ru_datetime
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text

S = ConsultationStatus
CONSULTANT_ROLES = frozenset({Role.office_head, Role.office_member, Role.expert})
FINISHED = frozenset({S.closed, S.declined})
STATUS_LABELS: dict[ConsultationStatus, tuple[str, str]] = {
    S.requested: ("Запрошено", "Requested"),
    S.active: ("Идёт сопровождение", "Active"),
    S.closed: ("Завершено", "Closed"),
    S.declined: ("Отклонено", "Declined"),
}
OUTCOME_LABELS: dict[ConsultationOutcome, tuple[str, str]] = {
    ConsultationOutcome.initiative_submitted: ("Подана инициатива", "Initiative submitted"),
    ConsultationOutcome.idea_developed_further: ("Замысел развит", "Idea developed further"),
    ConsultationOutcome.redirected: ("Перенаправлен", "Redirected"),
    ConsultationOutcome.abandoned: ("Замысел оставлен", "Idea abandoned"),
}
FORMAT_LABELS: dict[ConsultationFormat, tuple[str, str]] = {
    ConsultationFormat.individual: ("Индивидуальная", "Individual"),
    ConsultationFormat.group: ("Групповая", "Group"),
    ConsultationFormat.online: ("Онлайн", "Online"),
    ConsultationFormat.workshop: ("Мастерская", "Workshop"),
}
# A session is recorded after it happened; a few minutes of clock skew are tolerated.
FUTURE_TOLERANCE = timedelta(minutes=10)


class ConsultationSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"


_BY_CREATED = (
    [col(ConsultationTrack.created_at), col(ConsultationTrack.id)],
    [datetime, uuid.UUID],
)
SORT_KEYS = {
    ConsultationSort.created_at: SortKey(*_BY_CREATED),
    ConsultationSort.created_at_desc: SortKey(*_BY_CREATED, descending=True),
}
SUMMARY_COLUMNS = (
    *(
        col(getattr(ConsultationTrack, name))
        for name in ConsultationSummary.model_fields
        if name not in {"requester_name", "hours_to_first_session"}
    ),
    col(User.full_name).label("requester_name"),
)


# --- who sees and does what -------------------------------------------------------------------


def _consulting(user_id: uuid.UUID) -> Any:
    return select(col(ConsultationConsultant.track_id)).where(
        col(ConsultationConsultant.user_id) == user_id
    )


def _visible(actor: Principal) -> ColumnElement[bool]:
    if not actor.is_user or passes(actor, ObjectRule.consultation_read):
        return true()
    return or_(
        col(ConsultationTrack.requester_id) == actor.id,
        col(ConsultationTrack.id).in_(_consulting(actor.id)),
    )


def _load(session: Session, actor: Principal, track_id: uuid.UUID) -> ConsultationTrack:
    track = session.scalars(
        select(ConsultationTrack).where(col(ConsultationTrack.id) == track_id, _visible(actor))
    ).first()
    if track is None:
        raise NotFound("Консультационный трек не найден", code="consultation_not_found")
    return track


def _is_consultant(session: Session, actor: Principal, track_id: uuid.UUID) -> bool:
    if not actor.is_user:
        return False
    found = session.execute(
        select(col(ConsultationConsultant.user_id)).where(
            col(ConsultationConsultant.track_id) == track_id,
            col(ConsultationConsultant.user_id) == actor.id,
        )
    ).first()
    return found is not None


def _require_open(track: ConsultationTrack) -> None:
    if track.status in FINISHED:
        raise Conflict(
            f"Трек уже завершён (статус «{STATUS_LABELS[track.status][0]}»): его нельзя менять",
            code="consultation_closed",
            extra={"status": track.status.value},
        )


def _require_active(track: ConsultationTrack) -> None:
    _require_open(track)
    if track.status == S.requested:
        raise Conflict(
            "Запрос ещё не принят: сначала назначьте консультантов",
            code="consultation_not_active",
            extra={"status": track.status.value},
        )


def _require_writer(session: Session, actor: Principal, track: ConsultationTrack) -> None:
    """Sessions and closing belong to the track's consultants and the office staff."""
    if passes(actor, ObjectRule.consultation_work) or _is_consultant(session, actor, track.id):
        return
    raise Forbidden(
        "Вести консультации может только консультант трека или проектный офис",
        code="not_track_consultant",
    )


# --- references -------------------------------------------------------------------------------


def _linkable_initiative(
    session: Session,
    actor: Principal,
    initiative_id: uuid.UUID,
    *,
    requester_id: uuid.UUID,
    loc: list[str],
) -> InitiativePublic:
    """The initiative a track is about: visible to the caller, the requester's own (author or
    team) and already submitted, so the consultants can read it."""
    try:
        initiative = initiatives.get_initiative(session, actor=actor, initiative_id=initiative_id)
    except NotFound as exc:
        raise InvalidInput("Инициатива не найдена", loc=loc, code="unknown_initiative") from exc
    owners = {initiative.author_id, *(m.user_id for m in initiative.team)}
    if requester_id not in owners:
        raise InvalidInput(
            "Трек можно связать только с инициативой, в которой запросивший сопровождение — "
            "автор или участник команды",
            loc=loc,
            code="initiative_not_requesters",
        )
    if initiative.submitted_at is None:
        raise InvalidInput(
            "Черновик видят только автор и команда: подайте инициативу, затем свяжите её с "
            "треком (или запросите консультацию по замыслу без инициативы)",
            loc=loc,
            code="initiative_is_draft",
        )
    return initiative


def _accompaniable_initiative(
    session: Session,
    actor: Principal,
    initiative_id: uuid.UUID,
    *,
    requester_id: uuid.UUID,
    loc: list[str],
) -> InitiativePublic:
    """An initiative a track may start or go on accompanying: linkable and not at the end of its
    way. Closing a track may still name a finished one: that records what the idea became."""
    initiative = _linkable_initiative(
        session, actor, initiative_id, requester_id=requester_id, loc=loc
    )
    if initiative.status in TERMINAL:
        raise Conflict(
            "Инициатива уже завершила свой путь "
            f"(статус «{initiatives.STATUS_LABELS_RU[initiative.status]}»): сопровождать нечего",
            code="initiative_finished",
            extra={"status": initiative.status.value},
        )
    return initiative


def _check_consultants(session: Session, ids: list[uuid.UUID], *, requester_id: uuid.UUID) -> None:
    loc = ["body", "consultant_ids"]
    roles = people.ensure_active(session, ids, loc=loc)
    unfit = [str(i) for i in ids if CONSULTANT_ROLES.isdisjoint(roles[i])]
    if unfit:
        raise InvalidInput(
            "Консультантом может быть только член проектного офиса или эксперт: "
            + ", ".join(unfit),
            loc=loc,
            code="invalid_consultant",
            extra={"user_ids": unfit},
        )
    if requester_id in ids:
        raise InvalidInput(
            "Запросивший сопровождение не может консультировать сам себя",
            loc=loc,
            code="invalid_consultant",
            extra={"user_ids": [str(requester_id)]},
        )


# --- reading ----------------------------------------------------------------------------------


def _consultants(session: Session, track_id: uuid.UUID) -> list[PersonRef]:
    rows = session.execute(
        select(col(User.id), col(User.full_name))
        .join(ConsultationConsultant, col(ConsultationConsultant.user_id) == col(User.id))
        .where(col(ConsultationConsultant.track_id) == track_id)
        .order_by(col(User.full_name), col(User.id))
    ).all()
    return [PersonRef(id=r[0], full_name=r[1]) for r in rows]


def hours_between(start: datetime, end: datetime | None) -> float | None:
    if end is None:
        return None
    return round((end - start).total_seconds() / 3600, 1)


def _public(session: Session, track: ConsultationTrack) -> ConsultationPublic:
    """Two queries: the requester with the initiative, then the consultants."""
    row = session.execute(
        select(
            col(User.full_name),
            col(Initiative.id),
            col(Initiative.code),
            col(Initiative.title),
            col(Initiative.status),
        )
        .select_from(User)
        .outerjoin(Initiative, col(Initiative.id) == track.initiative_id)
        .where(col(User.id) == track.requester_id)
    ).one()
    initiative = (
        InitiativeRef(id=row[1], code=row[2], title=row[3], status=row[4]) if row[1] else None
    )
    return ConsultationPublic.model_validate(
        {
            **track.model_dump(),
            "requester_name": row[0],
            "initiative": initiative,
            "consultants": _consultants(session, track.id),
            "hours_to_first_session": hours_between(track.created_at, track.first_session_at),
        }
    )


def get_track(session: Session, *, actor: Principal, track_id: uuid.UUID) -> ConsultationPublic:
    return _public(session, _load(session, actor, track_id))


def list_tracks(
    session: Session,
    *,
    actor: Principal,
    statuses: Sequence[ConsultationStatus],
    consultant_id: uuid.UUID | None,
    requester_id: uuid.UUID | None,
    initiative_id: uuid.UUID | None,
    mine: bool,
    q: str | None,
    sort: ConsultationSort,
    cursor: str | None,
    limit: int,
) -> tuple[list[ConsultationSummary], str | None]:
    stmt = (
        select(*SUMMARY_COLUMNS)
        .join(User, col(User.id) == col(ConsultationTrack.requester_id))
        .where(_visible(actor))
    )
    if statuses:
        stmt = stmt.where(col(ConsultationTrack.status).in_(list(statuses)))
    if consultant_id is not None:
        stmt = stmt.where(col(ConsultationTrack.id).in_(_consulting(consultant_id)))
    if requester_id is not None:
        stmt = stmt.where(col(ConsultationTrack.requester_id) == requester_id)
    if initiative_id is not None:
        stmt = stmt.where(col(ConsultationTrack.initiative_id) == initiative_id)
    if mine:
        stmt = stmt.where(
            or_(
                col(ConsultationTrack.requester_id) == actor.id,
                col(ConsultationTrack.id).in_(_consulting(actor.id)),
            )
            if actor.is_user
            else false()
        )
    if q:
        stmt = stmt.where(
            col(ConsultationTrack.search_text).like(contains_pattern(q), escape=LIKE_ESCAPE)
        )
    rows = session.execute(paginate(stmt, SORT_KEYS[sort], cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    return [
        ConsultationSummary.model_validate(
            {
                **r._mapping,
                "hours_to_first_session": hours_between(r.created_at, r.first_session_at),
            }
        )
        for r in page
    ], next_cursor


# --- writing ----------------------------------------------------------------------------------


def _refresh_search(track: ConsultationTrack) -> None:
    track.search_text = search_text(track.topic, track.description)


def _set_consultants(session: Session, track_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    session.execute(
        delete(ConsultationConsultant).where(col(ConsultationConsultant.track_id) == track_id)
    )
    session.add_all(ConsultationConsultant(track_id=track_id, user_id=i) for i in ids)


def request_consultation(
    session: Session, *, actor: Principal, data: ConsultationCreate
) -> ConsultationPublic:
    if data.initiative_id is not None:
        _accompaniable_initiative(
            session,
            actor,
            data.initiative_id,
            requester_id=actor.id,
            loc=["body", "initiative_id"],
        )
    now = utcnow()
    track = ConsultationTrack(
        **data.model_dump(),
        requester_id=actor.id,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    _refresh_search(track)
    session.add(track)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="consultation.requested",
        entity_type="consultation",
        entity_id=track.id,
        data=data.model_dump(mode="json"),
    )
    return _public(session, track)


# Edit fields whose columns are NOT NULL: an explicit null is bad input (422), never a 500.
TRACK_NOT_NULL = ("topic", "description", "consultant_ids")
SESSION_NOT_NULL = ("held_at", "format", "duration_minutes", "notes", "next_steps", "attendee_ids")


def _reject_nulls(patch: dict[str, Any], fields: tuple[str, ...]) -> None:
    for name in fields:
        if name in patch and patch[name] is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )


def update_track(
    session: Session,
    *,
    actor: Principal,
    track_id: uuid.UUID,
    data: ConsultationUpdate,
    if_match: int | None,
) -> ConsultationPublic:
    track = _load(session, actor, track_id)
    is_office = passes(actor, ObjectRule.consultation_work)
    if not (
        is_office or track.requester_id == actor.id or _is_consultant(session, actor, track.id)
    ):
        raise Forbidden(
            "Менять трек могут проектный офис, его консультанты и запросивший сопровождение",
            code="not_track_party",
        )
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    _reject_nulls(patch, TRACK_NOT_NULL)
    if "consultant_ids" in patch and not is_office:
        raise Forbidden("Консультантов назначает проектный офис", code="forbidden")
    check_version(track.version, if_match=if_match, body_version=data.version)
    _require_open(track)
    # An unchanged link is not judged again: the initiative may have finished since.
    if patch.get("initiative_id") not in {None, track.initiative_id}:
        _accompaniable_initiative(
            session,
            actor,
            patch["initiative_id"],
            requester_id=track.requester_id,
            loc=["body", "initiative_id"],
        )
    before: dict[str, Any] = {
        **track.model_dump(mode="json"),
        "consultant_ids": [str(p.id) for p in _consultants(session, track.id)],
    }
    after = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    if "consultant_ids" in patch:
        _check_consultants(session, patch["consultant_ids"], requester_id=track.requester_id)
        # Order does not matter for a team of consultants.
        if set(after["consultant_ids"]) == set(before["consultant_ids"]):
            after["consultant_ids"] = before["consultant_ids"]
    diff = events.changes(before, after)
    if not diff:
        return _public(session, track)
    now = utcnow()
    if "consultant_ids" in patch:  # first: its DELETE autoflushes, one edit is one UPDATE
        _set_consultants(session, track.id, patch["consultant_ids"])
    for name, value in patch.items():
        if name != "consultant_ids":
            setattr(track, name, value)
    # Taking a request on is assigning its consultants.
    if "consultant_ids" in patch and track.status == S.requested:
        track.status = S.active
        track.accepted_at = now
        diff["status"] = [S.requested.value, S.active.value]
    _refresh_search(track)
    track.updated_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        action="consultation.accepted" if "status" in diff else "consultation.updated",
        entity_type="consultation",
        entity_id=track.id,
        data={"changes": diff},
    )
    return _public(session, track)


def decline_track(
    session: Session,
    *,
    actor: Principal,
    track_id: uuid.UUID,
    data: ConsultationDecline,
    if_match: int | None,
) -> ConsultationPublic:
    track = _load(session, actor, track_id)
    check_version(track.version, if_match=if_match, body_version=data.version)
    _require_open(track)
    if track.status != S.requested:
        raise Conflict(
            "Сопровождение уже идёт: завершите трек с итогом вместо отказа",
            code="consultation_already_active",
            extra={"status": track.status.value},
        )
    now = utcnow()
    track.status = S.declined
    track.decline_reason = data.reason
    track.closed_at = now
    track.updated_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        action="consultation.declined",
        entity_type="consultation",
        entity_id=track.id,
        data={"changes": {"status": [S.requested.value, S.declined.value]}, "reason": data.reason},
    )
    return _public(session, track)


def close_track(
    session: Session,
    *,
    actor: Principal,
    track_id: uuid.UUID,
    data: ConsultationClose,
    if_match: int | None,
) -> ConsultationPublic:
    track = _load(session, actor, track_id)
    _require_writer(session, actor, track)
    check_version(track.version, if_match=if_match, body_version=data.version)
    _require_active(track)
    initiative_status: InitiativeStatus | None = None
    if data.initiative_id is not None:
        linked = _linkable_initiative(
            session,
            actor,
            data.initiative_id,
            requester_id=track.requester_id,
            loc=["body", "initiative_id"],
        )
        track.initiative_id = linked.id
        initiative_status = linked.status
    if data.outcome == ConsultationOutcome.initiative_submitted and track.initiative_id is None:
        raise InvalidInput(
            "Итог «Подана инициатива»: укажите инициативу, выросшую из замысла",
            loc=["body", "initiative_id"],
            code="initiative_required",
        )
    now = utcnow()
    source = track.status
    track.status = S.closed
    track.outcome = data.outcome
    track.close_comment = data.comment
    track.closed_at = now
    track.updated_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        action="consultation.closed",
        entity_type="consultation",
        entity_id=track.id,
        data={
            "changes": {"status": [source.value, S.closed.value]},
            "outcome": data.outcome.value,
            "comment": data.comment,
            "initiative_id": str(track.initiative_id) if track.initiative_id else None,
            "initiative_status": initiative_status.value if initiative_status else None,
            "session_count": track.session_count,
            "hours_to_first_session": hours_between(track.created_at, track.first_session_at),
        },
    )
    return _public(session, track)


# --- sessions ---------------------------------------------------------------------------------


def _check_held_at(track: ConsultationTrack, held_at: datetime) -> None:
    if held_at > utcnow() + FUTURE_TOLERANCE:
        raise InvalidInput(
            "Консультация ещё не состоялась: записывайте её после проведения",
            loc=["body", "held_at"],
            code="session_in_future",
        )
    if held_at < track.created_at:
        raise InvalidInput(
            "Консультация не может пройти раньше, чем запрошено сопровождение: запрос подан "
            f"{ru_datetime(track.created_at)} (местное время, UTC+5)",
            loc=["body", "held_at"],
            code="session_before_request",
            extra={"requested_at": track.created_at},
        )


def _sessions_public(session: Session, rows: Sequence[Row[Any]]) -> list[SessionPublic]:
    """One query for the attendees of all the given sessions."""
    ids = [r.id for r in rows]
    attendees: dict[uuid.UUID, list[PersonRef]] = {i: [] for i in ids}
    if ids:
        for session_id, user_id, full_name in session.execute(
            select(col(ConsultationSessionAttendee.session_id), col(User.id), col(User.full_name))
            .join(User, col(User.id) == col(ConsultationSessionAttendee.user_id))
            .where(col(ConsultationSessionAttendee.session_id).in_(ids))
            .order_by(col(User.full_name), col(User.id))
        ).all():
            attendees[session_id].append(PersonRef(id=user_id, full_name=full_name))
    return [
        SessionPublic.model_validate(
            {
                **r._mapping,
                "attendees": attendees[r.id],
                "recorded_by": PersonRef(id=r.recorded_by_id, full_name=r.recorded_by_name),
            }
        )
        for r in rows
    ]


def _session_stmt() -> Any:
    return select(
        *(
            col(getattr(ConsultationSession, name))
            for name in SessionPublic.model_fields
            if name not in {"attendees", "recorded_by"}
        ),
        col(ConsultationSession.recorded_by_id),
        col(User.full_name).label("recorded_by_name"),
    ).join(User, col(User.id) == col(ConsultationSession.recorded_by_id))


def _one_session(session: Session, session_id: uuid.UUID) -> SessionPublic:
    row = session.execute(_session_stmt().where(col(ConsultationSession.id) == session_id)).one()
    return _sessions_public(session, [row])[0]


SESSION_ORDER = SortKey(
    [col(ConsultationSession.held_at), col(ConsultationSession.id)], [datetime, uuid.UUID]
)


def list_sessions(
    session: Session, *, actor: Principal, track_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[SessionPublic], str | None]:
    _load(session, actor, track_id)
    stmt = _session_stmt().where(col(ConsultationSession.track_id) == track_id)
    rows = session.execute(paginate(stmt, SESSION_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.held_at, r.id])
    return _sessions_public(session, page), next_cursor


def get_session(
    session: Session, *, actor: Principal, track_id: uuid.UUID, session_id: uuid.UUID
) -> SessionPublic:
    _load(session, actor, track_id)
    row = session.execute(
        _session_stmt().where(
            col(ConsultationSession.id) == session_id,
            col(ConsultationSession.track_id) == track_id,
        )
    ).first()
    if row is None:
        raise NotFound("Консультация не найдена", code="consultation_session_not_found")
    return _sessions_public(session, [row])[0]


def _set_attendees(session: Session, session_id: uuid.UUID, ids: list[uuid.UUID]) -> None:
    session.execute(
        delete(ConsultationSessionAttendee).where(
            col(ConsultationSessionAttendee.session_id) == session_id
        )
    )
    session.add_all(ConsultationSessionAttendee(session_id=session_id, user_id=i) for i in ids)


def _refresh_first_session(session: Session, track: ConsultationTrack) -> None:
    track.first_session_at = session.execute(
        select(func.min(col(ConsultationSession.held_at))).where(
            col(ConsultationSession.track_id) == track.id
        )
    ).scalar_one()


def record_session(
    session: Session, *, actor: Principal, track_id: uuid.UUID, data: SessionCreate
) -> SessionPublic:
    track = _load(session, actor, track_id)
    _require_writer(session, actor, track)
    _require_active(track)
    _check_held_at(track, data.held_at)
    people.ensure_active(session, data.attendee_ids, loc=["body", "attendee_ids"])
    now = utcnow()
    record = ConsultationSession(
        **data.model_dump(exclude={"attendee_ids"}),
        track_id=track.id,
        recorded_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    _set_attendees(session, record.id, data.attendee_ids)
    track.session_count += 1
    if track.first_session_at is None or data.held_at < track.first_session_at:
        track.first_session_at = data.held_at
    track.updated_at = now
    session.flush()
    events.record(
        session,
        actor=actor,
        action="consultation.session_recorded",
        entity_type="consultation",
        entity_id=track.id,
        data={
            "session_id": str(record.id),
            **data.model_dump(mode="json", exclude={"notes", "next_steps"}),
            "session_count": track.session_count,
            "hours_since_request": hours_between(track.created_at, data.held_at),
        },
    )
    return _one_session(session, record.id)


def update_session(
    session: Session,
    *,
    actor: Principal,
    track_id: uuid.UUID,
    session_id: uuid.UUID,
    data: SessionUpdate,
    if_match: int | None,
) -> SessionPublic:
    track = _load(session, actor, track_id)
    record = session.scalars(
        select(ConsultationSession).where(
            col(ConsultationSession.id) == session_id,
            col(ConsultationSession.track_id) == track.id,
        )
    ).first()
    if record is None:
        raise NotFound("Консультация не найдена", code="consultation_session_not_found")
    _require_writer(session, actor, track)
    check_version(record.version, if_match=if_match, body_version=data.version)
    _require_open(track)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    _reject_nulls(patch, SESSION_NOT_NULL)
    if "held_at" in patch:
        _check_held_at(track, patch["held_at"])
    current = _one_session(session, record.id)
    before = {
        **current.model_dump(mode="json"),
        "attendee_ids": [str(p.id) for p in current.attendees],
    }
    after = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    if "attendee_ids" in patch:
        people.ensure_active(session, patch["attendee_ids"], loc=["body", "attendee_ids"])
        if set(after["attendee_ids"]) == set(before["attendee_ids"]):
            after["attendee_ids"] = before["attendee_ids"]
    if "held_at" in patch and datetime.fromisoformat(after["held_at"]) == record.held_at:
        after["held_at"] = before["held_at"]
    diff = events.changes(before, after)
    if not diff:
        return current
    now = utcnow()
    if "attendee_ids" in patch:  # first: its DELETE autoflushes, one edit is one UPDATE
        _set_attendees(session, record.id, patch["attendee_ids"])
    for name, value in patch.items():
        if name != "attendee_ids":
            setattr(record, name, value)
    record.updated_at = now
    session.flush()
    if "held_at" in diff:
        _refresh_first_session(session, track)
        track.updated_at = now
        session.flush()
    events.record(
        session,
        actor=actor,
        action="consultation.session_updated",
        entity_type="consultation",
        entity_id=track.id,
        data={"session_id": str(record.id), "changes": diff},
    )
    return _one_session(session, record.id)
