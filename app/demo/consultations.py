"""Consultation tracks of the demo: the accompaniment the office starts to offer, replayed
through the services at their dates (one closed, one active, one waiting, one declined)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.demo.base import EXPERT, HEAD, MEMBER, Cast
from app.models import ConsultationFormat, ConsultationOutcome, Initiative
from app.models.base import clock_at
from app.schemas.consultations import (
    ConsultationClose,
    ConsultationCreate,
    ConsultationDecline,
    ConsultationUpdate,
    SessionCreate,
)
from app.services import consultations

F = ConsultationFormat


def at(year: int, month: int, day: int, hour: int = 9) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


TRACKS: list[dict[str, Any]] = [
    {
        "requester": "teacher@example.org",
        "initiative": "Смысловое чтение как основа умения работать с информацией",
        "topic": "Как собрать методический кластер учителей начальных классов",
        "description": "Замысел подан, но непонятно, как удержать кластер после проекта: нужен "
        "взгляд со стороны на цель и на роли школ.",
        "format": F.individual,
        "requested": at(2020, 10, 13),
        "assigned": (HEAD, at(2020, 10, 19), [MEMBER]),
        "sessions": [
            (MEMBER, at(2020, 10, 26, 11), F.individual, 60,
             "Разобрали проблему: кластер держится на авторе. Нашли, что банк заданий может "
             "стать общим делом школ.",
             "Переписать цель через результат для учеников; назвать роль каждой школы."),
            (MEMBER, at(2020, 11, 9, 11), F.group, 90,
             "Встреча с учителями трёх школ: договорились о взаимных посещениях уроков.",
             "Подать доработанный замысел на экспертизу."),
        ],
        "closed": (MEMBER, at(2020, 11, 16, 8), ConsultationOutcome.idea_developed_further,
                   "Замысел доработан и направлен на экспертизу"),
    },
    {
        "requester": "teacher@example.org",
        "topic": "Сетевая лаборатория читательской грамотности в основной школе",
        "description": "Есть идея лаборатории учителей 5-9 классов. Помогите превратить её в "
        "проектный замысел.",
        "format": F.online,
        "requested": at(2021, 9, 20),
        "assigned": (MEMBER, at(2021, 9, 22), [EXPERT]),
        "sessions": [
            (EXPERT, at(2021, 9, 28, 12), F.online, 45,
             "Определили проблему: ученики не переносят приёмы чтения между предметами.",
             "Собрать команду из трёх школ; набросать замысел в системе."),
        ],
    },
    {
        "requester": "teacher3@example.org",
        "topic": "Психолого-педагогическое сопровождение проектной деятельности школьников",
        "description": "Хочу предложить сетевой формат поддержки детей, которые ведут проекты.",
        "format": F.workshop,
        "requested": at(2021, 10, 11),
    },
    {
        "requester": "teacher2@example.org",
        "topic": "Олимпиадная подготовка по математике в сетевом формате",
        "description": "Объединить подготовку олимпиадников сельских школ.",
        "format": F.group,
        "requested": at(2021, 3, 1),
        "declined": (HEAD, at(2021, 3, 3),
                     "Запрос относится к ресурсному центру по естественно-математическому "
                     "образованию (МБОУ СОШ № 7): передан туда"),
    },
]  # fmt: skip


def load(session: Session) -> int:
    principal = Cast(session)

    for item in TRACKS:
        initiative_id = None
        if "initiative" in item:
            initiative_id = session.scalars(
                select(col(Initiative.id)).where(
                    col(Initiative.title).startswith(item["initiative"])
                )
            ).one()
        with clock_at(item["requested"]):
            track = consultations.request_consultation(
                session,
                actor=principal(item["requester"]),
                data=ConsultationCreate(
                    topic=item["topic"],
                    description=item["description"],
                    preferred_format=item["format"],
                    initiative_id=initiative_id,
                ),
            )
        if "declined" in item:
            who, when, reason = item["declined"]
            with clock_at(when):
                consultations.decline_track(
                    session,
                    actor=principal(who),
                    track_id=track.id,
                    data=ConsultationDecline(reason=reason),
                    if_match=None,
                )
        if "assigned" in item:
            who, when, consultants = item["assigned"]
            with clock_at(when):
                consultations.update_track(
                    session,
                    actor=principal(who),
                    track_id=track.id,
                    data=ConsultationUpdate(consultant_ids=[principal(e).id for e in consultants]),
                    if_match=None,
                )
        for who, when, fmt, minutes, notes, next_steps in item.get("sessions", []):
            with clock_at(when):
                consultations.record_session(
                    session,
                    actor=principal(who),
                    track_id=track.id,
                    data=SessionCreate(
                        held_at=when,
                        format=fmt,
                        duration_minutes=minutes,
                        notes=notes,
                        next_steps=next_steps,
                        attendee_ids=[principal(item["requester"]).id],
                    ),
                )
        if "closed" in item:
            who, when, outcome, comment = item["closed"]
            with clock_at(when):
                consultations.close_track(
                    session,
                    actor=principal(who),
                    track_id=track.id,
                    data=ConsultationClose(outcome=outcome, comment=comment),
                    if_match=None,
                )
    return len(TRACKS)
