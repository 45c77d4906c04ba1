import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.models import OrganizationKind
from app.schemas.common import InputModel, LongName, OutputModel

ShortName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class OrganizationPublic(OutputModel):
    id: uuid.UUID
    name: str
    short_name: str
    kind: OrganizationKind
    is_innovation_centre: bool
    version: int
    created_at: datetime
    updated_at: datetime


class OrganizationCreate(InputModel):
    name: LongName = Field(
        examples=["Муниципальное автономное общеобразовательное учреждение «Гимназия»"]
    )
    short_name: ShortName = Field(examples=["МАОУ Гимназия"])
    kind: OrganizationKind = Field(examples=["gymnasium"])
    is_innovation_centre: bool = Field(default=False, description="Центр инновационного опыта")


class OrganizationUpdate(InputModel):
    name: LongName | None = None
    short_name: ShortName | None = None
    kind: OrganizationKind | None = None
    is_innovation_centre: bool | None = None
    version: int | None = Field(
        default=None, ge=1, description="Версия, которую правили; 409 при несовпадении"
    )
