"""How an amendment to the charter moves, as one declarative table.

`POST /charter/amendments/{id}/transitions` enforces it and `GET /meta/enums` labels it. Closing
a vote leads to `accepted` or `rejected` by the tally; `superseded` is set by adoption, not by a
person, when a newer version changed a section the amendment touches.
"""

from dataclasses import dataclass
from enum import StrEnum

from app.models import AmendmentStatus

S = AmendmentStatus


class AmendmentAction(StrEnum):
    open_discussion = "open_discussion"
    open_voting = "open_voting"
    close_voting = "close_voting"
    withdraw = "withdraw"


class AmendmentParty(StrEnum):
    """Who may act: the office (the `charter.moderate` policy action) or the proposer."""

    moderator = "moderator"
    proposer = "proposer"


@dataclass(frozen=True, slots=True)
class AmendmentStep:
    action: AmendmentAction
    sources: frozenset[AmendmentStatus]
    targets: tuple[AmendmentStatus, ...]
    parties: frozenset[AmendmentParty]
    label_ru: str
    label_en: str


MODERATOR = frozenset({AmendmentParty.moderator})
PROPOSER = frozenset({AmendmentParty.proposer})

AMENDMENT_STEPS: dict[AmendmentAction, AmendmentStep] = {
    step.action: step
    for step in [
        AmendmentStep(AmendmentAction.open_discussion, frozenset({S.draft}), (S.discussion,),
                      MODERATOR, "Открыть обсуждение", "Open discussion"),
        AmendmentStep(AmendmentAction.open_voting, frozenset({S.discussion}), (S.voting,),
                      MODERATOR, "Открыть голосование", "Open voting"),
        AmendmentStep(AmendmentAction.close_voting, frozenset({S.voting}),
                      (S.accepted, S.rejected), MODERATOR, "Подвести итоги голосования",
                      "Close voting"),
        AmendmentStep(AmendmentAction.withdraw, frozenset({S.draft, S.discussion, S.voting}),
                      (S.withdrawn,), PROPOSER, "Отозвать", "Withdraw"),
    ]
}  # fmt: skip

# States in which an amendment may still be edited by its proposer, discussed, or made stale.
EDITABLE = frozenset({S.draft, S.discussion})
COMMENTABLE = frozenset({S.draft, S.discussion, S.voting})
OPEN = frozenset({S.draft, S.discussion, S.voting, S.accepted})

STATUS_LABELS: dict[AmendmentStatus, tuple[str, str]] = {
    S.draft: ("Черновик", "Draft"),
    S.discussion: ("Обсуждение", "Discussion"),
    S.voting: ("Голосование", "Voting"),
    S.accepted: ("Принята", "Accepted"),
    S.rejected: ("Отклонена", "Rejected"),
    S.withdrawn: ("Отозвана", "Withdrawn"),
    S.superseded: ("Устарела (устав изменился)", "Superseded"),
}


def status_label(status: AmendmentStatus) -> str:
    return STATUS_LABELS[status][0]


CHANGE_OP_LABELS: dict[str, tuple[str, str]] = {
    "add": ("Добавить раздел", "Add a section"),
    "modify": ("Изменить раздел", "Modify a section"),
    "remove": ("Удалить раздел", "Remove a section"),
}
VOTE_LABELS: dict[str, tuple[str, str]] = {
    "agree": ("За", "Agree"),
    "abstain": ("Воздержался", "Abstain"),
    "disagree": ("Против", "Disagree"),
    "block": ("Блокирую (с обоснованием)", "Block (with a reason)"),
}
PARTY_LABELS: dict[str, tuple[str, str]] = {
    AmendmentParty.moderator.value: ("Проектный офис", "Project office"),
    AmendmentParty.proposer.value: ("Автор поправки", "Proposer"),
}
ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "amendment_status": {k.value: v for k, v in STATUS_LABELS.items()},
    "amendment_change_op": CHANGE_OP_LABELS,
    "amendment_action": {a.value: (s.label_ru, s.label_en) for a, s in AMENDMENT_STEPS.items()},
    "amendment_party": PARTY_LABELS,
    "charter_vote": VOTE_LABELS,
}
