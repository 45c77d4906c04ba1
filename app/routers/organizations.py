import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.deps import Cursor, IfMatch, Limit, SearchQuery, SessionDep, require, set_etag
from app.errors import problem_responses
from app.models import OrganizationKind
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.organizations import OrganizationCreate, OrganizationPublic, OrganizationUpdate
from app.security import Principal
from app.services import organizations

router = APIRouter(prefix="/organizations", tags=["organizations"])

Reader = Annotated[Principal, Depends(require(Action.organizations_read))]
Writer = Annotated[Principal, Depends(require(Action.organizations_write))]


@router.get("", summary="Список организаций", responses=problem_responses(401, 403, 422))
def list_organizations(
    session: SessionDep,
    _: Reader,
    q: SearchQuery = None,
    kind: OrganizationKind | None = None,
    is_innovation_centre: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[OrganizationPublic]:
    """Schools, kindergartens, centres and the department, sorted by name."""
    rows, next_cursor = organizations.list_organizations(
        session,
        q=q,
        kind=kind,
        is_innovation_centre=is_innovation_centre,
        cursor=cursor,
        limit=limit,
    )
    return Page[OrganizationPublic](
        items=[OrganizationPublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.post(
    "",
    summary="Создать организацию",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_organization(
    session: SessionDep, actor: Writer, data: OrganizationCreate, response: Response
) -> OrganizationPublic:
    org = organizations.create_organization(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/organizations/{org.id}"
    set_etag(response, org.version)
    return OrganizationPublic.model_validate(org)


@router.get(
    "/{organization_id}",
    summary="Организация",
    responses=problem_responses(401, 403, 404, 422),
)
def get_organization(
    session: SessionDep, _: Reader, organization_id: uuid.UUID, response: Response
) -> OrganizationPublic:
    org = organizations.get_organization(session, organization_id)
    set_etag(response, org.version)
    return OrganizationPublic.model_validate(org)


@router.patch(
    "/{organization_id}",
    summary="Изменить организацию",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_organization(
    session: SessionDep,
    actor: Writer,
    organization_id: uuid.UUID,
    data: OrganizationUpdate,
    if_match: IfMatch,
    response: Response,
) -> OrganizationPublic:
    """Partial update; send `If-Match` with the ETag (or `version`) to avoid lost edits."""
    org = organizations.update_organization(
        session, actor=actor, organization_id=organization_id, data=data, if_match=if_match
    )
    set_etag(response, org.version)
    return OrganizationPublic.model_validate(org)
