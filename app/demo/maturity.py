"""The office's self-assessments over the two academic years of the demo, recorded by its head
through the service at their dates, so that each keeps the facts the system had counted by then.

The story of the project idea: in September 2020 the office controls (reviews, approves) and
does not consult, hardly knows informal formats and has a network that lives while a project
pushes it. By May 2022 consulting and the network have grown to levels 3, informal meetings
and the charter's rules to 2-3, while some functions of the Regulation stay where they were.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from app.demo.base import HEAD, Cast, utc
from app.models import EvidenceLinkKind, Initiative, Meeting, NetworkEvent
from app.models.base import clock_at
from app.schemas.maturity import AssessmentCreate, EvidenceLinkIn
from app.services.maturity import functions
from app.services.maturity.scale import FunctionCode as F


def at(year: int, month: int, day: int) -> datetime:
    return utc(year, month, day, 11)


# The rounds: the project's start, mid-year, the end of each academic year, the second's start.
START, WINTER, SUMMER, AUTUMN, FINAL = (
    at(2020, 9, 15),
    at(2021, 1, 20),
    at(2021, 6, 15),
    at(2021, 9, 10),
    at(2022, 5, 30),
)
YEAR_ONE, YEAR_TWO, YEAR_THREE = date(2021, 5, 31), date(2022, 5, 31), date(2023, 5, 31)


@dataclass(frozen=True, slots=True)
class Link:
    kind: EvidenceLinkKind
    # A title's beginning (initiatives, meetings, network events) or a charter version number.
    ref: str


@dataclass(frozen=True, slots=True)
class Demo:
    when: datetime
    level: int
    target: int | None = None
    by: date | None = None
    evidence: str = ""
    links: list[Link] = field(default_factory=list)
    comment: str = ""


def initiative(title: str) -> Link:
    return Link(EvidenceLinkKind.initiative, title)


def meeting(title: str) -> Link:
    return Link(EvidenceLinkKind.meeting, title)


def event(title: str) -> Link:
    return Link(EvidenceLinkKind.network_event, title)


STEADY = "Функция выполняется так же, как в прошлом году; изменений в практике нет."

ASSESSMENTS: dict[F, list[Demo]] = {
    F.initiative_review: [
        Demo(START, 2, 3, YEAR_ONE,
             "Проекты рассматриваются на заседаниях и проходят экспертизу, но критерии "
             "экспертизы от заседания к заседанию разные.",
             comment="Контролирующая экспертиза: оценивается проработанность структуры."),
        Demo(SUMMER, 3, 4, YEAR_THREE,
             "Введён единый набор из семи критериев; по каждой инициативе не меньше двух "
             "заключений, решение доводится до автора.",
             [meeting("Итоги 2020-2021")]),
        Demo(FINAL, 3, 4, YEAR_THREE,
             "Сроки от подачи до решения видны по каждой инициативе, но пределов для них офис "
             "пока не установил."),
    ],
    F.project_portfolio: [
        Demo(START, 2, evidence="Перечень муниципальных проектов обновляется к учебному году."),
        Demo(SUMMER, 2, 3, YEAR_TWO, STEADY),
        Demo(FINAL, 3, evidence="Проекты перечня привязаны к целям и уровням образования: от "
             "дошкольного («PROкачество+») до старшей школы («Миссия выполнима»)."),
    ],
    F.effectiveness_kpi: [
        Demo(START, 1, 2, YEAR_ONE, "Эффективность оценивается по итоговым отчётам команд."),
        Demo(SUMMER, 2, 3, YEAR_TWO,
             "У проектов 2021-2022 года есть целевые показатели; факт собран по итогам года."),
        Demo(FINAL, 2, 3, YEAR_THREE,
             "Показатели собираются только в конце года: цель уровня 3 не достигнута, срок "
             "перенесён.", comment="Цель прошлого года не выполнена."),
    ],
    F.best_practices: [
        Demo(START, 1, evidence="Опыт «Чайковского метро» известен, но не описан."),
        Demo(SUMMER, 1, 2, YEAR_TWO, STEADY),
        Demo(FINAL, 2, evidence="Итоги завершённых проектов представлены на конференции сети.",
             links=[event("Муниципальная конференция")]),
    ],
    F.central_planning: [
        Demo(START, 2, evidence="Старт и закрытие проектов оформляются решением офиса."),
        Demo(SUMMER, 2, evidence="«Чайковское метро» закрыт на заседании с итогами.",
             links=[initiative("«Чайковское метро»")]),
        Demo(FINAL, 2, 3, YEAR_THREE, STEADY),
    ],
    F.risks_and_changes: [
        Demo(START, 1, evidence="О проблемах проектов офис узнаёт на промежуточных отчётах."),
        Demo(SUMMER, 1, 2, YEAR_TWO, STEADY),
        Demo(FINAL, 1, 2, YEAR_THREE,
             "Реестра рисков по проектам пока нет; цель перенесена на следующий год."),
    ],
    F.summary_reporting: [
        Demo(START, 2, evidence="Сводный отчёт по проектам готовится раз в год по единой форме."),
        Demo(SUMMER, 2, evidence=STEADY),
        Demo(FINAL, 2, evidence=STEADY),
    ],
    F.results_integration: [
        Demo(START, 1, evidence="Результаты проектов остаются в школах-участниках."),
        Demo(SUMMER, 1, evidence=STEADY),
        Demo(FINAL, 2, evidence="Банк заданий кластера смыслового чтения рекомендован школам "
             "округа.", links=[initiative("Смысловое чтение")]),
    ],
    F.methodological_documents: [
        Demo(START, 2, evidence="Есть положение о проектном офисе и шаблон паспорта проекта."),
        Demo(SUMMER, 2, evidence=STEADY),
        Demo(FINAL, 2, evidence=STEADY),
    ],
    F.motivation_system: [
        Demo(START, 1, evidence="Участников проектов отмечают благодарностями управления."),
        Demo(SUMMER, 1, evidence=STEADY),
        Demo(FINAL, 1, evidence=STEADY),
    ],
    F.competence_development: [
        Demo(START, 1, evidence="Педагоги учатся проектированию на курсах по своему выбору."),
        Demo(SUMMER, 2, evidence="Команды новых проектов прошли обучение в офисе; эксперты "
             "получают развивающую обратную связь к заключениям."),
        Demo(FINAL, 2, 3, YEAR_THREE, STEADY),
    ],
    F.stakeholder_communications: [
        Demo(START, 1, evidence="О проектах рассказывают на совещаниях руководителей."),
        Demo(SUMMER, 1, evidence=STEADY),
        Demo(FINAL, 2, evidence="Конференция сети открыта для родителей и партнёров.",
             links=[event("Муниципальная конференция")]),
    ],
    F.interaction_and_conflicts: [
        Demo(START, 1, 3, YEAR_TWO,
             "Правил взаимодействия сети нет: спорные вопросы решает руководитель офиса."),
        Demo(SUMMER, 1, 3, YEAR_TWO, STEADY),
        Demo(AUTUMN, 2, 3, YEAR_TWO, "Принята первая редакция устава сети.",
             [Link(EvidenceLinkKind.charter_version, "1")]),
        Demo(FINAL, 3, 4, YEAR_THREE,
             "Поправка о неформальных форматах обсуждена, проголосована сетью и вошла во "
             "вторую редакцию устава; голосование по наставничеству идёт по той же процедуре.",
             [Link(EvidenceLinkKind.charter_version, "2")]),
    ],
    F.consulting: [
        Demo(START, 0, 2, YEAR_ONE,
             "Организационно-методическое консультирование офис не выполняет: запросов не "
             "принимали, консультантов нет.",
             comment="Новая функция проекта «Проектный офис+»."),
        Demo(WINTER, 1, 2, YEAR_ONE,
             "Первое сопровождение: замысел кластера смыслового чтения доработан за две "
             "встречи, консультант закреплён устно.",
             [initiative("Смысловое чтение")]),
        Demo(SUMMER, 2, 3, YEAR_TWO,
             "Запросы на сопровождение принимаются через офис, за каждым треком закреплён "
             "консультант, встречи записываются.",
             [initiative("Проектный офис+")]),
        Demo(AUTUMN, 2, 3, YEAR_TWO,
             "Начат трек сетевой лаборатории читательской грамотности; первая встреча через "
             "неделю после запроса."),
        Demo(FINAL, 3, 4, YEAR_THREE,
             "Порядок сопровождения описан: консультант назначается, когда запрос принят, "
             "итог трека фиксируется; неподходящие запросы перенаправляются с объяснением."),
    ],
    F.network_development: [
        Demo(START, 1, 2, YEAR_ONE,
             "Сетевые события проходят в рамках «Чайковского метро»; с завершением проекта "
             "сеть замирает."),
        Demo(SUMMER, 2, 3, YEAR_TWO,
             "События сети проводят учителя и эксперты школ, а не только офис.",
             [event("Сетевая встреча проекта «Чайковское метро»"), event("Семинар «Смысловое")]),
        Demo(AUTUMN, 2, 3, YEAR_TWO,
             "У сети появился устав; центры инновационного опыта открывают площадки.",
             [Link(EvidenceLinkKind.charter_version, "1")]),
        Demo(FINAL, 3, 4, YEAR_THREE,
             "Большая часть событий года организована без офиса; конференция «Сеть, которая "
             "живёт сама» собрала все школы сети.",
             [event("Мастер-класс «Приёмы 4К"), event("Открытый урок математики"),
              event("Муниципальная конференция")]),
    ],
    F.reflective_meetings: [
        Demo(START, 0, 2, YEAR_TWO,
             "Все заседания проходят в формальном формате: доклад, экспертиза, решение."),
        Demo(WINTER, 0, 2, YEAR_TWO, STEADY),
        Demo(SUMMER, 1, 2, YEAR_TWO,
             "На итоговом заседании года впервые записана рефлексия: что получилось и что "
             "менять.", [meeting("Итоги 2020-2021")]),
        Demo(AUTUMN, 1, 2, YEAR_TWO,
             "Запланирована первая рефлексивная сессия; неформальные форматы вошли в устав.",
             [meeting("Рефлексивная сессия")]),
        Demo(FINAL, 2, 3, YEAR_THREE,
             "Экспертная лаборатория и конференция прошли в новых форматах; итоги записаны.",
             [event("Экспертная лаборатория")]),
    ],
    F.expert_positions: [
        Demo(START, 1, 2, YEAR_ONE,
             "Экспертизу выполняют несколько содержательных экспертов из методического "
             "центра."),
        Demo(SUMMER, 2, 3, YEAR_TWO,
             "Эксперты из школ пишут заключения с развивающей обратной связью; качество "
             "заключений оценивается."),
        Demo(FINAL, 2, 3, YEAR_THREE,
             "Переходы на позиции методолога и развивающего эксперта фиксируются, но лестница "
             "позиций ещё не описана."),
    ],
}  # fmt: skip


def load(session: Session) -> int:
    """Records every assessment in date order; returns how many."""
    head = Cast(session)(HEAD)

    def resolve(link: Link) -> EvidenceLinkIn:
        if link.kind == EvidenceLinkKind.charter_version:
            return EvidenceLinkIn(kind=link.kind, id=link.ref)
        model = {
            EvidenceLinkKind.initiative: (Initiative.id, Initiative.title),
            EvidenceLinkKind.meeting: (Meeting.id, Meeting.title),
            EvidenceLinkKind.network_event: (NetworkEvent.id, NetworkEvent.title),
        }[link.kind]
        found = session.scalars(
            select(col(model[0])).where(col(model[1]).startswith(link.ref)).limit(1)
        ).one()
        return EvidenceLinkIn(kind=link.kind, id=str(found))

    rounds = sorted(
        ((demo.when, position, code, demo) for code, demos in ASSESSMENTS.items()
         for position, demo in enumerate(demos)),
        key=lambda r: (r[0], list(F).index(r[2]), r[1]),
    )  # fmt: skip
    in_round: dict[datetime, int] = {}
    for when, _, code, demo in rounds:
        # A minute apart within a round, in the catalogue's order.
        in_round[when] = in_round.get(when, -1) + 1
        with clock_at(when + timedelta(minutes=in_round[when])):
            functions.create_assessment(
                session,
                actor=head,
                code=code.value,
                data=AssessmentCreate(
                    level=demo.level,
                    target_level=demo.target,
                    target_date=demo.by,
                    evidence=demo.evidence,
                    links=[resolve(link) for link in demo.links],
                    comment=demo.comment,
                ),
            )
    return len(rounds)
