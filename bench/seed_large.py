"""A large, realistic Project Office+ dataset for the benchmarks (issue 7).

Full size (`--scale 1`): 300 organizations, 20 000 people in every role, 100 000 initiatives
with their whole lifecycle histories over six academic years (every status), ≈300 000 expert
conclusions (review assignments with a score per criterion of the set they were assigned
under), ≈50 000 consultation sessions in consultation tracks, 200 000 network events with their
participants, office meetings, and a network charter with five adopted versions, amendments,
votes and acknowledgements. `--scale 0.1` makes everything proportionally smaller (10 000
initiatives); the charter and the meetings keep their size.

    .venv/bin/python -m bench.seed_large --database-url sqlite:////tmp/large.db [--scale S]
        [--seed N] [--manifest PATH]
    .venv/bin/python -m bench.seed_large --database-url postgresql://postgres@127.0.0.1/NAME

The database must be empty (it may already have the schema); Alembic builds the schema first.

How the rows keep the services' rules. Per-row service calls would take hours (argon2, ORM
flushes, one transaction per request), so the bulk goes in with executemany (SQLite) or COPY
(PostgreSQL), but every row is what the service would have written at that moment:

- inputs are validated by the API's own input schemas (`InitiativeCreate`, `ReviewAssign`,
  `NetworkEventCreate`, …) and the activity log's `data` is their `model_dump(mode="json")`,
  plus the extras each service adds, so every write has its Event, in time order: the log's ids
  follow `at`, as if the services had written them live;
- derived fields are computed as the services compute them: `search_text` via `app.text`,
  initiative codes `INI-<year>-<NNNN>` gap-free per calendar year of creation in creation order
  with `initiative_code_counter` at the last number, `version` = 1 + the number of updates the
  services would have made, `review_round` bumped by each resubmit, a track's session count and
  first session, `updated_at` of the last write;
- lifecycles are random walks over `app.services.lifecycle.STEPS` (only actions the table
  allows from the current status, taken by a party it names, with a comment where it requires
  one); `approve` only after at least MIN_CONCLUSIONS submitted conclusions of the round and
  with no accepted review left open; experts are never the author, a team member, or from the
  initiative's organization; consultation sessions are recorded by a consultant while the
  track is active, never in the future;
- the few things with intricate rules go through the services themselves at their dates
  (`clock_at`): the charter (adoption, amendments, discussion, closing votes — the votes
  themselves are bulk rows, each with its `charter_amendment.voted` event) and the meetings
  (agenda, attendance, decisions as notes, reflection).

Everybody shares one argon2 hash of PASSWORD. Histories are dated relative to today: the
current academic year is the last of six, and recent initiatives are in early statuses.

`seed(database_url, *, scale=1.0, seed=1) -> dict` does the same from Python and returns the
manifest that `--manifest PATH` writes as JSON:

    {
      "database": "postgresql+psycopg://postgres@127.0.0.1/x",   # password hidden
      "dialect": "postgresql" | "sqlite",
      "scale": 1.0, "seed": 1, "now": ISO datetime the histories end at,
      "seconds": 312.4,                                  # wall time of the whole seeding
      "password": "bench-password-2026",                  # everybody's password
      "counts": {table: rows, …},                        # e.g. "initiative", "conclusion"
      "initiatives_by_status": {status: n, …},
      "academic_years": ["2021-2022", …],                # oldest first
      "logins": {role: [email, …]},                      # active people holding that role
                                                         # (admin, office_head, office_member,
                                                         # expert, participant, observer)
      "user_ids": {email: id},                            # for the emails in "logins"
      "ids": {
        "initiative_in_expertise": id,    # status expertise, >= 2 submitted conclusions in its
                                          # current round: reviews and expertise summary
        "initiative_with_history": id,    # the longest lifecycle history
        "initiative_for_transition": {"id", "status", "version", "action", "comment",
                                      "actor_email"},   # a legal step that office member may
                                                        # take now (If-Match: version)
        "in_progress_initiatives": [id, …],  # up to 200 that the same office member may
                                             # `suspend` (with a comment) and `resume` over
                                             # and over: not on their teams
        "submitted_initiatives": [id, …],    # up to 200: `start_consultation`, same member
        "consultation_with_sessions": id,
        "network_event": id,
        "held_meeting": id,
        "organization": id,
        "charter": {"latest_version": n, "previous_version": n - 1, "amendment_in_voting": id}
      }
    }
"""

import argparse
import heapq
import itertools
import json
import math
import random
import sys
import time
import uuid
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Connection, func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from alembic import command
from app.config import get_settings
from app.db import build_engine, normalize_url
from app.demo.charter import FIRST_CHARTER, MEETINGS_V2, MENTORING
from app.demo.initiatives import CRITERIA, criteria_in
from app.migrations import alembic_config
from app.models import (
    AgendaItemKind,
    CharterVersion,
    ConsultationFormat,
    EducationLevel,
    ExpertPosition,
    InitiativeKind,
    InitiativeStatus,
    MeetingFormat,
    MeetingStatus,
    NetworkEventKind,
    OrganizationKind,
    Recommendation,
    Role,
    TeamRole,
    metadata,
)
from app.models.base import clock_at
from app.schemas.charter import (
    AddSection,
    AmendmentCreate,
    AmendmentTransitionCreate,
    CharterVersionCreate,
    CommentCreate,
    ModifySection,
    SectionIn,
)
from app.schemas.consultations import ConsultationCreate, ConsultationUpdate, SessionCreate
from app.schemas.expertise import CriteriaSetCreate, ReviewAssign
from app.schemas.initiatives import InitiativeCreate, TeamMemberIn
from app.schemas.meetings import (
    AgendaItemCreate,
    AttendeeIn,
    DecisionCreate,
    MeetingCreate,
    MeetingUpdate,
    ReflectionIn,
)
from app.schemas.network import NetworkEventCreate
from app.schemas.organizations import OrganizationCreate
from app.schemas.users import UserCreate
from app.security import Principal, hash_password
from app.services.charter import adoption, amendments, discussion
from app.services.charter.workflow import AmendmentAction
from app.services.consultations import hours_between
from app.services.lifecycle import STEPS, TERMINAL, LifecycleAction, Party
from app.services.meetings import agenda, decisions, planning
from app.services.office_time import academic_year_of, local
from app.text import search_text
from bench.seed_users import JOB_TITLES, ORG_KINDS, _full_name

PASSWORD = "bench-password-2026"
FULL = {
    "organizations": 300,
    "people": 20_000,
    "initiatives": 100_000,
    "conclusions": 300_000,
    "consultation_sessions": 50_000,
    "network_events": 200_000,
}
YEARS = 6  # academic years of history, the current one included
# Events are written in time order through a heap. An entity's history may start up to
# PRE_HISTORY before the moment it is generated at (a consultation that precedes its
# initiative), so the heap releases only what is older than that.
PRE_HISTORY = timedelta(days=61)
LAG = timedelta(days=70)
BATCH_ROWS = 40_000
A = LifecycleAction
S = InitiativeStatus
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)

# --- vocabulary -------------------------------------------------------------------------------

