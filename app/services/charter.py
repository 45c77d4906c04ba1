"""The network charter: versions and their diffs, amendments with comments and votes, adoption
that merges accepted amendments, and members' acknowledgements."""

import math
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.config import get_settings
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    Amendment,
    AmendmentComment,
    AmendmentStatus,
    AmendmentVote,
    CharterAcknowledgement,
    CharterVersion,
    User,
    UserRole,
    VoteChoice,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.policy import NETWORK_MEMBERS, Action, can
from app.schemas.charter import (
    AcknowledgementPage,
    AcknowledgementPublic,
    AmendmentCreate,
    AmendmentPublic,
    AmendmentSummary,
    AmendmentTransitionCreate,
    AmendmentUpdate,
    ChangeOut,
    CharterDiff,
    CharterVersionCreate,
    CharterVersionPublic,
    CharterVersionSummary,
    CommentCreate,
    CommentPublic,
    DiffStats,
    MemberAcknowledgement,
    SectionConflict,
    SectionDiff,
    SectionOut,
    Tally,
    VoteCast,
    VotePublic,
    VoteResult,
    WordSegment,
)
from app.security import Principal
from app.services import events
from app.services.charter_text import (
    Section,
    apply_changes,
    changed_keys,
    positions,
    touched_keys,
    unified_diff,
    word_diff,
)
from app.services.charter_workflow import (
    AMENDMENT_STEPS,
    COMMENTABLE,
    EDITABLE,
    OPEN,
    STATUS_LABELS,
    AmendmentAction,
    AmendmentParty,
)
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text

S = AmendmentStatus


def _label(status: AmendmentStatus) -> str:
    return STATUS_LABELS[status][0]


def _day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _insert_for(session: Session) -> Any:
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


# --- versions -----------------------------------------------------------------------------------


def _in_force_stmt(day: date) -> Select[CharterVersion]:
    # Effective dates never go backwards (see `adopt_version`), so the latest effective one wins.
    return (
        select(CharterVersion)
        .where(col(CharterVersion.effective_from) <= day)
        .order_by(col(CharterVersion.effective_from).desc(), col(CharterVersion.number).desc())
        .limit(1)
    )


def _in_force_number(session: Session, day: date) -> int | None:
    stmt = _in_force_stmt(day).with_only_columns(col(CharterVersion.number))
    number: int | None = session.scalars(stmt).first()
    return number


def _latest(session: Session) -> CharterVersion | None:
    return session.scalars(
        select(CharterVersion).order_by(col(CharterVersion.number).desc()).limit(1)
    ).first()


def _version(session: Session, number: int) -> CharterVersion:
    version = session.scalars(
        select(CharterVersion).where(col(CharterVersion.number) == number)
    ).first()
    if version is None:
        raise NotFound(f"Версии устава {number} нет", code="charter_version_not_found")
    return version


def _sections_out(sections: Sequence[Section]) -> list[SectionOut]:
    return [
        SectionOut(key=s["key"], number=n, title=s["title"], text=s["text"])
        for n, s in enumerate(sections, start=1)
    ]


def _version_public(
    session: Session, actor: Principal, version: CharterVersion, *, in_force: int | None
) -> CharterVersionPublic:
    """One query for the adopter's name and the caller's acknowledgement."""
    names = session.execute(
        select(
            select(col(User.full_name))
            .where(col(User.id) == version.adopted_by_id)
            .scalar_subquery(),
            select(col(CharterAcknowledgement.at))
            .where(
                col(CharterAcknowledgement.version_number) == version.number,
                col(CharterAcknowledgement.user_id) == actor.id,
            )
            .scalar_subquery(),
        )
    ).one()
    return CharterVersionPublic(
        number=version.number,
        summary=version.summary,
        effective_from=version.effective_from,
        adopted_at=version.adopted_at,
        adopted_by_id=version.adopted_by_id,
        adopted_by_name=names[0],
        sections_count=len(version.sections),
        amendment_ids=[uuid.UUID(a) for a in version.amendment_ids],
        in_force=version.number == in_force,
        sections=_sections_out(version.sections),
        acknowledged_by_me_at=names[1],
    )


