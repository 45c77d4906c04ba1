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


class ObjectRuleRow(BaseModel):
    rule: str = Field(examples=["initiative.draft.read"])
    description: str
    allowed: dict[str, bool] = Field(
        description="Роль → проходит ли правило независимо от отношения к объекту"
    )
    relation: str = Field(
        description="Кто ещё проходит правило — по отношению к объекту",
        examples=["автор и команда"],
    )
    denied: int = Field(
        description="Что получают остальные: 404, если им не положено знать об объекте",
        examples=[404],
    )


class PolicyMatrix(BaseModel):
    roles: list[Role]
    rows: list[PolicyRow]
    object_rules: list[ObjectRuleRow] = Field(
        description="Правила, зависящие от объекта: чей черновик, чьё назначение, чей трек"
    )


class HealthStatus(BaseModel):
    status: str = Field(examples=["ok"])
    database: str | None = Field(examples=["ok"])