TOPICS = [
    "смысловое чтение", "функциональная грамотность", "читательская грамотность",
    "математическая грамотность", "естественнонаучная грамотность", "финансовая грамотность",
    "цифровая образовательная среда", "проектная деятельность", "инклюзивное образование",
    "одарённые дети", "наставничество", "профориентация", "воспитание", "здоровьесбережение",
    "STEM-образование", "робототехника", "экологическое образование", "краеведение",
    "сетевое взаимодействие", "качество образования", "метапредметные результаты",
    "4К компетенции", "дошкольное образование", "оценка образовательных результатов",
    "школьное самоуправление", "медиация", "психолого-педагогическое сопровождение",
    "родительское сообщество", "дополнительное образование", "театральная педагогика",
]  # fmt: skip
FORMATS = [
    "Сетевая лаборатория", "Методический кластер", "Школа наставников", "Клуб", "Мастерская",
    "Программа", "Проект", "Практика", "Сетевой проект", "Ресурсный центр",
    "Образовательный интенсив", "Проектная школа", "Сообщество практиков", "Фестиваль",
]  # fmt: skip
BRANDS = [
    "Читаем вместе", "Шаг вперёд", "Точка роста", "Мост", "Новая волна", "Открытый класс",
    "Лифт", "Перекрёсток", "Навигатор", "Компас", "Горизонт", "Траектория", "Вектор", "Исток",
    "Созвездие", "Планета знаний", "Территория роста", "Диалог", "Контакт", "Эврика", "Импульс",
    "Содружество", "Ступени", "Маяк", "Эко-патруль", "Юный исследователь", "Наследие",
    "PROдвижение", "Умная среда", "Сеть, которая живёт сама",
]  # fmt: skip
WHERE = {
    EducationLevel.preschool: "в детском саду",
    EducationLevel.primary: "в начальной школе",
    EducationLevel.basic: "в основной школе",
    EducationLevel.secondary: "в старшей школе",
    EducationLevel.additional: "в дополнительном образовании",
    EducationLevel.cross_level: "на всех уровнях образования",
}
PROBLEMS = [
    "Ученики не умеют работать с текстом за пределами уроков литературы.",
    "Педагоги разных школ решают одни и те же задачи поодиночке.",
    "Результаты диагностики функциональной грамотности ниже средних по краю.",
    "Опыт школ-лидеров не доходит до малокомплектных школ округа.",
    "Родители мало вовлечены в образовательные события школы.",
    "Молодые педагоги уходят из профессии в первые три года.",
    "Проекты заканчиваются вместе с грантом: сеть не живёт без автора.",
]  # fmt: skip
GOALS = [
    "Создать сетевое сообщество педагогов, которые вместе разрабатывают и проверяют приёмы",
    "Построить систему сопровождения, в которой каждый участник растёт как эксперт",
    "Повысить долю учеников, достигших базового уровня, за счёт общих сетевых практик",
    "Сделать опыт центров инновационного опыта доступным всем школам округа",
]  # fmt: skip
TASKS = [
    "Провести стартовую диагностику", "Собрать банк заданий", "Провести серию открытых уроков",
    "Организовать взаимные посещения", "Подготовить методические рекомендации",
    "Провести сетевую конференцию", "Обучить команду наставников",
    "Описать практику для тиражирования", "Провести итоговую рефлексивную сессию",
]  # fmt: skip
RESULTS = [
    "Банк заданий, открытый всем школам сети; 20 педагогов освоили приёмы.",
    "Рост результатов диагностики на 10 процентных пунктов за учебный год.",
    "Сообщество практиков продолжает встречаться после завершения проекта.",
    "Три школы округа переняли практику и описали свой опыт.",
]  # fmt: skip
REVISION_COMMENTS = [
    "Уточните измеримые результаты", "Опишите ресурсы и партнёров по сети",
    "Сформулируйте цель через результат для учеников", "Нужен план-график на учебный год",
    "Покажите, как сеть продолжит работу после завершения проекта",
]  # fmt: skip
REJECT_COMMENTS = [
    "Замысел дублирует действующий проект сети; предлагаем присоединиться к нему",
    "Не соответствует приоритетам муниципальной программы развития образования",
    "Эксперты единогласно рекомендовали отклонить: цель и результаты не связаны",
]  # fmt: skip
SUSPEND_COMMENTS = [
    "Руководитель проекта в длительном отпуске", "Площадка закрыта на ремонт",
    "Команда просит паузу до следующего полугодия",
]  # fmt: skip
CANCEL_COMMENTS = [
    "Команда проекта распалась", "Проект объединён с сетевым проектом другой школы",
    "Нет ресурсов для продолжения",
]  # fmt: skip
OPTIONAL_COMMENTS = {
    A.approve: "Поддержано на заседании проектного офиса",
    A.start: "Команда приступила к реализации",
    A.close: "Итоги представлены на заседании проектного офиса",
    A.send_to_expertise: "Назначить экспертов из разных организаций",
}
CONCLUSION_SUMMARIES = {
    Recommendation.approve: "Замысел актуален и реализуем; результаты описаны измеримо.",
    Recommendation.approve_with_changes: "Замысел поддерживаю; план стоит уточнить.",
    Recommendation.revise: "Цель и задачи не согласованы; нужна доработка.",
    Recommendation.reject: "Замысел не раскрывает проблему и не опирается на ресурсы сети.",
}
FEEDBACK = [
    "Как сеть продолжит работу, когда проект завершится?",
    "Что изменится для ученика, если проект удастся?",
    "Кто ещё в сети решает похожую задачу и как вы с ними встретитесь?",
    "Как вы узнаете, что приём работает не только у вас?",
    "",
]  # fmt: skip
DECLINE_REASONS = [
    "Большая нагрузка в конце четверти", "Не моя предметная область",
    "Конфликт интересов: консультировал автора", "Длительная командировка",
]  # fmt: skip
CONSULTATION_TOPICS = [
    "Как сформулировать цель проекта через результат", "Как найти партнёров в сети",
    "Как превратить клуб любителей чтения в сетевой проект", "Как измерить результаты практики",
    "Как подготовиться к экспертизе замысла", "Как описать практику для тиражирования",
    "Как вовлечь родителей в проект", "Как построить план-график на учебный год",
]  # fmt: skip
SESSION_NOTES = [
    "Обсудили проблему и целевую группу", "Разобрали замечания экспертов",
    "Сформулировали цель и три задачи", "Нашли две школы-партнёра",
]  # fmt: skip
NEXT_STEPS = [
    "Сформулировать цель и три задачи", "Подготовить план-график",
    "Согласовать участие партнёров", "Подать инициативу в проектный офис",
]  # fmt: skip
CLOSE_COMMENTS = {
    "initiative_submitted": "Замысел оформлен в инициативу и подан в проектный офис",
    "idea_developed_further": "Замысел развит, автор продолжает самостоятельно",
    "redirected": "Перенаправлен в методический центр",
    "abandoned": "Автор решил не продолжать",
}
EVENT_KINDS = [
    (NetworkEventKind.seminar, "Семинар", 0.3),
    (NetworkEventKind.master_class, "Мастер-класс", 0.25),
    (NetworkEventKind.lab, "Лаборатория", 0.1),
    (NetworkEventKind.network_project_meeting, "Сетевая встреча проекта", 0.15),
    (NetworkEventKind.open_lesson, "Открытый урок", 0.17),
    (NetworkEventKind.conference, "Конференция", 0.03),
]
SUBJECTS = [
    "математики", "русского языка", "литературы", "физики", "биологии", "истории",
    "английского языка", "информатики", "окружающего мира", "технологии",
]  # fmt: skip
CRITERIA_2 = [*CRITERIA, ("developmental_potential", "Развивающий потенциал для участников сети",
                          "Developmental potential for the network", 5, 1.0,
                          "Участники проекта осваивают новые позиции и умения")]  # fmt: skip
SELF_ORGANISATION = (
    "Раз в год сеть проводит рефлексивную сессию о том, как она живёт: какие инициативы "
    "родились без участия проектного офиса, кто из участников вырос в новую экспертную "
    "позицию, какие связи между школами появились. Итоги публикуются для всех участников."
)
VOTING_RULES = (
    "Любой участник может предложить поправку к уставу с обоснованием. Поправку обсуждают не "
    "меньше недели, затем участники сети голосуют: «За», «Воздержался», «Против» или «Блокирую» "
    "с обоснованием. Поправка принята, если проголосовала половина участников и «За» отдано не "
    "меньше двух третей голосов. Принятые поправки руководитель проектного офиса сводит в новую "
    "редакцию устава."
)


# --- sizes and people -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sizes:
    organizations: int
    people: int
    initiatives: int
    conclusions: int
    consultation_sessions: int
    network_events: int

    @classmethod
    def at(cls, scale: float) -> "Sizes":
        least = {
            "organizations": 12,
            "people": 60,
            "initiatives": 20,
            "conclusions": 20,
            "consultation_sessions": 5,
            "network_events": 10,
        }
        return cls(**{k: max(least[k], round(v * scale)) for k, v in FULL.items()})


@dataclass(slots=True)
class Person:
    id: uuid.UUID
    email: str
    full_name: str
    organization_id: uuid.UUID
    roles: list[Role]
    active: bool = True
    kind: str = ""  # the prefix of the email: admin, head, office, observer, expert, teacher

    def principal(self) -> Principal:
        return Principal(
            id=self.id,
            kind="user",
            name=self.full_name,
            roles=frozenset(self.roles),
            organization_id=self.organization_id,
        )


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def _json(value: Any) -> str:
    # What SQLAlchemy's JSON type stores by default (json.dumps), so rows read back the same.
    return json.dumps(value)


def _work_moment(rng: random.Random, day: date) -> datetime:
    """A moment of the office's working day (09:00-18:00 in UTC+5)."""
    seconds = rng.randrange(4 * 3600, 13 * 3600)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
        seconds=seconds, microseconds=rng.randrange(1, 1_000_000)
    )


def _later(rng: random.Random, start: datetime, low_days: float, high_days: float) -> datetime:
    """A working-hours moment `low..high` days after `start` (never before it)."""
    moment = start + timedelta(days=rng.uniform(low_days, high_days))
    candidate = _work_moment(rng, moment.date())
    return candidate if candidate > start else start + timedelta(minutes=rng.randrange(5, 120))


# --- writing rows -----------------------------------------------------------------------------


class Writer:
    """Buffers rows per table and writes them parents first: executemany on SQLite (with the
    column types' own bind processing, so values are stored exactly as the ORM stores them),
    COPY on PostgreSQL."""

    def __init__(self, conn: Connection, progress: "Progress") -> None:
        self.conn = conn
        self.dialect = conn.dialect
        self.postgres = conn.dialect.name == "postgresql"
        self.progress = progress
        self.columns: dict[str, tuple[str, ...]] = {}
        self.buffers: dict[str, list[tuple[Any, ...]]] = {}
        self.order = [t.name for t in metadata.sorted_tables]
        self.counts: Counter[str] = Counter()
        self.buffered = 0
        self._processors: dict[str, list[tuple[int, Any]]] = {}

    def declare(self, table: str, columns: tuple[str, ...]) -> None:
        self.columns[table] = columns
        self.buffers[table] = []
        procs = []
        for i, name in enumerate(columns):
            column = metadata.tables[table].c[name]
            if isinstance(column.type, JSON):
                continue  # serialized already (_json): strings are smaller in the buffers
            proc = column.type._cached_bind_processor(self.dialect)
            if proc is not None:
                procs.append((i, proc))
        self._processors[table] = procs

    def add(self, table: str, row: tuple[Any, ...]) -> None:
        self.buffers[table].append(row)
        self.buffered += 1

    def maybe_flush(self) -> None:
        """Called between entities only: an entity's children may be added before their
        parent row, and a flush writes every buffer parents first."""
        if self.buffered >= BATCH_ROWS:
            self.flush()
            self.conn.commit()

    def flush(self) -> None:
        if not self.buffered:
            return
        if not self.conn.in_transaction():
            self.conn.begin()
        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            for table in self.order:
                rows = self.buffers.get(table)
                if not rows:
                    continue
                columns = self.columns[table]
                if self.postgres:
                    names = ", ".join(columns)
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
                else:
                    procs = self._processors[table]
                    if procs:
                        converted = []
                        for row in rows:
                            values = list(row)
                            for i, proc in procs:
                                values[i] = proc(values[i])
                            converted.append(values)
                    else:
                        converted = rows  # type: ignore[assignment]
                    marks = ", ".join("?" * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", converted
                    )
                self.counts[table] += len(rows)
                self.progress.advance(len(rows))
                rows.clear()
        finally:
            cursor.close()
        self.buffered = 0


class Progress:
    """One stderr line, rewritten in place: rows written, rows per second, elapsed time."""

    def __init__(self, expected: int, quiet: bool) -> None:
        self.expected = max(expected, 1)
        self.done = 0
        self.started = time.perf_counter()
        self.quiet = quiet
        self.phase = ""
        self._last = 0.0

    def set_phase(self, phase: str) -> None:
        self.phase = phase
        self._draw(force=True)

    def advance(self, rows: int) -> None:
        self.done += rows
        self._draw()

    def _draw(self, force: bool = False) -> None:
        if self.quiet:
            return
        now = time.perf_counter()
        if not force and now - self._last < 0.5:
            return
        self._last = now
        elapsed = now - self.started
        share = min(self.done / self.expected, 1.0)
        bar = "#" * int(share * 30)
        rate = self.done / elapsed if elapsed else 0.0
        sys.stderr.write(
            f"\r[{bar:<30}] {share:6.1%} {self.done:>10,} rows {rate:>9,.0f}/s "
            f"{elapsed:6.0f} s  {self.phase:<28}"
        )
        sys.stderr.flush()

    def close(self) -> None:
        if not self.quiet:
            self._draw(force=True)
            sys.stderr.write("\n")