def get_in_force(session: Session, *, actor: Principal, as_of: date | None) -> CharterVersionPublic:
    today = utcnow().date()
    day = as_of or today
    version = session.scalars(_in_force_stmt(day)).first()
    if version is None:
        first = session.scalars(
            select(CharterVersion).order_by(col(CharterVersion.number)).limit(1)
        ).first()
        if first is None:
            raise NotFound("Устав сети ещё не принят", code="charter_not_adopted")
        raise NotFound(
            f"На {_day(day)} устав сети ещё не действовал: первая версия действует "
            f"с {_day(first.effective_from)}",
            code="charter_not_in_force",
            extra={"as_of": day, "first_effective_from": first.effective_from},
        )
    in_force = version.number if day == today else _in_force_number(session, today)
    return _version_public(session, actor, version, in_force=in_force)


def get_version(session: Session, *, actor: Principal, number: int) -> CharterVersionPublic:
    version = _version(session, number)
    in_force = _in_force_number(session, utcnow().date())
    return _version_public(session, actor, version, in_force=in_force)


VERSION_ORDER = SortKey([col(CharterVersion.number)], [int], descending=True)


def list_versions(
    session: Session, *, cursor: str | None, limit: int
) -> tuple[list[CharterVersionSummary], str | None]:
    """Newest first, without the text (sections are counted in SQL)."""
    stmt = select(
        col(CharterVersion.number),
        col(CharterVersion.summary),
        col(CharterVersion.effective_from),
        col(CharterVersion.adopted_at),
        col(CharterVersion.adopted_by_id),
        col(User.full_name).label("adopted_by_name"),
        func.json_array_length(col(CharterVersion.sections)).label("sections_count"),
        col(CharterVersion.amendment_ids),
    ).join(User, col(User.id) == col(CharterVersion.adopted_by_id))
    rows = session.execute(paginate(stmt, VERSION_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.number])
    in_force = _in_force_number(session, utcnow().date()) if page else None
    return [
        CharterVersionSummary.model_validate({**r._mapping, "in_force": r.number == in_force})
        for r in page
    ], next_cursor


def diff_versions(session: Session, *, number: int, against: int | None) -> CharterDiff:
    """`against` defaults to the previous version; 0 is the empty charter before the first."""
    base_number = number - 1 if against is None else against
    wanted = {number, base_number} - {0}
    found = {
        v.number: v
        for v in session.scalars(
            select(CharterVersion).where(col(CharterVersion.number).in_(wanted))
        ).all()
    }
    for n in sorted(wanted):
        if n not in found:
            raise NotFound(f"Версии устава {n} нет", code="charter_version_not_found")
    before: list[Section] = found[base_number].sections if base_number else []
    after: list[Section] = found[number].sections
    old, new = positions(before), positions(after)
    old_sections = {s["key"]: s for s in before}
    new_sections = {s["key"]: s for s in after}
    changed = changed_keys(before, after)
    # Reading order of the newer text; removed sections where they used to be.
    order = sorted(changed, key=lambda k: (new.get(k, old.get(k, 0)), k not in new))
    sections: list[SectionDiff] = []
    for key in order:
        was, now = old_sections.get(key), new_sections.get(key)
        words = None
        if was and now and was["text"] != now["text"]:
            words = [
                WordSegment(op=seg.op, text=seg.text) for seg in word_diff(was["text"], now["text"])
            ]
        sections.append(
            SectionDiff(
                key=key,
                change="added" if was is None else "removed" if now is None else "modified",
                number_before=old.get(key),
                number_after=new.get(key),
                title_before=was["title"] if was else None,
                title_after=now["title"] if now else None,
                text_before=was["text"] if was else None,
                text_after=now["text"] if now else None,
                words=words,
            )
        )
    return CharterDiff(
        from_version=base_number,
        to_version=number,
        sections=sections,
        stats=DiffStats(
            added=sum(s.change == "added" for s in sections),
            removed=sum(s.change == "removed" for s in sections),
            modified=sum(s.change == "modified" for s in sections),
        ),
        unified=unified_diff(
            before,
            after,
            from_label=f"Устав, версия {base_number}" if base_number else "Пустой устав",
            to_label=f"Устав, версия {number}",
        ),
    )


# --- amendments: reading ------------------------------------------------------------------------


def _is_moderator(actor: Principal) -> bool:
    return can(actor, Action.charter_moderate)


