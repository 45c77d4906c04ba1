import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.errors import NotFound
from app.models import ServiceAccount
from app.pagination import SortKey, paginate, split_page
from app.schemas.auth import ServiceAccountCreate, ServiceAccountCreated, ServiceAccountPublic
from app.security import Principal, hash_password, new_client_secret
from app.services import events

ORDER = SortKey(
    columns=[col(ServiceAccount.created_at), col(ServiceAccount.id)], types=[datetime, uuid.UUID]
)


def create_service_account(
    session: Session, *, actor: Principal, data: ServiceAccountCreate
) -> ServiceAccountCreated:
    secret = new_client_secret()
    account = ServiceAccount(
        name=data.name,
        client_id="po-" + secrets.token_hex(12),
        hashed_secret=hash_password(secret),
        scopes=sorted(set(data.scopes)),
        created_by_id=actor.id,
    )
    session.add(account)
    session.flush()
    events.record(
        session,
        actor=actor,
        action="service_account.created",
        entity_type="service_account",
        entity_id=account.id,
        data={"name": account.name, "scopes": account.scopes},
    )
    public = ServiceAccountPublic.model_validate(account)
    return ServiceAccountCreated(**public.model_dump(), client_secret=secret)


def list_service_accounts(
    session: Session, *, cursor: str | None, limit: int
) -> tuple[Sequence[ServiceAccount], str | None]:
    rows = session.scalars(
        paginate(select(ServiceAccount), ORDER, cursor=cursor, limit=limit)
    ).all()
    return split_page(rows, limit, lambda a: [a.created_at, a.id])


def get_service_account(session: Session, account_id: uuid.UUID) -> ServiceAccount:
    account = session.get(ServiceAccount, account_id)
    if account is None:
        raise NotFound("Сервисная учётная запись не найдена")
    return account


def deactivate_service_account(
    session: Session, *, actor: Principal, account_id: uuid.UUID
) -> ServiceAccount:
    account = get_service_account(session, account_id)
    if account.is_active:
        account.is_active = False
        session.flush()
        events.record(
            session,
            actor=actor,
            action="service_account.deactivated",
            entity_type="service_account",
            entity_id=account.id,
        )
    return account
