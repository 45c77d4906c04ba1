"""What members do with an amendment in the open: comment on its sections and vote."""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.db import insert_for
from app.errors import Conflict, InvalidInput
from app.models import (
    AmendmentComment,
    AmendmentVote,
    User,
    VoteChoice,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.charter import (
    CommentCreate,
    CommentPublic,
    VoteCast,
    VotePublic,
)
from app.security import Principal
from app.services import events
from app.services.charter.amendments import load_amendment
from app.services.charter.versions import load_version
from app.services.charter.voting import ensure_voting_open
from app.services.charter.workflow import (
    COMMENTABLE,
    status_label,
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
    amendment = load_amendment(session, actor, amendment_id, lock=True)
    now = utcnow()
    ensure_voting_open(amendment, now)
    existing = session.execute(
        select(col(AmendmentVote.vote), col(AmendmentVote.reason)).where(
            col(AmendmentVote.amendment_id) == amendment.id,
            col(AmendmentVote.user_id) == actor.id,
        )
    ).first()
    if existing is not None and existing[0] == data.vote and existing[1] == data.reason:
        return _vote_public(session, amendment.id, actor.id)
    session.execute(
        insert_for(session, AmendmentVote)
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
    load_amendment(session, actor, amendment_id)
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
    amendment = load_amendment(session, actor, amendment_id)
    if amendment.status not in COMMENTABLE:
        raise Conflict(
            f"Обсуждение поправки закрыто: она в статусе «{status_label(amendment.status)}»",
            code="discussion_closed",
            extra={"status": amendment.status.value},
        )
    if data.section_key is not None:
        base = load_version(session, amendment.base_version)
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
    load_amendment(session, actor, amendment_id)
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
