import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import Conflict, InvalidInput, NotFound
from app.models import Organization, OrganizationKind
from app.models.base import utcnow
from app.pagination import SortKey, paginate, split_page
from app.schemas.organizations import OrganizationCreate, OrganizationUpdate
from app.security import Principal
from app.services import events
from app.services.versioning import check_version
from app.text import LIKE_ESCAPE, contains_pattern, search_text

ORDER = SortKey(columns=[col(Organization.name), col(Organization.id)], types=[str, uuid.UUID])


def _refresh_search(org: Organization) -> None:
    org.search_text = search_text(org.name, org.short_name)


def _ensure_unique_name(session: Session, name: str, *, exclude: uuid.UUID | None = None) -> None:
    stmt = select(col(Organization.id)).where(col(Organization.name) == name)
    if exclude is not None:
        stmt = stmt.where(col(Organization.id) != exclude)
    if session.execute(stmt).first() is not None:
        raise Conflict(f"Организация «{name}» уже есть", code="duplicate_organization")


def get_organization(session: Session, organization_id: uuid.UUID) -> Organization:
    org = session.get(Organization, organization_id)
    if org is None:
        raise NotFound("Организация не найдена")
    return org


def ensure_exists(session: Session, organization_id: uuid.UUID | None, *, loc: list[str]) -> None:
    """For references in other bodies: an unknown organization there is bad input (422)."""
    if organization_id is None:
        return
    if session.get(Organization, organization_id) is None:
        raise InvalidInput(
            f"Организация {organization_id} не найдена", loc=loc, code="unknown_organization"
        )


def list_organizations(
    session: Session,
    *,
    q: str | None,
    kind: OrganizationKind | None,
    is_innovation_centre: bool | None,
    cursor: str | None,
    limit: int,
) -> tuple[Sequence[Organization], str | None]:
    stmt = select(Organization)
    if q:
        stmt = stmt.where(
            col(Organization.search_text).like(contains_pattern(q), escape=LIKE_ESCAPE)
        )
    if kind is not None:
        stmt = stmt.where(col(Organization.kind) == kind)
    if is_innovation_centre is not None:
        stmt = stmt.where(col(Organization.is_innovation_centre) == is_innovation_centre)
    rows = session.scalars(paginate(stmt, ORDER, cursor=cursor, limit=limit)).all()
    return split_page(rows, limit, lambda o: [o.name, o.id])


def create_organization(
    session: Session, *, actor: Principal, data: OrganizationCreate
) -> Organization:
    _ensure_unique_name(session, data.name)
    now = utcnow()
    org = Organization(**data.model_dump(), search_text="", created_at=now, updated_at=now)
    _refresh_search(org)
    session.add(org)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="organization.created",
        entity_type="organization",
        entity_id=org.id,
        data=data.model_dump(mode="json"),
    )
    return org


def update_organization(
    session: Session,
    *,
    actor: Principal,
    organization_id: uuid.UUID,
    data: OrganizationUpdate,
    if_match: int | None,
) -> Organization:
    org = get_organization(session, organization_id)
    patch = data.model_dump(exclude_unset=True, exclude={"version"}, mode="json")
    # Every column is NOT NULL: an explicit null is bad input, not a database error (500).
    for name, value in patch.items():
        if value is None:
            raise InvalidInput(
                "Поле не может быть null", loc=["body", name], code="null_not_allowed"
            )
    check_version(org.version, if_match=if_match, body_version=data.version)
    if patch.get("name") and patch["name"] != org.name:
        _ensure_unique_name(session, patch["name"], exclude=org.id)
    before = {key: getattr(org, key) for key in patch}
    diff = events.changes(before, patch)
    if not diff:
        return org
    for key, value in data.model_dump(exclude_unset=True, exclude={"version"}).items():
        setattr(org, key, value)
    _refresh_search(org)
    org.updated_at = utcnow()
    session.flush()
    events.record(
        session,
        actor=actor,
        action="organization.updated",
        entity_type="organization",
        entity_id=org.id,
        data={"changes": diff},
    )
    return org
