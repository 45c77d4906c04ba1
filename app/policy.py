"""Who may do what: one declarative table of role × action, plus the object rules.

Routers ask through `deps.require(action)`; services ask `can()`, and `passes()` for the rules
that depend on the object (whose draft, whose assignment, whose track). `GET /api/v1/meta/policy`
prints both tables, and the tests walk them.
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

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
    maturity_read = "maturity.read"
    maturity_assess = "maturity.assess"
    capabilities_read = "capabilities.read"


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
# The office's self-assessment is the office's and its supervisors' (the department observes).
SEES_ALL_MATURITY = frozenset({Role.admin, Role.office_head, Role.office_member, Role.observer})

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
    # services/expertise/assignments.py, not a role rule.
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
    # services/charter/workflow.py (AMENDMENT_STEPS).
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
    Action.maturity_read: Rule(
        "Просматривать функции офиса, оценки их зрелости, профиль и его историю",
        SEES_ALL_MATURITY,
        frozenset({Scope.kpi_read}),
    ),
    Action.maturity_assess: Rule(
        "Оценивать зрелость функций проектного офиса", frozenset({Role.office_head})
    ),
    # Every signed-in person: a frontend hides what the office has not mastered yet.
    Action.capabilities_read: Rule(
        "Видеть, какие возможности API освоены офисом", ALL_ROLES, frozenset({Scope.kpi_read})
    ),
}


class ObjectRule(StrEnum):
    initiative_draft_read = "initiative.draft.read"
    initiative_content_edit = "initiative.content.edit"
    initiative_metadata_edit = "initiative.metadata.edit"
    initiative_office_steps = "initiative.office_steps"
    review_own = "review.own"
    review_conclusions_read = "review.conclusions.read"
    review_conflict_override = "review.conflict_override"
    consultation_read = "consultation.read"
    consultation_work = "consultation.work"
    meeting_unheld_read = "meeting.unheld.read"
    amendment_draft_read = "amendment.draft.read"
    network_event_edit = "network_event.edit"
    user_self = "user.self"


@dataclass(frozen=True, slots=True)
class ObjectRuleSpec:
    description: str
    # Who passes whatever their relation to the object; the others only by `relation`.
    roles: frozenset[Role]
    relation: str
    # What everyone else gets: 404 where they may not even know the object exists.
    denied: Literal[403, 404]


SEES_ALL_TRACKS = frozenset({Role.admin, Role.office_head, Role.office_member, Role.observer})

OBJECT_RULES: dict[ObjectRule, ObjectRuleSpec] = {
    ObjectRule.initiative_draft_read: ObjectRuleSpec(
        "Черновик инициативы (и отозванный, так и не поданный черновик) виден только своим",
        frozenset({Role.admin}),
        "автор и команда",
        404,
    ),
    ObjectRule.initiative_content_edit: ObjectRuleSpec(
        "Содержание инициативы правят только в статусах «Черновик» и «На доработке»",
        frozenset(),
        "автор и команда",
        403,
    ),
    ObjectRule.initiative_metadata_edit: ObjectRuleSpec(
        "Тематику и учебный год инициативы можно уточнять в любом статусе",
        OFFICE_STAFF,
        "—",
        403,
    ),
    ObjectRule.initiative_office_steps: ObjectRuleSpec(
        "Шаги жизненного цикла — по таблице GET /meta/lifecycle; решения офиса по инициативе "
        "не принимают её автор и команда (конфликт интересов)",
        frozenset(),
        "сторона шага: автор, руководитель команды, член или руководитель офиса",
        403,
    ),
    ObjectRule.review_own: ObjectRuleSpec(
        "Принять, отклонить назначение, сохранить и сдать заключение",
        frozenset(),
        "назначенный эксперт (чужое назначение — 404)",
        404,
    ),
    ObjectRule.review_conclusions_read: ObjectRuleSpec(
        "Заключения экспертов по инициативе",
        OFFICE_STAFF,
        "эксперт — после сдачи своего заключения в этом раунде; автор и команда — без имён "
        "экспертов (слепая экспертиза); офис по своей инициативе — как автор",
        # The initiative itself is public past its draft: its reviews are seen but closed.
        403,
    ),
    ObjectRule.review_conflict_override: ObjectRuleSpec(
        "Назначить эксперта из той же организации, указав причину",
        frozenset({Role.office_head}),
        "—",
        403,
    ),
    ObjectRule.consultation_read: ObjectRuleSpec(
        "Консультационный трек и его встречи",
        SEES_ALL_TRACKS,
        "запросивший сопровождение и консультанты трека; сервисные учётные записи с правом",
        404,
    ),
    ObjectRule.consultation_work: ObjectRuleSpec(
        "Вести встречи трека и закрывать его",
        OFFICE_STAFF,
        "консультанты трека",
        403,
    ),
    ObjectRule.meeting_unheld_read: ObjectRuleSpec(
        "Запланированное или отменённое заседание (проведённые открыты всем)",
        SEES_ALL_TRACKS,
        "ведущий и приглашённые",
        404,
    ),
    ObjectRule.amendment_draft_read: ObjectRuleSpec(
        "Поправка к уставу до открытия обсуждения; отозвать её может только автор",
        OFFICE,
        "автор поправки",
        404,
    ),
    ObjectRule.network_event_edit: ObjectRuleSpec(
        "Исправить запись о событии сети",
        OFFICE,
        "организатор и записавший событие",
        403,
    ),
    ObjectRule.user_self: ObjectRuleSpec(
        "Свой профиль и пароль; свои роли и активность меняет другой администратор",
        frozenset(),
        "сам пользователь",
        403,
    ),
}


def passes(principal: Principal, rule: ObjectRule) -> bool:
    """Whether the principal's roles let it through `rule` whatever its relation to the object;
    the relation itself is the service's to check."""
    return principal.kind == "system" or principal.has_role(*OBJECT_RULES[rule].roles)


def can(principal: Principal, action: Action) -> bool:
    rule = POLICY[action]
    if principal.kind == "system":
        return True
    if principal.kind == "service":
        return not rule.scopes.isdisjoint(principal.scopes)
    return not rule.roles.isdisjoint(principal.roles)
