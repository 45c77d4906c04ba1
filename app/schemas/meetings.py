import ipaddress
import re
import unicodedata
import uuid
from datetime import date, datetime
from typing import Annotated, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from app.models import AgendaItemKind, InitiativeStatus, MeetingFormat, MeetingStatus
from app.schemas.common import InputModel, IsoDate, IsoDateTime, NotNull, OutputModel
from app.schemas.refs import InitiativeRef, PersonRef
from app.services.lifecycle import LifecycleAction
from app.services.office_time import academic_year_of

FIRST_YEAR, LAST_YEAR = 2000, 2100

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
DecisionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=3, max_length=4000)
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=5000)]
Votes = Annotated[int | None, Field(ge=0, le=10_000)]
Version = Annotated[
    int | None, Field(ge=1, description="Версия, которую правили; 409 при несовпадении")
]


# Characters that end a link or break out of it wherever it is written (a Markdown autolink,
# an HTML attribute, a CSV cell): refused, so that no reader has to escape them.
_LINK_BREAKERS = frozenset("<>\"'`\\")
_HOST_LABEL = re.compile(r"[^\W_](?:[\w-]*[^\W_])?")


def _host_problem(host: str) -> str | None:
    if ":" in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "в ссылке неверный IPv6-адрес сервера"
        return None
    labels = host.removesuffix(".").split(".")
    if not all(len(label) <= 63 and _HOST_LABEL.fullmatch(label) for label in labels):
        return "в ссылке неверное имя сервера"
    return None


def web_link_problem(value: str) -> str | None:
    """Why `value` is not an http(s) link a meeting may carry, or None when it is one."""
    if any(c.isspace() or c in _LINK_BREAKERS or unicodedata.category(c)[0] == "C" for c in value):
        return (
            "ссылка не должна содержать пробелы, управляющие символы, кавычки, обратную косую "
            "черту и знаки < >"
        )
    try:
        parts = urlsplit(value)
        _ = parts.port  # a port that is no number in 0-65535 raises here
    except ValueError:
        return "ссылка не разбирается как адрес: проверьте имя сервера и порт"
    if parts.scheme.lower() not in {"http", "https"} or not parts.netloc:
        return "ссылка должна начинаться с https:// или http:// и имени сервера"
    if "@" in parts.netloc:
        # A password would be printed in the minutes; `https://office.ru@evil.example` hides
        # the real server.
        return "ссылка не должна содержать имя пользователя или пароль"
    if not parts.hostname:
        return "в ссылке нет имени сервера: https://сервер/…"
    return _host_problem(parts.hostname)


def _web_link(value: str) -> str:
    problem = web_link_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


OnlineUrl = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=500),
    AfterValidator(_web_link),
    Field(
        description="Ссылка на онлайн-встречу: http(s)://, имя сервера; без пробелов, "
        "кавычек и знаков < >",
        examples=["https://meet.example.org/po"],
    ),
]


def _in_office_years(value: datetime) -> datetime:
    # Academic years run 2000-2001 … 2100-2101, as the filters accept them; at the very end of
    # the calendar there is no local time (UTC+5) at all.
    if not FIRST_YEAR <= value.year <= LAST_YEAR + 1 or not (
        FIRST_YEAR <= int(academic_year_of(value)[:4]) <= LAST_YEAR
    ):
        raise ValueError(
            f"дата заседания вне допустимого диапазона: учебные годы с {FIRST_YEAR}-"
            f"{FIRST_YEAR + 1} по {LAST_YEAR}-{LAST_YEAR + 1}"
        )
    return value


MeetingTime = Annotated[IsoDateTime, AfterValidator(_in_office_years)]


class AttendeeIn(InputModel):
    user_id: uuid.UUID
    attended: bool | None = Field(
        default=None, description="Отметка присутствия; null — ещё не отмечено"
    )


def _unique_attendees(attendees: list[AttendeeIn]) -> list[AttendeeIn]:
    ids = [a.user_id for a in attendees]
    if len(set(ids)) != len(ids):
        raise ValueError("участник указан дважды")
    return attendees


Attendees = Annotated[list[AttendeeIn], Field(max_length=200), AfterValidator(_unique_attendees)]


class ReflectionIn(InputModel):
    """The informal part: what worked, what we understood, what to change next time."""

    what_worked: LongText = Field(default="", examples=["Работа в малых группах по замыслам"])
    insights: LongText = Field(default="", examples=["Авторам важнее вопросы, чем оценки"])
    to_change: LongText = Field(default="", examples=["Давать докладчикам 5 минут, не 15"])


class Reflection(OutputModel):
    what_worked: str
    insights: str
    to_change: str


