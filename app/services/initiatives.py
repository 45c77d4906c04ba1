"""Initiatives: create, read, edit, team, and the lifecycle transitions."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    bindparam,
    false,
    or_,
    select,
    union,
    update,
)
from sqlmodel import Session, col, delete

from app.db import Db, driver_json, insert_for, raw_utc
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import (
    Initiative,
    InitiativeCodeCounter,
    InitiativeMember,
    InitiativeStatus,
    InitiativeTopic,
    Organization,
    TeamRole,
    Transition,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, cursor_values, paginate, paginate_bound, split_page
from app.policy import ObjectRule, passes
from app.schemas.initiatives import (
    AvailableAction,
    InitiativeCreate,
    InitiativePublic,
    InitiativeSummary,
    InitiativeUpdate,
    TeamMemberIn,
    TeamMemberOut,
    TeamReplace,
    TransitionCreate,
    TransitionPublic,
)
from app.security import Principal
from app.services import events, organizations
from app.services.lifecycle import (
    STEPS,
    Party,
    failed_guards,
    parties_of,
    steps_from,
)
from app.services.office_time import local
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text, topic_key

EDITABLE = frozenset({InitiativeStatus.draft, InitiativeStatus.revision})
CONTENT_FIELDS = frozenset(
    {
        "title",
        "summary",
        "problem",
        "goal",
        "tasks",
        "expected_results",
        "kind",
        "education_level",
        "start_date",
        "end_date",
        "organization_id",
    }
)
METADATA_FIELDS = frozenset({"topics", "academic_year"})
NULLABLE_FIELDS = frozenset({"start_date", "end_date"})
STATUS_LABELS_RU = {
    InitiativeStatus.draft: "Черновик",
    InitiativeStatus.submitted: "Подана",
    InitiativeStatus.consultation: "Консультирование",
    InitiativeStatus.expertise: "Экспертиза",
    InitiativeStatus.revision: "На доработке",
    InitiativeStatus.approved: "Одобрена",
    InitiativeStatus.in_progress: "Реализуется",
    InitiativeStatus.suspended: "Приостановлена",
    InitiativeStatus.completed: "Завершена",
    InitiativeStatus.closed: "Закрыта",
    InitiativeStatus.rejected: "Отклонена",
    InitiativeStatus.withdrawn: "Отозвана",
    InitiativeStatus.cancelled: "Прекращена",
}


class InitiativeSort(StrEnum):
    created_at = "created_at"
    created_at_desc = "-created_at"
    updated_at = "updated_at"
    updated_at_desc = "-updated_at"
    title_asc = "title"
    title_desc = "-title"


_BY_CREATED = ([col(Initiative.created_at), col(Initiative.id)], [datetime, uuid.UUID])
_BY_UPDATED = ([col(Initiative.updated_at), col(Initiative.id)], [datetime, uuid.UUID])
_BY_TITLE = ([col(Initiative.title), col(Initiative.id)], [str, uuid.UUID])
SORT_KEYS: dict[InitiativeSort, SortKey] = {
    InitiativeSort.created_at: SortKey(*_BY_CREATED),
    InitiativeSort.created_at_desc: SortKey(*_BY_CREATED, descending=True),
    InitiativeSort.updated_at: SortKey(*_BY_UPDATED),
    InitiativeSort.updated_at_desc: SortKey(*_BY_UPDATED, descending=True),
    InitiativeSort.title_asc: SortKey(*_BY_TITLE),
    InitiativeSort.title_desc: SortKey(*_BY_TITLE, descending=True),
}
SORT_VALUES = {
    InitiativeSort.created_at: lambda r: [r.created_at, r.id],
    InitiativeSort.updated_at: lambda r: [r.updated_at, r.id],
    InitiativeSort.title_asc: lambda r: [r.title, r.id],
}

SUMMARY_COLUMNS = tuple(col(getattr(Initiative, name)) for name in InitiativeSummary.model_fields)


# --- visibility -------------------------------------------------------------------------------


def _team_of(user_id: Any) -> Select[Any]:
    return select(col(InitiativeMember.initiative_id)).where(
        col(InitiativeMember.user_id) == user_id
    )


def authored_or_team_of(user_id: Any) -> CompoundSelect[Any]:
    """The ids of the initiatives a person wrote or is on the team of."""
    return union(
        select(col(Initiative.id)).where(col(Initiative.author_id) == user_id),
        _team_of(user_id),
    )


def _open_to_readers() -> ColumnElement[bool]:
    """Submitted once. A draft withdrawn before it was ever submitted stays as private as the
    draft was."""
    return col(Initiative.submitted_at).is_not(None)


def _visible(actor: Principal) -> ColumnElement[bool]:
    return _visible_to(
        admin=passes(actor, ObjectRule.initiative_draft_read), user=actor.is_user, actor_id=actor.id
    )


def _visible_to(*, admin: bool, user: bool, actor_id: Any) -> ColumnElement[bool]:
    """Drafts belong to their author, team and admins; everything else is open to readers.
    `actor_id` is the actor's id, or a bound parameter for it in a statement built once."""
    if admin:
        return col(Initiative.id).is_not(None)
    if not user:
        return _open_to_readers()
    return or_(
        _open_to_readers(),
        col(Initiative.author_id) == actor_id,
        col(Initiative.id).in_(_team_of(actor_id)),
    )


