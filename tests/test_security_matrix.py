"""Every operation × every caller answers what the policy promises; private objects stay private.

Generated from the app: the operations from `app.routes`, the action each requires from its
`require(...)` dependency, the expected answer from `policy.can()`. Routes that land later
(meetings, consultations, …) are in the matrix as soon as they are registered.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine
from app.models import Role, ServiceAccount
from app.policy import POLICY, Scope
from app.security import Principal, create_token
from app.services.principals import service_subject
from tests.factories import Person, assert_problem
from tests.route_catalog import (
    PUBLIC,
    Operation,
    all_operations,
    call,
    json_body_schema,
    sample,
)
from tests.shared_rows import SharedRows, make_person

OPERATIONS = all_operations()
API = "/api/v1"

# Routes every signed-in person passes by role, where the service's object rule still answers
# 403 to some roles before it looks at the object: operation → role → why. None today: the
# object rules of `CurrentUser` routes answer 404 for what the caller may not see, and 403 only
# on an object the caller can see. Keep it short.
OBJECT_RULE_403: dict[str, dict[Role, str]] = {}


@dataclass(frozen=True)
class Caller:
    name: str
    principal: Principal | None
    headers: dict[str, str]


def _person(role: Role) -> Caller:
    person = make_person(role, with_organization=False)
    principal = Principal(id=person.id, kind="user", name=role.value, roles=frozenset([role]))
    return Caller(role.value, principal, person.headers)


def _service_account(scopes: list[str]) -> Caller:
    """Straight into the table: the API insists on at least one scope, the matrix wants none."""
    with Session(get_engine()) as session:
        account = ServiceAccount(
            name=f"Интеграция {'+'.join(scopes) or 'без прав'}",
            client_id="po-" + secrets.token_hex(8),
            hashed_secret="not-used-in-these-tests",
            scopes=scopes,
        )
        session.add(account)
        session.commit()
        account_id = account.id
    token, _ = create_token(
        get_settings(),
        subject=service_subject(account_id),
        token_type="access",
        lifetime=timedelta(minutes=10),
        scopes=scopes,
    )
    principal = Principal(id=account_id, kind="service", name="service", scopes=frozenset(scopes))
    name = f"service[{','.join(scopes) or '-'}]"
    return Caller(name, principal, {"Authorization": f"Bearer {token}"})


@pytest.fixture(scope="class")
def callers(database: str) -> list[Caller]:
    """One person per role, anonymous, and service accounts: none, and each scope alone. Made
    once per class (`SharedRows` empties the tables when the class is done)."""
    found = [Caller("anonymous", None, {})]
    found.extend(_person(role) for role in Role)
    found.append(_service_account([]))
    found.extend(_service_account([scope.value]) for scope in Scope)
    return found


def test_public_operations_are_exactly_the_listed_ones():
    public = {op.key for op in OPERATIONS if not op.authenticated}
    assert public == PUBLIC


def test_every_guarded_operation_names_an_action_or_is_for_people_only():
    """A route that only checks "has a token" would let a scope-less service account in."""
    loose = [
        op.key for op in OPERATIONS if op.authenticated and not op.actions and not op.users_only
    ]
    assert not loose, f"add require(Action...) or CurrentUser to {loose}"


def test_every_action_of_the_routes_is_in_the_policy_table():
    used = {action for op in OPERATIONS for action in op.actions}
    assert used <= set(POLICY)


class TestMatrix(SharedRows):
    """The callers are made once for the class: the requests use made-up ids and bodies that
    fail validation, so they change nothing the next operation depends on."""

    @pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.key)
    def test_policy(self, client, callers, op: Operation):
        failures = []
        for caller in callers:
            response = call(client, op, headers=caller.headers)
            expected = op.expected_status(caller.principal)
            role = next(iter(caller.principal.roles), None) if caller.principal else None
            if expected is None and role in OBJECT_RULE_403.get(op.key, {}):
                expected = 403
            got = response.status_code
            if expected is None:
                ok = got not in (401, 403) and got < 500
            else:
                ok = got == expected
                if ok:
                    assert_problem(response, expected)
            if not ok:
                failures.append(f"{caller.name}: expected {expected or 'through'}, got {got}")
        assert not failures, "\n".join(failures)


# --- people-only collections ---------------------------------------------------------------------

# Collections open to every signed-in person without a policy action: each filters by the caller
# itself (checked by its own tests). A new collection route must name an action or come here.
SELF_SCOPED = {
    "GET /api/v1/users/me": "the caller's own profile",
    "PATCH /api/v1/users/me": "the caller's own profile",
    "POST /api/v1/users/me/password": "the caller's own password",
    "GET /api/v1/reviews": "experts get their own assignments, the office all",
}


def test_people_only_routes_without_an_action_act_on_an_object_or_on_the_caller():
    unscoped = [
        op.key
        for op in OPERATIONS
        if op.users_only and not op.actions and not op.path_params and op.key not in SELF_SCOPED
    ]
    assert not unscoped, f"add require(Action...) to {unscoped} or explain it in SELF_SCOPED"


# --- BOLA: someone else's private object is a 404 -----------------------------------------------


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def draft_initiative(client: Any, owner: Person, **_: Any) -> str:
    body = {
        "title": "Школьный медиацентр",
        "education_level": "basic",
        "academic_year": "2025-2026",
    }
    return str(_ok(client.post(f"{API}/initiatives", json=body, headers=owner.headers))["id"])


def review_assignment(client: Any, owner: Person, make_user: Any, make_org: Any) -> str:
    """An initiative in expertise and `owner` (an expert from another school) invited to it."""
    head = make_user(Role.office_head, Role.office_member, organization_id=make_org())
    author = make_user(Role.participant, organization_id=make_org())
    criteria = [{"code": "relevance", "title_ru": "Актуальность", "title_en": "Relevance",
                 "max_score": 5, "weight": 1}]  # fmt: skip
    body = {"title": "Критерии", "criteria": criteria, "activate": True}
    _ok(client.post(f"{API}/criteria-sets", json=body, headers=head.headers))
    initiative = draft_initiative(client, author)
    for action, who in (("submit", author), ("send_to_expertise", head)):
        url = f"{API}/initiatives/{initiative}/transitions"
        _ok(client.post(url, json={"action": action}, headers=who.headers))
    due = (datetime.now(UTC) + timedelta(days=14)).isoformat()
    body = {"expert_id": str(owner.id), "position": "content_expert", "due_at": due}
    url = f"{API}/initiatives/{initiative}/reviews"
    return str(_ok(client.post(url, json=body, headers=head.headers))["id"])


def own_profile(client: Any, owner: Person, **_: Any) -> str:
    return str(owner.id)


def draft_amendment(client: Any, owner: Person, make_user: Any, **_: Any) -> str:
    head = make_user(Role.office_head)
    first = {
        "sections": [{"key": "purpose", "title": "Назначение", "text": "Сеть объединяет школы."}],
        "effective_from": "2021-09-01",
        "summary": "Первая редакция",
    }
    _ok(client.post(f"{API}/charter/versions", json=first, headers=head.headers))
    body = {
        "title": "Уточнить назначение сети",
        "changes": [{"op": "modify", "key": "purpose", "text": "Сеть объединяет школы и людей."}],
        "rationale": "Сеть — это люди",
    }
    return str(
        _ok(client.post(f"{API}/charter/amendments", json=body, headers=owner.headers))["id"]
    )


# Path parameter → who owns such private objects, and how one is made. Every route whose only
# path parameter is one of these is checked, including routes added later.
PRIVATE: dict[str, tuple[list[Role], Callable[..., str]]] = {
    "initiative_id": ([Role.participant, Role.expert], draft_initiative),
    "review_id": ([Role.expert], review_assignment),
    "user_id": ([Role.participant, Role.expert, Role.observer], own_profile),
    "amendment_id": ([Role.participant], draft_amendment),
}
# The owner's own GET that answers 404 for a reason that is not privacy.
OWNER_404 = {
    ("GET /api/v1/experts/{user_id}/profile", Role.participant): "only experts have a profile",
    ("GET /api/v1/experts/{user_id}/profile", Role.observer): "only experts have a profile",
}
BOLA_CASES = [
    pytest.param(param, role, id=f"{param}-{role.value}")
    for param, (roles, _) in PRIVATE.items()
    for role in roles
    if any(op.path_params == [param] for op in OPERATIONS)
]


def _principal(person: Person) -> Principal:
    return Principal(id=person.id, kind="user", name="x", roles=frozenset(person.roles))


@pytest.mark.parametrize(("param", "role"), BOLA_CASES)
def test_someone_elses_private_object_is_not_found(client, make_user, make_org, param, role):
    school = make_org()
    owner = make_user(role, organization_id=school)
    intruder = make_user(role, organization_id=school)
    object_id = PRIVATE[param][1](client, owner, make_user=make_user, make_org=make_org)
    ops = [op for op in OPERATIONS if op.path_params == [param]]
    failures = []
    # The intruder first, writes included (with a valid body, so only the object can stop it);
    # then the owner's reads, which must find the object (the 404 is about who asks).
    for op in ops:
        body = sample(schema) if (schema := json_body_schema(op)) else None
        response = call(
            client, op, headers=intruder.headers, path_values={param: object_id}, body=body
        )
        expected = 404 if op.allows(_principal(intruder)) else 403
        if response.status_code != expected:
            failures.append(f"intruder {op.key}: expected {expected}, got {response.status_code}")
        elif expected == 404:
            assert_problem(response, 404)
    for op in ops:
        if op.method != "GET" or not op.allows(_principal(owner)):
            continue
        response = call(client, op, headers=owner.headers, path_values={param: object_id})
        if response.status_code != 200 and (op.key, role) not in OWNER_404:
            failures.append(f"owner {op.key}: expected 200, got {response.status_code}")
    assert not failures, "\n".join(failures)
