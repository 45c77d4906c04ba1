"""A meeting's agenda: items in order, inserted, moved and removed while the meeting allows it."""

import uuid

from sqlalchemy import func, select, update
from sqlmodel import Session, col

from app.errors import Conflict, InvalidInput, NotFound
from app.models import (
    AgendaItem,
    AgendaItemKind,
    Decision,
    Meeting,
)
from app.pagination import SortKey, paginate, split_page
from app.schemas.meetings import (
    AgendaItemCreate,
    AgendaItemPublic,
    AgendaItemUpdate,
)
from app.security import Principal
from app.services import events, initiatives, people
from app.services.meetings.reading import (
    agenda_public,
    agenda_stmt,
    load_meeting,
    reject_nulls,
    require_not_cancelled,
    touch,
)

AGENDA_ORDER = SortKey([col(AgendaItem.position), col(AgendaItem.id)], [int, uuid.UUID])


AGENDA_ITEM_NOT_NULL = ("kind", "title", "description", "position")


def _agenda_item(session: Session, meeting: Meeting, item_id: uuid.UUID) -> AgendaItem:
    item = session.scalars(
        select(AgendaItem).where(
            col(AgendaItem.id) == item_id, col(AgendaItem.meeting_id) == meeting.id
        )
    ).first()
    if item is None:
        raise NotFound("Пункт повестки не найден", code="agenda_item_not_found")
    return item


def _one_agenda_item(session: Session, item_id: uuid.UUID) -> AgendaItemPublic:
    return agenda_public(session.execute(agenda_stmt().where(col(AgendaItem.id) == item_id)).one())


def list_agenda_items(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, cursor: str | None, limit: int
) -> tuple[list[AgendaItemPublic], str | None]:
    load_meeting(session, actor, meeting_id)
    stmt = agenda_stmt().where(col(AgendaItem.meeting_id) == meeting_id)
    rows = session.execute(paginate(stmt, AGENDA_ORDER, cursor=cursor, limit=limit)).all()
    page, next_cursor = split_page(rows, limit, lambda r: [r.position, r.id])
    return [agenda_public(r) for r in page], next_cursor


def _agenda_size(session: Session, meeting_id: uuid.UUID) -> int:
    size: int = session.execute(
        select(func.count()).where(col(AgendaItem.meeting_id) == meeting_id)
    ).scalar_one()
    return size


def _shift(session: Session, meeting_id: uuid.UUID, lo: int, hi: int | None, by: int) -> None:
    """Move the items at positions lo..hi (to the end when hi is None) by `by` places."""
    stmt = update(AgendaItem).where(
        col(AgendaItem.meeting_id) == meeting_id, col(AgendaItem.position) >= lo
    )
    if hi is not None:
        stmt = stmt.where(col(AgendaItem.position) <= hi)
    session.execute(stmt.values(position=col(AgendaItem.position) + by))


def _item_initiative_title(
    session: Session, actor: Principal, initiative_id: uuid.UUID | None, *, loc: list[str]
) -> str | None:
    if initiative_id is None:
        return None
    try:
        return initiatives.get_initiative(session, actor=actor, initiative_id=initiative_id).title
    except NotFound as exc:
        raise InvalidInput("Инициатива не найдена", loc=loc, code="unknown_initiative") from exc


def _require_initiative_for_review(kind: AgendaItemKind, initiative_id: uuid.UUID | None) -> None:
    if kind == AgendaItemKind.initiative_review and initiative_id is None:
        raise InvalidInput(
            "Для рассмотрения инициативы укажите `initiative_id`",
            loc=["body", "initiative_id"],
            code="initiative_required",
        )


