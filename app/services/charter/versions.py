"""Charter versions: the one in force on a day, reading, the history and the diff between two."""

import uuid
from collections.abc import Sequence
from datetime import date
from itertools import pairwise

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from app.errors import NotFound
from app.models import (
    CharterAcknowledgement,
    CharterVersion,
    User,
)
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.charter import (
    CharterDiff,
    CharterVersionPublic,
    CharterVersionSummary,
    DiffStats,
    SectionDiff,
    SectionOut,
    WordSegment,
)
from app.security import Principal
from app.services.charter.text import (
    Section,
    changed_keys,
    positions,
    unified_diff,
    word_diff,
)


def ru_day(value: date) -> str:
    return value.strftime("%d.%m.%Y")


def _in_force_stmt(day: date) -> Select[CharterVersion]:
    # Effective dates never go backwards (see `adopt_version`), so the latest effective one wins.
    return (
        select(CharterVersion)
        .where(col(CharterVersion.effective_from) <= day)
        .order_by(col(CharterVersion.effective_from).desc(), col(CharterVersion.number).desc())
        .limit(1)
    )


def in_force_number(session: Session, day: date) -> int | None:
    stmt = _in_force_stmt(day).with_only_columns(col(CharterVersion.number))
    number: int | None = session.scalars(stmt).first()
    return number


def latest_version(session: Session) -> CharterVersion | None:
    return session.scalars(
        select(CharterVersion).order_by(col(CharterVersion.number).desc()).limit(1)
    ).first()


def load_version(session: Session, number: int) -> CharterVersion:
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


def version_public(
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
            f"На {ru_day(day)} устав сети ещё не действовал: первая версия действует "
            f"с {ru_day(first.effective_from)}",
            code="charter_not_in_force",
            extra={"as_of": day, "first_effective_from": first.effective_from},
        )
    in_force = version.number if day == today else in_force_number(session, today)
    return version_public(session, actor, version, in_force=in_force)


def get_version(session: Session, *, actor: Principal, number: int) -> CharterVersionPublic:
    version = load_version(session, number)
    in_force = in_force_number(session, utcnow().date())
    return version_public(session, actor, version, in_force=in_force)


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
    in_force = in_force_number(session, utcnow().date()) if page else None
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


def history_since(session: Session, since: int) -> list[CharterVersion]:
    return list(
        session.scalars(
            select(CharterVersion)
            .where(col(CharterVersion.number) >= since)
            .order_by(col(CharterVersion.number))
        ).all()
    )


def changed_since(
    history: Sequence[CharterVersion], base: int, keys: set[str]
) -> dict[str, list[int]]:
    """Section → the versions after `base` that changed it, for the sections in `keys`."""
    found: dict[str, list[int]] = {}
    chain = [v for v in history if v.number >= base]
    for previous, current in pairwise(chain):
        for key in sorted(changed_keys(previous.sections, current.sections) & keys):
            found.setdefault(key, []).append(current.number)
    return found
