"""The network's demo life: its first charter, one amendment adopted into version 2 and one
being voted on now, and the events of 2020-2022 that link its schools and teachers.

Everything goes through the services at the dates it happened; the amendment in voting is
dated relative to now and to the voting window of the settings, so its vote is open when the
demo is loaded.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from app.config import get_settings
from app.models import Initiative, NetworkEventKind, Organization, User
from app.models.base import clock_at, utcnow
from app.schemas.charter import (
    AddSection,
    AmendmentCreate,
    AmendmentTransitionCreate,
    CharterVersionCreate,
    CommentCreate,
    ModifySection,
    SectionIn,
    VoteCast,
)
from app.schemas.network import NetworkEventCreate
from app.security import Principal
from app.services import charter, network
from app.services.charter_workflow import AmendmentAction
from app.services.principals import load_principal

HEAD, MEMBER, MEMBER2 = "head@example.org", "member@example.org", "member2@example.org"
EXPERT, EXPERT2 = "expert@example.org", "expert2@example.org"
TEACHER, TEACHER2, TEACHER3 = "teacher@example.org", "teacher2@example.org", "teacher3@example.org"


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


FIRST_CHARTER = [
    (
        "purpose",
        "Назначение сети",
        "Инновационно-методическая сеть Чайковского городского округа объединяет педагогов и "
        "образовательные организации, которые вместе рождают, продвигают и реализуют "
        "инициативы. Сеть живёт и развивается сама, а не благодаря одному проекту или одному "
        "человеку. Проектный офис — место, где фиксируется, как живёт сеть, обсуждаются её "
        "правила и рождаются инициативы.",
    ),
    (
        "membership",
        "Участники сети",
        "Участником сети может стать любой педагог и любая образовательная организация округа, "
        "согласные с этим уставом. Участник подтверждает согласие с действующей редакцией "
        "устава. Центры инновационного опыта (МАОУ Гимназия, СОШ № 7, СОШ № 10) открывают "
        "свои площадки для событий сети.",
    ),
    (
        "roles",
        "Роли и позиции",
        "В сети действуют участники, эксперты и члены проектного офиса. Эксперты растут по "
        "позициям: содержательный эксперт, системный эксперт-методолог, развивающий эксперт, "
        "развиватель. Руководитель проектного офиса принимает новые редакции устава по "
        "решению сети.",
    ),
    (
        "initiatives",
        "Как рождаются инициативы",
        "Любой участник может предложить проектный замысел. Проектный офис консультирует и "
        "сопровождает замыслы, организует их экспертизу и помогает найти партнёров в сети. "
        "Одобренные инициативы реализуются командами из разных организаций.",
    ),
    (
        "meetings",
        "Как проходят встречи",
        "Сеть собирается на заседания проектного офиса не реже одного раза в четверть. "
        "Повестку заседания готовит проектный офис и рассылает участникам заранее.",
    ),
    (
        "changes",
        "Как меняются правила",
        "Любой участник может предложить поправку к уставу с обоснованием. Поправку обсуждают, "
        "затем участники сети голосуют: «За», «Воздержался», «Против» или «Блокирую» с "
        "обоснованием. Принятые поправки руководитель проектного офиса сводит в новую редакцию "
        "устава.",
    ),
]

MEETINGS_V2 = (
    "Сеть собирается не реже одного раза в четверть. Кроме заседаний проектного офиса сеть "
    "проводит встречи в неформальных форматах: рефлексивные сессии, открытое пространство, "
    "экспертные лаборатории, мировое кафе. Повестку предлагают сами участники; проектный офис "
    "помогает её собрать и фиксирует итоги встречи."
)
MENTORING = (
    "Опытные участники сети сопровождают тех, кто делает первые шаги в проектной работе. "
    "Наставник помогает оформить замысел, найти партнёров и подготовиться к экспертизе; "
    "проектный офис ведёт перечень наставников и их подопечных."
)


@dataclass(frozen=True, slots=True)
class DemoEvent:
    title: str
    kind: NetworkEventKind
    held_at: datetime
    location: str
    by: str
    people: list[str]
    orgs: list[str]
    initiative: str | None  # the start of the linked initiative's title


EVENTS = [
    DemoEvent(
        title="Сетевая встреча проекта «Чайковское метро»: общие приёмы смыслового чтения",
        kind=NetworkEventKind.network_project_meeting,
        held_at=at(2020, 11, 12),
        location="МАОУ Гимназия",
        by=EXPERT,
        people=[TEACHER, TEACHER2, EXPERT2],
        orgs=["МБОУ СОШ № 1", "МБОУ СОШ № 7", "МБОУ СОШ № 10"],
        initiative="«Чайковское метро»",
    ),
    DemoEvent(
        title="Семинар «Смысловое чтение в начальной школе: банк заданий кластера»",
        kind=NetworkEventKind.seminar,
        held_at=at(2021, 2, 17),
        location="МБОУ СОШ № 7 (с. Уральское)",
        by=TEACHER,
        people=[TEACHER3, EXPERT],
        orgs=["МАОУ Гимназия", "МБОУ ООШ № 12"],
        initiative="Смысловое чтение как основа",
    ),
    DemoEvent(
        title="Мастер-класс «Приёмы 4К на уроках в начальной школе»",
        kind=NetworkEventKind.master_class,
        held_at=at(2021, 10, 21),
        location="МБОУ СОШ № 10",
        by=EXPERT2,
        people=[TEACHER3, TEACHER],
        orgs=["МБОУ ООШ № 12", "МБОУ СОШ № 7"],
        initiative="От инициативы ФГОС 4.0",
    ),
    DemoEvent(
        title="Открытый урок математики: текстовые задачи и смысловое чтение",
        kind=NetworkEventKind.open_lesson,
        held_at=at(2021, 11, 25),
        location="МБОУ «Фокинская СОШ»",
        by=TEACHER2,
        people=[TEACHER, EXPERT2],
        orgs=["МБОУ СОШ п. Прикамский"],
        initiative="Миссия выполнима",
    ),
    DemoEvent(
        title="Экспертная лаборатория «Как читать проектный замысел»",
        kind=NetworkEventKind.lab,
        held_at=at(2021, 12, 9),
        location="МБУ ЦРО",
        by=MEMBER,
        people=[EXPERT, EXPERT2, TEACHER, HEAD],
        orgs=["МАОУ Гимназия", "МБОУ СОШ № 10", "МБОУ СОШ № 7"],
        initiative="Проектный офис+",
    ),
    DemoEvent(
        title="Муниципальная конференция инновационных практик «Сеть, которая живёт сама»",
        kind=NetworkEventKind.conference,
        held_at=at(2022, 4, 14),
        location="Управление образования",
        by=MEMBER2,
        people=[HEAD, MEMBER, EXPERT, EXPERT2, TEACHER, TEACHER2, TEACHER3],
        orgs=[
            "МАОУ Гимназия",
            "МБОУ СОШ № 1",
            "МБОУ СОШ № 7",
            "МБОУ СОШ № 10",
            "МБОУ ООШ № 12",
            "МБОУ «Фокинская СОШ»",
            "МБОУ СОШ п. Прикамский",
        ],
        initiative=None,
    ),
]


def load(session: Session) -> None:
    people: dict[str, Principal] = {}

    def who(email: str) -> Principal:
        if email not in people:
            user_id = session.scalars(select(col(User.id)).where(col(User.email) == email)).one()
            found = load_principal(session, str(user_id))
            assert found is not None
            people[email] = found
        return people[email]

    def move(amendment_id: uuid.UUID, action: AmendmentAction, email: str, when: datetime) -> None:
        with clock_at(when):
            charter.transition(
                session,
                actor=who(email),
                amendment_id=amendment_id,
                data=AmendmentTransitionCreate(action=action),
                if_match=None,
            )

    def comment(amendment_id: uuid.UUID, email: str, when: datetime, text: str, key: str) -> None:
        with clock_at(when):
            charter.add_comment(
                session,
                actor=who(email),
                amendment_id=amendment_id,
                data=CommentCreate(text=text, section_key=key),
            )

    def vote(amendment_id: uuid.UUID, email: str, when: datetime, choice: str) -> None:
        with clock_at(when):
            charter.cast_vote(
                session,
                actor=who(email),
                amendment_id=amendment_id,
                data=VoteCast.model_validate({"vote": choice}),
            )

    # The first charter, for the 2021-2022 academic year.
    with clock_at(at(2021, 8, 30)):
        charter.adopt_version(
            session,
            actor=who(HEAD),
            data=CharterVersionCreate(
                sections=[SectionIn(key=k, title=t, text=x) for k, t, x in FIRST_CHARTER],
                effective_from=date(2021, 9, 1),
                summary="Первая редакция устава инновационно-методической сети",
            ),
        )

    # An amendment the network adopted: informal meeting formats.
    with clock_at(at(2021, 10, 4)):
        formats = charter.create_amendment(
            session,
            actor=who(TEACHER),
            data=AmendmentCreate(
                title="Неформальные форматы встреч сети",
                changes=[ModifySection(op="modify", key="meetings", text=MEETINGS_V2)],
                rationale="Заседания стали формальными: сеть собирается, когда её созывают, и "
                "замирает, когда проект заканчивается. Живые форматы и повестка от самих "
                "участников помогают сети жить без автора.",
            ),
        )
    move(formats.id, AmendmentAction.open_discussion, MEMBER, at(2021, 10, 6))
    comment(
        formats.id,
        EXPERT,
        at(2021, 10, 8),
        "Поддерживаю. Предлагаю добавить экспертные лаборатории: в них растут эксперты.",
        "meetings",
    )
    comment(
        formats.id,
        TEACHER2,
        at(2021, 10, 11),
        "Кто будет фиксировать итоги неформальных встреч?",
        "meetings",
    )
    voting_opened = at(2021, 10, 20)
    window = timedelta(days=get_settings().charter_voting_days)
    move(formats.id, AmendmentAction.open_voting, MEMBER, voting_opened)
    ballots = [
        (TEACHER, "agree", at(2021, 10, 20)),
        (EXPERT, "agree", at(2021, 10, 21)),
        (EXPERT2, "agree", at(2021, 10, 21)),
        (TEACHER2, "agree", at(2021, 10, 22)),
        (TEACHER3, "abstain", at(2021, 10, 25)),
        (MEMBER, "agree", at(2021, 10, 26)),
        (HEAD, "agree", at(2021, 10, 27)),
    ]
    # A window shorter than that week of votes squeezes them into it, in the same order.
    squeeze = min(1.0, 0.9 * window / (ballots[-1][2] - voting_opened))
    for email, choice, when in ballots:
        vote(formats.id, email, voting_opened + (when - voting_opened) * squeeze, choice)
    move(formats.id, AmendmentAction.close_voting, HEAD, at(2021, 11, 3))
    with clock_at(at(2021, 11, 10)):
        charter.adopt_version(
            session,
            actor=who(HEAD),
            data=CharterVersionCreate(
                amendment_ids=[formats.id],
                effective_from=date(2021, 11, 15),
                summary="Неформальные форматы встреч и повестка от участников",
            ),
        )
    for email, day in [(TEACHER, 15), (EXPERT, 16), (EXPERT2, 16), (MEMBER, 17), (HEAD, 18)]:
        with clock_at(at(2021, 11, day)):
            charter.acknowledge(session, actor=who(email), number=2)

    # An amendment being voted on now: mentoring. Its vote opened a quarter of the voting
    # window ago, so it stays open for most of the window whatever the setting (1-90 days).
    now = utcnow()
    opened = now - timedelta(days=get_settings().charter_voting_days) / 4
    with clock_at(opened - timedelta(days=4)):
        mentoring = charter.create_amendment(
            session,
            actor=who(EXPERT2),
            data=AmendmentCreate(
                title="Наставничество в сети",
                changes=[
                    AddSection(
                        op="add",
                        key="mentoring",
                        title="Наставничество",
                        text=MENTORING,
                        after="roles",
                    )
                ],
                rationale="Новые участники не решаются предложить замысел: им нужен "
                "сопровождающий из сети, а не только экспертиза.",
            ),
        )
    move(mentoring.id, AmendmentAction.open_discussion, MEMBER, opened - timedelta(days=3))
    comment(
        mentoring.id,
        TEACHER3,
        opened - timedelta(days=2),
        "Наставник из другой школы — это ещё и новая связь в сети.",
        "mentoring",
    )
    move(mentoring.id, AmendmentAction.open_voting, MEMBER, opened)
    vote(mentoring.id, TEACHER3, opened + (now - opened) / 3, "agree")
    vote(mentoring.id, MEMBER, opened + (now - opened) * 2 / 3, "agree")

    # The network's events.
    orgs = dict(session.execute(select(col(Organization.short_name), col(Organization.id))).all())
    initiatives: list[tuple[uuid.UUID, str]] = [
        (row[0], row[1])
        for row in session.execute(select(col(Initiative.id), col(Initiative.title))).all()
    ]

    def initiative_id(prefix: str | None) -> uuid.UUID | None:
        if prefix is None:
            return None
        return next(i for i, title in initiatives if title.startswith(prefix))

    for event in EVENTS:
        with clock_at(event.held_at + timedelta(days=1)):
            network.create_event(
                session,
                actor=who(event.by),
                data=NetworkEventCreate(
                    title=event.title,
                    kind=event.kind,
                    held_at=event.held_at,
                    location=event.location,
                    participant_ids=[who(e).id for e in event.people],
                    organization_ids=[orgs[o] for o in event.orgs],
                    initiative_id=initiative_id(event.initiative),
                ),
            )
