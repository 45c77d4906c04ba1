"""The office's calendar: its local time, academic years and Russian dates for documents.

Chaikovsky (Perm krai) keeps UTC+5 all year; a fixed offset needs no tz database on the host.
"""

from datetime import date, datetime, timedelta, timezone

OFFICE_TZ = timezone(timedelta(hours=5), "UTC+05:00")

MONTHS_GENITIVE = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)


def local(moment: datetime) -> datetime:
    return moment.astimezone(OFFICE_TZ)


def academic_year_of(moment: datetime) -> str:
    """A school year runs from 1 September to 31 August: `2020-2021`."""
    day = local(moment).date()
    first = day.year if day.month >= 9 else day.year - 1
    return f"{first}-{first + 1}"


def ru_date(day: date) -> str:
    return f"{day.day} {MONTHS_GENITIVE[day.month - 1]} {day.year} г."


def ru_datetime(moment: datetime) -> str:
    at = local(moment)
    return f"{ru_date(at.date())}, {at:%H:%M}"
