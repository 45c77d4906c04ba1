"""Amendments: who sees them, proposing and editing them against a base version, and moving them
through the workflow table (`workflow.py`)."""

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select, true
from sqlmodel import Session, col

from app.config import get_settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    Amendment,
    AmendmentComment,
    AmendmentStatus,
    AmendmentVote,
    CharterVersion,
    User,
    VoteChoice,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import Action, can
from app.schemas.charter import (
    AmendmentCreate,
    AmendmentPublic,
    AmendmentSummary,
    AmendmentTransitionCreate,
    AmendmentUpdate,
    ChangeOut,
    SectionConflict,
    VoteResult,
)
from app.security import Principal
from app.services import events
from app.services.charter.text import (
    apply_changes,
    touched_keys,
)
from app.services.charter.versions import changed_since, history_since, latest_version
from app.services.charter.voting import count_members, decide, tally_votes
from app.services.charter.workflow import (
    AMENDMENT_STEPS,
    EDITABLE,
    AmendmentAction,
    AmendmentParty,
    status_label,
)
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text


def is_moderator(actor: Principal) -> bool:
    return can(actor, Action.charter_moderate)


def _visible(actor: Principal) -> ColumnElement[bool]:
    """Public once its discussion opened; a draft is the proposer's and the office's."""
    if is_moderator(actor):
        return true()
    public = col(Amendment.discussion_opened_at).is_not(None)
    if not actor.is_user:
        return public
    return or_(public, col(Amendment.proposer_id) == actor.id)


def load_amendment(
    session: Session, actor: Principal, amendment_id: uuid.UUID, *, lock: bool = False
) -> Amendment:
    stmt = select(Amendment).where(col(Amendment.id) == amendment_id, _visible(actor))
    if lock:
        # Votes and the closing of a vote serialise on the amendment row (PostgreSQL; SQLite
        # writers are serial anyway): no vote slips in after the tally was taken.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    amendment = session.scalars(stmt).first()
    if amendment is None:
        raise NotFound("Поправка не найдена", code="amendment_not_found")
    return amendment


def _changes_out(changes: list[dict[str, Any]]) -> list[ChangeOut]:
    return [
        ChangeOut(
            op=c["op"], key=c["key"], title=c.get("title"), text=c.get("text"), after=c.get("after")
        )
        for c in changes
    ]


def amendment_public(session: Session, actor: Principal, amendment: Amendment) -> AmendmentPublic:
    """Two queries: names and counts in one, the tally in the other (and the versions since
    its base for a superseded one)."""
    extra = session.execute(
        select(
            select(col(User.full_name))
            .where(col(User.id) == amendment.proposer_id)
            .scalar_subquery(),
            select(col(AmendmentVote.vote))
            .where(
                col(AmendmentVote.amendment_id) == amendment.id,
                col(AmendmentVote.user_id) == actor.id,
            )
            .scalar_subquery(),
            select(func.count())
            .select_from(AmendmentComment)
            .where(col(AmendmentComment.amendment_id) == amendment.id)
            .scalar_subquery(),
        )
    ).one()
    return AmendmentPublic(
        id=amendment.id,
        title=amendment.title,
        base_version=amendment.base_version,
        status=amendment.status,
        section_keys=[c["key"] for c in amendment.changes],
        proposer_id=amendment.proposer_id,
        proposer_name=extra[0],
        voting_closes_at=amendment.voting_closes_at,
        tally=tally_votes(session, [amendment.id])[amendment.id],
        adopted_in_version=amendment.adopted_in_version,
        superseded_by_version=amendment.superseded_by_version,
        version=amendment.version,
        created_at=amendment.created_at,
        updated_at=amendment.updated_at,
        changes=_changes_out(amendment.changes),
        rationale=amendment.rationale,
        discussion_opened_at=amendment.discussion_opened_at,
        voting_opened_at=amendment.voting_opened_at,
        closed_at=amendment.closed_at,
        result=VoteResult.model_validate(amendment.result) if amendment.result else None,
        my_vote=VoteChoice(extra[1]) if extra[1] else None,
        comments_count=extra[2],
        conflicts=_superseded_sections(session, amendment),
    )


