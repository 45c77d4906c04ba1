"""The six meetings of the project office in the 2020-2021 academic year that the source
document reports, and the first, reflective, meeting of 2021-2022 still to be held.

The initiatives' lifecycle steps are already replayed by demo_initiatives at these dates, so the
2020-2021 decisions are recorded as the protocol's notes; the planned meeting is where a demo
user can take a lifecycle decision (e.g. send «Проектный офис+» to expertise) in Swagger UI.
"""

from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.demo.base import EXPERT, EXPERT2, HEAD, MEMBER, MEMBER2, Cast
from app.models import AgendaItemKind, Initiative, MeetingFormat, MeetingStatus
from app.models.base import clock_at
from app.schemas.meetings import (
    AgendaItemCreate,
    AttendeeIn,
    DecisionCreate,
    MeetingCreate,
    MeetingUpdate,
    ReflectionIn,
)
from app.services.meetings import agenda, decisions, planning

K = AgendaItemKind
OFFICE = [HEAD, MEMBER, MEMBER2, EXPERT, EXPERT2]
LIFT = "«Образовательный лифт»"
LIFT_SCHOOLS = [
    "МБОУ СОШ № 7",
    "МБОУ СОШ № 1",
    "МБОУ ООШ № 12",
    "МБОУ «Фокинская СОШ»",
    "МБОУ СОШ п. Прикамский",
]
SUPPORT = "Поддержать, рекомендовать к реализации"


def decided(
    text: str, votes: tuple[int, int, int] | None = None, review_on: date | None = None
) -> dict[str, Any]:
    tally = dict(zip(("votes_for", "votes_against", "votes_abstain"), votes or (), strict=False))
    return {"text": text, **tally, "review_on": review_on}


def at(year: int, month: int, day: int) -> datetime:
    """Meetings start at 14:00 in Chaikovsky (09:00 UTC)."""
    return datetime(year, month, day, 9, 0, tzinfo=UTC)


def lift(school: str) -> str:
    return f"{LIFT}: программа перехода в эффективный режим функционирования и повышения " \
        f"качества образовательных результатов ({school})"  # fmt: skip


# Agenda item: (kind, title or None for the initiative's, initiative title prefix or None,
# presenter email or None, minutes, decision or None).
MEETINGS: list[dict[str, Any]] = [
    {
        "title": "Рассмотрение муниципальных проектов 2020-2021 учебного года",
        "at": at(2020, 10, 22),
        "absent": ["expert2@example.org"],
        "agenda": [
            (K.initiative_review, None, "«Чайковское метро»", "expert@example.org", 20,
             decided(SUPPORT + " как сетевой проект по смысловому чтению", (4, 0, 0))),
            *((K.initiative_review, None, lift(school), None, 10,
               decided(SUPPORT + " в рамках проекта «Образовательный лифт»", (4, 0, 0)))
              for school in LIFT_SCHOOLS),
        ],
    },
    {
        "title": "Экспертиза проекта методического кластера начальной школы",
        "at": at(2020, 12, 17),
        "agenda": [
            (K.initiative_review, None, "Смысловое чтение как основа", "teacher@example.org", 25,
             decided(SUPPORT + "; опыт кластера представить на сетевом семинаре", (5, 0, 0),
                     date(2021, 12, 1))),
            (K.discussion, "План заседаний проектного офиса на второе полугодие", None, HEAD, 15,
             decided("Утвердить план: заседания в феврале, марте, апреле и июне")),
        ],
    },
    {
        "title": "Муниципальная программа сопровождения одарённых детей",
        "at": at(2021, 2, 18),
        "agenda": [
            (K.initiative_review, None, "«УникУм»", "member2@example.org", 30,
             decided("Программа «УникУм» рассмотрена и прошла экспертизу: поддержать", (5, 0, 0))),
        ],
    },
    {
        "title": "Промежуточные итоги проекта «Образовательный лифт»",
        "at": at(2021, 3, 25),
        "absent": [MEMBER],
        "agenda": [
            *((K.project_report, f"Промежуточные итоги программы {school}", lift(school), None, 10,
               None)
              for school in LIFT_SCHOOLS),
            (K.discussion, "Общие трудности школ в переходе в эффективный режим", None, HEAD, 20,
             decided("Принять итоги к сведению; собрать трудности школ в общий перечень к июню",
                     review_on=date(2021, 6, 10))),
        ],
    },
    {
        "title": "Проекты повышения качества образования на разных уровнях",
        "at": at(2021, 4, 22),
        "agenda": [
            (K.initiative_review, None, "«PROкачество+»", "member2@example.org", 20,
             decided(SUPPORT + " в 2021-2022 учебном году", (5, 0, 0))),
            (K.initiative_review, None, "От инициативы ФГОС 4.0", "expert2@example.org", 20,
             decided(SUPPORT + " после доработки измеримых результатов", (4, 0, 1))),
            (K.initiative_review, None, "Миссия выполнима", "teacher2@example.org", 20,
             decided(SUPPORT + " в 2021-2022 учебном году", (5, 0, 0))),
        ],
    },
    {
        "title": "Итоги 2020-2021 учебного года",
        "at": at(2021, 6, 10),
        "agenda": [
            (K.presentation, "Итоговые результаты муниципального ресурсного центра по "
             "естественно-математическому образованию (МБОУ СОШ № 7, с. Уральское)", None,
             "teacher@example.org", 15,
             decided("Опыт ресурсного центра представить на августовской конференции")),
            (K.presentation, "Итоговые результаты ресурсных центров по инклюзивному образованию",
             None, "teacher3@example.org", 15, None),
            (K.project_report, "Итоги проекта «Чайковское метро»", "«Чайковское метро»",
             "expert@example.org", 20, decided("Проект завершён: закрыть, сеть школ сохранить")),
            (K.reflection, "Положение о проектном офисе и то, что офис делает на самом деле",
             None, HEAD, 30,
             decided("Подготовить проектный замысел «Проектный офис+. Неформальный подход»",
                     review_on=date(2021, 9, 23))),
        ],
        "reflection": ReflectionIn(
            what_worked="Все проекты качественно подготовлены и получили высокую оценку "
            "экспертов; за год офис дал путёвку в жизнь программе и пяти проектам.",
            insights="Экспертиза была контролирующей: проверяли проработанность структуры, но "
            "не помогали авторам. Консультирование и сопровождение замыслов офис не выполняет, "
            "а сеть живёт, пока её поддерживает автор проекта.",
            to_change="Перейти к неформальным форматам (рефлексивные сессии, открытое "
            "пространство), взять на себя консультирование замыслов и договориться о правилах "
            "сети.",
        ),
    },
]  # fmt: skip