def _visible(actor: Principal) -> ColumnElement[bool]:
    """Public once its discussion opened; a draft is the proposer's and the office's."""
    if _is_moderator(actor):
        return true()
    public = col(Amendment.discussion_opened_at).is_not(None)
    if not actor.is_user:
        return public
    return or_(public, col(Amendment.proposer_id) == actor.id)


def _load(
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


def _tallies(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Tally]:
    counts: dict[uuid.UUID, dict[str, int]] = {i: {} for i in ids}
    if ids:
        rows = session.execute(
            select(col(AmendmentVote.amendment_id), col(AmendmentVote.vote), func.count())
            .where(col(AmendmentVote.amendment_id).in_(list(ids)))
            .group_by(col(AmendmentVote.amendment_id), col(AmendmentVote.vote))
        ).all()
        for amendment_id, vote, count in rows:
            counts[amendment_id][VoteChoice(vote).value] = count
    return {
        i: Tally(
            agree=c.get("agree", 0),
            abstain=c.get("abstain", 0),
            disagree=c.get("disagree", 0),
            block=c.get("block", 0),
            total=sum(c.values()),
        )
        for i, c in counts.items()
    }


def _changes_out(changes: list[dict[str, Any]]) -> list[ChangeOut]:
    return [
        ChangeOut(
            op=c["op"], key=c["key"], title=c.get("title"), text=c.get("text"), after=c.get("after")
        )
        for c in changes
    ]


def _public(session: Session, actor: Principal, amendment: Amendment) -> AmendmentPublic:
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
        tally=_tallies(session, [amendment.id])[amendment.id],
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
    if amendment.status is not S.superseded:
        return []
    base = amendment.base_version
    stale = _changed_since(_history(session, base), base, touched_keys(amendment.changes))
    return [SectionConflict(section=k, changed_in_versions=v) for k, v in stale.items()]


def get_amendment(
    session: Session, *, actor: Principal, amendment_id: uuid.UUID
) -> AmendmentPublic:
    return _public(session, actor, _load(session, actor, amendment_id))


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
    tallies = _tallies(session, [r.id for r in page])
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


# --- amendments: writing ------------------------------------------------------------------------


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


def _history(session: Session, since: int) -> list[CharterVersion]:
    return list(
        session.scalars(
            select(CharterVersion)
            .where(col(CharterVersion.number) >= since)
            .order_by(col(CharterVersion.number))
        ).all()
    )


def _changed_since(
    history: Sequence[CharterVersion], base: int, keys: set[str]
) -> dict[str, list[int]]:
    """Section → the versions after `base` that changed it, for the sections in `keys`."""
    found: dict[str, list[int]] = {}
    chain = [v for v in history if v.number >= base]
    for previous, current in pairwise(chain):
        for key in sorted(changed_keys(previous.sections, current.sections) & keys):
            found.setdefault(key, []).append(current.number)
    return found


def _ensure_fresh(session: Session, base: CharterVersion, changes: list[dict[str, Any]]) -> None:
    stale = _changed_since(_history(session, base.number), base.number, touched_keys(changes))
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
        latest = _latest(session)
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
    return _public(session, actor, amendment)


def update_amendment(
    session: Session,
    *,
    actor: Principal,
    amendment_id: uuid.UUID,
    data: AmendmentUpdate,
    if_match: int | None,
) -> AmendmentPublic:
    amendment = _load(session, actor, amendment_id)
    if amendment.proposer_id != actor.id:
        raise Forbidden("Изменять поправку может только её автор", code="not_proposer")
    if amendment.status not in EDITABLE:
        raise Conflict(
            f"Поправку можно изменять только в статусах «Черновик» и «Обсуждение»; сейчас она "
            f"в статусе «{_label(amendment.status)}»",
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
        return _public(session, actor, amendment)
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
    return _public(session, actor, amendment)


# --- voting -------------------------------------------------------------------------------------


def _members_filter() -> ColumnElement[bool]:
    """Active people holding a role of the network (participant, expert, office)."""
    return and_(
        col(User.is_active).is_(True),
        exists().where(
            col(UserRole.user_id) == col(User.id), col(UserRole.role).in_(list(NETWORK_MEMBERS))
        ),
    )


def _count_members(session: Session) -> int:
    count: int = session.execute(
        select(func.count()).select_from(User).where(_members_filter())
    ).scalar_one()
    return count


def decide(tally: Tally, *, eligible: int, closed_early: bool) -> VoteResult:
    """The rule, from settings: a quorum of members must vote; `block` counts against and
    `charter_blocks_to_reject` blocks reject outright; otherwise `agree` needs the threshold
    share of `agree` + `disagree` + `block`."""
    settings = get_settings()
    quorum_required = max(1, math.ceil(settings.charter_quorum * eligible - 1e-9))
    quorum_met = tally.total >= quorum_required
    decisive = tally.agree + tally.disagree + tally.block
    agree_share = tally.agree / decisive if decisive else None
    blocked = tally.block >= settings.charter_blocks_to_reject
    outcome: Literal["accepted", "rejected"] = "rejected"
    if not quorum_met:
        reason = (
            f"Нет кворума: проголосовали {tally.total} из {eligible}, "
            f"нужно не меньше {quorum_required}"
        )
    elif blocked:
        reason = f"Поправка заблокирована: голосов «Блокирую» {tally.block}"
    elif agree_share is None or agree_share < settings.charter_threshold - 1e-9:
        share = f"{agree_share:.0%}" if agree_share is not None else "нет голосов «За»/«Против»"
        reason = f"Недостаточно голосов «За»: {share}, нужно {settings.charter_threshold:.0%}"
    else:
        outcome = "accepted"
        reason = f"Принята: «За» {agree_share:.0%}, проголосовали {tally.total} из {eligible}"
    return VoteResult(
        outcome=outcome,
        reason=reason,
        eligible=eligible,
        cast=tally.total,
        quorum=settings.charter_quorum,
        quorum_required=quorum_required,
        quorum_met=quorum_met,
        threshold=settings.charter_threshold,
        agree_share=round(agree_share, 4) if agree_share is not None else None,
        blocks=tally.block,
        blocks_to_reject=settings.charter_blocks_to_reject,
        closed_early=closed_early,
    )


def _ensure_voting_open(amendment: Amendment, now: datetime) -> None:
    if amendment.status is not S.voting or amendment.voting_closes_at is None:
        raise Conflict(
            f"Голосование по поправке не идёт: она в статусе «{_label(amendment.status)}»",
            code="voting_not_open",
            extra={"status": amendment.status.value},
        )
    if now >= amendment.voting_closes_at:
        raise Conflict(
            f"Окно голосования закрылось {amendment.voting_closes_at:%d.%m.%Y %H:%M} UTC",
            code="voting_window_closed",
            extra={"voting_closes_at": amendment.voting_closes_at},
        )


def _vote_public(session: Session, amendment_id: uuid.UUID, user_id: uuid.UUID) -> VotePublic:
    row = session.execute(
        select(
            col(AmendmentVote.amendment_id),
            col(AmendmentVote.user_id),
            col(User.full_name),
            col(AmendmentVote.vote),
            col(AmendmentVote.reason),
            col(AmendmentVote.cast_at),
            col(AmendmentVote.updated_at),
        )
        .join(User, col(User.id) == col(AmendmentVote.user_id))
        .where(
            col(AmendmentVote.amendment_id) == amendment_id, col(AmendmentVote.user_id) == user_id
        )
    ).one()
    return VotePublic.model_validate(row._mapping)


def cast_vote(
    session: Session, *, actor: Principal, amendment_id: uuid.UUID, data: VoteCast
) -> VotePublic:
    """One vote per member, changeable while the window is open; the same vote again is a
    no-op (nothing recorded)."""
    amendment = _load(session, actor, amendment_id, lock=True)
    now = utcnow()
    _ensure_voting_open(amendment, now)
    existing = session.execute(
        select(col(AmendmentVote.vote), col(AmendmentVote.reason)).where(
            col(AmendmentVote.amendment_id) == amendment.id,
            col(AmendmentVote.user_id) == actor.id,
        )
    ).first()
    if existing is not None and existing[0] == data.vote and existing[1] == data.reason:
        return _vote_public(session, amendment.id, actor.id)
    insert = _insert_for(session)
    session.execute(
        insert(AmendmentVote)
        .values(
            amendment_id=amendment.id,
            user_id=actor.id,
            vote=data.vote,
            reason=data.reason,
            cast_at=now,
            updated_at=now,
        )
        .on_conflict_do_update(
            index_elements=["amendment_id", "user_id"],
            set_={"vote": data.vote, "reason": data.reason, "updated_at": now},
        )
    )
    events.record(
        session,
        actor=actor,
        action="charter_amendment.voted",
        entity_type="charter_amendment",
        entity_id=amendment.id,
        data={
            "vote": data.vote.value,
            "reason": data.reason,
            "previous": VoteChoice(existing[0]).value if existing is not None else None,
        },
    )
    session.flush()
    return _vote_public(session, amendment.id, actor.id)


VOTE_ORDER = SortKey(
    [col(AmendmentVote.cast_at), col(AmendmentVote.user_id)], [datetime, uuid.UUID]
)


def list_votes(
    session: Session, *, actor: Principal, amendment_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[VotePublic], str | None]:
    """Votes are open: who voted how, and why, in the order they were first cast."""
    _load(session, actor, amendment_id)
    stmt = (
        select(
            col(AmendmentVote.amendment_id),
            col(AmendmentVote.user_id),
            col(User.full_name),
            col(AmendmentVote.vote),
            col(AmendmentVote.reason),
            col(AmendmentVote.cast_at),
            col(AmendmentVote.updated_at),
        )
        .join(User, col(User.id) == col(AmendmentVote.user_id))
        .where(col(AmendmentVote.amendment_id) == amendment_id)
    )
    rows = session.execute(paginate(stmt, VOTE_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.cast_at, r.user_id])
    return [VotePublic.model_validate(r._mapping) for r in page], next_cursor


# --- transitions --------------------------------------------------------------------------------


def transition(
    session: Session,
    *,
    actor: Principal,
    amendment_id: uuid.UUID,
    data: AmendmentTransitionCreate,
    if_match: int | None,
) -> AmendmentPublic:
    amendment = _load(session, actor, amendment_id, lock=True)
    step = AMENDMENT_STEPS[data.action]
    parties = set()
    if _is_moderator(actor):
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
            f"«{_label(amendment.status)}»",
            code="invalid_transition",
            extra={"status": amendment.status.value, "allowed_actions": allowed},
        )
    check_version(amendment.version, if_match=if_match, body_version=data.version)
    now = utcnow()
    source = amendment.status
    result: VoteResult | None = None
    if step.action is AmendmentAction.open_discussion:
        amendment.status = S.discussion
        amendment.discussion_opened_at = now
    elif step.action is AmendmentAction.open_voting:
        amendment.status = S.voting
        amendment.voting_opened_at = now
        amendment.voting_closes_at = now + timedelta(days=get_settings().charter_voting_days)
    elif step.action is AmendmentAction.close_voting:
        assert amendment.voting_closes_at is not None
        result = decide(
            _tallies(session, [amendment.id])[amendment.id],
            eligible=_count_members(session),
            closed_early=now < amendment.voting_closes_at,
        )
        amendment.status = S(result.outcome)
        amendment.result = result.model_dump(mode="json")
        amendment.closed_at = now
    else:
        amendment.status = S.withdrawn
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
    return _public(session, actor, amendment)


# --- comments -----------------------------------------------------------------------------------


COMMENT_ORDER = SortKey([col(AmendmentComment.id)], [int])
COMMENT_COLUMNS: tuple[Any, ...] = (
    col(AmendmentComment.id),
    col(AmendmentComment.amendment_id),
    col(AmendmentComment.author_id),
    col(User.full_name).label("author_name"),
    col(AmendmentComment.section_key),
    col(AmendmentComment.text),
    col(AmendmentComment.created_at),
)


def add_comment(
    session: Session, *, actor: Principal, amendment_id: uuid.UUID, data: CommentCreate
) -> CommentPublic:
    amendment = _load(session, actor, amendment_id)
    if amendment.status not in COMMENTABLE:
        raise Conflict(
            f"Обсуждение поправки закрыто: она в статусе «{_label(amendment.status)}»",
            code="discussion_closed",
            extra={"status": amendment.status.value},
        )
    if data.section_key is not None:
        base = _version(session, amendment.base_version)
        known = [s["key"] for s in base.sections] + [
            c["key"] for c in amendment.changes if c["op"] == "add"
        ]
        if data.section_key not in known:
            raise InvalidInput(
                f"Раздела «{data.section_key}» нет ни в версии {base.number}, ни в поправке",
                loc=["body", "section_key"],
                code="unknown_section",
                extra={"known_keys": known},
            )
    comment = AmendmentComment(
        amendment_id=amendment.id,
        author_id=actor.id,
        section_key=data.section_key,
        text=data.text,
    )
    session.add(comment)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="charter_amendment.commented",
        entity_type="charter_amendment",
        entity_id=amendment.id,
        data={"comment_id": comment.id, "section_key": data.section_key, "text": data.text},
    )
    row = session.execute(
        select(*COMMENT_COLUMNS)
        .join(User, col(User.id) == col(AmendmentComment.author_id))
        .where(col(AmendmentComment.id) == comment.id)
    ).one()
    return CommentPublic.model_validate(row._mapping)


