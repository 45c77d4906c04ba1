"""Which objects of the API are private to the people related to them, and how to make one.

The BOLA cases of tests/test_security_matrix.py are generated from this table, the policy's
object rules and the route catalog: every rule of `policy.OBJECT_RULES` that turns strangers
away with a 404 has an entry in `PRIVATE` naming the path parameter of its object, the roles an
owner can have and a factory that makes one through the API as its owner; every route under
that parameter is then checked, including routes added later. Every path parameter of the app
is either in `PRIVATE` (as an object or one of its parts) or in `NOT_PRIVATE` with the reason.
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from app.models import Role
from app.policy import OBJECT_RULES, POLICY, Action, ObjectRule
from tests.factories import Person
from tests.route_catalog import Operation
from tests.test_meetings import CRITERIA
from tests.test_meetings import when as _later

API = "/api/v1"


@dataclass
class Maker:
    """What the factories work with: the test's client and person factories, and the office
    that several objects need (made once per test, when first asked)."""

    client: Any
    make_user: Callable[..., Person]
    make_org: Callable[..., uuid.UUID]

    def ok(self, method: str, url: str, who: Person, body: Any = None) -> dict[str, Any]:
        response = self.client.request(method, f"{API}{url}", json=body, headers=who.headers)
        assert response.status_code in (200, 201), f"{method} {url}: {response.text}"
        found: dict[str, Any] = response.json()
        return found

    @cached_property
    def head(self) -> Person:
        """The office, from an organization of its own (no conflict of interest anywhere)."""
        return self.make_user(Role.office_head, Role.office_member, organization_id=self.make_org())

    def expert(self) -> Person:
        """An expert from another organization than everyone else's."""
        return self.make_user(Role.expert, organization_id=self.make_org())

    def initiative(self, author: Person) -> str:
        body = {
            "title": "Школьный медиацентр",
            "education_level": "basic",
            "academic_year": "2025-2026",
        }
        return str(self.ok("POST", "/initiatives", author, body)["id"])

    def in_expertise(self, author: Person) -> str:
        criteria = {"title": "Критерии", "criteria": CRITERIA, "activate": True}
        self.ok("POST", "/criteria-sets", self.head, criteria)
        initiative_id = self.initiative(author)
        for action, who in (("submit", author), ("send_to_expertise", self.head)):
            url = f"/initiatives/{initiative_id}/transitions"
            self.ok("POST", url, who, {"action": action})
        return initiative_id

    def assign(self, initiative_id: str, expert: Person) -> str:
        body = {
            "expert_id": str(expert.id),
            "position": "content_expert",
            "due_at": _later(days=14),
        }
        return str(self.ok("POST", f"/initiatives/{initiative_id}/reviews", self.head, body)["id"])


# --- one private object, made by its owner ---------------------------------------------------

PathValues = dict[str, str]


def draft_initiative(maker: Maker, owner: Person) -> PathValues:
    return {"initiative_id": maker.initiative(owner)}


def initiative_with_conclusions(maker: Maker, owner: Person) -> PathValues:
    """The owner's initiative in expertise with one conclusion submitted."""
    initiative_id = maker.in_expertise(owner)
    expert = maker.expert()
    review_id = maker.assign(initiative_id, expert)
    maker.ok("POST", f"/reviews/{review_id}/accept", expert, {})
    conclusion = {
        "scores": [{"criterion": "relevance", "score": 4, "comment": "Проблема реальна"}],
        "recommendation": "approve",
        "summary": "Замысел стоит поддержать",
        "developmental_feedback": "Что изменится для ученика через год?",
    }
    maker.ok("POST", f"/reviews/{review_id}/submit", expert, conclusion)
    return {"initiative_id": initiative_id}


def review_assignment(maker: Maker, owner: Person) -> PathValues:
    """Someone else's initiative in expertise, and the owner (an expert) invited to review it."""
    author = maker.make_user(Role.participant, organization_id=maker.make_org())
    return {"review_id": maker.assign(maker.in_expertise(author), owner)}


def consultation_track(maker: Maker, owner: Person) -> PathValues:
    """The owner's request, accompanied by a consultant, with one session held."""
    body = {
        "topic": "Читательский клуб как сетевой проект",
        "description": "Хочу превратить школьный клуб в сетевой проект трёх школ",
        "preferred_format": "individual",
    }
    track_id = str(maker.ok("POST", "/consultations", owner, body)["id"])
    consultant = maker.expert()
    assign = {"consultant_ids": [str(consultant.id)]}
    maker.ok("PATCH", f"/consultations/{track_id}", maker.head, assign)
    held = {
        "held_at": datetime.now(UTC).isoformat(),
        "format": "individual",
        "duration_minutes": 60,
        "notes": "Обсудили проблему и целевую группу",
        "next_steps": "Сформулировать цель и три задачи",
    }
    session = maker.ok("POST", f"/consultations/{track_id}/sessions", consultant, held)
    return {"track_id": track_id, "session_id": str(session["id"])}


def planned_meeting(maker: Maker, owner: Person) -> PathValues:
    """A meeting not held yet, the owner invited, with one agenda item."""
    body = {
        "title": "Рефлексивная сессия по проектным замыслам",
        "scheduled_at": _later(days=5),
        "format": "reflective_session",
        "attendees": [{"user_id": str(owner.id)}],
    }
    meeting_id = str(maker.ok("POST", "/meetings", maker.head, body)["id"])
    item = {"kind": "discussion", "title": "Разное"}
    item_id = maker.ok("POST", f"/meetings/{meeting_id}/agenda-items", maker.head, item)["id"]
    return {"meeting_id": meeting_id, "item_id": str(item_id)}