def _superseded_sections(session: Session, amendment: Amendment) -> list[SectionConflict]:
    """Why a superseded amendment can no longer go in: its sections changed since its base."""
    if amendment.status is not AmendmentStatus.superseded:
        return []
    base = amendment.base_version
    stale = changed_since(history_since(session, base), base, touched_keys(amendment.changes))
    return [SectionConflict(section=k, changed_in_versions=v) for k, v in stale.items()]


def get_amendment(
    session: Session, *, actor: Principal, amendment_id: uuid.UUID
) -> AmendmentPublic:
    return amendment_public(session, actor, load_amendment(session, actor, amendment_id))


AMENDMENT_ORDER = SortKey(
    [col(Amendment.created_at), col(Amendment.id)], [datetime, uuid.UUID], descending=True
)


def list_amendments(
    session: Session,
    *,
    actor: Principal,
    statuses: Sequence[AmendmentStatus],
    base_version: int | None,
    proposer_id: uuid.UUID | None,
    mine: bool,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[AmendmentSummary], str | None]:
    """Newest first; drafts only the caller's own (the office sees them all)."""
    stmt = (
        select(
            col(Amendment.id),
            col(Amendment.title),
            col(Amendment.base_version),
            col(Amendment.status),
            col(Amendment.changes),
            col(Amendment.proposer_id),
            col(User.full_name).label("proposer_name"),
            col(Amendment.voting_closes_at),
            col(Amendment.adopted_in_version),
            col(Amendment.superseded_by_version),
            col(Amendment.version),
            col(Amendment.created_at),
            col(Amendment.updated_at),
        )
        .join(User, col(User.id) == col(Amendment.proposer_id))
        .where(_visible(actor))
    )
    if statuses:
        stmt = stmt.where(col(Amendment.status).in_(list(statuses)))
    if base_version is not None:
        stmt = stmt.where(col(Amendment.base_version) == base_version)
    if proposer_id is not None:
        stmt = stmt.where(col(Amendment.proposer_id) == proposer_id)
    if mine:
        stmt = stmt.where(col(Amendment.proposer_id) == actor.id)
    if q:
        stmt = stmt.where(col(Amendment.search_text).like(contains_pattern(q), escape=LIKE_ESCAPE))
    rows = session.execute(paginate(stmt, AMENDMENT_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.created_at, r.id])
    tallies = tally_votes(session, [r.id for r in page])
    items = [
        AmendmentSummary.model_validate(
            {
                **r._mapping,
                "section_keys": [c["key"] for c in r.changes],
                "tally": tallies[r.id],
            }
        )
        for r in page
    ]
    return items, next_cursor


def _change_dicts(changes: Sequence[Any]) -> list[dict[str, Any]]:
    return [
        {
            "op": c.op,
            "key": c.key,
            "title": getattr(c, "title", None),
            "text": getattr(c, "text", None),
            "after": getattr(c, "after", None),
        }
        for c in changes
    ]


