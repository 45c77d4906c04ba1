"""The capabilities of the API that grow with the office's maturity, as one declarative table.

Each capability is governed by one function of the office and needs that function at a level
(`PROJOFFICE_MATURITY_REQUIRED_LEVELS`, default 1). `GET /api/v1/office/capabilities` serves the
table with the office's current levels; under `PROJOFFICE_MATURITY_GATING=enforced` the routes
of a capability (each carries `deps.gated(capability)`) answer 409 `capability_not_mastered`
while its function is below the level. Reads of existing data are never gated. The tests walk
the table and the routes: every operation listed here carries its gate, and no other does.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from app.models import MeetingFormat
from app.services.maturity.scale import FunctionCode

DEFAULT_REQUIRED_LEVEL = 1


class Capability(StrEnum):
    consultation_requests = "consultation_requests"
    informal_meeting_formats = "informal_meeting_formats"
    charter_amendments = "charter_amendments"
    network_events = "network_events"
    expert_suggestions = "expert_suggestions"


class Gating(StrEnum):
    """`PROJOFFICE_MATURITY_GATING`: what happens when a capability runs ahead of maturity."""

    advisory = "advisory"
    enforced = "enforced"


@dataclass(frozen=True, slots=True)
class BodyCondition:
    """A request uses the capability only when its JSON body's `field` is one of `values`
    (a meeting in an informal format, not any meeting)."""

    field: str
    values: frozenset[str]
    description: str


@dataclass(frozen=True, slots=True)
class CapabilitySpec:
    function: FunctionCode
    title_ru: str
    title_en: str
    # "METHOD /api/v1/path" of every route that uses the capability.
    operations: tuple[str, ...]
    when: BodyCondition | None = None


INFORMAL_FORMATS = frozenset(f.value for f in MeetingFormat if f != MeetingFormat.formal_session)

CAPABILITIES: dict[Capability, CapabilitySpec] = {
    Capability.consultation_requests: CapabilitySpec(
        FunctionCode.consulting,
        "Запросы на консультирование и сопровождение замыслов",
        "Consultation requests",
        ("POST /api/v1/consultations",),
    ),
    Capability.informal_meeting_formats: CapabilitySpec(
        FunctionCode.reflective_meetings,
        "Заседания в неформальных форматах",
        "Informal meeting formats",
        ("POST /api/v1/meetings", "PATCH /api/v1/meetings/{meeting_id}"),
        when=BodyCondition(
            "format",
            INFORMAL_FORMATS,
            "только заседания в неформальном формате (не «Заседание»)",
        ),
    ),
    Capability.charter_amendments: CapabilitySpec(
        FunctionCode.interaction_and_conflicts,
        "Поправки к уставу сети и голосование по ним",
        "Charter amendments and votes",
        ("POST /api/v1/charter/amendments", "PUT /api/v1/charter/amendments/{amendment_id}/vote"),
    ),
    Capability.network_events: CapabilitySpec(
        FunctionCode.network_development,
        "Запись событий сети",
        "Network events",
        ("POST /api/v1/network/events",),
    ),
    Capability.expert_suggestions: CapabilitySpec(
        FunctionCode.expert_positions,
        "Подбор экспертов по позициям",
        "Expert suggestions",
        # A suggestion is computed on request, not data already recorded: it is gated.
        ("GET /api/v1/initiatives/{initiative_id}/expert-suggestions",),
    ),
}


def required_level(capability: Capability, levels: Mapping[str, int]) -> int:
    """The level from `PROJOFFICE_MATURITY_REQUIRED_LEVELS` (the settings refuse a code this
    table does not have)."""
    return levels.get(capability.value, DEFAULT_REQUIRED_LEVEL)


def unknown_codes(codes: Iterable[str]) -> list[str]:
    """The codes of `PROJOFFICE_MATURITY_REQUIRED_LEVELS` that name no capability."""
    return sorted(set(codes) - {c.value for c in Capability})
