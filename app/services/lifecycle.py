"""The initiative lifecycle as one declarative table.

Each step says from which states an action leads where, who may take it, whether a comment is
required, which guards must pass and what else happens. `GET /api/v1/meta/lifecycle` serves this
table, `GET /initiatives/{id}/actions` evaluates it for the caller, and
`POST /initiatives/{id}/transitions` enforces it: one source of truth for all three.
"""

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Initiative, InitiativeMember, InitiativeStatus, Role
from app.models.base import utcnow
from app.security import Principal
from app.services.expertise import guards as expertise_guards

S = InitiativeStatus


class LifecycleAction(StrEnum):
    submit = "submit"
    start_consultation = "start_consultation"
    send_to_expertise = "send_to_expertise"
    request_revision = "request_revision"
    resubmit = "resubmit"
    approve = "approve"
    reject = "reject"
    start = "start"
    suspend = "suspend"
    resume = "resume"
    complete = "complete"
    close = "close"
    withdraw = "withdraw"
    cancel = "cancel"


class Party(StrEnum):
    """Who may act: a global role, or a relation to this initiative."""

    author = "author"
    team_lead = "team_lead"
    office_member = "office_member"
    office_head = "office_head"


PARTY_ROLES: dict[Party, Role] = {
    Party.office_member: Role.office_member,
    Party.office_head: Role.office_head,
}

# A guard returns None when the step may proceed, or the reason (Russian) why not. It sees who
# acts: some rules are about the person, not about the initiative's state.
Guard = Callable[[Session, Initiative, Principal], str | None]


@dataclass(frozen=True, slots=True)
class GuardSpec:
    code: str
    description: str
    check: Guard
    # Failing it means this person may not take the step (403), not that the initiative is not
    # ready for it yet (409).
    forbids: bool = False

    @property
    def status(self) -> int:
        return 403 if self.forbids else 409


def _new_review_round(_: Session, initiative: Initiative, __: Principal) -> None:
    initiative.review_round += 1


def _first_submission(_: Session, initiative: Initiative, __: Principal) -> None:
    initiative.submitted_at = utcnow()


CLOSES_REVIEWS: dict[str, Any] = {
    "effects": (expertise_guards.close_open_reviews,),
    "effect_descriptions": ("close_open_reviews",),
}


@dataclass(frozen=True, slots=True)
class Step:
    action: LifecycleAction
    sources: frozenset[InitiativeStatus]
    target: InitiativeStatus
    parties: frozenset[Party]
    label_ru: str
    label_en: str
    requires_comment: bool = False
    guards: tuple[GuardSpec, ...] = ()
    effects: tuple[Callable[[Session, Initiative, Principal], None], ...] = ()
    effect_descriptions: tuple[str, ...] = ()


ACTIVE_CRITERIA = GuardSpec(
    "active_criteria_set",
    "Есть действующий набор критериев экспертизы",
    expertise_guards.active_criteria_set,
)
ENOUGH_CONCLUSIONS = GuardSpec(
    "enough_conclusions",
    "Подано не меньше MIN_CONCLUSIONS заключений текущего раунда",
    expertise_guards.enough_conclusions,
)
NO_PENDING_REVIEWS = GuardSpec(
    "no_pending_reviews",
    "Нет принятых, но не сданных заключений текущего раунда",
    expertise_guards.no_pending_reviews,
)


def independent_of_initiative(
    session: Session, initiative: Initiative, actor: Principal
) -> str | None:
    """The office decides about other people's initiatives: its author or a member of its team
    judging it would be a conflict of interest."""
    if actor.id == initiative.author_id:
        return "Конфликт интересов: решения проектного офиса по инициативе не принимает её автор"
    in_team = session.scalars(
        select(col(InitiativeMember.user_id)).where(
            col(InitiativeMember.initiative_id) == initiative.id,
            col(InitiativeMember.user_id) == actor.id,
        )
    ).first()
    if in_team is not None:
        return (
            "Конфликт интересов: решения проектного офиса по инициативе не принимает участник "
            "её команды"
        )
    return None


INDEPENDENT = GuardSpec(
    "no_conflict_of_interest",
    "Решает не автор и не участник команды инициативы (иначе 403 conflict_of_interest)",
    independent_of_initiative,
    forbids=True,
)

OFFICE = frozenset({Party.office_member, Party.office_head})
HEAD = frozenset({Party.office_head})
PROPOSERS = frozenset({Party.author, Party.team_lead})
BEFORE_APPROVAL = frozenset({S.draft, S.submitted, S.consultation, S.expertise, S.revision})

