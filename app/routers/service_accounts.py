import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.deps import Cursor, Limit, SessionDep, require
from app.errors import problem_responses
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.auth import ServiceAccountCreate, ServiceAccountCreated, ServiceAccountPublic
from app.security import Principal
from app.services import service_accounts

router = APIRouter(prefix="/service-accounts", tags=["service-accounts"])

Admin = Annotated[Principal, Depends(require(Action.service_accounts_manage))]


@router.post(
    "",
    summary="Создать сервисную учётную запись",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 422),
)
def create_service_account(
    session: SessionDep, actor: Admin, data: ServiceAccountCreate, response: Response
) -> ServiceAccountCreated:
    """For integrations and KPI scripts. The secret is shown in this response only."""
    account = service_accounts.create_service_account(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/service-accounts/{account.id}"
    return account


@router.get("", summary="Сервисные учётные записи", responses=problem_responses(401, 403, 422))
def list_service_accounts(
    session: SessionDep, _: Admin, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> Page[ServiceAccountPublic]:
    rows, next_cursor = service_accounts.list_service_accounts(session, cursor=cursor, limit=limit)
    return Page[ServiceAccountPublic](
        items=[ServiceAccountPublic.model_validate(r) for r in rows], next_cursor=next_cursor
    )


@router.get(
    "/{account_id}",
    summary="Сервисная учётная запись",
    responses=problem_responses(401, 403, 404, 422),
)
def get_service_account(
    session: SessionDep, _: Admin, account_id: uuid.UUID
) -> ServiceAccountPublic:
    return ServiceAccountPublic.model_validate(
        service_accounts.get_service_account(session, account_id)
    )


@router.delete(
    "/{account_id}",
    summary="Отключить сервисную учётную запись",
    responses=problem_responses(401, 403, 404, 422),
)
def deactivate_service_account(
    session: SessionDep, actor: Admin, account_id: uuid.UUID
) -> ServiceAccountPublic:
    """Its tokens stop working at once; the record stays for the audit trail."""
    return ServiceAccountPublic.model_validate(
        service_accounts.deactivate_service_account(session, actor=actor, account_id=account_id)
    )
