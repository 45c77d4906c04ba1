import uuid
from datetime import datetime
from typing import Annotated

from pydantic import Field, StrictBool, StringConstraints

from app.models import OrganizationKind
from app.schemas.common import InputModel, LongName, NotNull, OutputModel

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
    is_innovation_centre: StrictBool = Field(
        default=False, description="Центр инновационного опыта"
    )


class OrganizationUpdate(InputModel):
    name: Annotated[LongName | None, NotNull] = None
    short_name: Annotated[ShortName | None, NotNull] = None
    kind: Annotated[OrganizationKind | None, NotNull] = None
    is_innovation_centre: Annotated[StrictBool | None, NotNull] = None
    version: int | None = Field(
        default=None, ge=1, description="Версия, которую правили; 409 при несовпадении"
    )