def list_comments(
    session: Session,
    *,
    actor: Principal,
    amendment_id: uuid.UUID,
    section_key: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[CommentPublic], str | None]:
    """The discussion in the order it was written."""
    _load(session, actor, amendment_id)
    stmt = (
        select(*COMMENT_COLUMNS)
        .join(User, col(User.id) == col(AmendmentComment.author_id))
        .where(col(AmendmentComment.amendment_id) == amendment_id)
    )
    if section_key is not None:
        stmt = stmt.where(col(AmendmentComment.section_key) == section_key)
    rows = session.execute(paginate(stmt, COMMENT_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.id])
    return [CommentPublic.model_validate(r._mapping) for r in page], next_cursor


# --- adoption -----------------------------------------------------------------------------------


def _stale_detail(amendment: Amendment, key: str, versions: Sequence[int]) -> str:
    return (
        f"«{key}»: поправка «{amendment.title}» составлена к версии {amendment.base_version}, "
        f"а раздел изменён в версии {', '.join(map(str, versions))}"
    )


def _conflicts(
    history: Sequence[CharterVersion], amendments: Sequence[Amendment]
) -> list[dict[str, Any]]:
    """Sections two sources want to change: an amendment and a version adopted after its
    base, or two amendments of the same adoption."""
    found: list[dict[str, Any]] = []
    for amendment in amendments:
        stale = _changed_since(history, amendment.base_version, touched_keys(amendment.changes))
        for key, versions in stale.items():
            found.append(
                {
                    "section": key,
                    "amendment_ids": [str(amendment.id)],
                    "base_version": amendment.base_version,
                    "versions": versions,
                    "detail": _stale_detail(amendment, key, versions),
                }
            )
    owners: dict[str, list[Amendment]] = {}
    for amendment in amendments:
        for key in touched_keys(amendment.changes):
            owners.setdefault(key, []).append(amendment)
    for key, rivals in owners.items():
        if len(rivals) > 1:
            found.append(
                {
                    "section": key,
                    "amendment_ids": [str(a.id) for a in rivals],
                    "base_version": None,
                    "versions": [],
                    "detail": f"«{key}»: его меняют поправки "
                    + ", ".join(f"«{a.title}»" for a in rivals),
                }
            )
    return found


