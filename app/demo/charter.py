"""The network's charter in the demo: its first version, one amendment adopted into version 2
and one being voted on now.

Everything goes through the services at the dates it happened; the amendment in voting is
dated relative to now and to the voting window of the settings, so its vote is open when the
demo is loaded.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from app.config import get_settings
from app.demo.base import EXPERT, EXPERT2, HEAD, MEMBER, TEACHER, TEACHER2, TEACHER3, Cast
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
from app.services.charter import acknowledgements, adoption, amendments, discussion
from app.services.charter.workflow import AmendmentAction


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


def load(session: Session) -> None:
    who = Cast(session)

    def move(amendment_id: uuid.UUID, action: AmendmentAction, email: str, when: datetime) -> None:
        with clock_at(when):
            amendments.transition(
                session,
                actor=who(email),
                amendment_id=amendment_id,
                data=AmendmentTransitionCreate(action=action),
                if_match=None,
            )

    def comment(amendment_id: uuid.UUID, email: str, when: datetime, text: str, key: str) -> None:
        with clock_at(when):
            discussion.add_comment(
                session,
                actor=who(email),
                amendment_id=amendment_id,
                data=CommentCreate(text=text, section_key=key),
            )

    def vote(amendment_id: uuid.UUID, email: str, when: datetime, choice: str) -> None:
        with clock_at(when):
            discussion.cast_vote(
                session,
                actor=who(email),
                amendment_id=amendment_id,
                data=VoteCast.model_validate({"vote": choice}),
            )

    # The first charter, for the 2021-2022 academic year.
    with clock_at(at(2021, 8, 30)):
        adoption.adopt_version(
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
        formats = amendments.create_amendment(
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
        adoption.adopt_version(
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
            acknowledgements.acknowledge(session, actor=who(email), number=2)

    # An amendment being voted on now: mentoring. Its vote opened a quarter of the voting
    # window ago, so it stays open for most of the window whatever the setting (1-90 days).
    now = utcnow()
    opened = now - timedelta(days=get_settings().charter_voting_days) / 4
    with clock_at(opened - timedelta(days=4)):
        mentoring = amendments.create_amendment(
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
