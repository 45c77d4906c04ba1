"""All tables, imported here so Alembic and the app see one metadata."""

from app.models.auth import RefreshToken, ServiceAccount
from app.models.base import metadata
from app.models.events import Event
from app.models.expertise import (
    Conclusion,
    ConclusionScore,
    CriteriaSet,
    Criterion,
    ExpertPosition,
    ExpertPositionGrant,
    Recommendation,
    ReviewAssignment,
    ReviewStatus,
)
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
    "Conclusion",
    "ConclusionScore",
    "CriteriaSet",
    "Criterion",
    "EducationLevel",
    "Event",
    "ExpertPosition",
    "ExpertPositionGrant",
    "Initiative",
    "InitiativeCodeCounter",
    "InitiativeKind",
    "InitiativeMember",
    "InitiativeStatus",
    "InitiativeTopic",
    "Organization",
    "OrganizationKind",
    "Recommendation",
    "RefreshToken",
    "ReviewAssignment",
    "ReviewStatus",
    "Role",
    "ServiceAccount",
    "TeamRole",
    "Transition",
    "User",
    "UserRole",
    "metadata",
]