def _accepted_by_vote(amendment: Amendment) -> bool:
    return amendment.result is not None and amendment.result.get("outcome") == "accepted"


def _amendments_to_adopt(session: Session, ids: list[uuid.UUID]) -> list[Amendment]:
    found = {
        a.id: a
        for a in session.scalars(
            select(Amendment).where(col(Amendment.id).in_(ids)).with_for_update()
        ).all()
    }
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            f"Поправки не найдены: {', '.join(missing)}",
            loc=["body", "amendment_ids"],
            code="unknown_amendment",
            extra={"amendment_ids": missing},
        )
    amendments = [found[i] for i in ids]
    adopted = [a for a in amendments if a.adopted_in_version is not None]
    if adopted:
        raise Conflict(
            "Поправки уже вошли в устав: "
            + "; ".join(f"«{a.title}» — в версию {a.adopted_in_version}" for a in adopted),
            code="amendment_already_adopted",
            extra={"amendment_ids": [str(a.id) for a in adopted]},
        )
    return amendments


def _refuse_unaccepted(history: Sequence[CharterVersion], amendments: Sequence[Amendment]) -> None:
    """Only amendments the vote accepted go in. One the vote accepted and a later version then
    superseded is left to the conflict check, which names the sections and versions; any other
    is refused here (a superseded one naming them too)."""
    described: list[str] = []
    items: list[dict[str, Any]] = []
    for amendment in amendments:
        if amendment.status is S.accepted:
            continue
        item: dict[str, Any] = {"id": str(amendment.id), "status": amendment.status.value}
        text = f"«{amendment.title}» — «{_label(amendment.status)}»"
        if amendment.status is S.superseded:
            stale = _changed_since(history, amendment.base_version, touched_keys(amendment.changes))
            if stale and _accepted_by_vote(amendment):
                continue
            if stale:
                text += f" ({'; '.join(_stale_detail(amendment, k, v) for k, v in stale.items())})"
            item["base_version"] = amendment.base_version
            item["superseded_by_version"] = amendment.superseded_by_version
            item["conflicts"] = [
                {"section": key, "changed_in_versions": versions} for key, versions in stale.items()
            ]
        described.append(text)
        items.append(item)
    if items:
        raise Conflict(
            "В устав входят только поправки, принятые голосованием: " + "; ".join(described),
            code="amendment_not_accepted",
            extra={"amendments": items},
        )