def _check_changes(base: CharterVersion, changes: list[dict[str, Any]]) -> None:
    """Each change must fit its base version: 422 naming the change that does not."""
    sections = {s["key"]: s for s in base.sections}
    added: set[str] = set()
    for index, change in enumerate(changes):
        key, op = change["key"], change["op"]
        loc: list[str | int] = ["body", "changes", index, "key"]
        if op == "add":
            if key in sections:
                raise InvalidInput(
                    f"Раздел «{key}» уже есть в версии {base.number}: его можно изменить "
                    f"(modify), а не добавить",
                    loc=loc,
                    code="section_exists",
                )
            after = change.get("after")
            if after is not None and after not in sections and after not in added:
                raise InvalidInput(
                    f"Раздела «{after}», после которого вставляется «{key}», нет в версии "
                    f"{base.number}",
                    loc=["body", "changes", index, "after"],
                    code="unknown_section",
                    extra={"known_keys": list(sections)},
                )
            added.add(key)
            continue
        if key not in sections:
            raise InvalidInput(
                f"Раздела «{key}» нет в версии {base.number}: изменить или удалить можно только "
                f"существующий раздел",
                loc=loc,
                code="unknown_section",
                extra={"known_keys": list(sections)},
            )
        section = sections[key]
        if op == "modify" and all(
            change.get(field) in (None, section[field]) for field in ("title", "text")
        ):
            raise InvalidInput(
                f"Изменение раздела «{key}» ничего не меняет", loc=loc, code="empty_change"
            )
    if not apply_changes(base.sections, changes):
        raise InvalidInput(
            "Устав не может остаться без разделов", loc=["body", "changes"], code="empty_charter"
        )


def _ensure_fresh(session: Session, base: CharterVersion, changes: list[dict[str, Any]]) -> None:
    stale = changed_since(history_since(session, base.number), base.number, touched_keys(changes))
    if stale:
        described = "; ".join(
            f"«{key}» — в версии {', '.join(map(str, versions))}" for key, versions in stale.items()
        )
        raise Conflict(
            f"После версии {base.number} изменились разделы, которые затрагивает поправка: "
            f"{described}. Предложите поправку к действующей версии",
            code="amendment_stale",
            extra={
                "base_version": base.number,
                "conflicts": [
                    {"section": key, "changed_in_versions": versions}
                    for key, versions in stale.items()
                ],
            },
        )


def _base(session: Session, number: int) -> CharterVersion:
    base = session.scalars(
        select(CharterVersion).where(col(CharterVersion.number) == number)
    ).first()
    if base is None:
        raise InvalidInput(
            f"Версии устава {number} нет",
            loc=["body", "base_version"],
            code="unknown_charter_version",
        )
    return base


def _refresh_search(amendment: Amendment) -> None:
    amendment.search_text = search_text(
        amendment.title, amendment.rationale, " ".join(c["key"] for c in amendment.changes)
    )


def create_amendment(
    session: Session, *, actor: Principal, data: AmendmentCreate
) -> AmendmentPublic:
    if data.base_version is None:
        latest = latest_version(session)
        if latest is None:
            raise Conflict(
                "Устав сети ещё не принят: поправки предлагаются к принятой версии",
                code="charter_not_adopted",
            )
        base = latest
    else:
        base = _base(session, data.base_version)
    changes = _change_dicts(data.changes)
    _check_changes(base, changes)
    _ensure_fresh(session, base, changes)
    now = utcnow()
    amendment = Amendment(
        title=data.title,
        base_version=base.number,
        changes=changes,
        rationale=data.rationale,
        proposer_id=actor.id,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    _refresh_search(amendment)
    session.add(amendment)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="charter_amendment.created",
        entity_type="charter_amendment",
        entity_id=amendment.id,
        data={
            "title": amendment.title,
            "base_version": base.number,
            "changes": changes,
            "rationale": amendment.rationale,
        },
    )
    return amendment_public(session, actor, amendment)


