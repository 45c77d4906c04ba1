"""The minutes (протокол) of a meeting as Markdown, escaped so that nothing typed breaks out."""

import uuid

from sqlmodel import Session

from app.models import (
    MeetingStatus,
)
from app.models.base import utcnow
from app.schemas.meetings import (
    AttendeeOut,
    web_link_problem,
)
from app.security import Principal
from app.services import initiatives
from app.services.lifecycle import STEPS, LifecycleAction
from app.services.meetings.labels import AGENDA_KIND_LABELS, FORMAT_LABELS, STATUS_LABELS
from app.services.meetings.planning import get_meeting
from app.services.office_time import ru_date, ru_datetime

_MD_SPECIAL = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>|#"})


def _inline(text: str) -> str:
    """User text inside a Markdown line: one line, no markup of its own."""
    return " ".join(text.split()).translate(_MD_SPECIAL)


def _block(text: str) -> str:
    """User paragraphs: their own Markdown stays, raw HTML does not."""
    return text.strip().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str) -> str:
    """An autolink for a link the API accepts today; a value stored before that rule may be
    anything, and is printed as plain text instead."""
    return f"<{url}>" if web_link_problem(url) is None else _inline(url)


def _person(attendee: AttendeeOut) -> str:
    job = f" — {_inline(attendee.job_title)}" if attendee.job_title else ""
    return f"{_inline(attendee.full_name)}{job}"


def minutes(session: Session, *, actor: Principal, meeting_id: uuid.UUID) -> str:
    meeting = get_meeting(session, actor=actor, meeting_id=meeting_id)
    status_ru = STATUS_LABELS[meeting.status][0]
    lines = [
        f"# Протокол заседания проектного офиса № {meeting.number}",
        "",
    ]
    if meeting.title:
        lines += [f"**{_inline(meeting.title)}**", ""]
    facts = [
        ("Учебный год", meeting.academic_year),
        ("Дата и время", f"{ru_datetime(meeting.scheduled_at)} (местное время, UTC+5)"),
        ("Формат", FORMAT_LABELS[meeting.format][0]),
        ("Место", _inline(meeting.place) if meeting.place else None),
        ("Ссылка", _link(meeting.online_url) if meeting.online_url else None),
        ("Ведущий", _inline(meeting.facilitator.full_name) if meeting.facilitator else None),
        ("Статус", status_ru),
    ]
    lines += [f"- **{label}:** {value}" for label, value in facts if value]
    if meeting.status == MeetingStatus.cancelled and meeting.cancellation_reason:
        lines.append(f"- **Причина отмены:** {_inline(meeting.cancellation_reason)}")
    lines.append("")

    present = [a for a in meeting.attendees if a.attended is True]
    absent = [a for a in meeting.attendees if a.attended is False]
    unmarked = [a for a in meeting.attendees if a.attended is None]
    groups = [
        (f"Присутствовали ({len(present)})", present),
        (f"Отсутствовали ({len(absent)})", absent),
        (
            "Приглашены" if meeting.status == MeetingStatus.planned else "Присутствие не отмечено",
            unmarked,
        ),
    ]
    if not meeting.attendees:
        lines += ["## Участники", "", "Список участников не заполнен.", ""]
    for heading, group in groups:
        if group:
            lines += [f"## {heading}", ""]
            lines += [f"{n}. {_person(a)}" for n, a in enumerate(group, 1)]
            lines.append("")

    lines += ["## Повестка", ""]
    if not meeting.agenda_items:
        lines += ["Повестка не сформирована.", ""]
    for item in meeting.agenda_items:
        details = [AGENDA_KIND_LABELS[item.kind][0]]
        if item.initiative:
            details.append(item.initiative.code)
        if item.presenter:
            details.append(f"докладчик: {_inline(item.presenter.full_name)}")
        if item.time_box_minutes:
            details.append(f"{item.time_box_minutes} мин")
        lines.append(f"{item.position}. **{_inline(item.title)}** ({'; '.join(details)})")
        if item.description:
            lines += ["", *(f"   {line}" for line in _block(item.description).splitlines())]
    lines.append("")

    lines += ["## Решения", ""]
    if not meeting.decisions:
        lines += [
            "Решения не принимались." if meeting.status == MeetingStatus.held else "Решений нет.",
            "",
        ]
    items = {item.id: item for item in meeting.agenda_items}
    for n, decision in enumerate(meeting.decisions, 1):
        item = items[decision.agenda_item_id]
        lines += [
            f"### {n}. По пункту {item.position}: {_inline(item.title)}",
            "",
            f"**Решили:** {_block(decision.text)}",
            "",
        ]
        if decision.action and decision.initiative:
            step = STEPS[LifecycleAction(decision.action)]
            move = ""
            if decision.from_status and decision.to_status:
                move = (
                    f": «{initiatives.STATUS_LABELS_RU[decision.from_status]}» → "
                    f"«{initiatives.STATUS_LABELS_RU[decision.to_status]}»"
                )
            lines.append(
                f"- **Действие:** «{step.label_ru}» — инициатива {decision.initiative.code} "
                f"«{_inline(decision.initiative.title)}»{move}"
            )
        if decision.votes_for is not None:
            lines.append(
                f"- **Голосовали:** за — {decision.votes_for}, против — "
                f"{decision.votes_against}, воздержались — {decision.votes_abstain}"
            )
        if decision.review_on:
            lines.append(f"- **Вернуться к вопросу:** {ru_date(decision.review_on)}")
        if decision.action or decision.votes_for is not None or decision.review_on:
            lines.append("")

    reflection = meeting.reflection
    if any([reflection.what_worked, reflection.insights, reflection.to_change]):
        lines += ["## Рефлексия", ""]
        for heading, text in (
            ("Что получилось", reflection.what_worked),
            ("Инсайты", reflection.insights),
            ("Что изменить в следующий раз", reflection.to_change),
        ):
            if text:
                lines += [f"### {heading}", "", _block(text), ""]

    lines += ["---", "", f"Протокол сформирован {ru_datetime(utcnow())}."]
    return "\n".join(lines) + "\n"