COLUMNS: dict[str, tuple[str, ...]] = {
    "organization": ("id", "name", "short_name", "kind", "is_innovation_centre", "search_text",
                     "version", "created_at", "updated_at"),
    "app_user": ("id", "email", "full_name", "job_title", "organization_id", "hashed_password",
                 "is_active", "search_text", "version", "created_at", "updated_at"),
    "user_role": ("user_id", "role"),
    "criteria_set": ("id", "number", "title", "is_active", "created_by_id", "created_at",
                     "activated_at"),
    "criterion": ("id", "criteria_set_id", "position", "code", "title_ru", "title_en",
                  "description", "max_score", "weight"),
    "initiative": ("id", "code", "code_year", "code_number", "title", "summary", "problem",
                   "goal", "tasks", "expected_results", "kind", "education_level",
                   "academic_year", "start_date", "end_date", "topics", "organization_id",
                   "author_id", "status", "review_round", "search_text", "version",
                   "created_at", "updated_at", "submitted_at"),
    "initiative_topic": ("initiative_id", "topic"),
    "initiative_member": ("initiative_id", "user_id", "role", "added_at"),
    "initiative_code_counter": ("year", "last_number"),
    "transition": ("initiative_id", "action", "from_status", "to_status", "actor_id", "comment",
                   "review_round", "at"),
    "review_assignment": ("id", "initiative_id", "review_round", "expert_id", "position",
                          "criteria_set_id", "due_at", "status", "assigned_by_id",
                          "competing_interests", "decline_reason", "created_at", "accepted_at",
                          "declined_at", "submitted_at", "version"),
    "conclusion": ("assignment_id", "recommendation", "summary", "developmental_feedback",
                   "quality_rating", "quality_rated_by_id", "updated_at"),
    "conclusion_score": ("assignment_id", "criterion_id", "score", "comment"),
    "consultation_track": ("id", "topic", "description", "preferred_format", "initiative_id",
                           "requester_id", "status", "outcome", "close_comment",
                           "decline_reason", "accepted_at", "first_session_at", "session_count",
                           "closed_at", "search_text", "version", "created_at", "updated_at"),
    "consultation_consultant": ("track_id", "user_id", "assigned_at"),
    "consultation_session": ("id", "track_id", "held_at", "format", "duration_minutes", "notes",
                             "next_steps", "recorded_by_id", "version", "created_at",
                             "updated_at"),
    "consultation_session_attendee": ("session_id", "user_id"),
    "network_event": ("id", "title", "kind", "description", "location", "held_at",
                      "organizer_id", "organizer_organization_id", "initiative_id",
                      "created_by_id", "search_text", "version", "created_at", "updated_at"),
    "network_event_participant": ("event_id", "user_id"),
    "network_event_organization": ("event_id", "organization_id"),
    "charter_vote": ("amendment_id", "user_id", "vote", "reason", "cast_at", "updated_at"),
    "charter_acknowledgement": ("version_number", "user_id", "at"),
    "event": ("at", "actor_id", "actor_kind", "action", "entity_type", "entity_id", "data"),
}  # fmt: skip