def add_agenda_item(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, data: AgendaItemCreate
) -> AgendaItemPublic:
    meeting = load_meeting(session, actor, meeting_id)
    require_not_cancelled(meeting)
    _require_initiative_for_review(data.kind, data.initiative_id)
    initiative_title = _item_initiative_title(
        session, actor, data.initiative_id, loc=["body", "initiative_id"]
    )
    title = data.title or initiative_title
    if title is None:
        raise InvalidInput("Укажите название пункта повестки", loc=["body", "title"])
    people.ensure_active(session, [data.presenter_id], loc=["body", "presenter_id"])
    size = _agenda_size(session, meeting.id)
    position = min(data.position or size + 1, size + 1)
    _shift(session, meeting.id, position, None, +1)
    item = AgendaItem(
        **data.model_dump(exclude={"title", "position"}),
        meeting_id=meeting.id,
        title=title,
        position=position,
    )
    session.add(item)
    touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.agenda_item_added",
        entity_type="meeting",
        entity_id=meeting.id,
        data={"agenda_item_id": str(item.id), **data.model_dump(mode="json"), "position": position},
    )
    return _one_agenda_item(session, item.id)


def _has_decisions(session: Session, item_id: uuid.UUID) -> bool:
    found = session.execute(
        select(col(Decision.id)).where(col(Decision.agenda_item_id) == item_id).limit(1)
    ).first()
    return found is not None


def update_agenda_item(
    session: Session,
    *,
    actor: Principal,
    meeting_id: uuid.UUID,
    item_id: uuid.UUID,
    data: AgendaItemUpdate,
) -> AgendaItemPublic:
    meeting = load_meeting(session, actor, meeting_id)
    item = _agenda_item(session, meeting, item_id)
    require_not_cancelled(meeting)
    patch = data.model_dump(exclude_unset=True)
    reject_nulls(patch, AGENDA_ITEM_NOT_NULL)
    if "initiative_id" in patch and patch["initiative_id"] != item.initiative_id:
        if _has_decisions(session, item.id):
            raise Conflict(
                "По пункту уже приняты решения: инициативу в нём менять нельзя",
                code="agenda_item_has_decisions",
            )
        _item_initiative_title(
            session, actor, patch["initiative_id"], loc=["body", "initiative_id"]
        )
    _require_initiative_for_review(
        patch.get("kind", item.kind), patch.get("initiative_id", item.initiative_id)
    )
    if patch.get("presenter_id") is not None:
        people.ensure_active(session, [patch["presenter_id"]], loc=["body", "presenter_id"])
    after = data.model_dump(mode="json", exclude_unset=True)
    if "position" in patch:
        patch["position"] = after["position"] = min(
            patch["position"], _agenda_size(session, meeting.id)
        )
    diff = events.changes(item.model_dump(mode="json"), after)
    if not diff:
        return _one_agenda_item(session, item.id)
    if "position" in diff:
        old, new = item.position, patch["position"]
        if new < old:
            _shift(session, meeting.id, new, old - 1, +1)
        else:
            _shift(session, meeting.id, old + 1, new, -1)
    for name, value in patch.items():
        setattr(item, name, value)
    touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.agenda_item_updated",
        entity_type="meeting",
        entity_id=meeting.id,
        data={"agenda_item_id": str(item.id), "changes": diff},
    )
    return _one_agenda_item(session, item.id)


def remove_agenda_item(
    session: Session, *, actor: Principal, meeting_id: uuid.UUID, item_id: uuid.UUID
) -> None:
    meeting = load_meeting(session, actor, meeting_id)
    item = _agenda_item(session, meeting, item_id)
    require_not_cancelled(meeting)
    if _has_decisions(session, item.id):
        raise Conflict(
            "По пункту уже приняты решения: его нельзя убрать из повестки",
            code="agenda_item_has_decisions",
        )
    position = item.position
    session.delete(item)
    session.flush()
    _shift(session, meeting.id, position + 1, None, -1)
    touch(meeting)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="meeting.agenda_item_removed",
        entity_type="meeting",
        entity_id=meeting.id,
        data={"agenda_item_id": str(item_id), "title": item.title, "position": position},
    )
