"""The capability table evaluated against the office's current levels: served, and enforced
on the capability's routes when `PROJOFFICE_MATURITY_GATING=enforced`."""

from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlmodel import Session, col

from app.config import Settings
from app.db import Db
from app.errors import Conflict
from app.models import MaturityAssessment, OfficeFunction
from app.schemas.maturity import CapabilityList, CapabilityPublic
from app.services.maturity.capabilities import (
    CAPABILITIES,
    Capability,
    Gating,
    required_level,
)
from app.services.maturity.scale import latest_assessments

# Built once: the gate runs it through `Db.rows`, which compiles a statement once.
_CURRENT_LEVEL = select(
    col(OfficeFunction.title_ru),
    select(col(MaturityAssessment.level))
    .where(col(MaturityAssessment.function_code) == col(OfficeFunction.code))
    .order_by(col(MaturityAssessment.assessed_at).desc(), col(MaturityAssessment.id).desc())
    .limit(1)
    .scalar_subquery(),
).where(col(OfficeFunction.code) == bindparam("code"))


def uses(capability: Capability, body: Any) -> bool:
    """Whether a request with this JSON body uses the capability (most always do)."""
    condition = CAPABILITIES[capability].when
    if condition is None:
        return True
    return isinstance(body, dict) and body.get(condition.field) in condition.values


async def check_capability(db: Db, *, capability: Capability, settings: Settings) -> None:
    """409 `capability_not_mastered` while the governing function is below the level."""
    spec = CAPABILITIES[capability]
    needed = required_level(capability, settings.maturity_required_levels)
    rows = await db.rows(_CURRENT_LEVEL, {"code": spec.function.value})
    title, level = rows[0] if rows else (spec.function.value, None)
    current = level or 0
    if current >= needed:
        return
    raise Conflict(
        f"«{spec.title_ru}» пока недоступно: функция проектного офиса «{title}» на уровне "
        f"{current}, а нужен {needed} (режим PROJOFFICE_MATURITY_GATING=enforced)",
        code="capability_not_mastered",
        extra={
            "capability": capability.value,
            "function": spec.function.value,
            "required_level": needed,
            "current_level": current,
        },
    )


def list_capabilities(session: Session, *, settings: Settings) -> CapabilityList:
    """The table with each governing function's current level: one statement."""
    latest = latest_assessments()
    functions = {spec.function.value for spec in CAPABILITIES.values()}
    rows = session.execute(
        select(col(OfficeFunction.code), col(OfficeFunction.title_ru), latest.c.level)
        .outerjoin(
            latest, and_(latest.c.function_code == col(OfficeFunction.code), latest.c.rank == 1)
        )
        .where(col(OfficeFunction.code).in_(functions))
    ).all()
    standing = {code: (title, level or 0) for code, title, level in rows}
    items = []
    for capability, spec in CAPABILITIES.items():
        title, current = standing[spec.function.value]
        needed = required_level(capability, settings.maturity_required_levels)
        items.append(
            CapabilityPublic(
                code=capability,
                title_ru=spec.title_ru,
                title_en=spec.title_en,
                function=spec.function.value,
                function_title_ru=title,
                required_level=needed,
                current_level=current,
                mastered=current >= needed,
                operations=list(spec.operations),
                condition=spec.when.description if spec.when else None,
            )
        )
    return CapabilityList(gating=Gating(settings.maturity_gating), capabilities=items)
