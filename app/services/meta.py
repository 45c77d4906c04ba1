"""Enums with Russian and English labels, and the printable permission matrix."""

from app.models import OrganizationKind, Role
from app.policy import POLICY
from app.schemas.meta import EnumGroup, EnumValue, PolicyMatrix, PolicyRow

ROLE_LABELS = {
    Role.admin: ("Администратор", "Administrator"),
    Role.office_head: ("Руководитель проектного офиса", "Project office head"),
    Role.office_member: ("Член проектного офиса", "Project office member"),
    Role.expert: ("Эксперт", "Expert"),
    Role.participant: ("Участник сети (педагог)", "Network participant (teacher)"),
    Role.observer: ("Наблюдатель", "Observer"),
}
ORGANIZATION_KIND_LABELS = {
    OrganizationKind.school: ("Школа", "School"),
    OrganizationKind.gymnasium: ("Гимназия", "Gymnasium"),
    OrganizationKind.kindergarten: ("Детский сад", "Kindergarten"),
    OrganizationKind.additional_education: (
        "Учреждение дополнительного образования",
        "Additional education institution",
    ),
    OrganizationKind.methodological_centre: ("Методический центр", "Methodological centre"),
    OrganizationKind.education_department: ("Управление образования", "Education department"),
}

# Each later domain adds its groups here: one place, so no enum ships without its labels.
ENUM_GROUPS: dict[str, dict[str, tuple[str, str]]] = {
    "role": {k.value: v for k, v in ROLE_LABELS.items()},
    "organization_kind": {k.value: v for k, v in ORGANIZATION_KIND_LABELS.items()},
}


def list_enums() -> list[EnumGroup]:
    return [
        EnumGroup(
            name=name,
            values=[EnumValue(code=code, ru=ru, en=en) for code, (ru, en) in labels.items()],
        )
        for name, labels in ENUM_GROUPS.items()
    ]


def policy_matrix() -> PolicyMatrix:
    roles = list(Role)
    return PolicyMatrix(
        roles=roles,
        rows=[
            PolicyRow(
                action=action.value,
                description=rule.description,
                allowed={role.value: role in rule.roles for role in roles},
                scopes=sorted(scope.value for scope in rule.scopes),
            )
            for action, rule in POLICY.items()
        ],
    )
