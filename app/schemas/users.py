import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, EmailStr, Field, StrictBool

from app.models import Role
from app.schemas.common import InputModel, Name, NotNull, OutputModel, Password, ShortText


def _unique_roles(roles: list[Role]) -> list[Role]:
    return sorted(set(roles), key=list(Role).index)


Roles = Annotated[list[Role], Field(max_length=len(Role)), AfterValidator(_unique_roles)]


class UserPublic(OutputModel):
    id: uuid.UUID
    email: str
    full_name: str
    job_title: str | None
    organization_id: uuid.UUID | None
    roles: list[Role]
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class UserCreate(InputModel):
    email: EmailStr = Field(examples=["i.petrova@example.org"])
    full_name: Name = Field(examples=["Петрова Ирина Сергеевна"])
    job_title: ShortText | None = Field(default=None, examples=["Учитель начальных классов"])
    organization_id: uuid.UUID | None = None
    roles: Roles = Field(default=[Role.participant], examples=[["participant"]])
    password: Password = Field(examples=["Смена-пароля-2026"])


class UserUpdate(InputModel):
    """What an administrator may change; omitted fields stay as they are."""

    full_name: Annotated[Name | None, NotNull] = None
    job_title: ShortText | None = None
    organization_id: uuid.UUID | None = None
    roles: Annotated[Roles | None, NotNull] = Field(
        default=None, examples=[["participant", "expert"]]
    )
    is_active: Annotated[StrictBool | None, NotNull] = None
    version: int | None = Field(
        default=None, ge=1, description="Версия, которую правили; 409 при несовпадении"
    )


class UserSelfUpdate(InputModel):
    """What a person may change about themselves: never roles or the active flag."""

    full_name: Annotated[Name | None, NotNull] = None
    job_title: ShortText | None = None
    organization_id: uuid.UUID | None = None
    version: int | None = Field(default=None, ge=1)


class PasswordChange(InputModel):
    current_password: str = Field(max_length=128)
    new_password: Password
