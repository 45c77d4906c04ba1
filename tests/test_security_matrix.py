"""Every operation × every caller answers what the policy promises; private objects stay private.

Generated from the app: the operations from `app.routes`, the action each requires from its
`require(...)` dependency, the expected answer from `policy.can()`. Routes that land later
(meetings, consultations, …) are in the matrix as soon as they are registered.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlmodel import Session

from app.config import get_settings
from app.db import get_engine
from app.models import Role, ServiceAccount
from app.policy import OBJECT_RULES, POLICY, Scope
from app.security import Principal, create_token
from app.services.principals import service_subject
from tests.factories import Person, assert_problem
from tests.private_objects import OWNER_ANSWERS, PRIVATE, Maker, Private, undeclared
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

# Generated from the policy's object rules and the route catalog through the table of
# tests/private_objects.py: each rule that hides objects from strangers, each role an owner of
# such an object can have (and does not see all of them by), each route of the object.
BOLA_CASES = [
    pytest.param(private, role, id=f"{private.name}-{role.value}")
    for private in PRIVATE
    for role in private.hidden_from
]


def test_every_path_parameter_is_declared():
    unknown = sorted({f"{param} in {op.key}" for op in OPERATIONS for param in undeclared(op)})
    assert not unknown, (
        f"path parameters nobody declared: {unknown}. Declare each in tests/private_objects.py: "
        "in PRIVATE (with a factory that makes one, or as one of `parts` of an object) if an "
        "object rule hides it from strangers, in NOT_PRIVATE with the reason if it does not."
    )


def test_every_rule_that_hides_objects_is_checked():
    hiding = {rule for rule, spec in OBJECT_RULES.items() if spec.denied == 404}
    checked = {p.rule for p in PRIVATE if p.hidden_from and any(map(p.covers, OPERATIONS))}
    assert not hiding - checked, (
        f"object rules answering 404 without a BOLA case: {sorted(hiding - checked)}; add each "
        "to PRIVATE in tests/private_objects.py with a factory for one object"
    )


def _principal(person: Person) -> Principal:
    return Principal(id=person.id, kind="user", name="x", roles=frozenset(person.roles))


class TestSomeoneElsesObjects(SharedRows):
    """Each case makes its own people and object, so the cases share the tables and empty them
    once, at the end (emptying them after each case is most of the time on PostgreSQL)."""

    @pytest.mark.parametrize(("private", "role"), BOLA_CASES)
    def test_private_object_is_not_found(
        self, client, make_user, make_org, private: Private, role: Role
    ):
        """A second person of the owner's role, from the same school, gets what the rule
        promises (404) on every route of the owner's object, writes included; the owner's reads
        find it. One object per case serves all the routes."""
        school = make_org()
        owner = make_user(role, organization_id=school)
        intruder = make_user(role, organization_id=school)
        values = private.make(Maker(client, make_user, make_org), owner)
        missing = {private.param, *private.parts} - values.keys()
        assert not missing, f"{private.make.__name__} must return {sorted(missing)}"
        ops = [op for op in OPERATIONS if private.covers(op)]
        assert ops
        failures = []
        # The intruder first, writes included (with a valid body, so only the object can stop
        # it); then the owner's reads, which must find the object (the 404 is about who asks).
        for op in ops:
            body = sample(schema) if (schema := json_body_schema(op)) else None
            response = call(client, op, headers=intruder.headers, path_values=values, body=body)
            expected = private.denied if op.allows(_principal(intruder)) else 403
            if response.status_code != expected:
                failures.append(
                    f"intruder {op.key}: expected {expected}, got {response.status_code}"
                )
            else:
                assert_problem(response, expected)
        for op in ops:
            if op.method != "GET" or not op.allows(_principal(owner)):
                continue
            response = call(client, op, headers=owner.headers, path_values=values)
            status, code = OWNER_ANSWERS.get((op.key, role), (200, None))
            if response.status_code != status:
                failures.append(f"owner {op.key}: expected {status}, got {response.status_code}")
            elif code is not None:
                assert_problem(response, status, code)
        assert not failures, "\n".join(failures)