STEPS: dict[LifecycleAction, Step] = {
    step.action: step
    for step in [
        Step(LifecycleAction.submit, frozenset({S.draft}), S.submitted, PROPOSERS,
             "Подать", "Submit",
             effects=(_first_submission,), effect_descriptions=("opens_to_readers",)),
        Step(LifecycleAction.start_consultation, frozenset({S.submitted}), S.consultation, OFFICE,
             "Начать консультирование", "Start consultation", guards=(INDEPENDENT,)),
        Step(LifecycleAction.send_to_expertise, frozenset({S.submitted, S.consultation}),
             S.expertise, OFFICE, "Направить на экспертизу", "Send to expertise",
             guards=(INDEPENDENT, ACTIVE_CRITERIA)),
        Step(LifecycleAction.request_revision,
             frozenset({S.submitted, S.consultation, S.expertise}), S.revision, OFFICE,
             "Вернуть на доработку", "Request revision", requires_comment=True,
             guards=(INDEPENDENT,), **CLOSES_REVIEWS),
        Step(LifecycleAction.resubmit, frozenset({S.revision}), S.submitted, PROPOSERS,
             "Подать повторно", "Resubmit",
             effects=(_new_review_round,), effect_descriptions=("new_review_round",)),
        Step(LifecycleAction.approve, frozenset({S.expertise}), S.approved, HEAD,
             "Одобрить", "Approve", guards=(INDEPENDENT, ENOUGH_CONCLUSIONS, NO_PENDING_REVIEWS),
             **CLOSES_REVIEWS),
        Step(LifecycleAction.reject, frozenset({S.submitted, S.expertise}), S.rejected, HEAD,
             "Отклонить", "Reject", requires_comment=True, guards=(INDEPENDENT,),
             **CLOSES_REVIEWS),
        Step(LifecycleAction.start, frozenset({S.approved}), S.in_progress, OFFICE,
             "Начать реализацию", "Start implementation", guards=(INDEPENDENT,)),
        Step(LifecycleAction.suspend, frozenset({S.in_progress}), S.suspended, OFFICE,
             "Приостановить", "Suspend", requires_comment=True, guards=(INDEPENDENT,)),
        Step(LifecycleAction.resume, frozenset({S.suspended}), S.in_progress, OFFICE,
             "Возобновить", "Resume", guards=(INDEPENDENT,)),
        Step(LifecycleAction.complete, frozenset({S.in_progress}), S.completed, OFFICE,
             "Завершить", "Complete", guards=(INDEPENDENT,)),
        Step(LifecycleAction.close, frozenset({S.completed}), S.closed, HEAD,
             "Закрыть", "Close", guards=(INDEPENDENT,)),
        Step(LifecycleAction.withdraw, BEFORE_APPROVAL, S.withdrawn, frozenset({Party.author}),
             "Отозвать", "Withdraw", **CLOSES_REVIEWS),
        Step(LifecycleAction.cancel, frozenset({S.in_progress, S.suspended}), S.cancelled, HEAD,
             "Прекратить", "Cancel", requires_comment=True, guards=(INDEPENDENT,)),
    ]
}  # fmt: skip

TERMINAL = frozenset(
    status for status in InitiativeStatus if not any(status in s.sources for s in STEPS.values())
)


def parties_of(*, roles: frozenset[Role], is_author: bool, is_team_lead: bool) -> frozenset[Party]:
    parties = {party for party, role in PARTY_ROLES.items() if role in roles}
    if is_author:
        parties.add(Party.author)
    if is_team_lead:
        parties.add(Party.team_lead)
    return frozenset(parties)


def failed_guards(
    session: Session,
    step: Step,
    initiative: Initiative,
    actor: Principal,
    *,
    forbidding: bool | None = None,
) -> list[dict[str, str]]:
    """The guards of the step that fail for this actor: all of them, or only those that forbid
    (`forbidding=True`) or only those that wait for the initiative (`forbidding=False`)."""
    reasons = []
    for guard in step.guards:
        if forbidding is not None and guard.forbids != forbidding:
            continue
        reason = guard.check(session, initiative, actor)
        if reason is not None:
            reasons.append({"guard": guard.code, "reason": reason})
    return reasons


def steps_from(status: InitiativeStatus) -> list[Step]:
    return [step for step in STEPS.values() if status in step.sources]
