import uuid
from datetime import date, datetime
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.models import AmendmentStatus, ChangeOp, VoteChoice
from app.schemas.common import InputModel, IsoDate, NotNull, OutputModel
from app.services.charter.workflow import AmendmentAction

# Version numbers are small; the bound keeps absurd ones out of SQL integer columns.
MAX_VERSION = 1_000_000

SectionKey = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[a-z][a-z0-9_-]{0,63}$"),
    Field(description="Стабильный ключ раздела: латиница, цифры, `-` и `_`", examples=["meetings"]),
]
SectionTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)
]
SectionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
Summary = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]
Rationale = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)
]
AmendmentTitle = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)
]
CommentText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=5000)]


# --- sections and versions ----------------------------------------------------------------------


class SectionIn(InputModel):
    key: SectionKey
    title: SectionTitle = Field(examples=["Как проходят встречи"])
    text: SectionText


def _unique_section_keys(sections: list[SectionIn]) -> list[SectionIn]:
    keys = [s.key for s in sections]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"ключи разделов повторяются: {', '.join(duplicates)}")
    return sections


def _unique_ids(ids: list[uuid.UUID]) -> list[uuid.UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("поправка указана дважды")
    return ids


AmendmentIds = Annotated[
    list[uuid.UUID], Field(min_length=1, max_length=50), AfterValidator(_unique_ids)
]
Sections = Annotated[list[SectionIn], Field(min_length=1, max_length=100)]


class SectionOut(OutputModel):
    key: str
    number: int = Field(description="Номер раздела: его место в уставе, с 1")
    title: str
    text: str


class CharterVersionCreate(InputModel):
    """A new version: from accepted amendments, or — only on an empty charter — from sections."""

    amendment_ids: AmendmentIds | None = Field(
        default=None,
        description="Принятые поправки, которые войдут в версию (в указанном порядке)",
    )
    sections: Sections | None = Field(
        default=None, description="Только для самой первой версии устава"
    )
    effective_from: IsoDate = Field(examples=["2021-09-01"])
    summary: Summary = Field(examples=["Уточнены форматы встреч сети"])

    @model_validator(mode="after")
    def _one_source(self) -> Self:
        if (self.amendment_ids is None) == (self.sections is None):
            raise ValueError("укажите либо amendment_ids, либо sections (для первой версии)")
        if self.sections is not None:
            _unique_section_keys(self.sections)
        return self


class CharterVersionSummary(OutputModel):
    number: int
    summary: str
    effective_from: date
    adopted_at: datetime
    adopted_by_id: uuid.UUID
    adopted_by_name: str
    sections_count: int
    amendment_ids: list[uuid.UUID]
    in_force: bool = Field(description="Действует сегодня")


class CharterVersionPublic(CharterVersionSummary):
    sections: list[SectionOut]
    acknowledged_by_me_at: datetime | None = Field(
        description="Когда вызывающий подтвердил согласие с этой версией; null — не подтверждал"
    )


# --- diff ---------------------------------------------------------------------------------------


class WordSegment(OutputModel):
    op: Literal["equal", "insert", "delete"]
    text: str


class SectionDiff(OutputModel):
    key: str
    change: Literal["added", "removed", "modified"]
    number_before: int | None
    number_after: int | None
    title_before: str | None
    title_after: str | None
    text_before: str | None
    text_after: str | None
    words: list[WordSegment] | None = Field(
        description="Пословная разница текста изменённого раздела (null, если текст не менялся)"
    )


class DiffStats(OutputModel):
    added: int
    removed: int
    modified: int


class CharterDiff(OutputModel):
    from_version: int
    to_version: int
    sections: list[SectionDiff]
    stats: DiffStats
    unified: str = Field(description="Разница всего текста в формате unified diff")


# --- amendments ---------------------------------------------------------------------------------


class AddSection(InputModel):
    op: Literal["add"]
    key: SectionKey
    title: SectionTitle
    text: SectionText
    after: SectionKey | None = Field(
        default=None, description="Вставить после этого раздела; по умолчанию — в конец"
    )


class ModifySection(InputModel):
    op: Literal["modify"]
    key: SectionKey
    title: SectionTitle | None = None
    text: SectionText | None = None

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.title is None and self.text is None:
            raise ValueError("для modify укажите новый title, text или оба")
        return self


class RemoveSection(InputModel):
    op: Literal["remove"]
    key: SectionKey


Change = Annotated[AddSection | ModifySection | RemoveSection, Field(discriminator="op")]


def _one_change_per_section(changes: list[Change]) -> list[Change]:
    keys = [c.key for c in changes]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"раздел изменяется дважды: {', '.join(duplicates)}")
    return changes


Changes = Annotated[
    list[Change], Field(min_length=1, max_length=50), AfterValidator(_one_change_per_section)
]