def load_visible(session: Session, actor: Principal, initiative_id: uuid.UUID) -> Initiative:
    initiative = session.scalars(
        select(Initiative).where(col(Initiative.id) == initiative_id, _visible(actor))
    ).first()
    if initiative is None:
        raise NotFound("Инициатива не найдена", code="initiative_not_found")
    return initiative


def membership(
    session: Session, actor: Principal, initiative: Initiative
) -> tuple[bool, TeamRole | None]:
    role = None
    if actor.is_user:
        role = session.scalars(
            select(col(InitiativeMember.role)).where(
                col(InitiativeMember.initiative_id) == initiative.id,
                col(InitiativeMember.user_id) == actor.id,
            )
        ).first()
    return initiative.author_id == actor.id, role


# --- reading ----------------------------------------------------------------------------------


def _team(session: Session, initiative_id: uuid.UUID) -> list[TeamMemberOut]:
    rows = session.execute(
        select(col(InitiativeMember.user_id), col(User.full_name), col(InitiativeMember.role))
        .join(User, col(User.id) == col(InitiativeMember.user_id))
        .where(col(InitiativeMember.initiative_id) == initiative_id)
        .order_by(col(InitiativeMember.added_at), col(User.full_name))
    ).all()
    return [TeamMemberOut(user_id=r[0], full_name=r[1], role=r[2]) for r in rows]


def _public(session: Session, initiative: Initiative) -> InitiativePublic:
    """Two queries whatever the size of the team: the names, then the team."""
    names = session.execute(
        select(
            select(col(User.full_name))
            .where(col(User.id) == initiative.author_id)
            .scalar_subquery(),
            select(col(Organization.short_name))
            .where(col(Organization.id) == initiative.organization_id)
            .scalar_subquery(),
        )
    ).one()
    return InitiativePublic.model_validate(
        {
            **initiative.model_dump(),
            "author_name": names[0],
            "organization_name": names[1],
            "team": _team(session, initiative.id),
        }
    )


def get_initiative(
    session: Session, *, actor: Principal, initiative_id: uuid.UUID
) -> InitiativePublic:
    return _public(session, load_visible(session, actor, initiative_id))


@lru_cache(maxsize=512)
def _list_statement(
    *,
    admin: bool,
    user: bool,
    statuses: int,
    organization: bool,
    education_level: bool,
    academic_year: bool,
    author: bool,
    mine: bool,
    topic: bool,
    q: bool,
    sort: InitiativeSort,
    after: bool,
    limit: int,
) -> Select[Any]:
    """The list statement for one combination of filters, built once; the values are bound
    when it runs (`list_initiatives`). Building a statement per request cost more than its query
    (bench/README.md)."""
    actor_id: BindParameter[Any] = bindparam("actor_id")
    stmt = select(*SUMMARY_COLUMNS).where(_visible_to(admin=admin, user=user, actor_id=actor_id))
    if statuses:
        # One parameter per status, not an expanding IN: the statement stays the same text.
        stmt = stmt.where(
            col(Initiative.status).in_([bindparam(f"wanted_status_{i}") for i in range(statuses)])
        )
    if organization:
        stmt = stmt.where(col(Initiative.organization_id) == bindparam("organization_id"))
    if education_level:
        stmt = stmt.where(col(Initiative.education_level) == bindparam("education_level"))
    if academic_year:
        stmt = stmt.where(col(Initiative.academic_year) == bindparam("academic_year"))
    if author:
        stmt = stmt.where(col(Initiative.author_id) == bindparam("author_id"))
    if mine:
        stmt = stmt.where(
            or_(col(Initiative.author_id) == actor_id, col(Initiative.id).in_(_team_of(actor_id)))
            if user
            else false()
        )
    if topic:
        stmt = stmt.where(
            col(Initiative.id).in_(
                select(col(InitiativeTopic.initiative_id)).where(
                    col(InitiativeTopic.topic) == bindparam("topic")
                )
            )
        )
    if q:
        stmt = stmt.where(col(Initiative.search_text).like(bindparam("q"), escape=LIKE_ESCAPE))
    return paginate_bound(stmt, SORT_KEYS[sort], after=after, limit=limit)


