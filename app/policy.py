"""Who may do what: one declarative table of role × action, plus the object rules.

Routers ask through `deps.require(action)`; services ask `can()` for rules that depend on the
object. `GET /api/v1/meta/policy` prints this table, and the tests walk it.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.models.users import Role
from app.security import Principal


class Action(StrEnum):
    users_read = "users.read"
    users_create = "users.create"
    users_update = "users.update"
    organizations_read = "organizations.read"
    organizations_write = "organizations.write"
    service_accounts_manage = "service_accounts.manage"
    audit_read = "audit.read"
    policy_read = "policy.read"
    initiatives_read = "initiatives.read"
    initiatives_create = "initiatives.create"
    consultations_read = "consultations.read"
    consultations_request = "consultations.request"
    consultations_manage = "consultations.manage"
    meetings_read = "meetings.read"
    meetings_write = "meetings.write"
    charter_read = "charter.read"
    charter_propose = "charter.propose"
    charter_comment = "charter.comment"
    charter_vote = "charter.vote"
    charter_acknowledge = "charter.acknowledge"
    charter_moderate = "charter.moderate"
    charter_adopt = "charter.adopt"
    charter_acknowledgements_read = "charter.acknowledgements.read"
    network_read = "network.read"
    network_events_write = "network.events.write"
    network_events_manage = "network.events.manage"
    criteria_read = "criteria.read"
    criteria_write = "criteria.write"
    reviews_manage = "reviews.manage"
    experts_read = "experts.read"
    expert_positions_grant = "experts.grant_position"


class Scope(StrEnum):
    kpi_read = "kpi:read"
    initiatives_read = "initiatives:read"
    webhooks_manage = "webhooks:manage"


@dataclass(frozen=True, slots=True)
class Rule:
    description: str
    roles: frozenset[Role]
    scopes: frozenset[Scope] = frozenset()


ALL_ROLES = frozenset(Role)
OFFICE = frozenset({Role.admin, Role.office_head, Role.office_member})
OFFICE_STAFF = frozenset({Role.office_head, Role.office_member})
# Members of the network: they propose, vote on and acknowledge its rules and record its events.
NETWORK_MEMBERS = frozenset({Role.participant, Role.expert, Role.office_member, Role.office_head})

POLICY: dict[Action, Rule] = {
    Action.users_read: Rule("Просматривать справочник пользователей", OFFICE),
    Action.users_create: Rule("Создавать пользователей", frozenset({Role.admin})),
    Action.users_update: Rule(
        "Изменять пользователей, их роли и активность", frozenset({Role.admin})
    ),
    Action.organizations_read: Rule(
        "Просматривать организации",
        ALL_ROLES,
        frozenset({Scope.kpi_read, Scope.initiatives_read}),
    ),
    Action.organizations_write: Rule(
        "Создавать и изменять организации", frozenset({Role.admin, Role.office_head})
    ),
    Action.service_accounts_manage: Rule(
        "Управлять сервисными учётными записями", frozenset({Role.admin})
    ),
    Action.audit_read: Rule("Читать журнал действий", frozenset({Role.admin})),
    Action.policy_read: Rule("Просматривать матрицу прав", frozenset({Role.admin})),
    # Who may edit or move a given initiative depends on the object: see services/lifecycle.py
    # (the transition table) and services/initiatives.py (authors, team, office metadata).
    Action.initiatives_read: Rule(
        "Просматривать инициативы (черновики — только автор, команда и администратор)",
        ALL_ROLES,
        frozenset({Scope.initiatives_read, Scope.kpi_read}),
    ),
    Action.criteria_read: Rule("Просматривать критерии экспертизы", ALL_ROLES),
    Action.criteria_write: Rule(
        "Создавать и вводить в действие наборы критериев",
        frozenset({Role.office_head, Role.office_member}),
    ),
    # Experts act on their own assignments (accept, decline, submit): an object rule in
    # services/expertise.py, not a role rule.
    Action.reviews_manage: Rule(
        "Назначать экспертов, отменять назначения, оценивать качество заключений",
        frozenset({Role.office_head, Role.office_member}),
    ),
    Action.experts_read: Rule(
        "Просматривать профили экспертов и подбор экспертов",
        frozenset({Role.admin, Role.office_head, Role.office_member}),
    ),
    Action.expert_positions_grant: Rule(
        "Фиксировать переход эксперта на новую позицию", frozenset({Role.office_head})
    ),
    Action.initiatives_create: Rule(
        "Подавать проектные замыслы",
        frozenset({Role.participant, Role.expert, Role.office_member, Role.office_head}),
    ),
    Action.charter_read: Rule(
        "Читать устав сети, его версии, поправки, обсуждения и голоса",
        ALL_ROLES,
        frozenset({Scope.kpi_read}),
    ),
    # Whose draft an amendment is, and who may withdraw it, are object rules in
    # services/charter.py (AMENDMENT_STEPS).
    Action.charter_propose: Rule("Предлагать поправки к уставу сети", NETWORK_MEMBERS),
    Action.charter_comment: Rule("Обсуждать поправки к уставу", NETWORK_MEMBERS),
    Action.charter_vote: Rule("Голосовать по поправкам к уставу", NETWORK_MEMBERS),
    Action.charter_acknowledge: Rule(
        "Подтверждать согласие с действующей версией устава", NETWORK_MEMBERS
    ),
    Action.charter_moderate: Rule(
        "Открывать обсуждение и голосование по поправкам, подводить итоги голосования",
        OFFICE,
    ),
    Action.charter_adopt: Rule(
        "Принимать новую версию устава из принятых поправок", frozenset({Role.office_head})
    ),
    Action.charter_acknowledgements_read: Rule(
        "Видеть, кто из участников сети подтвердил согласие с уставом", OFFICE
    ),
    Action.network_read: Rule(
        "Просматривать события сети и граф её связей", ALL_ROLES, frozenset({Scope.kpi_read})
    ),
    Action.network_events_write: Rule("Записывать события сети", NETWORK_MEMBERS),
    # The organizer and whoever recorded an event correct it themselves (services/network.py).
    Action.network_events_manage: Rule("Исправлять любые события сети", OFFICE),
    # Consultations: a participant sees the tracks they requested, a consultant the tracks they
    # accompany, office roles and observers all of them (services/consultations.py); sessions
    # are written by the track's consultants and office staff.
    Action.consultations_read: Rule(
        "Просматривать консультационные треки (участник — свои, консультант — порученные)",
        ALL_ROLES,
        frozenset({Scope.kpi_read}),
    ),
    Action.consultations_request: Rule(
        "Запрашивать консультирование и сопровождение замысла",
        frozenset({Role.participant, Role.expert, Role.office_member, Role.office_head}),
    ),
    Action.consultations_manage: Rule("Назначать консультантов, отклонять запросы", OFFICE_STAFF),
    # Meetings: planned and cancelled ones are seen by office roles, observers and invitees only.
    Action.meetings_read: Rule(
        "Просматривать заседания и протоколы (участники — проведённые)",
        ALL_ROLES,
        frozenset({Scope.kpi_read}),
    ),
    Action.meetings_write: Rule(
        "Планировать и проводить заседания, вести повестку, решения и рефлексию", OFFICE_STAFF
    ),
}


def can(principal: Principal, action: Action) -> bool:
    rule = POLICY[action]
    if principal.kind == "system":
        return True
    if principal.kind == "service":
        return not rule.scopes.isdisjoint(principal.scopes)
    return not rule.roles.isdisjoint(principal.roles)
