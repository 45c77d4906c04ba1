import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class OrganizationKind(StrEnum):
    school = "school"
    gymnasium = "gymnasium"
    kindergarten = "kindergarten"
    additional_education = "additional_education"
    methodological_centre = "methodological_centre"
    education_department = "education_department"


# SQLAlchemy bumps the version and adds `WHERE version = old` to every UPDATE: a lost
# update becomes a StaleDataError (409) instead of silently overwriting someone's edit.
_VERSION = version_column()


class Organization(SQLModel, table=True):
    __tablename__ = "organization"
    __table_args__ = (
        Index(
            "ix_organization_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_organization_name_id", "name", "id"),
    )

    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    name: str = Field(max_length=300, unique=True)
    short_name: str = Field(max_length=120)
    kind: OrganizationKind = Field(sa_type=StrEnumType(OrganizationKind, 40), index=True)
    is_innovation_centre: bool = Field(default=False, index=True)
    search_text: str = Field(max_length=1000)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
