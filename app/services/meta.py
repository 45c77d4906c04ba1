"""Enums with Russian and English labels, and the printable permission matrix."""

from app.models import EducationLevel, InitiativeKind, InitiativeStatus, OrganizationKind, Role
from app.policy import OBJECT_RULES, POLICY, Scope
from app.schemas.initiatives import (
    Lifecycle,
    LifecycleGuard,
    LifecycleState,
    LifecycleStep,
)
from app.schemas.meta import EnumGroup, EnumValue, ObjectRuleRow, PolicyMatrix, PolicyRow
from app.services import consultations, network
from app.services.charter import workflow as charter_workflow
from app.services.lifecycle import STEPS, TERMINAL, LifecycleAction, Party
from app.services.maturity import labels as maturity_labels
from app.services.meetings import labels as meeting_labels

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

INITIATIVE_STATUS_LABELS = {
    InitiativeStatus.draft: ("Черновик", "Draft"),
    InitiativeStatus.submitted: ("Подана", "Submitted"),
    InitiativeStatus.consultation: ("Консультирование", "Consultation"),
    InitiativeStatus.expertise: ("Экспертиза", "Expertise"),
    InitiativeStatus.revision: ("На доработке", "Revision"),
    InitiativeStatus.approved: ("Одобрена", "Approved"),
    InitiativeStatus.in_progress: ("Реализуется", "In progress"),
    InitiativeStatus.suspended: ("Приостановлена", "Suspended"),
    InitiativeStatus.completed: ("Завершена", "Completed"),
    InitiativeStatus.closed: ("Закрыта", "Closed"),
    InitiativeStatus.rejected: ("Отклонена", "Rejected"),
    InitiativeStatus.withdrawn: ("Отозвана", "Withdrawn"),
    InitiativeStatus.cancelled: ("Прекращена", "Cancelled"),
}
INITIATIVE_KIND_LABELS = {
    InitiativeKind.project: ("Проект", "Project"),
    InitiativeKind.program: ("Программа", "Programme"),
    InitiativeKind.practice: ("Практика", "Practice"),
    InitiativeKind.network_event: ("Сетевое событие", "Network event"),
}
EDUCATION_LEVEL_LABELS = {
    EducationLevel.preschool: ("Дошкольное", "Preschool"),
    EducationLevel.primary: ("Начальное общее", "Primary"),
    EducationLevel.basic: ("Основное общее", "Basic general"),
    EducationLevel.secondary: ("Среднее общее", "Secondary general"),
    EducationLevel.additional: ("Дополнительное", "Additional"),
    EducationLevel.cross_level: ("Уровневое (несколько уровней)", "Cross-level"),
}
TEAM_ROLE_LABELS = {
    "lead": ("Руководитель команды", "Team lead"),
    "member": ("Участник команды", "Team member"),
    "mentor": ("Наставник", "Mentor"),
}
PARTY_LABELS = {
    Party.author: ("Автор", "Author"),
    Party.team_lead: ("Руководитель команды", "Team lead"),
    Party.office_member: ROLE_LABELS[Role.office_member],
    Party.office_head: ROLE_LABELS[Role.office_head],
}

EXPERT_POSITION_LABELS = {
    "content_expert": ("Содержательный эксперт", "Content expert"),
    "methodologist": ("Системный эксперт-методолог", "System expert-methodologist"),
    "developmental_expert": ("Развивающий эксперт", "Developmental expert"),
    "developer": ("Развиватель", "Developer (facilitator)"),
}
REVIEW_STATUS_LABELS = {
    "invited": ("Приглашён", "Invited"),
    "accepted": ("Принято", "Accepted"),
    "declined": ("Отказ", "Declined"),
    "submitted": ("Заключение сдано", "Submitted"),
    "cancelled": ("Отменено", "Cancelled"),
}
RECOMMENDATION_LABELS = {
    "approve": ("Поддержать", "Approve"),
    "approve_with_changes": ("Поддержать с доработками", "Approve with changes"),
    "revise": ("Направить на доработку", "Revise"),
    "reject": ("Отклонить", "Reject"),
}

SCOPE_LABELS = {
    Scope.kpi_read: ("Чтение показателей (KPI)", "Read KPIs"),
    Scope.initiatives_read: ("Чтение инициатив", "Read initiatives"),
    Scope.webhooks_manage: ("Управление вебхуками", "Manage webhooks"),
}

# Each later domain adds its groups here: one place, so no enum ships without its labels.
ENUM_GROUPS: dict[str, dict[str, tuple[str, str]]] = {
    "role": {k.value: v for k, v in ROLE_LABELS.items()},
    "service_account_scope": {k.value: v for k, v in SCOPE_LABELS.items()},
    "organization_kind": {k.value: v for k, v in ORGANIZATION_KIND_LABELS.items()},
    "initiative_status": {k.value: v for k, v in INITIATIVE_STATUS_LABELS.items()},
    "initiative_kind": {k.value: v for k, v in INITIATIVE_KIND_LABELS.items()},
    "education_level": {k.value: v for k, v in EDUCATION_LEVEL_LABELS.items()},
    "team_role": TEAM_ROLE_LABELS,
    "lifecycle_action": {a.value: (STEPS[a].label_ru, STEPS[a].label_en) for a in LifecycleAction},
    "lifecycle_party": {k.value: v for k, v in PARTY_LABELS.items()},
    "consultation_status": {k.value: v for k, v in consultations.STATUS_LABELS.items()},
    "consultation_outcome": {k.value: v for k, v in consultations.OUTCOME_LABELS.items()},
    "consultation_format": {k.value: v for k, v in consultations.FORMAT_LABELS.items()},
    "meeting_format": {k.value: v for k, v in meeting_labels.FORMAT_LABELS.items()},
    "meeting_status": {k.value: v for k, v in meeting_labels.STATUS_LABELS.items()},
    "agenda_item_kind": {k.value: v for k, v in meeting_labels.AGENDA_KIND_LABELS.items()},
    "expert_position": EXPERT_POSITION_LABELS,
    "review_status": REVIEW_STATUS_LABELS,
    "recommendation": RECOMMENDATION_LABELS,
    **charter_workflow.ENUM_LABELS,
    **network.ENUM_LABELS,
    **maturity_labels.ENUM_LABELS,
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
        object_rules=[
            ObjectRuleRow(
                rule=code.value,
                description=spec.description,
                allowed={role.value: role in spec.roles for role in roles},
                relation=spec.relation,
                denied=spec.denied,
            )
            for code, spec in OBJECT_RULES.items()
        ],
    )


def lifecycle() -> Lifecycle:
    return Lifecycle(
        initial=InitiativeStatus.draft,
        states=[
            LifecycleState(code=status, ru=ru, en=en, terminal=status in TERMINAL)
            for status, (ru, en) in INITIATIVE_STATUS_LABELS.items()
        ],
        actions=[
            LifecycleStep(
                action=step.action,
                ru=step.label_ru,
                en=step.label_en,
                sources=[s for s in InitiativeStatus if s in step.sources],
                target=step.target,
                parties=[p.value for p in Party if p in step.parties],
                requires_comment=step.requires_comment,
                guards=[
                    LifecycleGuard(code=g.code, description=g.description, status=g.status)
                    for g in step.guards
                ],
                effects=list(step.effect_descriptions),
            )
            for step in STEPS.values()
        ],
    )
