import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class Role(StrEnum):
    admin = "admin"
    office_head = "office_head"
    office_member = "office_member"
    expert = "expert"
    participant = "participant"
    observer = "observer"


# SQLAlchemy bumps the version and adds `WHERE version = old` to every UPDATE: a lost
# update becomes a StaleDataError (409) instead of silently overwriting someone's edit.
_VERSION = version_column()


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    __table_args__ = (
        Index(
            "ix_app_user_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index("ix_app_user_full_name_id", "full_name", "id"),
        Index("ix_app_user_created_at_id", "created_at", "id"),
    )

    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    email: str = Field(max_length=254, unique=True)
    full_name: str = Field(max_length=200)
    job_title: str | None = Field(default=None, max_length=200)
    organization_id: uuid.UUID | None = Field(
        default=None, foreign_key="organization.id", index=True, ondelete="RESTRICT"
    )
    hashed_password: str = Field(max_length=255)
    is_active: bool = Field(default=True, index=True)
    search_text: str = Field(max_length=1000)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"
    __table_args__ = (Index("ix_user_role_role_user_id", "role", "user_id"),)

    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    role: Role = Field(sa_type=StrEnumType(Role, 30), primary_key=True)