_SUMMARY_FIELDS = tuple(InitiativeSummary.model_fields)


def _summary(row: Sequence[Any]) -> InitiativeSummary:
    # Values as the driver read them (`Db.rows`); pydantic parses ids, enums and timestamps.
    values = dict(zip(_SUMMARY_FIELDS, row, strict=True))
    values["topics"] = driver_json(values["topics"])
    values["created_at"] = raw_utc(values["created_at"])
    values["updated_at"] = raw_utc(values["updated_at"])
    return InitiativeSummary.model_validate(values)


async def list_initiatives(
    db: Db,
    *,
    actor: Principal,
    statuses: Sequence[InitiativeStatus],
    organization_id: uuid.UUID | None,
    education_level: str | None,
    academic_year: str | None,
    author_id: uuid.UUID | None,
    mine: bool,
    topic: str | None,
    q: str | None,
    sort: InitiativeSort,
    cursor: str | None,
    limit: int,
) -> tuple[list[InitiativeSummary], str | None]:
    stmt = _list_statement(
        admin=passes(actor, ObjectRule.initiative_draft_read),
        user=actor.is_user,
        statuses=len(statuses),
        organization=organization_id is not None,
        education_level=education_level is not None,
        academic_year=academic_year is not None,
        author=author_id is not None,
        mine=mine,
        topic=bool(topic),
        q=bool(q),
        sort=sort,
        after=bool(cursor),
        limit=limit,
    )
    key = SORT_KEYS[sort]
    values: dict[str, Any] = {
        "actor_id": actor.id,
        "organization_id": organization_id,
        "education_level": education_level,
        "academic_year": academic_year,
        "author_id": author_id,
        "topic": topic_key(topic) if topic else None,
        "q": contains_pattern(q) if q else None,
        **{f"wanted_status_{i}": status for i, status in enumerate(statuses)},
        **(cursor_values(cursor, key) if cursor else {}),
    }
    # The whole list walks the index of its order and stops at the limit; a filter may have to
    # read far along it to fill a page (an author's three initiatives among 100 000).
    filtered = statuses or organization_id or education_level or academic_year or author_id
    rows = await db.rows(stmt, values, scan=bool(filtered or mine or topic or q))
    key_of = SORT_VALUES[InitiativeSort(sort.removeprefix("-"))]
    return split_page([_summary(row) for row in rows], limit, key_of)


# --- writing ----------------------------------------------------------------------------------


def _next_number(session: Session, year: int) -> int:
    """Gap-free per year even under concurrent creation: the counter row is locked by the
    UPDATE until the creating transaction ends, and rolled back with it."""
    session.execute(
        insert_for(session, InitiativeCodeCounter)
        .values(year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["year"])
    )
    number: int = session.execute(
        update(InitiativeCodeCounter)
        .where(col(InitiativeCodeCounter.year) == year)
        .values(last_number=col(InitiativeCodeCounter.last_number) + 1)
        .returning(col(InitiativeCodeCounter.last_number))
    ).scalar_one()
    return number


def _refresh_search(initiative: Initiative) -> None:
    initiative.search_text = search_text(
        initiative.code, initiative.title, initiative.summary, " ".join(initiative.topics)
    )


def _topic_rows(initiative_id: uuid.UUID, topics: list[str]) -> list[InitiativeTopic]:
    return [
        InitiativeTopic(initiative_id=initiative_id, topic=t)
        for t in {topic_key(topic) for topic in topics}
    ]