def _supersede(session: Session, actor: Principal, version: CharterVersion) -> list[str]:
    """Open amendments whose sections the new version changed can no longer apply."""
    candidates = session.scalars(
        select(Amendment).where(
            col(Amendment.status).in_(list(OPEN)), col(Amendment.adopted_in_version).is_(None)
        )
    ).all()
    if not candidates:
        return []
    by_number = {v.number: v for v in _history(session, min(a.base_version for a in candidates))}
    superseded = []
    for amendment in candidates:
        base = by_number[amendment.base_version]
        clash = changed_keys(base.sections, version.sections) & touched_keys(amendment.changes)
        if not clash:
            continue
        source = amendment.status
        amendment.status = S.superseded
        amendment.superseded_by_version = version.number
        amendment.closed_at = version.adopted_at
        amendment.updated_at = version.adopted_at
        superseded.append(str(amendment.id))
        events.record(
            session,
            actor=actor,
            action="charter_amendment.superseded",
            entity_type="charter_amendment",
            entity_id=amendment.id,
            data={
                "changes": {"status": [source.value, S.superseded.value]},
                "version": version.number,
                "sections": sorted(clash),
            },
        )
    return superseded


def adopt_version(
    session: Session, *, actor: Principal, data: CharterVersionCreate
) -> CharterVersionPublic:
    latest = _latest(session)
    amendments: list[Amendment] = []
    if data.sections is not None:
        if latest is not None:
            raise Conflict(
                f"Устав уже принят (последняя версия {latest.number}): новые версии принимаются "
                f"из принятых поправок (amendment_ids)",
                code="charter_already_adopted",
            )
        sections: list[Section] = [s.model_dump() for s in data.sections]
    else:
        if latest is None:
            raise Conflict(
                "Устав сети ещё не принят: первая версия принимается из разделов (sections)",
                code="charter_not_adopted",
            )
        assert data.amendment_ids is not None
        amendments = _amendments_to_adopt(session, data.amendment_ids)
        history = _history(session, min(a.base_version for a in amendments))
        _refuse_unaccepted(history, amendments)
        conflicts = _conflicts(history, amendments)
        if conflicts:
            raise Conflict(
                "Поправки нельзя принять — конфликт в разделах: "
                + "; ".join(c["detail"] for c in conflicts),
                code="amendment_conflict",
                extra={"conflicts": conflicts},
            )
        sections = latest.sections
        for amendment in amendments:
            sections = apply_changes(sections, amendment.changes)
        if not sections:
            raise Conflict("Устав не может остаться без разделов", code="empty_charter")
    if latest is not None and data.effective_from < latest.effective_from:
        raise InvalidInput(
            f"Новая версия не может вступить в силу раньше версии {latest.number} "
            f"({_day(latest.effective_from)})",
            loc=["body", "effective_from"],
            code="effective_from_too_early",
        )
    now = utcnow()
    version = CharterVersion(
        number=latest.number + 1 if latest else 1,
        sections=sections,
        summary=data.summary,
        effective_from=data.effective_from,
        adopted_at=now,
        adopted_by_id=actor.id,
        amendment_ids=[str(a.id) for a in amendments],
    )
    session.add(version)
    for amendment in amendments:
        amendment.adopted_in_version = version.number
        amendment.updated_at = now
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "Одновременно была принята другая версия устава; обновите данные и повторите",
            code="charter_version_conflict",
        ) from exc
    superseded = _supersede(session, actor, version)
    events.record(
        session,
        actor=actor,
        action="charter_version.adopted",
        entity_type="charter_version",
        entity_id=version.id,
        data={
            "number": version.number,
            "summary": version.summary,
            "effective_from": version.effective_from.isoformat(),
            "amendment_ids": version.amendment_ids,
            "superseded_amendment_ids": superseded,
        },
    )
    session.flush()
    return _version_public(session, actor, version, in_force=_in_force_number(session, now.date()))


