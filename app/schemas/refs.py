"""Small references to other resources, embedded where a client would otherwise need a lookup."""

import uuid

from pydantic import Field

from app.models import InitiativeStatus
from app.schemas.common import OutputModel


class PersonRef(OutputModel):
    id: uuid.UUID
    full_name: str


class InitiativeRef(OutputModel):
    id: uuid.UUID
    code: str = Field(examples=["INI-2026-0007"])
    title: str
    status: InitiativeStatus