class Log:
    """The activity log in time order: events wait in a heap until nothing earlier can come."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.heap: list[tuple[datetime, int, tuple[Any, ...]]] = []
        self.seq = itertools.count()

    def record(
        self,
        at: datetime,
        actor: uuid.UUID | None,
        action: str,
        entity_type: str,
        entity_id: uuid.UUID | str,
        data: dict[str, Any] | None = None,
    ) -> None:
        row = (
            at,
            actor,
            "user" if actor else "system",
            action,
            entity_type,
            str(entity_id),
            _json(data or {}),
        )
        heapq.heappush(self.heap, (at, next(self.seq), row))

    def release(self, until: datetime | None) -> None:
        heap = self.heap
        while heap and (until is None or heap[0][0] <= until):
            self.writer.add("event", heapq.heappop(heap)[2])


# A step an office member may take from a status, for the load driver (most wanted first).
OFFICE_STEP: dict[InitiativeStatus, tuple[LifecycleAction, str | None]] = {
    S.submitted: (A.start_consultation, None),
    S.in_progress: (A.suspend, "Пауза по просьбе команды"),
    S.approved: (A.start, None),
    S.suspended: (A.resume, None),
    S.consultation: (A.send_to_expertise, None),
    S.expertise: (A.request_revision, "Уточните измеримые результаты"),
}

# --- the plan of one initiative's life ----------------------------------------------------------

# From each status: (action or None to stay there for good, weight, (min days, max days)).
WALK: dict[InitiativeStatus, list[tuple[LifecycleAction | None, float, tuple[float, float]]]] = {
    S.draft: [(A.submit, 0.86, (1, 21)), (A.withdraw, 0.04, (3, 60)), (None, 0.10, (0, 0))],
    S.submitted: [(A.start_consultation, 0.12, (2, 10)), (A.send_to_expertise, 0.72, (2, 12)),
                  (A.request_revision, 0.07, (3, 14)), (A.reject, 0.04, (5, 20)),
                  (A.withdraw, 0.05, (2, 30))],
    S.consultation: [(A.send_to_expertise, 0.70, (14, 60)), (A.request_revision, 0.20, (14, 45)),
                     (A.withdraw, 0.10, (7, 60))],
    S.expertise: [(A.approve, 0.72, (21, 50)), (A.request_revision, 0.18, (21, 45)),
                  (A.reject, 0.10, (21, 50))],
    S.revision: [(A.resubmit, 0.80, (7, 40)), (A.withdraw, 0.20, (14, 90))],
    S.approved: [(A.start, 0.97, (3, 40)), (None, 0.03, (0, 0))],
    S.in_progress: [(A.complete, 0.78, (120, 400)), (A.suspend, 0.12, (30, 200)),
                    (A.cancel, 0.10, (60, 300))],
    S.suspended: [(A.resume, 0.70, (20, 120)), (A.cancel, 0.30, (30, 150))],
    S.completed: [(A.close, 0.90, (10, 60)), (None, 0.10, (0, 0))],
}  # fmt: skip
for _status, _choices in WALK.items():
    for _action, _weight, _days in _choices:
        assert _action is None or _status in STEPS[_action].sources, (_status, _action)


@dataclass(slots=True)
class TrackPlan:
    """A consultation track tied to an initiative: its window and number of sessions."""

    kind: str  # "during" a consultation phase, or "before" the first submission
    created: datetime
    accepted: datetime
    closed: datetime | None
    sessions: int


@dataclass(slots=True)
class Plan:
    index: int
    id: uuid.UUID
    created: datetime
    steps: list[tuple[LifecycleAction, datetime]]
    tracks: list[TrackPlan] = field(default_factory=list)
    code: str = ""
    status: InitiativeStatus = S.draft

    def status_at(self, moment: datetime) -> InitiativeStatus:
        status = S.draft
        for action, at in self.steps:
            if at > moment:
                break
            status = STEPS[action].target
        return status


def _walk(rng: random.Random, created: datetime, now: datetime) -> list[tuple[Any, datetime]]:
    steps: list[tuple[Any, datetime]] = []
    status, moment, rounds = S.draft, created, 1
    while status not in TERMINAL:
        choices = WALK[status]
        weights = [w for _, w, _ in choices]
        if status == S.revision and rounds >= 3:
            weights = [0.3, 0.7]  # a third rework is rare
        action, _, (low, high) = rng.choices(choices, weights)[0]
        if action is None:
            break
        moment = _later(rng, moment, low, high)
        if moment >= now:
            break
        steps.append((action, moment))
        status = STEPS[action].target
        if action == A.resubmit:
            rounds += 1
    return steps


# --- the generator ----------------------------------------------------------------------------


class Generator:
    def __init__(self, conn: Connection, *, scale: float, seed: int, now: datetime) -> None:
        self.conn = conn
        self.scale = scale
        self.seed = seed
        self.now = now
        self.sizes = Sizes.at(scale)
        self.rng = random.Random(seed)
        current = int(academic_year_of(now)[:4])
        self.first_year = current - YEARS + 1
        self.start = datetime(self.first_year, 9, 1, 4, tzinfo=UTC)
        self.years = [f"{y}-{y + 1}" for y in range(self.first_year, current + 1)]
        # Rows per initiative (its history, reviews, scores, events…) and per network event,
        # as measured at full scale: only for the progress bar.
        expected = int(58 * self.sizes.initiatives + 15.6 * self.sizes.network_events)
        self.progress = Progress(expected, quiet=False)
        self.writer = Writer(conn, self.progress)
        for table, columns in COLUMNS.items():
            self.writer.declare(table, columns)
        self.log = Log(self.writer)
        self.settings = get_settings()
        self.stats: Counter[str] = Counter()
        self.manifest_ids: dict[str, Any] = {}
        self.transition_candidates: dict[InitiativeStatus, dict[str, Any]] = {}

    # -- organizations and people --

    def people(self) -> None:
        self.progress.set_phase("organizations and people")
        rng = self.rng
        sizes = self.sizes
        joined = self.start - timedelta(days=20)
        self.orgs: list[tuple[uuid.UUID, str, OrganizationKind]] = []
        org_rows = [("Управление образования администрации городского округа",
                     "Управление образования", OrganizationKind.education_department)]  # fmt: skip
        for i in range(sizes.organizations - 1):
            kind, name_tpl, short_tpl = ORG_KINDS[i % len(ORG_KINDS)]
            n = i // len(ORG_KINDS) + 1
            org_rows.append((name_tpl.format(n=n), short_tpl.format(n=n), OrganizationKind(kind)))
        hashed = hash_password(PASSWORD)
        # People by their main role; office heads are office members too, as in the demo.
        counts = [
            ("admin", [Role.admin], max(2, round(sizes.people * 0.0005))),
            ("head", [Role.office_head, Role.office_member], max(2, round(sizes.people * 0.001))),
            ("office", [Role.office_member], max(4, round(sizes.people * 0.008))),
            ("observer", [Role.observer], max(2, round(sizes.people * 0.04))),
        ]
        experts = max(10, round(sizes.people * 0.2))
        rest = sizes.people - sum(c for _, _, c in counts) - experts
        counts += [("expert", [Role.expert], experts), ("teacher", [Role.participant], rest)]
        department = None
        centres: list[uuid.UUID] = []
        self.schools: list[uuid.UUID] = []
        self.org_kind: dict[uuid.UUID, OrganizationKind] = {}
        self.org_short: dict[uuid.UUID, str] = {}
        plans: list[tuple[uuid.UUID, OrganizationCreate, datetime]] = []
        for name, short, kind in org_rows:
            org_id = _uuid(rng)
            data = OrganizationCreate(
                name=name, short_name=short, kind=kind, is_innovation_centre=rng.random() < 0.1
            )
            plans.append((org_id, data, joined + timedelta(minutes=len(plans))))
            self.org_kind[org_id] = kind
            self.org_short[org_id] = short
            if kind == OrganizationKind.education_department:
                department = org_id
            elif kind == OrganizationKind.methodological_centre:
                centres.append(org_id)
            else:
                self.schools.append(org_id)
        assert department is not None
        centres = centres or [department]
        self.people_list: list[Person] = []
        numbers: Counter[str] = Counter()
        for prefix, roles, count in counts:
            for _ in range(count):
                numbers[prefix] += 1
                width = 2 if prefix in ("admin", "head") else 3 if count < 1000 else 5
                email = f"{prefix}{numbers[prefix]:0{width}d}@example.org"
                if prefix in ("admin", "head", "office"):
                    org = rng.choice([*centres, department])
                elif prefix == "observer":
                    org = department
                else:
                    org = rng.choice(self.schools)
                person_roles = list(roles)
                if prefix == "office" and rng.random() < 0.3:
                    person_roles.append(Role.expert)
                if prefix == "expert" and rng.random() < 0.6:
                    person_roles.append(Role.participant)
                active = prefix in ("admin", "head", "office") or rng.random() >= 0.02
                self.people_list.append(
                    Person(_uuid(rng), email, _full_name(rng), org, person_roles, active, prefix)
                )
        admin = self.people_list[0]
        # Organizations first, by the first administrator (created by the system itself).
        admin_at = joined - HOUR
        self._user_rows(admin, hashed, admin_at, actor=None, rng=rng)
        for org_id, data, at in plans:
            self.writer.add(
                "organization",
                (org_id, data.name, data.short_name, data.kind.value, data.is_innovation_centre,
                 search_text(data.name, data.short_name), 1, at, at),
            )  # fmt: skip
            self.log.record(at, admin.id, "organization.created", "organization", org_id,
                            data.model_dump(mode="json"))  # fmt: skip
        step = timedelta(days=18) / max(len(self.people_list), 1)
        for i, person in enumerate(self.people_list[1:], start=1):
            self._user_rows(person, hashed, joined + HOUR + step * i, actor=admin.id, rng=rng)
        self.active = [p for p in self.people_list if p.active]
        self.by_role: dict[Role, list[Person]] = {r: [] for r in Role}
        for person in self.active:
            for role in person.roles:
                self.by_role[role].append(person)
        self.office = self.by_role[Role.office_member]  # heads are office members too
        self.heads = self.by_role[Role.office_head]
        self.experts = self.by_role[Role.expert]
        self.authors = self.by_role[Role.participant] + [
            p for p in self.experts if Role.participant not in p.roles
        ]
        self.members = [
            p for p in self.active if not {Role.participant, Role.expert, Role.office_member}
            .isdisjoint(p.roles)
        ]  # fmt: skip
        self.by_org: dict[uuid.UUID, list[Person]] = {}
        for person in self.authors:
            self.by_org.setdefault(person.organization_id, []).append(person)
        self.admin = admin
        self.transition_actor = next(p for p in self.office if p.kind == "office")
        self.org_of = {p.id: p.organization_id for p in self.people_list}

    def _user_rows(
        self,
        person: Person,
        hashed: str,
        at: datetime,
        *,
        actor: uuid.UUID | None,
        rng: random.Random,
    ) -> None:
        job = rng.choice(JOB_TITLES)
        if Role.office_head in person.roles:
            job = "Руководитель проектного офиса"
        elif Role.office_member in person.roles:
            job = "Методист"
        elif Role.observer in person.roles:
            job = "Специалист управления образования"
        elif Role.admin in person.roles:
            job = "Системный администратор"
        data = UserCreate(
            email=person.email,
            full_name=person.full_name,
            job_title=job,
            organization_id=person.organization_id,
            roles=person.roles,
            password=PASSWORD,
        )
        person.roles = list(data.roles)  # in enum order, as the service stores them
        version, updated = 1, at
        if not person.active:
            updated = at + timedelta(days=rng.uniform(30, 900))
            updated = min(updated, self.now - HOUR)
            version = 2
        self.writer.add(
            "app_user",
            (person.id, person.email, person.full_name, job, person.organization_id, hashed,
             person.active, search_text(person.full_name, person.email, job), version, at,
             updated),
        )  # fmt: skip
        for role in person.roles:
            self.writer.add("user_role", (person.id, role.value))
        self.log.record(at, actor, "user.created", "user", person.id,
                        data.model_dump(mode="json", exclude={"password"}))  # fmt: skip
        if not person.active:
            self.log.record(updated, self.people_list[0].id, "user.updated", "user", person.id,
                            {"changes": {"is_active": [True, False]}})  # fmt: skip

    # -- criteria sets --

    def criteria_sets(self) -> None:
        """Two editions: the demo's seven criteria, then an eighth from the third year on."""
        rng = self.rng
        head = self.heads[0]
        self.criteria: list[tuple[datetime, uuid.UUID, list[tuple[uuid.UUID, str, int]]]] = []
        editions = [
            (self.start - timedelta(days=7), "Критерии экспертизы проектных замыслов", CRITERIA),
            (self.start + timedelta(days=365 * 2 - 7),
             "Критерии экспертизы проектных замыслов, редакция 2", CRITERIA_2),
        ]  # fmt: skip
        for number, (at, title, criteria) in enumerate(editions, start=1):
            at = _work_moment(rng, at.date())
            data = CriteriaSetCreate(
                title=title,
                activate=True,
                criteria=criteria_in(criteria),
            )
            set_id = _uuid(rng)
            last = number == len(editions)
            self.writer.add("criteria_set", (set_id, number, title, last, head.id, at, at))
            rows = []
            for position, c in enumerate(data.criteria):
                criterion_id = _uuid(rng)
                rows.append((criterion_id, c.code, c.max_score))
                self.writer.add(
                    "criterion",
                    (criterion_id, set_id, position, c.code, c.title_ru, c.title_en,
                     c.description, c.max_score, c.weight),
                )  # fmt: skip
            self.log.record(at, head.id, "criteria_set.created", "criteria_set", set_id,
                            {"number": number, **data.model_dump(mode="json")})  # fmt: skip
            self.criteria.append((at, set_id, rows))

    def _criteria_at(self, moment: datetime) -> tuple[uuid.UUID, list[tuple[uuid.UUID, str, int]]]:
        chosen = self.criteria[0]
        for edition in self.criteria:
            if edition[0] <= moment:
                chosen = edition
        return chosen[1], chosen[2]

    # -- planning --

    def _moments(self, rng: random.Random, count: int, start: datetime) -> list[datetime]:
        """`count` sorted working-day moments from `start` to yesterday: fewer on weekends and
        in the summer holidays, more as the network grows."""
        days = []
        weights = []
        day = start.date()
        last = (self.now - DAY).date()
        total = max((last - day).days, 1)
        i = 0
        while day <= last:
            weight = 1.0 + 0.8 * i / total
            if day.weekday() >= 5:
                weight *= 0.15
            if day.month in (7, 8):
                weight *= 0.25
            days.append(day)
            weights.append(weight)
            day += DAY
            i += 1
        picked = rng.choices(days, weights, k=count)
        moments = sorted(_work_moment(rng, d) for d in picked)
        return [min(m, self.now - HOUR) for m in moments]

    def plan(self) -> None:
        self.progress.set_phase("planning")
        rng = random.Random(self.seed * 7919 + 1)
        created = self._moments(rng, self.sizes.initiatives, self.start)
        self.plans: list[Plan] = []
        numbers: Counter[int] = Counter()
        expertise_rounds = 0
        sessions = 0
        for index, moment in enumerate(created):
            plan = Plan(index, _uuid(rng), moment, _walk(rng, moment, self.now))
            numbers[moment.year] += 1
            plan.code = f"INI-{moment.year}-{numbers[moment.year]:04d}"
            status = S.draft
            for i, (action, at) in enumerate(plan.steps):
                status = STEPS[action].target
                if action == A.send_to_expertise:
                    expertise_rounds += 1
                if action == A.start_consultation:
                    end = plan.steps[i + 1][1] if i + 1 < len(plan.steps) else None
                    opened = at - (at - plan.steps[i - 1][1]) * rng.uniform(0.1, 0.9)
                    count = rng.randint(1, 4)
                    plan.tracks.append(TrackPlan("during", opened, at, end, count))
                    sessions += count
            plan.status = status
            first_submit = next((at for a, at in plan.steps if a == A.submit), None)
            if first_submit is not None and rng.random() < 0.06:
                opened = _later(rng, first_submit - timedelta(days=60), 0, 45)
                accepted = _later(rng, opened, 0.1, 5)
                closed = _later(rng, first_submit, 0.05, 5)
                if opened > self.start and accepted < first_submit and closed < self.now:
                    count = rng.randint(1, 3)
                    plan.tracks.append(TrackPlan("before", opened, accepted, closed, count))
                    sessions += count
            self.plans.append(plan)
        self.counters = dict(numbers)
        self.conclusions_per_round = self.sizes.conclusions / max(expertise_rounds, 1)
        self.idea_sessions = max(self.sizes.consultation_sessions - sessions, 0)
        # Lookups for network events and meetings: when each initiative reached a step.
        self.started = sorted(
            (at, p.index) for p in self.plans for a, at in p.steps if a == A.start
        )
        self.decided = sorted(
            (at, p.index, a)
            for p in self.plans
            for a, at in p.steps
            if a in (A.approve, A.reject, A.complete)
        )

    # -- initiatives --

    def _pick(self, rng: random.Random, pool: list[Person], avoid: set[uuid.UUID]) -> Person:
        for _ in range(50):
            person = rng.choice(pool)
            if person.id not in avoid:
                return person
        return next(p for p in pool if p.id not in avoid)

    def _expert(self, rng: random.Random, org: uuid.UUID, avoid: set[uuid.UUID]) -> Person | None:
        for _ in range(60):
            person = rng.choice(self.experts)
            if person.id not in avoid and person.organization_id != org:
                return person
        return None

    def initiative(self, plan: Plan) -> None:
        rng = random.Random((self.seed << 32) ^ (plan.index * 2654435761))
        author = rng.choice(self.authors)
        org = author.organization_id
        kind_org = self.org_kind[org]
        if kind_org == OrganizationKind.kindergarten:
            level = EducationLevel.preschool
        elif kind_org == OrganizationKind.additional_education:
            level = EducationLevel.additional
        else:
            level = rng.choice([EducationLevel.primary, EducationLevel.basic,
                                EducationLevel.secondary, EducationLevel.cross_level])  # fmt: skip
        topics = rng.sample(TOPICS, rng.randint(1, 3))
        fmt = rng.choice(FORMATS)
        title = f"{fmt} «{rng.choice(BRANDS)}»: {topics[0]} {WHERE[level]}"
        year = academic_year_of(plan.created)
        if local(plan.created).month in (5, 6, 7, 8):
            first = int(year[:4]) + 1
            year = f"{first}-{first + 1}"  # planned for the coming academic year
        start_date = end_date = None
        if rng.random() < 0.6:
            first = int(year[:4])
            start_date = date(first, 9, 1)
            end_date = date(first + rng.randint(1, 2), 5, 31)
        team: list[TeamMemberIn] = []
        avoid = {author.id}
        colleagues = self.by_org.get(org, [])
        for n in range(rng.choices([0, 1, 2, 3], [0.4, 0.3, 0.2, 0.1])[0]):
            pool = colleagues if colleagues and rng.random() < 0.7 else self.authors
            mate = self._pick(rng, pool, avoid) if len(pool) > len(avoid) else None
            if mate is None:
                break
            avoid.add(mate.id)
            role = TeamRole.lead if n == 0 and rng.random() < 0.2 else TeamRole.member
            if Role.expert in mate.roles and rng.random() < 0.3:
                role = TeamRole.mentor
            team.append(TeamMemberIn(user_id=mate.id, role=role))
        data = InitiativeCreate(
            title=title,
            summary=f"{rng.choice(GOALS)}. {rng.choice(PROBLEMS)}",
            problem=rng.choice(PROBLEMS),
            goal=rng.choice(GOALS),
            tasks=rng.sample(TASKS, rng.randint(2, 4)),
            expected_results=rng.choice(RESULTS),
            kind=rng.choices(list(InitiativeKind), [0.6, 0.15, 0.2, 0.05])[0],
            education_level=level,
            academic_year=year,
            topics=topics,
            organization_id=org,
            team=team,
            start_date=start_date,
            end_date=end_date,
        )
        code_year, code_number = plan.code.split("-")[1:]
        lead = next((m.user_id for m in team if m.role == TeamRole.lead), None)
        created = plan.created
        self.log.record(created, author.id, "initiative.created", "initiative", plan.id,
                        {"code": plan.code, **data.model_dump(mode="json")})  # fmt: skip
        for t in {t.casefold() for t in data.topics}:
            self.writer.add("initiative_topic", (plan.id, t))
        for m in team:
            self.writer.add("initiative_member", (plan.id, m.user_id, m.role.value, created))
        # The lifecycle, with its reviews and consultations.
        status, review_round, version, updated = S.draft, 1, 1, created
        team_ids = {m.user_id for m in team} | {author.id}
        open_round_conclusions = 0
        submitted_at = None
        for i, (action, at) in enumerate(plan.steps):
            step = STEPS[action]
            source = status
            if Party.office_head in step.parties and Party.office_member not in step.parties:
                # The office never decides about its own people's initiatives (no conflict of
                # interest): its deciders are neither the author nor on the team.
                actor_id = self._pick(rng, self.heads, team_ids).id
            elif Party.office_member in step.parties:
                actor_id = self._pick(rng, self.office, team_ids).id
            elif Party.team_lead in step.parties and lead is not None and rng.random() < 0.3:
                actor_id = lead
            else:
                actor_id = author.id
            if step.requires_comment:
                comment = rng.choice(
                    {A.request_revision: REVISION_COMMENTS, A.reject: REJECT_COMMENTS,
                     A.suspend: SUSPEND_COMMENTS, A.cancel: CANCEL_COMMENTS}[action]
                )  # fmt: skip
            elif action in OPTIONAL_COMMENTS and rng.random() < 0.3:
                comment = OPTIONAL_COMMENTS[action]
            else:
                comment = None
            if action == A.resubmit:
                review_round += 1
            if action == A.submit:
                submitted_at = at
            status = step.target
            version += 1
            updated = at
            self.writer.add(
                "transition",
                (plan.id, action.value, source.value, status.value, actor_id, comment,
                 review_round, at),
            )  # fmt: skip
            self.log.record(at, actor_id, "initiative.transitioned", "initiative", plan.id, {
                "action": action.value,
                "changes": {"status": [source.value, status.value]},
                "comment": comment,
                "review_round": review_round,
            })  # fmt: skip
            if action == A.send_to_expertise:
                leave = plan.steps[i + 1] if i + 1 < len(plan.steps) else None
                open_round_conclusions = self._reviews(
                    rng, plan, org, team_ids, review_round, at, leave
                )
        for track in plan.tracks:
            self._initiative_track(rng, plan, author, track)
        title_code = plan.code
        self.writer.add(
            "initiative",
            (plan.id, title_code, int(code_year), int(code_number), data.title, data.summary,
             data.problem, data.goal, _json(data.tasks), data.expected_results, data.kind.value,
             data.education_level.value, data.academic_year, data.start_date, data.end_date,
             _json(data.topics), org, author.id, status.value, review_round,
             search_text(plan.code, data.title, data.summary, " ".join(data.topics)), version,
             created, updated, submitted_at),
        )  # fmt: skip
        self.stats[f"status:{status.value}"] += 1
        self._remember(plan, status, version, open_round_conclusions, team_ids)

    def _remember(
        self,
        plan: Plan,
        status: InitiativeStatus,
        version: int,
        conclusions: int,
        team: set[uuid.UUID],
    ) -> None:
        ids = self.manifest_ids
        if status == S.expertise and conclusions >= self.settings.min_conclusions:
            ids["initiative_in_expertise"] = str(plan.id)
        if len(plan.steps) > ids.get("_longest", 0):
            ids["_longest"] = len(plan.steps)
            ids["initiative_with_history"] = str(plan.id)
        # The load driver acts as one office member: it must not be on these teams (an
        # insider's office step is refused as a conflict of interest).
        actor = self.transition_actor
        if actor.id in team:
            return
        for wanted, key in ((S.in_progress, "in_progress_initiatives"),
                            (S.submitted, "submitted_initiatives")):  # fmt: skip
            listed = ids.setdefault(key, [])
            if status == wanted and len(listed) < 200:
                listed.append(str(plan.id))
        if status in OFFICE_STEP:
            action, comment = OFFICE_STEP[status]
            self.transition_candidates[status] = {
                "id": str(plan.id),
                "status": status.value,
                "version": version,
                "action": action.value,
                "comment": comment,
                "actor_email": actor.email,
            }

    def _reviews(
        self,
        rng: random.Random,
        plan: Plan,
        org: uuid.UUID,
        team: set[uuid.UUID],
        review_round: int,
        opened: datetime,
        leave: tuple[LifecycleAction, datetime] | None,
    ) -> int:
        """One review round: experts assigned while the initiative is in expertise; the decision
        that ends the round comes only once their conclusions are in. Returns the number of
        conclusions submitted."""
        closes = leave[1] if leave else None
        end = closes or self.now
        per_round = self.conclusions_per_round
        wanted = int(per_round) + (rng.random() < per_round - int(per_round))
        if leave is not None and leave[0] == A.approve:
            wanted = max(wanted, self.settings.min_conclusions)
        avoid = set(team)
        submitted = 0
        span = (end - opened).total_seconds()
        for _ in range(wanted):
            declined_first = rng.random() < 0.08
            for attempt in range(2 if declined_first else 1):
                expert = self._expert(rng, org, avoid)
                if expert is None:
                    break
                avoid.add(expert.id)
                assigner = rng.choice(self.office)
                assigned = opened + timedelta(seconds=span * rng.uniform(0.01, 0.25))
                if assigned >= self.now:
                    break
                due = _work_moment(rng, (assigned + timedelta(days=rng.randint(10, 21))).date())
                set_id, criteria = self._criteria_at(assigned)
                position = rng.choices(list(ExpertPosition), [0.55, 0.25, 0.15, 0.05])[0]
                data = ReviewAssign(expert_id=expert.id, position=position, due_at=due)
                review_id = _uuid(rng)
                initiative_ref = str(plan.id)
                self.log.record(assigned, assigner.id, "review.assigned", "review", review_id,
                                {"initiative_id": initiative_ref,
                                 **data.model_dump(mode="json")})  # fmt: skip
                answered = assigned + timedelta(seconds=(end - assigned).total_seconds()
                                                * rng.uniform(0.02, 0.2))  # fmt: skip
                answered = min(answered, due - HOUR) if due - HOUR > assigned else answered
                status, accepted_at, declined_at, submitted_at = "invited", None, None, None
                decline_reason = None
                version = 1
                if attempt == 0 and declined_first:
                    if answered < self.now:
                        status, declined_at, version = "declined", answered, 2
                        decline_reason = rng.choice(DECLINE_REASONS)
                        self.log.record(answered, expert.id, "review.declined", "review",
                                        review_id, {"initiative_id": initiative_ref,
                                                    "reason": decline_reason})  # fmt: skip
                elif answered < self.now and (closes is None or answered < closes):
                    status, accepted_at, version = "accepted", answered, 2
                    self.log.record(answered, expert.id, "review.accepted", "review", review_id,
                                    {"initiative_id": initiative_ref,
                                     "competing_interests": ""})  # fmt: skip
                    done = answered + timedelta(
                        seconds=(end - answered).total_seconds() * rng.uniform(0.3, 0.97)
                    )
                    if closes is not None or done < self.now:
                        status, submitted_at, version = "submitted", done, 3
                if submitted_at is not None:
                    submitted += 1
                    self._conclusion(rng, review_id, expert, criteria, submitted_at, due, leave,
                                     initiative_ref)  # fmt: skip
                self.writer.add(
                    "review_assignment",
                    (review_id, plan.id, review_round, expert.id, position.value, set_id, due,
                     status, assigner.id, None, decline_reason, assigned, accepted_at,
                     declined_at, submitted_at, version),
                )  # fmt: skip
                if status == "invited":
                    break  # still waiting for the answer: no replacement yet
        self.stats["expertise_rounds"] += 1
        return submitted

    def _conclusion(
        self,
        rng: random.Random,
        review_id: uuid.UUID,
        expert: Person,
        criteria: list[tuple[uuid.UUID, str, int]],
        submitted_at: datetime,
        due: datetime,
        leave: tuple[LifecycleAction, datetime] | None,
        initiative_ref: str,
    ) -> Recommendation:
        decision = leave[0] if leave else None
        if decision == A.approve:
            recommendation = rng.choices(
                [Recommendation.approve, Recommendation.approve_with_changes,
                 Recommendation.revise], [0.55, 0.4, 0.05])[0]  # fmt: skip
        elif decision == A.reject:
            recommendation = rng.choices([Recommendation.reject, Recommendation.revise],
                                         [0.7, 0.3])[0]  # fmt: skip
        elif decision == A.request_revision:
            recommendation = rng.choices(
                [Recommendation.revise, Recommendation.approve_with_changes], [0.8, 0.2]
            )[0]
        else:
            recommendation = rng.choice(list(Recommendation))
        level = {
            Recommendation.approve: (4, 5),
            Recommendation.approve_with_changes: (3, 5),
            Recommendation.revise: (2, 4),
            Recommendation.reject: (1, 3),
        }[recommendation]
        for criterion_id, _code, top in criteria:
            score = min(top, rng.randint(*level))
            comment = "Требует уточнения" if score <= 2 and rng.random() < 0.3 else ""
            self.writer.add("conclusion_score", (review_id, criterion_id, score, comment))
        rating, rated_by = None, None
        self.log.record(submitted_at, expert.id, "review.submitted", "review", review_id, {
            "initiative_id": initiative_ref,
            "recommendation": recommendation.value,
            "on_time": submitted_at <= due,
        })  # fmt: skip
        rated_at = _later(rng, submitted_at, 1, 10)
        if rng.random() < 0.5 and rated_at < self.now:
            rater = rng.choice(self.office)
            if rater.id != expert.id:
                rating, rated_by = rng.choices([3, 4, 5], [0.2, 0.45, 0.35])[0], rater.id
                self.log.record(rated_at, rater.id, "review.quality_rated", "review", review_id,
                                {"initiative_id": initiative_ref, "rating": rating})  # fmt: skip
        self.writer.add(
            "conclusion",
            (review_id, recommendation.value, CONCLUSION_SUMMARIES[recommendation],
             rng.choice(FEEDBACK), rating, rated_by, submitted_at),
        )  # fmt: skip
        return recommendation

    # -- consultations --

    def _initiative_track(
        self, rng: random.Random, plan: Plan, author: Person, track: TrackPlan
    ) -> None:
        linked = track.kind == "during"
        self._track(
            rng,
            requester=author,
            created=track.created,
            accepted=track.accepted,
            end=track.closed,
            sessions=track.sessions,
            initiative_id=plan.id if linked else None,
            outcome="idea_developed_further" if linked else "initiative_submitted",
            closing_initiative=None if linked else plan.id,
            # What the service reads when the track is closed with the initiative named.
            initiative_status=None
            if linked or track.closed is None
            else plan.status_at(track.closed),
        )

    def _track(
        self,
        rng: random.Random,
        *,
        requester: Person,
        created: datetime,
        accepted: datetime | None,
        end: datetime | None,
        sessions: int,
        initiative_id: uuid.UUID | None,
        outcome: str | None,
        closing_initiative: uuid.UUID | None = None,
        initiative_status: InitiativeStatus | None = None,
        declined: datetime | None = None,
    ) -> None:
        track_id = _uuid(rng)
        data = ConsultationCreate(
            topic=rng.choice(CONSULTATION_TOPICS),
            description=rng.choice(PROBLEMS),
            preferred_format=rng.choice(list(ConsultationFormat)) if rng.random() < 0.6 else None,
            initiative_id=initiative_id,
        )
        self.log.record(created, requester.id, "consultation.requested", "consultation",
                        track_id, data.model_dump(mode="json"))  # fmt: skip
        version, updated = 1, created
        status = "requested"
        consultants: list[Person] = []
        accepted_at = first_session = closed_at = None
        decline_reason = close_comment = None
        count = 0
        if declined is not None:
            status, closed_at, updated, version = "declined", declined, declined, 2
            decline_reason = "Запрос относится к ведению методического центра"
            self.log.record(declined, rng.choice(self.office).id, "consultation.declined",
                            "consultation", track_id,
                            {"changes": {"status": ["requested", "declined"]},
                             "reason": decline_reason})  # fmt: skip
        elif accepted is not None:
            pool = self.office if rng.random() < 0.5 else self.experts
            consultants = [self._pick(rng, pool, {requester.id})]
            if rng.random() < 0.3:
                extra = self._pick(rng, self.office, {requester.id, consultants[0].id})
                consultants.append(extra)
            accepted_at, status, version, updated = accepted, "active", 2, accepted
            for c in consultants:
                self.writer.add("consultation_consultant", (track_id, c.id, accepted))
            diff = ConsultationUpdate(consultant_ids=[c.id for c in consultants]).model_dump(
                mode="json", exclude_unset=True
            )
            self.log.record(accepted, rng.choice(self.office).id, "consultation.accepted",
                            "consultation", track_id, {"changes": {
                                "consultant_ids": [[], diff["consultant_ids"]],
                                "status": ["requested", "active"]}})  # fmt: skip
            window_end = end or self.now
            span = (window_end - accepted).total_seconds()
            held = sorted(accepted + timedelta(seconds=span * rng.uniform(0.02, 0.95))
                          for _ in range(sessions))  # fmt: skip
            for held_at in held:
                recorded = min(held_at + timedelta(hours=rng.uniform(0.5, 30)), window_end)
                if recorded <= held_at:
                    recorded = held_at + timedelta(minutes=1)
                if recorded > self.now:
                    continue
                count += 1
                first_session = first_session or held_at
                consultant = rng.choice(consultants)
                attendees = [requester.id] + [c.id for c in consultants]
                session = SessionCreate(
                    held_at=held_at,
                    format=rng.choice(list(ConsultationFormat)),
                    duration_minutes=rng.choice([30, 45, 60, 90, 120]),
                    notes=rng.choice(SESSION_NOTES),
                    next_steps=rng.choice(NEXT_STEPS),
                    attendee_ids=attendees,
                )
                session_id = _uuid(rng)
                self.writer.add(
                    "consultation_session",
                    (session_id, track_id, held_at, session.format.value,
                     session.duration_minutes, session.notes, session.next_steps, consultant.id,
                     1, recorded, recorded),
                )  # fmt: skip
                for person_id in attendees:
                    self.writer.add("consultation_session_attendee", (session_id, person_id))
                version += 1
                updated = recorded
                self.log.record(recorded, consultant.id, "consultation.session_recorded",
                                "consultation", track_id, {
                                    "session_id": str(session_id),
                                    **session.model_dump(mode="json",
                                                         exclude={"notes", "next_steps"}),
                                    "session_count": count,
                                    "hours_since_request": hours_between(created, held_at),
                                })  # fmt: skip
            if end is not None and outcome is not None and end <= self.now:
                closed_at = max(end, updated + timedelta(minutes=1))
                status, version, updated = "closed", version + 1, closed_at
                close_comment = CLOSE_COMMENTS[outcome]
                if closing_initiative is not None:
                    initiative_id = closing_initiative
                self.log.record(closed_at, rng.choice(consultants).id, "consultation.closed",
                                "consultation", track_id, {
                                    "changes": {"status": ["active", "closed"]},
                                    "outcome": outcome,
                                    "comment": close_comment,
                                    "initiative_id": str(initiative_id) if initiative_id
                                    else None,
                                    "initiative_status": initiative_status.value
                                    if closing_initiative and initiative_status else None,
                                    "session_count": count,
                                    "hours_to_first_session": hours_between(created, first_session),
                                })  # fmt: skip
            else:
                outcome = None
        if status != "closed":
            outcome = None
        self.writer.add(
            "consultation_track",
            (track_id, data.topic, data.description,
             data.preferred_format.value if data.preferred_format else None, initiative_id,
             requester.id, status, outcome, close_comment, decline_reason, accepted_at,
             first_session, count, closed_at, search_text(data.topic, data.description),
             version, created, updated),
        )  # fmt: skip
        self.stats["consultation_sessions"] += count
        if count >= 2:
            self.manifest_ids["consultation_with_sessions"] = str(track_id)

    def idea_tracks(self) -> Iterator[tuple[datetime, int, str, Any]]:
        """Consultations about ideas without an initiative, filling the sessions' target."""
        rng = random.Random(self.seed * 104729 + 3)
        count = max(1, math.ceil(self.idea_sessions / 2.5))
        for i, created in enumerate(self._moments(rng, count, self.start)):
            yield created, 2, "idea", (i, created)

    def idea_track(self, i: int, created: datetime) -> None:
        rng = random.Random((self.seed << 33) ^ (i * 40503))
        requester = rng.choice(self.authors)
        age = (self.now - created).days
        declined = accepted = end = None
        if rng.random() < 0.08:
            declined = _later(rng, created, 1, 7)
            if declined >= self.now:
                declined = None
        elif not (age < 10 and rng.random() < 0.5):
            accepted = _later(rng, created, 0.1, 7)
            if accepted >= self.now:
                accepted = None
            elif age > 60 and rng.random() < 0.9:
                end = _later(rng, accepted, 10, 120)
                if end >= self.now:
                    end = None
        outcome = rng.choices(
            ["idea_developed_further", "redirected", "abandoned"], [0.45, 0.2, 0.35]
        )[0]
        self._track(
            rng,
            requester=requester,
            created=created,
            accepted=accepted,
            end=end,
            sessions=rng.randint(1, 4) if accepted else 0,
            initiative_id=None,
            outcome=outcome,
            declined=declined,
        )

    # -- network events --

    def network_moments(self) -> Iterator[tuple[datetime, int, str, Any]]:
        rng = random.Random(self.seed * 15485863 + 5)
        for i, held in enumerate(self._moments(rng, self.sizes.network_events, self.start)):
            recorded = min(held + timedelta(hours=rng.uniform(2, 72)), self.now - HOUR)
            yield max(recorded, held), 1, "network", (i, held, max(recorded, held))

    def network_event(self, i: int, held: datetime, recorded: datetime) -> None:
        rng = random.Random((self.seed << 34) ^ (i * 2246822519))
        organizer = rng.choice(self.members)
        kind, label, _ = rng.choices(EVENT_KINDS, [w for _, _, w in EVENT_KINDS])[0]
        size = 40 if kind == NetworkEventKind.conference else rng.randint(2, 15)
        people: list[uuid.UUID] = []
        seen = {organizer.id}
        colleagues = self.by_org.get(organizer.organization_id, [])
        for _ in range(size):
            pool = colleagues if colleagues and rng.random() < 0.4 else self.members
            person = rng.choice(pool)
            if person.id not in seen:
                seen.add(person.id)
                people.append(person.id)
        org_of = self.org_of
        orgs = list(dict.fromkeys(
            org_of[p] for p in people if org_of.get(p) not in (None, organizer.organization_id)
        ))[:6]  # fmt: skip
        initiative_id = None
        if rng.random() < 0.35:
            upto = bisect_left(self.started, (held, -1))
            if upto:
                initiative_id = self.plans[self.started[rng.randrange(upto)][1]].id
        topic = rng.choice(TOPICS)
        if kind == NetworkEventKind.open_lesson:
            title = f"{label} {rng.choice(SUBJECTS)}: {topic}"
        else:
            title = f"{label} «{topic[0].upper()}{topic[1:]} на уроках {rng.choice(SUBJECTS)}»"
        host = self.org_short[organizer.organization_id]
        data = NetworkEventCreate(
            title=title,
            kind=kind,
            description=f"{rng.choice(GOALS)}. {rng.choice(TASKS)}.",
            location=f"{host}, актовый зал" if rng.random() < 0.8 else "Онлайн",
            held_at=held,
            organization_ids=orgs,
            participant_ids=people,
            initiative_id=initiative_id,
        )
        event_id = _uuid(rng)
        self.writer.add(
            "network_event",
            (event_id, data.title, data.kind.value, data.description, data.location, held,
             organizer.id, organizer.organization_id, initiative_id, organizer.id,
             search_text(data.title, data.description, data.location), 1, recorded, recorded),
        )  # fmt: skip
        for person_id in people:
            self.writer.add("network_event_participant", (event_id, person_id))
        for org_id in orgs:
            self.writer.add("network_event_organization", (event_id, org_id))
        self.log.record(
            recorded,
            organizer.id,
            "network_event.created",
            "network_event",
            event_id,
            {
                **data.model_dump(mode="json"),
                "organizer_id": str(organizer.id),
                "organizer_organization_id": str(organizer.organization_id),
            },
        )
        self.manifest_ids["network_event"] = str(event_id)

    # -- service-driven parts: the charter and the meetings --

    def scheduled(self) -> list[tuple[datetime, Callable[[Session], None]]]:
        """(moment, action through the services at that moment), for the charter and meetings."""
        return [*self._charter_schedule(), *self._meeting_schedule()]

    def _charter_schedule(self) -> list[tuple[datetime, Callable[[Session], None]]]:
        rng = random.Random(self.seed * 7 + 11)
        head = self.heads[0].principal()
        moderator = self.office[-1].principal()
        state: dict[str, Any] = {}
        out: list[tuple[datetime, Callable[[Session], None]]] = []

        # When each version takes effect: its acknowledgements stop when the next one does.
        effective_dates: list[date] = []

        def adopt(sections: list[SectionIn] | None, key: str | None, summary: str,
                  effective: date) -> Callable[[Session], None]:  # fmt: skip
            effective_dates.append(effective)

            def run(session: Session) -> None:
                data = CharterVersionCreate(
                    sections=sections,
                    amendment_ids=[state[key]] if key else None,
                    effective_from=effective,
                    summary=summary,
                )
                version = adoption.adopt_version(session, actor=head, data=data)
                state["latest"] = version.number
                version_id = session.scalars(
                    select(col(CharterVersion.id)).where(
                        col(CharterVersion.number) == version.number
                    )
                ).one()
                later = [d for d in effective_dates if d > effective]
                self._acknowledgements(
                    rng, version.number, version_id, effective, min(later) if later else None
                )

            return run

        def propose(key: str, title: str, changes: list[Any], rationale: str,
                    proposer: Person) -> Callable[[Session], None]:  # fmt: skip
            def run(session: Session) -> None:
                amendment = amendments.create_amendment(
                    session,
                    actor=proposer.principal(),
                    data=AmendmentCreate(title=title, changes=changes, rationale=rationale),
                )
                state[key] = amendment.id

            return run

        def move(key: str, action: AmendmentAction) -> Callable[[Session], None]:
            def run(session: Session) -> None:
                amendment = amendments.transition(
                    session,
                    actor=moderator,
                    amendment_id=state[key],
                    data=AmendmentTransitionCreate(action=action),
                    if_match=None,
                )
                if action == AmendmentAction.open_voting:
                    assert amendment.voting_closes_at is not None
                    self._votes(
                        rng,
                        state[key],
                        amendment.voting_opened_at,
                        min(amendment.voting_closes_at, self.now),
                        key == "blocked",
                    )

            return run

        def comment(
            key: str, author: Person, words: str, section: str
        ) -> Callable[[Session], None]:
            def run(session: Session) -> None:
                discussion.add_comment(
                    session,
                    actor=author.principal(),
                    amendment_id=state[key],
                    data=CommentCreate(text=words, section_key=section),
                )

            return run

        first = self.first_year
        out.append(
            (
                datetime(first, 8, 30, 5, tzinfo=UTC),
                adopt(
                    [SectionIn(key=k, title=t, text=x) for k, t, x in FIRST_CHARTER],
                    None,
                    "Первая редакция устава инновационно-методической сети",
                    date(first, 9, 1),
                ),
            )
        )
        proposals: list[tuple[str, str, list[Any], str, int, str | None]] = [
            ("formats", "Неформальные форматы встреч сети",
             [ModifySection(op="modify", key="meetings", text=MEETINGS_V2)],
             "Заседания стали формальными: живые форматы и повестка от участников помогают "
             "сети жить без автора.", first,
             "Неформальные форматы встреч и повестка от участников"),
            ("mentoring", "Наставничество в сети",
             [AddSection(op="add", key="mentoring", title="Наставничество", text=MENTORING,
                         after="roles")],
             "Новые участники не решаются предложить замысел: им нужен сопровождающий из сети.",
             first + 1, "Наставничество"),
            ("self", "Сеть оценивает свою жизнеспособность",
             [AddSection(op="add", key="self_organisation", title="Как сеть оценивает себя",
                         text=SELF_ORGANISATION)],
             "Главный вопрос сети — живёт ли она без автора; ответ нужно искать регулярно.",
             first + 2, "Ежегодная оценка жизнеспособности сети"),
            ("blocked", "Голосование только очно",
             [ModifySection(op="modify", key="changes", text="Участники голосуют только очно "
                            "на заседании проектного офиса.")],
             "Очное голосование надёжнее.", first + 3, None),
            ("rules", "Правило принятия поправок",
             [ModifySection(op="modify", key="changes", text=VOTING_RULES)],
             "Правило кворума и порога должно быть записано в самом уставе.", first + 4,
             "Кворум и порог принятия поправок в тексте устава"),
        ]  # fmt: skip
        proposers = self.by_role[Role.participant] or self.members
        for key, title, changes, rationale, year, summary in proposals:
            created = datetime(year, 10, 4, 6, tzinfo=UTC)
            proposer = rng.choice(proposers)
            out.append((created, propose(key, title, changes, rationale, proposer)))
            out.append((created + 2 * DAY, move(key, AmendmentAction.open_discussion)))
            for n in range(3):
                speaker = rng.choice(self.members)
                words = rng.choice(["Поддерживаю.", "Кто будет фиксировать итоги?",
                                    "Предлагаю уточнить формулировку.", "Это поможет новым "
                                    "участникам сети."])  # fmt: skip
                section = changes[0].key
                out.append((created + (3 + n) * DAY, comment(key, speaker, words, section)))
            out.append((created + 16 * DAY, move(key, AmendmentAction.open_voting)))
            closes = created + 16 * DAY + timedelta(days=self.settings.charter_voting_days)
            out.append((closes + DAY, move(key, AmendmentAction.close_voting)))
            if summary is not None:
                out.append((closes + 8 * DAY, adopt(None, key, summary,
                                                    (closes + 12 * DAY).date())))  # fmt: skip
        # One in voting now, one in discussion.
        live: list[tuple[str, str, list[Any], str, datetime, bool]] = [
            (
                "live",
                "Открытые данные сети",
                [
                    AddSection(
                        op="add",
                        key="open_data",
                        title="Открытые данные",
                        text="Сеть публикует обезличенные данные о своих событиях и "
                        "инициативах для исследователей и муниципалитета.",
                    )
                ],
                "Открытость помогает сети расти.",
                self.now - 6 * DAY,
                True,
            ),
            (
                "talk",
                "Сетевые роли выпускников проектов",
                [
                    ModifySection(
                        op="modify",
                        key="roles",
                        text="В сети действуют участники, "
                        "эксперты, наставники и члены проектного офиса.",
                    )
                ],
                "Выпускники проектов становятся наставниками.",
                self.now - 4 * DAY,
                False,
            ),
        ]
        for key, title, edits, rationale, created, voting in live:
            proposer = rng.choice(proposers)
            out.append((created, propose(key, title, edits, rationale, proposer)))
            out.append((created + DAY, move(key, AmendmentAction.open_discussion)))
            if voting:
                out.append((created + 3 * DAY, move(key, AmendmentAction.open_voting)))

        def finish(session: Session) -> None:
            latest = state["latest"]
            self.manifest_ids["charter"] = {
                "latest_version": latest,
                "previous_version": latest - 1,
                "amendment_in_voting": str(state["live"]),
            }

        out.append((self.now - timedelta(minutes=1), finish))
        return out

    def _votes(
        self,
        rng: random.Random,
        amendment_id: uuid.UUID,
        opened: datetime | None,
        closes: datetime,
        blocked: bool,
    ) -> None:
        """Bulk votes: enough members for the quorum, or a few while a vote is still open."""
        assert opened is not None
        members = list(self.members)
        live = closes >= self.now - timedelta(seconds=1)
        share = rng.uniform(0.02, 0.08) if live else rng.uniform(0.55, 0.7)
        voters = rng.sample(members, max(1, int(len(members) * share)))
        span = (closes - opened).total_seconds() * 0.98
        for n, person in enumerate(voters):
            at = opened + timedelta(seconds=span * rng.random())
            if at >= self.now:
                continue
            choice = rng.choices(["agree", "abstain", "disagree"], [0.8, 0.1, 0.1])[0]
            reason = None
            if blocked and n == 0:
                choice, reason = "block", "Очное голосование исключит тех, кто работает в сёлах"
            self.writer.add("charter_vote", (amendment_id, person.id, choice, reason, at, at))
            self.log.record(
                at,
                person.id,
                "charter_amendment.voted",
                "charter_amendment",
                amendment_id,
                {"vote": choice, "reason": reason, "previous": None},
            )

    def _acknowledgements(
        self, rng: random.Random, number: int, version_id: uuid.UUID, start: date, end: date | None
    ) -> None:
        """A share of the members agree with the version while it is the one in force."""
        first = datetime(start.year, start.month, start.day, 5, tzinfo=UTC)
        last = self.now if end is None else datetime(end.year, end.month, end.day, tzinfo=UTC)
        last = min(last - HOUR, self.now - HOUR)
        if last <= first:
            return
        span = (last - first).total_seconds()
        for person in rng.sample(self.members, int(len(self.members) * 0.3)):
            at = first + timedelta(seconds=span * rng.random())
            self.writer.add("charter_acknowledgement", (number, person.id, at))
            self.log.record(at, person.id, "charter_version.acknowledged", "charter_version",
                            version_id, {"number": number})  # fmt: skip

    def _meeting_schedule(self) -> list[tuple[datetime, Callable[[Session], None]]]:
        rng = random.Random(self.seed * 13 + 19)
        out: list[tuple[datetime, Callable[[Session], None]]] = []
        head = self.heads[0]
        staff = list({p.id: p for p in [*self.heads[:2], *self.office[:10]]}.values())
        formats = list(MeetingFormat)
        planned_one = False
        for year in range(self.first_year, self.first_year + YEARS):
            for n, (y, month) in enumerate([(year, 10), (year, 11), (year, 12), (year + 1, 2),
                                            (year + 1, 3), (year + 1, 4), (year + 1, 5),
                                            (year + 1, 6)]):  # fmt: skip
                day = date(y, month, 20)
                day += timedelta(days=(3 - day.weekday()) % 7)  # a Thursday
                moment = datetime(day.year, day.month, day.day, 9, tzinfo=UTC)
                if moment - timedelta(days=14) > self.now:
                    continue
                future = moment > self.now
                if future and planned_one:
                    continue
                planned_one = planned_one or future
                fmt = formats[0] if n % 3 == 0 else rng.choice(formats)
                cancelled = not future and n == 4 and rng.random() < 0.5
                out.extend(self._meeting(rng, moment, fmt, head, staff, future, cancelled))
        return out

    def _meeting(
        self,
        rng: random.Random,
        moment: datetime,
        fmt: MeetingFormat,
        head: Person,
        staff: list[Person],
        future: bool,
        cancelled: bool,
    ) -> list[tuple[datetime, Callable[[Session], None]]]:
        state: dict[str, Any] = {}
        actor = head.principal()
        recent = [
            (at, index, action)
            for at, index, action in self.decided[
                bisect_left(
                    self.decided, (moment - timedelta(days=30), -1, A.approve)
                ) : bisect_left(self.decided, (moment - timedelta(days=15), -1, A.approve))
            ]
        ][: rng.randint(2, 5)]
        titles = {
            MeetingFormat.formal_session: "Рассмотрение проектов и программ сети",
            MeetingFormat.reflective_session: "Рефлексивная сессия: что сеть делает сама",
            MeetingFormat.open_space: "Открытое пространство: замыслы участников",
            MeetingFormat.expert_lab: "Экспертная лаборатория: как читать замысел",
            MeetingFormat.world_cafe: "Мировое кафе: партнёрства школ",
            MeetingFormat.pitch_session: "Питч-сессия новых замыслов",
            MeetingFormat.strategy_session: "Стратегическая сессия проектного офиса",
        }

        def create(session: Session) -> None:
            meeting = planning.create_meeting(
                session,
                actor=actor,
                data=MeetingCreate(
                    title=titles[fmt],
                    scheduled_at=moment,
                    format=fmt,
                    place="МБУ «Центр развития образования», конференц-зал",
                    facilitator_id=head.id,
                    attendees=[AttendeeIn(user_id=p.id) for p in staff],
                ),
            )
            state["id"] = meeting.id
            items: list[tuple[uuid.UUID, LifecycleAction | None]] = []
            for _, index, action in recent:
                item = agenda.add_agenda_item(
                    session,
                    actor=actor,
                    meeting_id=meeting.id,
                    data=AgendaItemCreate(
                        kind=AgendaItemKind.initiative_review
                        if action != A.complete
                        else AgendaItemKind.project_report,
                        initiative_id=self.plans[index].id,
                        time_box_minutes=rng.choice([10, 15, 20]),
                    ),
                )
                items.append((item.id, action))
            item = agenda.add_agenda_item(
                session,
                actor=actor,
                meeting_id=meeting.id,
                data=AgendaItemCreate(
                    kind=AgendaItemKind.reflection,
                    title="Что получилось и что менять в работе офиса",
                    presenter_id=head.id,
                    time_box_minutes=30,
                ),
            )
            items.append((item.id, None))
            state["items"] = items

        def hold(session: Session) -> None:
            if cancelled:
                planning.update_meeting(
                    session,
                    actor=actor,
                    meeting_id=state["id"],
                    data=MeetingUpdate(
                        status=MeetingStatus.cancelled,
                        cancellation_reason="Совпало с муниципальной аттестацией педагогов",
                    ),
                    if_match=None,
                )
                return
            planning.update_meeting(
                session,
                actor=actor,
                meeting_id=state["id"],
                data=MeetingUpdate(
                    status=MeetingStatus.held,
                    attendees=[AttendeeIn(user_id=p.id, attended=rng.random() < 0.85)
                               for p in staff],
                ),
                if_match=None,
            )  # fmt: skip
            self.manifest_ids["held_meeting"] = str(state["id"])
            texts = {
                A.approve: "Поддержать, рекомендовать к реализации",
                A.reject: "Согласиться с заключениями экспертов: замысел отклонён",
                A.complete: "Принять итоги проекта к сведению, опыт представить сети",
                None: "Попробовать новый формат на следующем заседании",
            }
            for item_id, action in state["items"]:
                votes = (len(staff) - 1, 0, 1) if action in (A.approve, A.reject) else None
                decisions.record_decision(
                    session,
                    actor=actor,
                    meeting_id=state["id"],
                    data=DecisionCreate(
                        agenda_item_id=item_id,
                        text=texts[action],
                        **dict(zip(("votes_for", "votes_against", "votes_abstain"),
                                   votes or (), strict=False)),
                    ),
                )  # fmt: skip
            planning.update_meeting(
                session,
                actor=actor,
                meeting_id=state["id"],
                data=MeetingUpdate(
                    reflection=ReflectionIn(
                        what_worked="Работа в малых группах по замыслам",
                        insights="Авторам важнее вопросы, чем оценки",
                        to_change="Давать докладчикам 5 минут, не 15",
                    )
                ),
                if_match=None,
            )

        out: list[tuple[datetime, Callable[[Session], None]]] = [
            (moment - timedelta(days=14), create)
        ]
        if not future:
            out.append((moment + 2 * HOUR, hold))
        return out

    # -- the run --

    def run(self) -> None:
        self.people()
        self.criteria_sets()
        self.plan()
        self.progress.set_phase("initiatives, reviews, events")
        initiatives = ((p.created, 0, "initiative", p) for p in self.plans)
        scheduled = sorted(self.scheduled(), key=lambda s: s[0])
        callbacks = ((at + LAG, 3, "service", (at, fn)) for at, fn in scheduled)
        streams = heapq.merge(
            initiatives, self.network_moments(), self.idea_tracks(), callbacks,
            key=lambda item: (item[0], item[1]),
        )  # fmt: skip
        for key, _, kind, payload in streams:
            if kind == "initiative":
                self.initiative(payload)
            elif kind == "network":
                self.network_event(*payload)
            elif kind == "idea":
                self.idea_track(*payload)
            else:
                at, fn = payload
                self._service(at, fn)
                continue
            self.log.release(key - LAG)
            self.writer.maybe_flush()
        self.log.release(None)
        for year, last in sorted(self.counters.items()):
            self.writer.add("initiative_code_counter", (year, last))
        self.writer.flush()
        self.conn.commit()

    def _service(self, at: datetime, fn: Callable[[Session], None]) -> None:
        """Runs a service-driven step at its moment, after every earlier event is written."""
        self.log.release(at)
        self.writer.flush()
        if not self.conn.in_transaction():
            self.conn.begin()
        session = Session(bind=self.conn, autoflush=True, expire_on_commit=False)
        try:
            with clock_at(min(at, self.now)):
                fn(session)
                session.flush()
        finally:
            session.close()