PLANNED = {
    "title": "Рефлексивная сессия: замысел «Проектный офис+. Неформальный подход»",
    "at": at(2021, 9, 23),
    "format": MeetingFormat.reflective_session,
    "agenda": [
        (K.initiative_review, None, "Проектный офис+", MEMBER, 40, None),
        (K.reflection, "Какие форматы встреч нужны сети", None, HEAD, 30, None),
    ],
}


def load(session: Session) -> int:
    principal = Cast(session)

    def initiative_id(prefix: str) -> Any:
        return session.scalars(
            select(col(Initiative.id)).where(col(Initiative.title).startswith(prefix))
        ).one()

    head = principal(HEAD)
    for item in [*MEETINGS, PLANNED]:
        start: datetime = item["at"]
        with clock_at(start - timedelta(days=14)):
            meeting = planning.create_meeting(
                session,
                actor=head,
                data=MeetingCreate(
                    title=item["title"],
                    scheduled_at=start,
                    format=item.get("format", MeetingFormat.formal_session),
                    place="МБУ ЦРО, конференц-зал",
                    facilitator_id=head.id,
                    attendees=[AttendeeIn(user_id=principal(e).id) for e in OFFICE],
                ),
            )
            items = []
            for kind, title, initiative, presenter, minutes, _ in item["agenda"]:
                items.append(
                    agenda.add_agenda_item(
                        session,
                        actor=head,
                        meeting_id=meeting.id,
                        data=AgendaItemCreate(
                            kind=kind,
                            title=title,
                            initiative_id=initiative_id(initiative) if initiative else None,
                            presenter_id=principal(presenter).id if presenter else None,
                            time_box_minutes=minutes,
                        ),
                    )
                )
        if item is PLANNED:
            continue
        absent = set(item.get("absent", []))
        with clock_at(start):
            planning.update_meeting(
                session,
                actor=head,
                meeting_id=meeting.id,
                data=MeetingUpdate(
                    status=MeetingStatus.held,
                    attendees=[
                        AttendeeIn(user_id=principal(e).id, attended=e not in absent)
                        for e in OFFICE
                    ],
                ),
                if_match=None,
            )
        for n, (agenda_item, entry) in enumerate(zip(items, item["agenda"], strict=True)):
            if entry[5] is None:
                continue
            with clock_at(start + timedelta(minutes=10 * (n + 1))):
                decisions.record_decision(
                    session,
                    actor=head,
                    meeting_id=meeting.id,
                    data=DecisionCreate(agenda_item_id=agenda_item.id, **entry[5]),
                )
        if "reflection" in item:
            with clock_at(start + timedelta(hours=3)):
                planning.update_meeting(
                    session,
                    actor=head,
                    meeting_id=meeting.id,
                    data=MeetingUpdate(reflection=item["reflection"]),
                    if_match=None,
                )
    return len(MEETINGS) + 1