# --- acknowledgements ---------------------------------------------------------------------------


def acknowledge(
    session: Session, *, actor: Principal, number: int
) -> tuple[AcknowledgementPublic, bool]:
    """Agreement with the version in force; repeating it changes nothing. Returns whether it
    was new."""
    version = _version(session, number)
    today = utcnow().date()
    in_force = _in_force_number(session, today)
    if in_force != version.number:
        when = (
            f"вступит в силу {_day(version.effective_from)}"
            if version.effective_from > today
            else "уже заменена"
        )
        now_text = f"сейчас действует версия {in_force}" if in_force else "устав ещё не действует"
        raise Conflict(
            f"Версия {number} не действует сегодня ({when}); {now_text}",
            code="version_not_in_force",
            extra={"version": number, "in_force_version": in_force},
        )
    insert = _insert_for(session)
    created = session.execute(
        insert(CharterAcknowledgement)
        .values(version_number=number, user_id=actor.id, at=utcnow())
        .on_conflict_do_nothing(index_elements=["version_number", "user_id"])
        .returning(col(CharterAcknowledgement.at))
    ).first()
    if created is not None:
        events.record(
            session,
            actor=actor,
            action="charter_version.acknowledged",
            entity_type="charter_version",
            entity_id=version.id,
            data={"number": number},
        )
        session.flush()
        at = created[0]
    else:
        at = session.execute(
            select(col(CharterAcknowledgement.at)).where(
                col(CharterAcknowledgement.version_number) == number,
                col(CharterAcknowledgement.user_id) == actor.id,
            )
        ).scalar_one()
    return AcknowledgementPublic(
        version_number=number, user_id=actor.id, at=at
    ), created is not None


