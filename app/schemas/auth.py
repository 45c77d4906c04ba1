import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import InputModel, Name, OutputModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="Срок жизни access-токена в секундах")
    refresh_token: str | None = Field(
        description="Выдаётся пользователям; сервисным учётным записям не выдаётся"
    )
    scope: str | None = Field(description="Права сервисной учётной записи через пробел")


class RefreshRequest(InputModel):
    refresh_token: str = Field(min_length=10, max_length=4096)


class ServiceAccountPublic(OutputModel):
    id: uuid.UUID
    name: str
    client_id: str
    scopes: list[str]
    is_active: bool
    created_at: datetime


class ServiceAccountCreated(ServiceAccountPublic):
    client_secret: str = Field(description="Показывается один раз: сохраните его сразу")


class ServiceAccountCreate(InputModel):
    name: Name = Field(examples=["Выгрузка KPI для Управления образования"])
    scopes: list[Literal["kpi:read", "initiatives:read", "webhooks:manage"]] = Field(
        min_length=1, max_length=3, examples=[["kpi:read"]]
    )