def _set_topics(session: Session, initiative: Initiative, topics: list[str]) -> None:
    # The JSON column is what readers get; the rows are what `?topic=` filters on. The DELETE
    # autoflushes, so it runs before the initiative is touched: one edit, one UPDATE, one version.
    session.execute(
        delete(InitiativeTopic).where(col(InitiativeTopic.initiative_id) == initiative.id)
    )
    initiative.topics = topics
    session.add_all(_topic_rows(initiative.id, topics))


def _check_team(
    session: Session, members: list[TeamMemberIn], *, author_id: uuid.UUID, loc: list[str]
) -> None:
    ids = [m.user_id for m in members]
    if len(set(ids)) != len(ids):
        raise InvalidInput("Участник команды указан дважды", loc=loc, code="duplicate_member")
    if author_id in ids:
        raise InvalidInput(
            "Автор уже ведёт инициативу: не добавляйте его в команду",
            loc=loc,
            code="author_in_team",
        )
    if not ids:
        return
    found = set(
        session.scalars(
            select(col(User.id)).where(col(User.id).in_(ids), col(User.is_active).is_(True))
        ).all()
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise InvalidInput(
            f"Пользователи не найдены или неактивны: {', '.join(missing)}",
            loc=loc,
            code="unknown_team_member",
            extra={"user_ids": missing},
        )


def _set_team(session: Session, initiative_id: uuid.UUID, members: list[TeamMemberIn]) -> None:
    session.execute(
        delete(InitiativeMember).where(col(InitiativeMember.initiative_id) == initiative_id)
    )
    session.add_all(
        InitiativeMember(initiative_id=initiative_id, user_id=m.user_id, role=m.role)
        for m in members
    )


def _sync_team(
    session: Session,
    initiative_id: uuid.UUID,
    *,
    current: dict[uuid.UUID, TeamRole],
    wanted: dict[uuid.UUID, TeamRole],
) -> None:
    """Only what differs: who stays keeps their row (and their place, by `added_at`)."""
    gone = [user_id for user_id in current if user_id not in wanted]
    if gone:
        session.execute(
            delete(InitiativeMember).where(
                col(InitiativeMember.initiative_id) == initiative_id,
                col(InitiativeMember.user_id).in_(gone),
            )
        )
    for user_id, role in wanted.items():
        if user_id in current and current[user_id] != role:
            session.execute(
                update(InitiativeMember)
                .where(
                    col(InitiativeMember.initiative_id) == initiative_id,
                    col(InitiativeMember.user_id) == user_id,
                )
                .values(role=role)
            )
    session.add_all(
        InitiativeMember(initiative_id=initiative_id, user_id=user_id, role=role)
        for user_id, role in wanted.items()
        if user_id not in current
    )


def create_initiative(
    session: Session, *, actor: Principal, data: InitiativeCreate
) -> InitiativePublic:
    organization_id = data.organization_id or actor.organization_id
    if organization_id is None:
        raise InvalidInput(
            "Укажите организацию: у автора она не задана",
            loc=["body", "organization_id"],
            code="organization_required",
        )
    organizations.ensure_exists(session, organization_id, loc=["body", "organization_id"])
    _check_team(session, data.team, author_id=actor.id, loc=["body", "team"])
    now = utcnow()
    # The office's year, as on its documents: in UTC its New Year comes five hours late.
    year = local(now).year
    number = _next_number(session, year)
    initiative = Initiative(
        **data.model_dump(exclude={"organization_id", "team"}),
        code=f"INI-{year}-{number:04d}",
        code_year=year,
        code_number=number,
        organization_id=organization_id,
        author_id=actor.id,
        search_text="",
        created_at=now,
        updated_at=now,
    )
    # Complete before the INSERT: a later change would be an UPDATE, and a new initiative
    # would start at version 3 instead of 1.
    _refresh_search(initiative)
    session.add(initiative)
    session.flush()
    session.add_all(_topic_rows(initiative.id, data.topics))
    _set_team(session, initiative.id, data.team)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="initiative.created",
        entity_type="initiative",
        entity_id=initiative.id,
        # The organization as stored, not as sent: it defaults to the author's, and the log must
        # be enough to rebuild per-organization figures.
        data={
            "code": initiative.code,
            **data.model_dump(mode="json"),
            "organization_id": initiative.organization_id and str(initiative.organization_id),
        },
    )
    return _public(session, initiative)