def update_amendment(
    session: Session,
    *,
    actor: Principal,
    amendment_id: uuid.UUID,
    data: AmendmentUpdate,
    if_match: int | None,
) -> AmendmentPublic:
    amendment = load_amendment(session, actor, amendment_id)
    if amendment.proposer_id != actor.id:
        raise Forbidden("Изменять поправку может только её автор", code="not_proposer")
    if amendment.status not in EDITABLE:
        raise Conflict(
            f"Поправку можно изменять только в статусах «Черновик» и «Обсуждение»; сейчас она "
            f"в статусе «{status_label(amendment.status)}»",
            code="amendment_not_editable",
            extra={"status": amendment.status.value},
        )
    check_version(amendment.version, if_match=if_match, body_version=data.version)
    patch = data.model_dump(exclude_unset=True, exclude={"version", "changes"})
    for name, value in patch.items():
        if value is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )
    before = {
        "title": amendment.title,
        "base_version": amendment.base_version,
        "changes": amendment.changes,
        "rationale": amendment.rationale,
    }
    after = dict(patch)
    if "changes" in data.model_fields_set:
        if data.changes is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", "changes"], code="null_not_allowed"
            )
        after["changes"] = _change_dicts(data.changes)
    diff = events.changes(before, after)
    if not diff:
        return amendment_public(session, actor, amendment)
    if "changes" in diff or "base_version" in diff:
        base = _base(session, after.get("base_version", amendment.base_version))
        changes = after.get("changes", amendment.changes)
        _check_changes(base, changes)
        _ensure_fresh(session, base, changes)
    for name, value in after.items():
        setattr(amendment, name, value)
    _refresh_search(amendment)
    amendment.updated_at = utcnow()
    session.flush()
    events.record(
        session,
        actor=actor,
        action="charter_amendment.updated",
        entity_type="charter_amendment",
        entity_id=amendment.id,
        data={"changes": diff},
    )
    return amendment_public(session, actor, amendment)


def transition(
    session: Session,
    *,
    actor: Principal,
    amendment_id: uuid.UUID,
    data: AmendmentTransitionCreate,
    if_match: int | None,
) -> AmendmentPublic:
    amendment = load_amendment(session, actor, amendment_id, lock=True)
    step = AMENDMENT_STEPS[data.action]
    parties = set()
    if is_moderator(actor):
        parties.add(AmendmentParty.moderator)
    if actor.is_user and amendment.proposer_id == actor.id:
        parties.add(AmendmentParty.proposer)
    if parties.isdisjoint(step.parties):
        raise Forbidden(
            f"Действие «{step.label_ru}» вам недоступно",
            code="action_forbidden",
            extra={"action": step.action.value, "parties": sorted(step.parties)},
        )
    if amendment.status not in step.sources:
        allowed = [
            s.action.value
            for s in AMENDMENT_STEPS.values()
            if amendment.status in s.sources and not parties.isdisjoint(s.parties)
        ]
        raise Conflict(
            f"Действие «{step.label_ru}» невозможно: поправка в статусе "
            f"«{status_label(amendment.status)}»",
            code="invalid_transition",
            extra={"status": amendment.status.value, "allowed_actions": allowed},
        )
    check_version(amendment.version, if_match=if_match, body_version=data.version)
    now = utcnow()
    source = amendment.status
    result: VoteResult | None = None
    if step.action is AmendmentAction.open_discussion:
        amendment.status = AmendmentStatus.discussion
        amendment.discussion_opened_at = now
    elif step.action is AmendmentAction.open_voting:
        amendment.status = AmendmentStatus.voting
        amendment.voting_opened_at = now
        amendment.voting_closes_at = now + timedelta(days=get_settings().charter_voting_days)
    elif step.action is AmendmentAction.close_voting:
        assert amendment.voting_closes_at is not None
        result = decide(
            tally_votes(session, [amendment.id])[amendment.id],
            eligible=count_members(session),
            closed_early=now < amendment.voting_closes_at,
        )
        amendment.status = AmendmentStatus(result.outcome)
        amendment.result = result.model_dump(mode="json")
        amendment.closed_at = now
    else:
        amendment.status = AmendmentStatus.withdrawn
        amendment.closed_at = now
    amendment.updated_at = now
    session.flush()  # a concurrent transition makes this a StaleDataError → 409
    events.record(
        session,
        actor=actor,
        action="charter_amendment.transitioned",
        entity_type="charter_amendment",
        entity_id=amendment.id,
        data={
            "action": step.action.value,
            "changes": {"status": [source.value, amendment.status.value]},
            "comment": data.comment,
            "result": result.model_dump(mode="json") if result else None,
        },
    )
    return amendment_public(session, actor, amendment)
