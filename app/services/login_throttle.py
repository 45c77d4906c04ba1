"""Brute-force protection of sign-in: failed attempts per account and per client address.

The counters live in the database, so every API process sees the same ones. Checking costs one
primary-key lookup of two rows; a failure is one atomic upsert per counter (no read-modify-write
race between processes); a success deletes the account's counter if it had one.
"""

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, case, delete, literal, or_, select
from sqlmodel import Session, col

from app.config import Settings
from app.db import insert_for
from app.errors import TooManyRequests
from app.models.auth import LoginThrottle
from app.models.base import UTCDateTime, utcnow

# The same words for a locked account, a locked address and an email nobody has: the answer
# must not tell which.
TOO_MANY_ATTEMPTS = "Слишком много неудачных попыток входа, повторите позже"


@dataclass(frozen=True, slots=True)
class Keys:
    account: str
    address: str


@dataclass(frozen=True, slots=True)
class Standing:
    keys: Keys
    account_has_failures: bool


def _digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def keys_for(*, account: str, address: str | None) -> Keys:
    """`account` is the email (or client id) as the login looks it up."""
    return Keys(_digest("account", account), _digest("address", address or "unknown"))


def check(session: Session, *, keys: Keys) -> Standing:
    """429 with `Retry-After` while the account or the address is locked."""
    now = utcnow()
    rows = session.execute(
        select(col(LoginThrottle.key), col(LoginThrottle.locked_until)).where(
            col(LoginThrottle.key).in_([keys.account, keys.address])
        )
    ).all()
    locked = [until for _, until in rows if until is not None and until > now]
    if locked:
        wait = max(1, math.ceil((max(locked) - now).total_seconds()))
        raise TooManyRequests(
            TOO_MANY_ATTEMPTS, code="too_many_login_attempts", headers={"Retry-After": str(wait)}
        )
    return Standing(keys, account_has_failures=any(key == keys.account for key, _ in rows))


def record_failure(session: Session, settings: Settings, *, keys: Keys) -> None:
    now = utcnow()
    session.execute(delete(LoginThrottle).where(col(LoginThrottle.expires_at) < now))
    window = timedelta(seconds=settings.login_window_seconds)
    lockout = timedelta(seconds=settings.login_lockout_seconds)
    for key, limit in (
        (keys.account, settings.login_max_failures),
        (keys.address, settings.login_max_failures_per_address),
    ):
        session.execute(_count_failure(session, key, limit, now, window, lockout))


def reset_account(session: Session, standing: Standing) -> None:
    """A successful sign-in forgives the account's failures (not the address's)."""
    if standing.account_has_failures:
        session.execute(
            delete(LoginThrottle).where(col(LoginThrottle.key) == standing.keys.account)
        )


def _count_failure(
    session: Session,
    key: str,
    limit: int,
    now: datetime,
    window: timedelta,
    lockout: timedelta,
) -> Any:
    """INSERT … ON CONFLICT DO UPDATE: one statement, atomic on both databases."""
    table: Table = LoginThrottle.__table__  # type: ignore[attr-defined]
    c = table.c

    def at(moment: datetime) -> Any:
        return literal(moment, UTCDateTime())

    first_locks = limit <= 1
    stmt = insert_for(session, table).values(
        key=key,
        failures=1,
        window_started_at=now,
        locked_until=now + lockout if first_locks else None,
        expires_at=now + (lockout if first_locks else window),
    )
    # A window that ran out, or a lockout that ended, starts the count again.
    fresh = or_(
        c.window_started_at <= at(now - window),
        and_(c.locked_until.is_not(None), c.locked_until <= at(now)),
    )
    failures = case((fresh, 1), else_=c.failures + 1)
    started = case((fresh, at(now)), else_=c.window_started_at)
    locks = failures >= limit
    return stmt.on_conflict_do_update(
        index_elements=[c.key],
        set_={
            "failures": failures,
            "window_started_at": started,
            "locked_until": case((locks, at(now + lockout)), else_=None),
            "expires_at": case(
                (locks, at(now + lockout)),
                (fresh, at(now + window)),
                else_=c.expires_at,  # same window: it ends when it would have
            ),
        },
    )