class MeetingCreate(InputModel):
    title: Title | None = Field(default=None, examples=["Рефлексивная сессия по замыслам"])
    scheduled_at: MeetingTime = Field(examples=["2026-10-22T15:00:00+05:00"])
    format: MeetingFormat = Field(default=MeetingFormat.formal_session, examples=["open_space"])
    place: Place | None = Field(default=None, examples=["МБУ ЦРО, актовый зал"])
    online_url: OnlineUrl | None = None
    facilitator_id: uuid.UUID | None = None
    attendees: Attendees = Field(default_factory=list)


class MeetingUpdate(InputModel):
    """Planned → held (`{"status": "held"}`) or cancelled (with `cancellation_reason`);
    the reflection is written once the meeting is held. Omitted fields stay as they are;
    `attendees` replaces the whole list with its attendance marks."""

    title: Title | None = Field(default=None, description="null — убрать название")
    scheduled_at: Annotated[MeetingTime | None, NotNull] = None
    format: Annotated[MeetingFormat | None, NotNull] = None
    place: Place | None = None
    online_url: OnlineUrl | None = None
    facilitator_id: uuid.UUID | None = None
    attendees: Annotated[Attendees | None, NotNull] = None
    status: Annotated[MeetingStatus | None, NotNull] = Field(default=None, examples=["held"])
    cancellation_reason: Reason | None = None
    reflection: Annotated[ReflectionIn | None, NotNull] = None
    version: Version = None


class AttendeeOut(OutputModel):
    user_id: uuid.UUID
    full_name: str
    job_title: str | None
    attended: bool | None


class MeetingSummary(OutputModel):
    id: uuid.UUID
    number: int = Field(description="Номер заседания в учебном году", examples=[3])
    academic_year: str = Field(examples=["2020-2021"])
    title: str
    scheduled_at: datetime
    format: MeetingFormat
    status: MeetingStatus
    place: str | None
    online_url: str | None
    facilitator_id: uuid.UUID | None
    version: int
    created_at: datetime
    updated_at: datetime


class AgendaItemCreate(InputModel):
    kind: AgendaItemKind = Field(examples=["initiative_review"])
    title: Title | None = Field(
        default=None, description="По умолчанию — название инициативы пункта"
    )
    description: LongText = ""
    initiative_id: uuid.UUID | None = Field(
        default=None, description="Обязательна для `initiative_review`"
    )
    presenter_id: uuid.UUID | None = None
    time_box_minutes: int | None = Field(default=None, ge=1, le=480, examples=[20])
    position: int | None = Field(
        default=None, ge=1, description="Место в повестке (с 1); по умолчанию — в конец"
    )


class AgendaItemUpdate(InputModel):
    kind: Annotated[AgendaItemKind | None, NotNull] = None
    title: Annotated[Title | None, NotNull] = None
    description: Annotated[LongText | None, NotNull] = None
    initiative_id: uuid.UUID | None = None
    presenter_id: uuid.UUID | None = None
    time_box_minutes: int | None = Field(default=None, ge=1, le=480)
    position: Annotated[int | None, NotNull] = Field(default=None, ge=1)


class AgendaItemPublic(OutputModel):
    id: uuid.UUID
    meeting_id: uuid.UUID
    position: int
    kind: AgendaItemKind
    title: str
    description: str
    initiative: InitiativeRef | None
    presenter: PersonRef | None
    time_box_minutes: int | None


class DecisionCreate(InputModel):
    agenda_item_id: uuid.UUID
    action: LifecycleAction | None = Field(
        default=None,
        description="Шаг жизненного цикла инициативы пункта; без него решение — протокольная "
        "запись",
        examples=["approve"],
    )
    text: DecisionText = Field(examples=["Поддержать проект и рекомендовать к реализации"])
    votes_for: Votes = None
    votes_against: Votes = None
    votes_abstain: Votes = None
    review_on: IsoDate | None = Field(
        default=None, description="Когда офис вернётся к вопросу", examples=["2026-12-15"]
    )
    initiative_version: Version = Field(
        default=None, description="Версия инициативы, о которой решали; 409, если устарела"
    )

    @model_validator(mode="after")
    def _tally_is_whole(self) -> Self:
        votes = [self.votes_for, self.votes_against, self.votes_abstain]
        if any(v is not None for v in votes) and any(v is None for v in votes):
            raise ValueError("итоги голосования: укажите все три числа (за, против, воздержались)")
        return self


class DecisionPublic(OutputModel):
    id: uuid.UUID
    meeting_id: uuid.UUID
    agenda_item_id: uuid.UUID
    action: LifecycleAction | None
    initiative: InitiativeRef | None
    transition_id: int | None
    from_status: InitiativeStatus | None
    to_status: InitiativeStatus | None
    text: str
    votes_for: int | None
    votes_against: int | None
    votes_abstain: int | None
    review_on: date | None
    recorded_by: PersonRef
    created_at: datetime


class MeetingPublic(MeetingSummary):
    facilitator: PersonRef | None
    cancellation_reason: str | None
    attendees: list[AttendeeOut]
    agenda_items: list[AgendaItemPublic]
    decisions: list[DecisionPublic]
    reflection: Reflection