MEMBER_ORDER = SortKey([col(User.full_name), col(User.id)], [str, uuid.UUID])


def list_acknowledgements(
    session: Session,
    *,
    number: int,
    acknowledged: bool | None,
    cursor: str | None,
    limit: int,
) -> AcknowledgementPage:
    """Every active network member with the moment they acknowledged version `number`, or
    null; sorted by name."""
    _version(session, number)
    joined = and_(
        col(CharterAcknowledgement.user_id) == col(User.id),
        col(CharterAcknowledgement.version_number) == number,
    )
    totals = session.execute(
        select(func.count(), func.count(col(CharterAcknowledgement.at)))
        .select_from(User)
        .outerjoin(CharterAcknowledgement, joined)
        .where(_members_filter())
    ).one()
    stmt: Select[*tuple[Any, ...]] = (
        select(
            col(User.id).label("user_id"),
            col(User.full_name),
            col(User.organization_id),
            col(CharterAcknowledgement.at).label("acknowledged_at"),
        )
        .outerjoin(CharterAcknowledgement, joined)
        .where(_members_filter())
    )
    if acknowledged is True:
        stmt = stmt.where(col(CharterAcknowledgement.at).is_not(None))
    elif acknowledged is False:
        stmt = stmt.where(col(CharterAcknowledgement.at).is_(None))
    rows = session.execute(paginate(stmt, MEMBER_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.full_name, r.user_id])
    return AcknowledgementPage(
        version_number=number,
        members_total=totals[0],
        acknowledged_total=totals[1],
        items=[MemberAcknowledgement.model_validate(r._mapping) for r in page],
        next_cursor=next_cursor,
    )