class AmendmentCreate(InputModel):
    title: AmendmentTitle = Field(examples=["Добавить открытое пространство в форматы встреч"])
    base_version: int | None = Field(
        default=None,
        ge=1,
        le=MAX_VERSION,
        description="Версия, к которой поправка; по умолчанию — последняя",
    )
    changes: Changes = Field(
        examples=[
            [
                {
                    "op": "modify",
                    "key": "meetings",
                    "text": "Сеть встречается не реже раза в четверть в свободных форматах.",
                }
            ]
        ]
    )
    rationale: Rationale = Field(examples=["Заседания стали формальными, нужны живые форматы"])


class AmendmentUpdate(InputModel):
    """What the proposer may change while the amendment is a draft or under discussion."""

    title: Annotated[AmendmentTitle | None, NotNull] = None
    base_version: Annotated[int | None, NotNull] = Field(default=None, ge=1, le=MAX_VERSION)
    changes: Annotated[Changes | None, NotNull] = None
    rationale: Annotated[Rationale | None, NotNull] = None
    version: int | None = Field(default=None, ge=1)


class ChangeOut(OutputModel):
    op: ChangeOp
    key: str
    title: str | None
    text: str | None
    after: str | None


class Tally(OutputModel):
    agree: int
    abstain: int
    disagree: int
    block: int
    total: int


class VoteResult(OutputModel):
    """How the vote was decided when it closed."""

    outcome: Literal["accepted", "rejected"]
    reason: str
    eligible: int = Field(description="Участников сети на момент подведения итогов")
    cast: int
    quorum: float
    quorum_required: int
    quorum_met: bool
    threshold: float
    agree_share: float | None = Field(description="Доля «За» среди «За», «Против» и «Блокирую»")
    blocks: int
    blocks_to_reject: int
    closed_early: bool = Field(description="Итоги подведены до конца окна голосования")


class AmendmentSummary(OutputModel):
    id: uuid.UUID
    title: str
    base_version: int
    status: AmendmentStatus
    section_keys: list[str] = Field(description="Разделы, которые затрагивает поправка")
    proposer_id: uuid.UUID
    proposer_name: str
    voting_closes_at: datetime | None
    tally: Tally
    adopted_in_version: int | None
    superseded_by_version: int | None = Field(
        description="Версия устава, с принятием которой поправка устарела (superseded)"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class SectionConflict(OutputModel):
    section: str
    changed_in_versions: list[int] = Field(
        description="Версии после базовой, в которых раздел изменился"
    )


class AmendmentPublic(AmendmentSummary):
    changes: list[ChangeOut]
    rationale: str
    discussion_opened_at: datetime | None
    voting_opened_at: datetime | None
    closed_at: datetime | None
    result: VoteResult | None
    my_vote: VoteChoice | None
    comments_count: int
    conflicts: list[SectionConflict] = Field(
        description="Для устаревшей поправки (superseded): её разделы, изменённые после базовой "
        "версии, и версии, которые их изменили; иначе пусто"
    )


class AmendmentTransitionCreate(InputModel):
    action: AmendmentAction
    comment: Reason | None = None
    version: int | None = Field(default=None, ge=1)


class VoteCast(InputModel):
    vote: VoteChoice = Field(examples=["agree"])
    reason: Reason | None = Field(default=None, description="Обязательна для `block`")

    @model_validator(mode="after")
    def _block_needs_reason(self) -> Self:
        if self.vote is VoteChoice.block and not self.reason:
            raise ValueError("голос «Блокирую» нужно обосновать: заполните reason")
        return self


class VotePublic(OutputModel):
    amendment_id: uuid.UUID
    user_id: uuid.UUID
    full_name: str
    vote: VoteChoice
    reason: str | None
    cast_at: datetime
    updated_at: datetime


class CommentCreate(InputModel):
    text: CommentText = Field(examples=["Предлагаю уточнить, кто ведёт встречу"])
    section_key: SectionKey | None = Field(
        default=None, description="Раздел, к которому относится комментарий"
    )


class CommentPublic(OutputModel):
    id: int
    amendment_id: uuid.UUID
    author_id: uuid.UUID
    author_name: str
    section_key: str | None
    text: str
    created_at: datetime


# --- acknowledgements ---------------------------------------------------------------------------


class AcknowledgementPublic(OutputModel):
    version_number: int
    user_id: uuid.UUID
    at: datetime


class MemberAcknowledgement(OutputModel):
    user_id: uuid.UUID
    full_name: str
    organization_id: uuid.UUID | None
    acknowledged_at: datetime | None


class AcknowledgementPage(OutputModel):
    version_number: int
    members_total: int = Field(description="Активных участников сети")
    acknowledged_total: int
    items: list[MemberAcknowledgement]
    next_cursor: str | None
