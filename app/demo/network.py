"""The network's demo life: the events of 2020-2022 that link its schools and teachers."""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlmodel import Session, col

from app.demo.base import EXPERT, EXPERT2, HEAD, MEMBER, MEMBER2, TEACHER, TEACHER2, TEACHER3, Cast
from app.models import Initiative, NetworkEventKind, Organization
from app.models.base import clock_at
from app.schemas.network import NetworkEventCreate
from app.services import network


def at(year: int, month: int, day: int, hour: int = 10) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


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
    who = Cast(session)
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
