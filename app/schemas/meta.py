from pydantic import BaseModel, Field

from app.models import Role


class EnumValue(BaseModel):
    code: str = Field(examples=["office_head"])
    ru: str = Field(examples=["Руководитель проектного офиса"])
    en: str = Field(examples=["Project office head"])


class EnumGroup(BaseModel):
    name: str = Field(examples=["role"])
    values: list[EnumValue]


class PolicyRow(BaseModel):
    action: str = Field(examples=["organizations.write"])
    description: str
    allowed: dict[str, bool] = Field(description="Роль → разрешено ли действие")
    scopes: list[str] = Field(description="Права сервисных учётных записей, дающие действие")


class PolicyMatrix(BaseModel):
    roles: list[Role]
    rows: list[PolicyRow]


class HealthStatus(BaseModel):
    status: str = Field(examples=["ok"])
    database: str | None = Field(examples=["ok"])
