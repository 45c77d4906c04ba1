import uuid
from datetime import datetime

from sqlalchemy import JSON
from sqlmodel import Field, SQLModel

from app.models.base import UTCDateTime, created_field, id_field


class RefreshToken(SQLModel, table=True):
    """One issued refresh token; a family is every token rotated from one login."""

    __tablename__ = "refresh_token"

    jti: uuid.UUID = Field(primary_key=True)
    family_id: uuid.UUID = Field(index=True)
    user_id: uuid.UUID = Field(foreign_key="app_user.id", index=True, ondelete="CASCADE")
    issued_at: datetime = created_field()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    rotated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ServiceAccount(SQLModel, table=True):
    """A machine client (integration, KPI script) that authenticates with client credentials."""

    __tablename__ = "service_account"

    id: uuid.UUID = id_field()
    name: str = Field(max_length=200)
    client_id: str = Field(max_length=64, unique=True)
    hashed_secret: str = Field(max_length=255)
    scopes: list[str] = Field(default_factory=list, sa_type=JSON)
    is_active: bool = Field(default=True)
    created_by_id: uuid.UUID | None = Field(
        default=None, foreign_key="app_user.id", ondelete="SET NULL"
    )
    created_at: datetime = created_field()


class LoginThrottle(SQLModel, table=True):
    """Failed sign-ins of one account or one client address in the current window. In the
    database, not in memory, so every API process counts the same failures."""

    __tablename__ = "login_throttle"

    # sha256 of "account:<email>" or "address:<ip>": a fixed-size key that does not keep the
    # addresses people mistyped.
    key: str = Field(primary_key=True, max_length=64)
    failures: int = Field(default=0)
    window_started_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the row stops mattering (window and lockout both over): what a sweep deletes by.
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False, index=True)
