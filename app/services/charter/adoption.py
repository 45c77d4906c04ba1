"""Adopting a new version: the first from sections, later ones by merging amendments the vote
accepted, refusing conflicts and superseding open amendments the new text overtook."""

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from app.errors import Conflict, InvalidInput
from app.models import (
    Amendment,
    AmendmentStatus,
    CharterVersion,
)
from app.models.base import utcnow
from app.schemas.charter import (
    CharterVersionCreate,
    CharterVersionPublic,
)
from app.security import Principal
from app.services import events
from app.services.charter.text import (
    Section,
    apply_changes,
    changed_keys,
    touched_keys,
)
from app.services.charter.versions import (
    changed_since,
    history_since,
    in_force_number,
    latest_version,
    ru_day,
    version_public,
)
from app.services.charter.workflow import (
    OPEN,
    status_label,
)


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
        stale = changed_since(history, amendment.base_version, touched_keys(amendment.changes))
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
        if amendment.status is AmendmentStatus.accepted:
            continue
        item: dict[str, Any] = {"id": str(amendment.id), "status": amendment.status.value}
        text = f"«{amendment.title}» — «{status_label(amendment.status)}»"
        if amendment.status is AmendmentStatus.superseded:
            stale = changed_since(history, amendment.base_version, touched_keys(amendment.changes))
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
    by_number = {
        v.number: v for v in history_since(session, min(a.base_version for a in candidates))
    }
    superseded = []
    for amendment in candidates:
        base = by_number[amendment.base_version]
        clash = changed_keys(base.sections, version.sections) & touched_keys(amendment.changes)
        if not clash:
            continue
        source = amendment.status
        amendment.status = AmendmentStatus.superseded
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
                "changes": {"status": [source.value, AmendmentStatus.superseded.value]},
                "version": version.number,
                "sections": sorted(clash),
            },
        )
    return superseded


def adopt_version(
    session: Session, *, actor: Principal, data: CharterVersionCreate
) -> CharterVersionPublic:
    latest = latest_version(session)
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
        history = history_since(session, min(a.base_version for a in amendments))
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
            f"({ru_day(latest.effective_from)})",
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
    return version_public(session, actor, version, in_force=in_force_number(session, now.date()))
