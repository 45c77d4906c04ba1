"""All tables, imported here so Alembic and the app see one metadata."""

from app.models.auth import RefreshToken, ServiceAccount
from app.models.base import metadata
from app.models.events import Event
from app.models.initiatives import (
    EducationLevel,
    Initiative,
    InitiativeCodeCounter,
    InitiativeKind,
    InitiativeMember,
    InitiativeStatus,
    InitiativeTopic,
    TeamRole,
    Transition,
)
from app.models.organizations import Organization, OrganizationKind
from app.models.users import Role, User, UserRole

__all__ = [
    "EducationLevel",
    "Event",
    "Initiative",
    "InitiativeCodeCounter",
    "InitiativeKind",
    "InitiativeMember",
    "InitiativeStatus",
    "InitiativeTopic",
    "Organization",
    "OrganizationKind",
    "RefreshToken",
    "Role",
    "ServiceAccount",
    "TeamRole",
    "Transition",
    "User",
    "UserRole",
    "metadata",
]
