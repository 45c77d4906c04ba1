"""The voting rule: who is a member, the tally of an amendment's votes and the decision it leads
to."""

import math
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, exists, func, select
from sqlmodel import Session, col

from app.config import get_settings
from app.errors import Conflict
from app.models import (
    Amendment,
    AmendmentStatus,
    AmendmentVote,
    User,
    UserRole,
    VoteChoice,
)
from app.policy import NETWORK_MEMBERS
from app.schemas.charter import (
    Tally,
    VoteResult,
)
from app.services.charter.workflow import (
    status_label,
)


def tally_votes(session: Session, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Tally]:
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


def members_filter() -> ColumnElement[bool]:
    """Active people holding a role of the network (participant, expert, office)."""
    return and_(
        col(User.is_active).is_(True),
        exists().where(
            col(UserRole.user_id) == col(User.id), col(UserRole.role).in_(list(NETWORK_MEMBERS))
        ),
    )


def count_members(session: Session) -> int:
    count: int = session.execute(
        select(func.count()).select_from(User).where(members_filter())
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


def ensure_voting_open(amendment: Amendment, now: datetime) -> None:
    if amendment.status is not AmendmentStatus.voting or amendment.voting_closes_at is None:
        raise Conflict(
            f"Голосование по поправке не идёт: она в статусе «{status_label(amendment.status)}»",
            code="voting_not_open",
            extra={"status": amendment.status.value},
        )
    if now >= amendment.voting_closes_at:
        raise Conflict(
            f"Окно голосования закрылось {amendment.voting_closes_at:%d.%m.%Y %H:%M} UTC",
            code="voting_window_closed",
            extra={"voting_closes_at": amendment.voting_closes_at},
        )
