"""Russian and English labels of the meetings' enums (served by `/meta/enums`, used in the
minutes)."""

from app.models import (
    AgendaItemKind,
    MeetingFormat,
    MeetingStatus,
)

FORMAT_LABELS: dict[MeetingFormat, tuple[str, str]] = {
    MeetingFormat.formal_session: ("Заседание", "Formal session"),
    MeetingFormat.reflective_session: ("Рефлексивная сессия", "Reflective session"),
    MeetingFormat.open_space: ("Открытое пространство", "Open space"),
    MeetingFormat.expert_lab: ("Экспертная лаборатория", "Expert lab"),
    MeetingFormat.world_cafe: ("Мировое кафе", "World café"),
    MeetingFormat.pitch_session: ("Питч-сессия", "Pitch session"),
    MeetingFormat.strategy_session: ("Стратегическая сессия", "Strategy session"),
}


STATUS_LABELS: dict[MeetingStatus, tuple[str, str]] = {
    MeetingStatus.planned: ("Запланировано", "Planned"),
    MeetingStatus.held: ("Проведено", "Held"),
    MeetingStatus.cancelled: ("Отменено", "Cancelled"),
}


AGENDA_KIND_LABELS: dict[AgendaItemKind, tuple[str, str]] = {
    AgendaItemKind.initiative_review: ("Рассмотрение инициативы", "Initiative review"),
    AgendaItemKind.project_report: ("Отчёт о реализации проекта", "Project report"),
    AgendaItemKind.presentation: ("Представление опыта", "Presentation"),
    AgendaItemKind.discussion: ("Обсуждение", "Discussion"),
    AgendaItemKind.reflection: ("Рефлексия", "Reflection"),
}