# --- entry points -----------------------------------------------------------------------------


def _migrate(url: str) -> None:
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.upgrade(config, "head")


def _tune(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        # Durability is pointless while a throw-away dataset is loaded; the page cache is not.
        # Outside any transaction (SQLite refuses the first one inside), so on the raw cursor.
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        for pragma in ("synchronous=OFF", "cache_size=-400000", "temp_store=MEMORY"):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()
    else:
        conn.exec_driver_sql("SET synchronous_commit = off")


def seed(
    database_url: str,
    *,
    scale: float = 1.0,
    seed: int = 1,
    now: datetime | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Seed an empty database and return the manifest (see the module docstring)."""
    started = time.perf_counter()
    url = normalize_url(database_url)
    _migrate(url)
    engine = build_engine(url, pool_size=1)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        with engine.connect() as conn:
            users = metadata.tables["app_user"]
            if conn.execute(select(func.count()).select_from(users)).scalar_one():
                raise SystemExit(f"{make_url(url).render_as_string()}: not empty; use an empty one")
            conn.commit()
            _tune(conn)
            generator = Generator(conn, scale=scale, seed=seed, now=moment)
            generator.progress.quiet = quiet
            generator.run()
            generator.progress.set_phase("ANALYZE")
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
            counts = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in metadata.sorted_tables
            }
            generator.progress.close()
    finally:
        engine.dispose()
    g = generator
    kinds = {
        Role.admin: "admin",
        Role.office_head: "head",
        Role.office_member: "office",
        Role.expert: "expert",
        Role.participant: "teacher",
        Role.observer: "observer",
    }
    logins = {
        role.value: [p.email for p in g.active if p.kind == kind][:5]
        for role, kind in kinds.items()
    }
    emails = {e for es in logins.values() for e in es}
    # None only in tiny datasets that happen to have no such thing.
    ids: dict[str, Any] = dict.fromkeys(
        ("initiative_in_expertise", "consultation_with_sessions", "held_meeting")
    )
    ids.update({k: v for k, v in g.manifest_ids.items() if not k.startswith("_")})
    ids["initiative_for_transition"] = next(
        (g.transition_candidates[s] for s in OFFICE_STEP if s in g.transition_candidates), None
    )
    ids["organization"] = str(g.people_list[5].organization_id)
    return {
        "database": make_url(url).render_as_string(hide_password=True),
        "dialect": make_url(url).get_backend_name(),
        "scale": scale,
        "seed": seed,
        "now": moment.isoformat(),
        "seconds": round(time.perf_counter() - started, 1),
        "password": PASSWORD,
        "counts": counts,
        "initiatives_by_status": {s.value: g.stats[f"status:{s.value}"] for s in InitiativeStatus},
        "academic_years": g.years,
        "logins": logins,
        "user_ids": {p.email: str(p.id) for p in g.people_list if p.email in emails},
        "ids": ids,
    }


def main(argv: Iterable[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///FILE or postgresql://…")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 100 000 initiatives")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--manifest", type=Path, help="write the manifest here as JSON")
    args = parser.parse_args(list(argv) if argv is not None else None)
    manifest = seed(args.database_url, scale=args.scale, seed=args.seed)
    if args.manifest:
        args.manifest.parent.mkdir(parents=True, exist_ok=True)
        args.manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
    counts = manifest["counts"]
    print(
        f"seeded in {manifest['seconds']} s: {counts['initiative']} initiatives, "
        f"{counts['conclusion']} conclusions, {counts['consultation_session']} consultation "
        f"sessions, {counts['network_event']} network events, {counts['event']} events; "
        f"sign in as {manifest['logins']['office_head'][0]} / {PASSWORD}"
    )


if __name__ == "__main__":
    main()
