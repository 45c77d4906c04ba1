"""The capability's enums with Russian and English labels, for `GET /api/v1/meta/enums`."""

from app.models import EvidenceLinkKind
from app.services.maturity.capabilities import CAPABILITIES, Gating
from app.services.maturity.evidence import UNIT_LABELS
from app.services.maturity.scale import LEVEL_LABELS, ORIGIN_LABELS

ENUM_LABELS: dict[str, dict[str, tuple[str, str]]] = {
    # The scale's codes are its levels, "0" to "5".
    "maturity_level": {str(level): labels for level, labels in LEVEL_LABELS.items()},
    "office_function_origin": {k.value: v for k, v in ORIGIN_LABELS.items()},
    "capability": {k.value: (spec.title_ru, spec.title_en) for k, spec in CAPABILITIES.items()},
    "maturity_gating": {
        Gating.advisory.value: ("Рекомендательный: ничего не блокируется", "Advisory"),
        Gating.enforced.value: ("Обязательный: неосвоенное недоступно", "Enforced"),
    },
    "evidence_unit": {k.value: v for k, v in UNIT_LABELS.items()},
    "evidence_link_kind": {
        EvidenceLinkKind.initiative.value: ("Инициатива", "Initiative"),
        EvidenceLinkKind.meeting.value: ("Заседание", "Meeting"),
        EvidenceLinkKind.network_event.value: ("Событие сети", "Network event"),
        EvidenceLinkKind.charter_version.value: ("Версия устава", "Charter version"),
    },
}