def _require_content_rights(
    session: Session, actor: Principal, initiative: Initiative, *, what: str
) -> None:
    is_author, team_role = membership(session, actor, initiative)
    if not is_author and team_role is None:
        raise Forbidden(
            f"{what} может только автор или команда инициативы", code="not_initiative_team"
        )
    if initiative.status not in EDITABLE:
        raise Conflict(
            f"{what} можно только в статусах «Черновик» и «На доработке»; сейчас инициатива "
            f"в статусе «{STATUS_LABELS_RU[initiative.status]}»",
            code="initiative_not_editable",
            extra={"status": initiative.status.value},
        )


def update_initiative(
    session: Session,
    *,
    actor: Principal,
    initiative_id: uuid.UUID,
    data: InitiativeUpdate,
    if_match: int | None,
) -> InitiativePublic:
    initiative = load_visible(session, actor, initiative_id)
    check_version(initiative.version, if_match=if_match, body_version=data.version)
    patch = data.model_dump(exclude_unset=True, exclude={"version"})
    for name, value in patch.items():
        # Only the dates may be cleared; a null anywhere else used to reach the database (500).
        if value is None and name not in NULLABLE_FIELDS:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )
    if patch.keys() & CONTENT_FIELDS:
        _require_content_rights(session, actor, initiative, what="Менять содержание")
    if patch.keys() & METADATA_FIELDS and not passes(actor, ObjectRule.initiative_metadata_edit):
        _require_content_rights(session, actor, initiative, what="Менять темы и учебный год")
    if "organization_id" in patch:
        organizations.ensure_exists(
            session, patch["organization_id"], loc=["body", "organization_id"]
        )
    start = patch.get("start_date", initiative.start_date)
    end = patch.get("end_date", initiative.end_date)
    if start and end and end < start:
        raise InvalidInput("Дата окончания раньше даты начала", loc=["body", "end_date"])
    before = InitiativePublic.model_validate(
        {**initiative.model_dump(), "author_name": "", "organization_name": "", "team": []}
    ).model_dump(mode="json")
    after = data.model_dump(mode="json", exclude_unset=True, exclude={"version"})
    diff = events.changes(before, after)
    if not diff:
        return _public(session, initiative)
    if "topics" in patch:  # first: its DELETE autoflushes (see _set_topics)
        _set_topics(session, initiative, patch["topics"])
    for name, value in patch.items():
        if name != "topics":
            setattr(initiative, name, value)
    _refresh_search(initiative)
    initiative.updated_at = utcnow()
    session.flush()
    events.record(
        session,
        actor=actor,
        action="initiative.updated",
        entity_type="initiative",
        entity_id=initiative.id,
        data={"changes": diff},
    )
    return _public(session, initiative)


def replace_team(
    session: Session,
    *,
    actor: Principal,
    initiative_id: uuid.UUID,
    data: TeamReplace,
    if_match: int | None,
) -> InitiativePublic:
    initiative = load_visible(session, actor, initiative_id)
    check_version(initiative.version, if_match=if_match, body_version=data.version)
    _require_content_rights(session, actor, initiative, what="Менять команду")
    _check_team(session, data.members, author_id=initiative.author_id, loc=["body", "members"])
    team = _team(session, initiative.id)
    current = {m.user_id: m.role for m in team}
    wanted = {m.user_id: m.role for m in data.members}
    if wanted == current:
        # The same people in the same roles (in whatever order): nothing to change, no new
        # version, no event.
        return _public(session, initiative)
    before = [m.model_dump(mode="json") for m in team]
    _sync_team(session, initiative.id, current=current, wanted=wanted)
    initiative.updated_at = utcnow()  # the team is part of the initiative: its version moves
    session.flush()
    events.record(
        session,
        actor=actor,
        action="initiative.team_replaced",
        entity_type="initiative",
        entity_id=initiative.id,
        data={
            "before": [{"user_id": m["user_id"], "role": m["role"]} for m in before],
            "after": [m.model_dump(mode="json") for m in data.members],
        },
    )
    return _public(session, initiative)


# --- lifecycle --------------------------------------------------------------------------------


def _parties(session: Session, actor: Principal, initiative: Initiative) -> frozenset[Party]:
    if not actor.is_user:
        return frozenset()
    is_author, team_role = membership(session, actor, initiative)
    return parties_of(
        roles=actor.roles, is_author=is_author, is_team_lead=team_role == TeamRole.lead
    )