def draft_amendment(maker: Maker, owner: Person) -> PathValues:
    head = maker.make_user(Role.office_head)
    if not maker.ok("GET", "/charter/versions", head)["items"]:  # rows may be shared
        first = {
            "sections": [
                {"key": "purpose", "title": "Назначение", "text": "Сеть объединяет школы."}
            ],
            "effective_from": "2021-09-01",
            "summary": "Первая редакция",
        }
        maker.ok("POST", "/charter/versions", head, first)
    body = {
        "title": "Уточнить назначение сети",
        "changes": [{"op": "modify", "key": "purpose", "text": "Сеть объединяет школы и людей."}],
        "rationale": "Сеть — это люди",
    }
    return {"amendment_id": str(maker.ok("POST", "/charter/amendments", owner, body)["id"])}


def own_profile(maker: Maker, owner: Person) -> PathValues:
    return {"user_id": str(owner.id)}


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Private:
    """Objects that `rule` hides from whoever is not related to them."""

    # An object rule of the policy, or the role action that decides who sees every object of
    # the kind (anyone else sees only their own).
    rule: ObjectRule | Action
    # The path parameter that names the object; routes whose first parameter it is are its.
    param: str
    # Roles an owner (whoever holds the relation the rule lets through) can have.
    owners: frozenset[Role]
    make: Callable[[Maker, Person], PathValues]
    # Path parameters of the object's parts (a track's sessions, a meeting's agenda items), made
    # by `make` too.
    parts: tuple[str, ...] = ()
    # Only the routes below these paths after the parameter (`/reviews`); empty: all of them.
    under: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.rule.value

    @property
    def denied(self) -> int:
        """What a stranger gets: the rule's promise; someone else's object is a 404 otherwise."""
        return OBJECT_RULES[self.rule].denied if isinstance(self.rule, ObjectRule) else 404

    @property
    def sees_all(self) -> frozenset[Role]:
        if isinstance(self.rule, ObjectRule):
            return OBJECT_RULES[self.rule].roles
        return POLICY[self.rule].roles

    @property
    def hidden_from(self) -> list[Role]:
        """The roles whose owners' objects a second person of the same role must not see."""
        return sorted(self.owners - self.sees_all)

    def covers(self, op: Operation) -> bool:
        if not op.path_params or op.path_params[0] != self.param:
            return False
        below = op.path.split("{" + self.param + "}", 1)[1]
        return not self.under or any(
            below == path or below.startswith(path + "/") for path in self.under
        )


AUTHORS = POLICY[Action.initiatives_create].roles
PRIVATE = [
    Private(ObjectRule.initiative_draft_read, "initiative_id", AUTHORS, draft_initiative),
    Private(
        ObjectRule.review_conclusions_read,
        "initiative_id",
        AUTHORS,
        initiative_with_conclusions,
        under=("/reviews", "/expertise-summary"),
    ),
    Private(ObjectRule.review_own, "review_id", frozenset({Role.expert}), review_assignment),
    Private(
        ObjectRule.consultation_read,
        "track_id",
        POLICY[Action.consultations_request].roles,
        consultation_track,
        parts=("session_id",),
    ),
    Private(
        ObjectRule.meeting_unheld_read,
        "meeting_id",
        frozenset(Role),  # anyone may be invited
        planned_meeting,
        parts=("item_id",),
    ),
    Private(
        ObjectRule.amendment_draft_read,
        "amendment_id",
        POLICY[Action.charter_propose].roles,
        draft_amendment,
    ),
    Private(Action.users_read, "user_id", frozenset(Role), own_profile),
]

# Path parameters of objects nobody owns privately: every reader of the kind sees them all
# (the role matrix of test_security_matrix.py checks who may read and write them).
NOT_PRIVATE = {
    "number": "charter versions are the adopted rules of the network, read by every role",
    "set_id": "criteria sets are read by every role",
    "event_id": "network events are open to every reader; editing someone else's is a 403 rule",
    "organization_id": "organizations are a directory read by every role",
    "account_id": "service accounts are the administrators' alone, by the role table",
    "code": "the office's functions are one catalogue, read whole by every maturity reader",
    "assessment_id": "the office's self-assessments are read by every maturity reader alike",
}

# The owner's own GETs that do not answer 200, for a reason that is not privacy: the answer
# each gives and its problem `code`.
OWNER_ANSWERS: dict[tuple[str, Role], tuple[int, str]] = {
    ("GET /api/v1/experts/{user_id}/profile", Role.participant): (404, "not_found"),
    ("GET /api/v1/experts/{user_id}/profile", Role.observer): (404, "not_found"),
    # The author does not pick the experts of their own initiative (conflict of interest).
    ("GET /api/v1/initiatives/{initiative_id}/expert-suggestions", Role.office_head): (
        403,
        "conflict_of_interest",
    ),
    ("GET /api/v1/initiatives/{initiative_id}/expert-suggestions", Role.office_member): (
        403,
        "conflict_of_interest",
    ),
}


def undeclared(op: Operation) -> list[str]:
    """The path parameters of `op` this table cannot place; empty when it can."""
    first, *rest = op.path_params or [""]
    if not first or first in NOT_PRIVATE:
        parts: set[str] = set()
    else:
        mine = [p for p in PRIVATE if p.param == first]
        if not mine:
            return [first]
        parts = {part for p in mine for part in p.parts}
    return [param for param in rest if param not in parts and param not in NOT_PRIVATE]
