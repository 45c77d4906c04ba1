"""All tables, imported here so Alembic and the app see one metadata."""

from app.models.auth import RefreshToken, ServiceAccount
from app.models.base import metadata
from app.models.charter import (
    Amendment,
    AmendmentComment,
    AmendmentStatus,
    AmendmentVote,
    ChangeOp,
    CharterAcknowledgement,
    CharterVersion,
    VoteChoice,
)
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
from app.models.network import (
    NetworkEdgeKind,
    NetworkEvent,
    NetworkEventKind,
    NetworkEventOrganization,
    NetworkEventParticipant,
    NetworkNodeKind,
)
from app.models.organizations import Organization, OrganizationKind
from app.models.users import Role, User, UserRole

__all__ = [
    "Amendment",
    "AmendmentComment",
    "AmendmentStatus",
    "AmendmentVote",
    "ChangeOp",
    "CharterAcknowledgement",
    "CharterVersion",
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
    "NetworkEdgeKind",
    "NetworkEvent",
    "NetworkEventKind",
    "NetworkEventOrganization",
    "NetworkEventParticipant",
    "NetworkNodeKind",
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
    "VoteChoice",
    "metadata",
]