def available_actions(
    session: Session, *, actor: Principal, initiative_id: uuid.UUID
) -> list[AvailableAction]:
    initiative = load_visible(session, actor, initiative_id)
    parties = _parties(session, actor, initiative)
    result = []
    for step in steps_from(initiative.status):
        if parties.isdisjoint(step.parties):
            continue
        blocked = failed_guards(session, step, initiative, actor)
        result.append(
            AvailableAction(
                action=step.action,
                label_ru=step.label_ru,
                label_en=step.label_en,
                target=step.target,
                allowed=not blocked,
                requires_comment=step.requires_comment,
                blocked_by=blocked,
            )
        )
    return result


def transition(
    session: Session,
    *,
    actor: Principal,
    initiative_id: uuid.UUID,
    data: TransitionCreate,
    if_match: int | None,
) -> InitiativePublic:
    initiative = load_visible(session, actor, initiative_id)
    step = STEPS[data.action]
    parties = _parties(session, actor, initiative)
    if parties.isdisjoint(step.parties):
        raise Forbidden(
            f"Действие «{step.label_ru}» вам недоступно",
            code="action_forbidden",
            extra={"action": step.action.value, "parties": sorted(step.parties)},
        )
    forbidden = failed_guards(session, step, initiative, actor, forbidding=True)
    if forbidden:
        raise Forbidden(
            "; ".join(b["reason"] for b in forbidden),
            code="conflict_of_interest",
            extra={"action": step.action.value, "blocked_by": forbidden},
        )
    if initiative.status not in step.sources:
        allowed = [
            s.action.value
            for s in steps_from(initiative.status)
            if not parties.isdisjoint(s.parties)
        ]
        raise Conflict(
            f"Действие «{step.label_ru}» невозможно в статусе "
            f"«{STATUS_LABELS_RU[initiative.status]}»",
            code="invalid_transition",
            extra={"status": initiative.status.value, "allowed_actions": allowed},
        )
    if step.requires_comment and not data.comment:
        raise InvalidInput(
            f"Для действия «{step.label_ru}» нужен комментарий",
            loc=["body", "comment"],
            code="comment_required",
        )
    check_version(initiative.version, if_match=if_match, body_version=data.version)
    blocked = failed_guards(session, step, initiative, actor, forbidding=False)
    if blocked:
        raise Conflict(
            "; ".join(b["reason"] for b in blocked),
            code="guard_failed",
            extra={"action": step.action.value, "blocked_by": blocked},
        )
    source = InitiativeStatus(initiative.status)
    initiative.status = step.target
    for effect in step.effects:
        effect(session, initiative, actor)
    initiative.updated_at = utcnow()
    session.flush()  # a concurrent transition makes this a StaleDataError → 409
    session.add(
        Transition(
            initiative_id=initiative.id,
            action=step.action.value,
            from_status=source,
            to_status=step.target,
            actor_id=actor.id,
            comment=data.comment,
            review_round=initiative.review_round,
        )
    )
    events.record(
        session,
        actor=actor,
        action="initiative.transitioned",
        entity_type="initiative",
        entity_id=initiative.id,
        data={
            "action": step.action.value,
            "changes": {"status": [source.value, step.target.value]},
            "comment": data.comment,
            "review_round": initiative.review_round,
        },
    )
    session.flush()
    return _public(session, initiative)


TRANSITION_ORDER = SortKey([col(Transition.id)], [int])


def list_transitions(
    session: Session,
    *,
    actor: Principal,
    initiative_id: uuid.UUID,
    cursor: str | None,
    limit: int,
) -> tuple[list[TransitionPublic], str | None]:
    load_visible(session, actor, initiative_id)
    stmt: Select[*tuple[Any, ...]] = (
        select(
            col(Transition.id),
            col(Transition.action),
            col(Transition.from_status),
            col(Transition.to_status),
            col(Transition.actor_id),
            col(User.full_name).label("actor_name"),
            col(Transition.comment),
            col(Transition.review_round),
            col(Transition.at),
        )
        .join(User, col(User.id) == col(Transition.actor_id))
        .where(col(Transition.initiative_id) == initiative_id)
    )
    rows = session.execute(paginate(stmt, TRANSITION_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.id])
    return [TransitionPublic.model_validate(r._mapping) for r in page], next_cursor
