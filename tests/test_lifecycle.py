"""The initiative lifecycle: the table at /meta/lifecycle, the walk that proves the API enforces
exactly that table, transitions, history, available actions, guards and concurrent decisions.

Guards belong to later domains (expertise: criteria sets and conclusions), so the walk and the
journeys run with the guards lifted (`lifted_guards`) and the guards have tests of their own
below: whatever guards the table lists, `/actions` and `POST /transitions` must agree on them.
"""

import dataclasses
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.models import InitiativeStatus, Role, TeamRole
from app.services.lifecycle import STEPS, TERMINAL, GuardSpec, LifecycleAction, Party
from tests.factories import assert_problem
from tests.test_expertise import CRITERIA, conclusion, due
from tests.test_initiatives import API, audit_items, create_initiative, set_status, walk

S = InitiativeStatus
A = LifecycleAction

# The cast of the walk: the table's parties, plus people the table does not name. Between them
# they hold every global role and every relation to an initiative (author, each team role).
TABLE_PARTIES = {
    "author": {Party.author.value},
    "team_lead": {Party.team_lead.value},
    "office_member": {Party.office_member.value},
    "office_head": {Party.office_head.value},
    "team_member": set(),
    "team_mentor": set(),
    "participant": set(),
    "expert": set(),
    "observer": set(),
    "admin": set(),
}
# Who in the cast stands in a relation to the initiative ("автор и команда" of the policy).
RELATIONS = {
    "author": "author",
    "team_lead": TeamRole.lead.value,
    "team_member": TeamRole.member.value,
    "team_mentor": TeamRole.mentor.value,
}

# docs/domain.md, arrow by arrow: the table must draw exactly this picture.
DESIGN_EDGES = {
    (S.draft, A.submit, S.submitted),
    (S.submitted, A.start_consultation, S.consultation),
    (S.consultation, A.send_to_expertise, S.expertise),
    (S.submitted, A.send_to_expertise, S.expertise),
    (S.submitted, A.request_revision, S.revision),
    (S.consultation, A.request_revision, S.revision),
    (S.expertise, A.request_revision, S.revision),
    (S.revision, A.resubmit, S.submitted),
    (S.expertise, A.approve, S.approved),
    (S.approved, A.start, S.in_progress),
    (S.in_progress, A.complete, S.completed),
    (S.completed, A.close, S.closed),
    (S.expertise, A.reject, S.rejected),
    (S.submitted, A.reject, S.rejected),
    (S.in_progress, A.suspend, S.suspended),
    (S.suspended, A.resume, S.in_progress),
    *((s, A.withdraw, S.withdrawn) for s in (S.draft, S.submitted, S.consultation)),
    *((s, A.withdraw, S.withdrawn) for s in (S.expertise, S.revision)),
    (S.in_progress, A.cancel, S.cancelled),
    (S.suspended, A.cancel, S.cancelled),
}
COMMENT_REQUIRED = {A.reject, A.request_revision, A.cancel, A.suspend}


def transitions_url(initiative: dict[str, Any]) -> str:
    return f"{API}/{initiative['id']}/transitions"


def history(client: TestClient, person: Any, initiative: dict[str, Any]) -> list[dict[str, Any]]:
    return walk(client, person, 200, url=transitions_url(initiative))


@pytest.fixture
def lifted_guards(monkeypatch):
    """The table without its guards, for as long as the test runs."""
    for action, step in list(STEPS.items()):
        monkeypatch.setitem(STEPS, action, dataclasses.replace(step, guards=()))


def add_guard(monkeypatch: Any, action: LifecycleAction, spec: GuardSpec) -> None:
    step = STEPS[action]
    monkeypatch.setitem(STEPS, action, dataclasses.replace(step, guards=(*step.guards, spec)))


@pytest.fixture
def cast(make_user, make_org):
    org = make_org(short_name="СОШ № 12")
    return {
        "author": make_user(Role.participant, organization_id=org, full_name="Анна Автор"),
        "team_lead": make_user(Role.participant, organization_id=org, full_name="Лев Лидер"),
        "team_member": make_user(Role.participant, organization_id=org),
        "team_mentor": make_user(Role.participant, full_name="Мария Наставник"),
        "office_member": make_user(Role.office_member, full_name="Олег Офис"),
        "office_head": make_user(Role.office_head, full_name="Римма Руководитель"),
        "participant": make_user(Role.participant, organization_id=org),
        "expert": make_user(Role.expert, full_name="Эмиль Эксперт"),
        "observer": make_user(Role.observer),
        "admin": make_user(Role.admin),
    }


def new_initiative(client: TestClient, cast: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    return create_initiative(
        client,
        cast["author"],
        team=[
            {"user_id": str(cast["team_lead"].id), "role": "lead"},
            {"user_id": str(cast["team_member"].id), "role": "member"},
            {"user_id": str(cast["team_mentor"].id), "role": "mentor"},
        ],
        **overrides,
    )


def act(
    client: TestClient,
    person: Any,
    initiative: dict[str, Any],
    action: str,
    comment: str | None = None,
    **headers: str,
) -> Any:
    body: dict[str, Any] = {"action": action}
    if comment is not None:
        body["comment"] = comment
    return client.post(
        transitions_url(initiative), json=body, headers={**person.headers, **headers}
    )


# --- GET /meta/lifecycle ----------------------------------------------------------------------


class TestMetaLifecycle:
    def test_is_public_and_is_the_table(self, client):
        response = client.get("/api/v1/meta/lifecycle")
        assert response.status_code == 200
        table = response.json()
        assert table["initial"] == "draft"
        assert [s["code"] for s in table["states"]] == [s.value for s in S]
        assert {s["code"] for s in table["states"] if s["terminal"]} == {s.value for s in TERMINAL}
        assert all(s["ru"] and s["en"] for s in table["states"])
        assert [a["action"] for a in table["actions"]] == [a.value for a in STEPS]
        for served in table["actions"]:
            step = STEPS[LifecycleAction(served["action"])]
            assert served == {
                "action": step.action.value,
                "ru": step.label_ru,
                "en": step.label_en,
                "sources": [s.value for s in S if s in step.sources],
                "target": step.target.value,
                "parties": [p.value for p in Party if p in step.parties],
                "requires_comment": step.requires_comment,
                "guards": [
                    {"code": g.code, "description": g.description, "status": g.status}
                    for g in step.guards
                ],
                "effects": list(step.effect_descriptions),
            }

    def test_draws_the_design(self, client):
        table = client.get("/api/v1/meta/lifecycle").json()
        edges = {
            (S(source), A(a["action"]), S(a["target"]))
            for a in table["actions"]
            for source in a["sources"]
        }
        assert edges == DESIGN_EDGES
        assert {s["code"] for s in table["states"] if s["terminal"]} == {
            "closed",
            "rejected",
            "withdrawn",
            "cancelled",
        }
        by_action = {a["action"]: a for a in table["actions"]}
        assert {a for a, step in by_action.items() if step["requires_comment"]} == COMMENT_REQUIRED
        assert by_action["withdraw"]["parties"] == ["author"]
        assert by_action["approve"]["parties"] == ["office_head"]
        assert by_action["resubmit"]["effects"] == ["new_review_round"]
        # Every state is reachable from a draft.
        reached, frontier = {S.draft}, [S.draft]
        while frontier:
            state = frontier.pop()
            for source, _, target in edges:
                if source == state and target not in reached:
                    reached.add(target)
                    frontier.append(target)
        assert reached == set(S)

    def test_labels_in_enums(self, client):
        groups = {g["name"]: g["values"] for g in client.get("/api/v1/meta/enums").json()}
        actions = {v["code"]: (v["ru"], v["en"]) for v in groups["lifecycle_action"]}
        assert actions == {a.value: (s.label_ru, s.label_en) for a, s in STEPS.items()}
        assert {v["code"] for v in groups["lifecycle_party"]} == {p.value for p in Party}


# --- the walk: every state × every action × every party ---------------------------------------


def _expected(
    table: dict[str, Any], state: str, party: str, action: dict[str, Any], sees_drafts: set[str]
) -> tuple[int, Any]:
    """What the table promises for this party taking this action in this state."""
    if state == S.draft and party not in sees_drafts:
        return 404, "initiative_not_found"
    mine = TABLE_PARTIES[party]
    if not mine & set(action["parties"]):
        return 403, "action_forbidden"
    if state not in action["sources"]:
        return 409, [
            a["action"]
            for a in table["actions"]
            if state in a["sources"] and mine & set(a["parties"])
        ]
    return 200, action["target"]


def _check_cast(client: TestClient, cast: dict[str, Any], table: dict[str, Any]) -> None:
    """The walk is only as good as its cast: every global role, every relation, every party of
    the table, and each person's table parties are exactly what their roles make them."""
    assert set(cast) == set(TABLE_PARTIES)
    assert {role for person in cast.values() for role in person.roles} == set(Role)
    served_parties = {p for a in table["actions"] for p in a["parties"]}
    assert set().union(*TABLE_PARTIES.values()) == served_parties == {p.value for p in Party}
    role_parties = {p.value for p in Party} & {r.value for r in Role}
    for name, person in cast.items():
        held = {r.value for r in person.roles} & role_parties
        assert TABLE_PARTIES[name] & role_parties == held, name
    initiative = new_initiative(client, cast, title="Кто есть кто")
    read = client.get(f"{API}/{initiative['id']}", headers=cast["author"].headers).json()
    relations = {"author": read["author_id"]} | {m["role"]: m["user_id"] for m in read["team"]}
    assert set(relations) == {"author", *(r.value for r in TeamRole)}
    assert {name: relations[rel] for name, rel in RELATIONS.items()} == {
        name: str(cast[name].id) for name in RELATIONS
    }


def _sees_drafts(client: TestClient, cast: dict[str, Any]) -> set[str]:
    """From the policy as served: the roles that read any draft, plus the author and team."""
    policy = client.get("/api/v1/meta/policy", headers=cast["admin"].headers).json()
    rule = next(r for r in policy["object_rules"] if r["rule"] == "initiative.draft.read")
    assert rule["relation"] == "автор и команда"
    by_role = {r for r, allowed in rule["allowed"].items() if allowed}
    return {
        name
        for name, person in cast.items()
        if name in RELATIONS or by_role & {r.value for r in person.roles}
    }


def test_table_walk(client, cast, lifted_guards, subtests):
    """Every state of the served table × every action × every party (the table's four, and a
    team member, a mentor, a plain participant, an expert, an observer and an administrator):
    the API answers exactly what the table and the policy promise. One subtest per state."""
    table = client.get("/api/v1/meta/lifecycle").json()
    states = [s["code"] for s in table["states"]]
    assert states == [s.value for s in S]
    assert {a["action"] for a in table["actions"]} == {a.value for a in STEPS}
    _check_cast(client, cast, table)
    sees_drafts = _sees_drafts(client, cast)
    assert sees_drafts == {"author", "team_lead", "team_member", "team_mentor", "admin"}
    for state in states:
        with subtests.test(state=state):
            wrong = _walk_state(client, cast, table, state, sees_drafts)
            assert not wrong, "\n".join(wrong)


def _walk_state(
    client: TestClient,
    cast: dict[str, Any],
    table: dict[str, Any],
    state: str,
    sees_drafts: set[str],
) -> list[str]:
    initiative = new_initiative(client, cast, title=f"Обход таблицы: {state}")
    set_status(initiative["id"], S(state))
    url = transitions_url(initiative)
    wrong: list[str] = []

    def check(condition: bool, what: str, response: Any) -> None:
        if not condition:
            got = response.json()
            if response.status_code >= 400:
                got = {k: got.get(k) for k in ("code", "detail", "extra")}
            wrong.append(f"{what}: got {response.status_code} {got}")

    for party, person in cast.items():
        # The actions the caller may take now: exactly the table's, in the table's order.
        listed = client.get(f"{API}/{initiative['id']}/actions", headers=person.headers)
        if state == S.draft and party not in sees_drafts:
            check(listed.status_code == 404, f"{state} {party} /actions 404", listed)
        else:
            open_now = [
                a
                for a in table["actions"]
                if state in a["sources"] and TABLE_PARTIES[party] & set(a["parties"])
            ]
            expected_list = [
                {
                    "action": a["action"],
                    "label_ru": a["ru"],
                    "label_en": a["en"],
                    "target": a["target"],
                    "allowed": True,
                    "requires_comment": a["requires_comment"],
                    "blocked_by": [],
                }
                for a in open_now
            ]
            check(
                listed.status_code == 200 and listed.json() == expected_list,
                f"{state} {party} /actions == {[a['action'] for a in open_now]}",
                listed,
            )

        for action in table["actions"]:
            name = action["action"]
            status, detail = _expected(table, state, party, action, sees_drafts)
            where = f"{state} {party} {name}"
            if status == 200 and action["requires_comment"]:
                bare = client.post(url, json={"action": name}, headers=person.headers)
                check(
                    bare.status_code == 422 and bare.json().get("code") == "comment_required",
                    f"{where} without comment → 422 comment_required",
                    bare,
                )
                if bare.status_code == 200:
                    set_status(initiative["id"], S(state))
            comment = f"Комментарий: {name}" if action["requires_comment"] else None
            response = act(client, person, initiative, name, comment)
            body = response.json()
            if status == 404:
                check(
                    response.status_code == 404 and body.get("code") == detail,
                    f"{where} → 404",
                    response,
                )
            elif status == 403:
                check(
                    response.status_code == 403
                    and body.get("code") == "action_forbidden"
                    and body["extra"]["action"] == name
                    and set(body["extra"]["parties"]) == set(action["parties"]),
                    f"{where} → 403 action_forbidden",
                    response,
                )
            elif status == 409:
                check(
                    response.status_code == 409
                    and body.get("code") == "invalid_transition"
                    and body["extra"] == {"status": state, "allowed_actions": detail},
                    f"{where} → 409 invalid_transition allowed_actions={detail}",
                    response,
                )
            else:
                check(
                    response.status_code == 200 and body["status"] == detail,
                    f"{where} → 200 {detail}",
                    response,
                )
                if response.status_code != 200:
                    continue
                opens_round = "new_review_round" in action["effects"]
                check(
                    body["review_round"] == initiative["review_round"] + opens_round,
                    f"{where} review round {'+1' if opens_round else 'kept'}",
                    response,
                )
                last = history(client, cast["admin"], initiative)[-1]
                recorded = {k: last[k] for k in ("action", "from_status", "to_status", "comment")}
                if recorded != {
                    "action": name,
                    "from_status": state,
                    "to_status": detail,
                    "comment": comment,
                } or last["actor_id"] != str(person.id):
                    wrong.append(f"{where} history: {last}")
                set_status(initiative["id"], S(state))
                initiative["review_round"] = body["review_round"]

    return wrong


# --- POST /initiatives/{id}/transitions -------------------------------------------------------


class TestTransitions:
    def test_anonymous_is_401(self, client, cast):
        initiative = new_initiative(client, cast)
        assert_problem(
            client.post(transitions_url(initiative), json={"action": "submit"}),
            401,
            "unauthorized",
        )

    def test_participant_approving_is_403(self, client, cast):
        initiative = new_initiative(client, cast)
        set_status(initiative["id"], S.expertise)
        for who in ("participant", "author", "team_lead", "observer", "admin", "office_member"):
            body = assert_problem(
                act(client, cast[who], initiative, "approve"), 403, "action_forbidden"
            )
            assert body["extra"] == {"action": "approve", "parties": ["office_head"]}
            assert "«Одобрить»" in body["detail"]
        after = client.get(f"{API}/{initiative['id']}", headers=cast["admin"].headers).json()
        assert after["status"] == "expertise"
        assert after["version"] == 1

    def test_withdraw_is_the_authors_alone(self, client, cast):
        initiative = new_initiative(client, cast)
        set_status(initiative["id"], S.submitted)
        for who in ("team_lead", "office_head", "office_member"):
            assert_problem(act(client, cast[who], initiative, "withdraw"), 403, "action_forbidden")

    def test_someone_elses_draft_is_404(self, client, cast):
        initiative = new_initiative(client, cast)
        for who in ("participant", "observer", "office_member", "office_head"):
            assert_problem(
                act(client, cast[who], initiative, "submit"), 404, "initiative_not_found"
            )
        assert_problem(
            client.post(
                f"{API}/{uuid.uuid4()}/transitions",
                json={"action": "submit"},
                headers=cast["author"].headers,
            ),
            404,
            "initiative_not_found",
        )

    def test_unknown_action_is_422_listing_the_valid_ones(self, client, cast):
        initiative = new_initiative(client, cast)
        body = assert_problem(
            act(client, cast["author"], initiative, "teleport"), 422, "validation_error"
        )
        assert body["errors"][0]["loc"] == ["body", "action"]
        for action in STEPS:
            assert f"'{action.value}'" in body["detail"]
            assert f"'{action.value}'" in body["errors"][0]["msg"]

    def test_invalid_body_is_422(self, client, cast, subtests):
        initiative = new_initiative(client, cast)
        cases = {
            "empty": {},
            "null action": {"action": None},
            "comment of 5001 characters": {"action": "submit", "comment": "к" * 5001},
            "version 0": {"action": "submit", "version": 0},
            "unknown field": {"action": "submit", "to_status": "approved"},
            "not an object": [],
        }
        for case, payload in cases.items():
            with subtests.test(case):
                assert_problem(
                    client.post(
                        transitions_url(initiative), json=payload, headers=cast["author"].headers
                    ),
                    422,
                    "validation_error",
                )
        assert history(client, cast["author"], initiative) == []

    def test_comment_required(self, client, cast, lifted_guards, subtests):
        """Every step the table marks `requires_comment` (reject, request_revision, cancel,
        suspend) refuses an empty or blank comment and records the one given."""
        table = client.get("/api/v1/meta/lifecycle").json()
        steps = [a for a in table["actions"] if a["requires_comment"]]
        assert {a["action"] for a in steps} == COMMENT_REQUIRED
        for step in steps:
            for source in step["sources"]:
                with subtests.test(action=step["action"], source=source):
                    initiative = new_initiative(client, cast, title=f"{step['action']} {source}")
                    set_status(initiative["id"], S(source))
                    head = cast["office_head"]  # takes every commented step
                    for comment in (None, "", "   "):
                        body = assert_problem(
                            act(client, head, initiative, step["action"], comment),
                            422,
                            "comment_required",
                        )
                        assert body["errors"][0]["loc"] == ["body", "comment"]
                    done = act(client, head, initiative, step["action"], "  Причина  ")
                    assert done.status_code == 200, done.text
                    assert done.json()["status"] == step["target"]
                    assert history(client, head, initiative)[-1]["comment"] == "Причина"

    def test_terminal_states_allow_nothing(self, client, cast, subtests):
        table = client.get("/api/v1/meta/lifecycle").json()
        terminal = [s["code"] for s in table["states"] if s["terminal"]]
        initiative = new_initiative(client, cast)
        for state in terminal:
            set_status(initiative["id"], S(state))
            for who, action in (("office_head", "close"), ("author", "withdraw")):
                with subtests.test(state=state, who=who, action=action):
                    body = assert_problem(
                        act(client, cast[who], initiative, action, "Поздно"),
                        409,
                        "invalid_transition",
                    )
                    assert body["extra"] == {"status": state, "allowed_actions": []}
            with subtests.test(state=state, what="no actions"):
                for who in ("author", "office_head", "office_member"):
                    listed = client.get(
                        f"{API}/{initiative['id']}/actions", headers=cast[who].headers
                    )
                    assert listed.json() == []
        assert history(client, cast["admin"], initiative) == []

    def test_invalid_transition_names_what_is_allowed(self, client, cast):
        initiative = new_initiative(client, cast)
        set_status(initiative["id"], S.submitted)
        body = assert_problem(
            act(client, cast["office_head"], initiative, "close"), 409, "invalid_transition"
        )
        assert body["extra"]["allowed_actions"] == [
            "start_consultation",
            "send_to_expertise",
            "request_revision",
            "reject",
        ]
        assert "«Закрыть»" in body["detail"]
        assert "«Подана»" in body["detail"]

    def test_stale_versions(self, client, cast):
        initiative = new_initiative(client, cast)
        author = cast["author"]
        client.patch(f"{API}/{initiative['id']}", json={"goal": "Ещё"}, headers=author.headers)
        body = assert_problem(
            act(client, author, initiative, "submit", **{"If-Match": '"1"'}),
            412,
            "precondition_failed",
        )
        assert body["extra"] == {"current_version": 2}
        body = assert_problem(
            client.post(
                transitions_url(initiative),
                json={"action": "submit", "version": 1},
                headers=author.headers,
            ),
            409,
            "version_conflict",
        )
        assert body["extra"] == {"current_version": 2}
        assert history(client, author, initiative) == []
        done = act(client, author, initiative, "submit", **{"If-Match": '"2"'})
        assert done.status_code == 200, done.text
        assert done.headers["ETag"] == '"3"'
        assert done.json()["version"] == 3
        with_body_version = client.post(
            transitions_url(initiative),
            json={"action": "withdraw", "version": 3},
            headers=author.headers,
        )
        assert with_body_version.status_code == 200, with_body_version.text

    def test_journey_from_idea_to_closure(self, client, cast, lifted_guards):
        """What the issue's «done when» describes, through the API only."""
        author, lead = cast["author"], cast["team_lead"]
        member, head = cast["office_member"], cast["office_head"]
        initiative = new_initiative(client, cast)
        steps = [
            (lead, "submit", None, "submitted", 1),
            (member, "start_consultation", "Встреча 12 октября", "consultation", 1),
            (member, "send_to_expertise", None, "expertise", 1),
            (head, "request_revision", "Уточните задачи", "revision", 1),
        ]
        for person, action, comment, status, review_round in steps:
            response = act(client, person, initiative, action, comment)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status
            assert response.json()["review_round"] == review_round
        # In revision the author edits again; resubmitting opens round 2.
        edit = client.patch(
            f"{API}/{initiative['id']}",
            json={"tasks": ["Уточнённая задача"]},
            headers=author.headers,
        )
        assert edit.status_code == 200, edit.text
        steps = [
            (author, "resubmit", None, "submitted", 2),
            (head, "send_to_expertise", None, "expertise", 2),
            (head, "approve", "Поддержать", "approved", 2),
            (member, "start", None, "in_progress", 2),
            (member, "suspend", "Карантин", "suspended", 2),
            (member, "resume", None, "in_progress", 2),
            (member, "complete", None, "completed", 2),
            (head, "close", "Итоги подведены", "closed", 2),
        ]
        for person, action, comment, status, review_round in steps:
            response = act(client, person, initiative, action, comment)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == status
            assert response.json()["review_round"] == review_round
        # The author cannot edit a closed initiative, and nobody can move it any more.
        assert_problem(
            client.patch(f"{API}/{initiative['id']}", json={"goal": "x"}, headers=author.headers),
            409,
            "initiative_not_editable",
        )
        assert_problem(act(client, head, initiative, "close"), 409, "invalid_transition")
        assert_problem(act(client, author, initiative, "withdraw"), 409, "invalid_transition")
        # The whole history, oldest first, for anyone who may read it (an observer too).
        recorded = history(client, cast["observer"], initiative)
        assert [
            (t["action"], t["from_status"], t["to_status"], t["review_round"]) for t in recorded
        ] == [
            ("submit", "draft", "submitted", 1),
            ("start_consultation", "submitted", "consultation", 1),
            ("send_to_expertise", "consultation", "expertise", 1),
            ("request_revision", "expertise", "revision", 1),
            ("resubmit", "revision", "submitted", 2),
            ("send_to_expertise", "submitted", "expertise", 2),
            ("approve", "expertise", "approved", 2),
            ("start", "approved", "in_progress", 2),
            ("suspend", "in_progress", "suspended", 2),
            ("resume", "suspended", "in_progress", 2),
            ("complete", "in_progress", "completed", 2),
            ("close", "completed", "closed", 2),
        ]
        first = recorded[0]
        assert first["actor_id"] == str(lead.id)
        assert first["actor_name"] == "Лев Лидер"
        assert first["comment"] is None
        assert recorded[3]["actor_name"] == "Римма Руководитель"
        assert recorded[3]["comment"] == "Уточните задачи"
        assert [t["at"] for t in recorded] == sorted(t["at"] for t in recorded)
        assert [t["id"] for t in recorded] == sorted(t["id"] for t in recorded)
        # And the activity log holds one event per transition.
        events = audit_items(client, cast["admin"], initiative["id"])
        moves = [e for e in events if e["action"] == "initiative.transitioned"]
        assert len(moves) == len(recorded)


# --- GET /initiatives/{id}/transitions --------------------------------------------------------


class TestHistory:
    def test_anonymous_is_401(self, client, cast):
        initiative = new_initiative(client, cast)
        assert_problem(client.get(transitions_url(initiative)), 401, "unauthorized")

    def test_someone_elses_draft_is_404(self, client, cast):
        initiative = new_initiative(client, cast)
        for who in ("participant", "office_head", "observer"):
            assert_problem(
                client.get(transitions_url(initiative), headers=cast[who].headers),
                404,
                "initiative_not_found",
            )
        for who in ("author", "team_member", "admin"):
            response = client.get(transitions_url(initiative), headers=cast[who].headers)
            assert response.json() == {"items": [], "next_cursor": None}

    def test_invalid_parameters_are_422(self, client, cast):
        initiative = new_initiative(client, cast)
        headers = cast["author"].headers
        assert_problem(client.get(f"{API}/nope/transitions", headers=headers), 422)
        assert_problem(
            client.get(transitions_url(initiative), params={"limit": 0}, headers=headers), 422
        )
        assert_problem(
            client.get(transitions_url(initiative), params={"cursor": "@@"}, headers=headers),
            422,
            "invalid_cursor",
        )

    def test_pages_and_constant_queries(self, client, cast, lifted_guards, count_queries):
        """The history costs the same number of queries whatever its length."""
        author, member = cast["author"], cast["office_member"]

        def build(transitions: int) -> dict[str, Any]:
            initiative = new_initiative(client, cast)
            assert act(client, author, initiative, "submit").status_code == 200
            for i in range((transitions - 2) // 2):
                assert (
                    act(client, member, initiative, "request_revision", f"№{i}").status_code == 200
                )
                assert act(client, author, initiative, "resubmit").status_code == 200
            assert act(client, member, initiative, "start_consultation").status_code == 200
            return initiative

        def queries(initiative: dict[str, Any], url: str) -> int:
            count_queries.statements.clear()
            assert client.get(url, headers=cast["observer"].headers).status_code == 200
            return count_queries.count

        short, long = build(2), build(10)
        assert len(history(client, author, short)) == 2
        assert len(history(client, author, long)) == 10
        assert queries(short, transitions_url(short)) == queries(long, transitions_url(long))
        detail = f"{API}/{short['id']}", f"{API}/{long['id']}"
        assert queries(short, detail[0]) == queries(long, detail[1])
        # Keyset pages over the history: no duplicates, no gaps, oldest first.
        everything = history(client, author, long)
        for limit in (1, 3, 4):
            paged = walk(client, author, limit, url=transitions_url(long))
            assert paged == everything
        assert [t["review_round"] for t in everything] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


# --- GET /initiatives/{id}/actions ------------------------------------------------------------


class TestActions:
    def test_anonymous_is_401(self, client, cast):
        initiative = new_initiative(client, cast)
        assert_problem(client.get(f"{API}/{initiative['id']}/actions"), 401, "unauthorized")

    def test_someone_elses_draft_is_404(self, client, cast):
        initiative = new_initiative(client, cast)
        assert_problem(
            client.get(f"{API}/{initiative['id']}/actions", headers=cast["office_head"].headers),
            404,
            "initiative_not_found",
        )
        assert_problem(
            client.get(f"{API}/{uuid.uuid4()}/actions", headers=cast["author"].headers),
            404,
            "initiative_not_found",
        )
        assert_problem(client.get(f"{API}/x/actions", headers=cast["author"].headers), 422)

    def test_happy_path(self, client, cast):
        initiative = new_initiative(client, cast)
        response = client.get(f"{API}/{initiative['id']}/actions", headers=cast["author"].headers)
        assert response.status_code == 200
        assert response.json() == [
            {
                "action": "submit",
                "label_ru": "Подать",
                "label_en": "Submit",
                "target": "submitted",
                "allowed": True,
                "requires_comment": False,
                "blocked_by": [],
            },
            {
                "action": "withdraw",
                "label_ru": "Отозвать",
                "label_en": "Withdraw",
                "target": "withdrawn",
                "allowed": True,
                "requires_comment": False,
                "blocked_by": [],
            },
        ]
        lead = client.get(f"{API}/{initiative['id']}/actions", headers=cast["team_lead"].headers)
        assert [a["action"] for a in lead.json()] == ["submit"]
        member = client.get(
            f"{API}/{initiative['id']}/actions", headers=cast["team_member"].headers
        )
        assert member.json() == []


# --- guards -----------------------------------------------------------------------------------


class TestGuards:
    def test_a_failing_guard_blocks_and_says_why(self, client, cast, lifted_guards, monkeypatch):
        calls = []

        def not_yet(session: Any, initiative: Any, actor: Any) -> str | None:
            calls.append(initiative.id)
            return None if initiative.goal == "готово" else "Цель ещё не согласована"

        add_guard(monkeypatch, A.start, GuardSpec("goal_agreed", "Цель согласована", not_yet))
        table = client.get("/api/v1/meta/lifecycle").json()
        start = next(a for a in table["actions"] if a["action"] == "start")
        assert start["guards"] == [
            {"code": "goal_agreed", "description": "Цель согласована", "status": 409}
        ]

        initiative = new_initiative(client, cast)
        set_status(initiative["id"], S.approved)
        member = cast["office_member"]
        listed = client.get(f"{API}/{initiative['id']}/actions", headers=member.headers).json()
        assert listed[0]["action"] == "start"
        assert listed[0]["allowed"] is False
        assert listed[0]["blocked_by"] == [
            {"guard": "goal_agreed", "reason": "Цель ещё не согласована"}
        ]
        body = assert_problem(act(client, member, initiative, "start"), 409, "guard_failed")
        assert body["detail"] == "Цель ещё не согласована"
        assert body["extra"] == {"action": "start", "blocked_by": listed[0]["blocked_by"]}
        assert history(client, member, initiative) == []
        # A party that may not take the step hears 403 without the guard even being asked.
        calls.clear()
        assert_problem(act(client, cast["author"], initiative, "start"), 403, "action_forbidden")
        assert calls == []

        set_status(initiative["id"], S.draft)
        fixed = client.patch(
            f"{API}/{initiative['id']}", json={"goal": "готово"}, headers=cast["author"].headers
        )
        assert fixed.status_code == 200
        set_status(initiative["id"], S.approved)
        listed = client.get(f"{API}/{initiative['id']}/actions", headers=member.headers).json()
        assert listed[0]["allowed"] is True
        assert listed[0]["blocked_by"] == []
        assert act(client, member, initiative, "start").status_code == 200


# --- every registered guard, blocking and passing ---------------------------------------------

NEEDED = get_settings().min_conclusions


@dataclasses.dataclass
class GuardWorld:
    """An initiative with an independent office person (`decider`, head and member) and an
    insider holding the same roles on its team; guards are set and cleared through the API."""

    client: TestClient
    make_user: Any
    initiative: dict[str, Any]
    decider: Any
    insider: Any
    actor: Any
    pending: list[tuple[str, Any]] = dataclasses.field(default_factory=list)
    submitted: int = 0
    criteria_active: bool = False

    def activate_criteria(self) -> None:
        if self.criteria_active:
            return
        response = self.client.post(
            "/api/v1/criteria-sets",
            headers=self.decider.headers,
            json={"title": "Критерии", "criteria": CRITERIA, "activate": True},
        )
        assert response.status_code == 201, response.text
        self.criteria_active = True

    def accepted_review(self) -> tuple[str, Any]:
        self.activate_criteria()
        expert = self.make_user(Role.expert)
        assigned = self.client.post(
            f"{API}/{self.initiative['id']}/reviews",
            headers=self.decider.headers,
            json={"expert_id": str(expert.id), "position": "content_expert", "due_at": due()},
        )
        assert assigned.status_code == 201, assigned.text
        review_id = assigned.json()["id"]
        accepted = self.client.post(
            f"/api/v1/reviews/{review_id}/accept", headers=expert.headers, json={}
        )
        assert accepted.status_code == 200, accepted.text
        return review_id, expert

    def submit(self, review_id: str, expert: Any) -> None:
        response = self.client.post(
            f"/api/v1/reviews/{review_id}/submit", headers=expert.headers, json=conclusion()
        )
        assert response.status_code == 200, response.text
        self.submitted += 1


def _insider_acts(world: GuardWorld) -> None:
    world.actor = world.insider


def _independent_acts(world: GuardWorld) -> None:
    world.actor = world.decider


def _no_active_criteria(world: GuardWorld) -> None:
    sets = world.client.get("/api/v1/criteria-sets", headers=world.decider.headers).json()
    assert not [s for s in sets["items"] if s["is_active"]]


def _conclusions(count: int) -> Any:
    def submit_up_to(world: GuardWorld) -> None:
        while world.submitted < count:
            world.submit(*world.accepted_review())

    return submit_up_to


def _accepted_not_submitted(world: GuardWorld) -> None:
    world.pending.append(world.accepted_review())


def _pending_submitted(world: GuardWorld) -> None:
    while world.pending:
        world.submit(*world.pending.pop())


@dataclasses.dataclass(frozen=True)
class GuardScenario:
    block: Any  # (GuardWorld) -> None: the guard now fails
    clear: Any  # (GuardWorld) -> None: the guard now passes, the others untouched


# One scenario per guard code the table may list: a guard registered without one fails the suite
# (test_every_guard_has_a_scenario, and its own cases in test_each_guard_blocks_and_passes).
GUARD_SCENARIOS = {
    "no_conflict_of_interest": GuardScenario(_insider_acts, _independent_acts),
    "active_criteria_set": GuardScenario(_no_active_criteria, GuardWorld.activate_criteria),
    "enough_conclusions": GuardScenario(_conclusions(NEEDED - 1), _conclusions(NEEDED)),
    "no_pending_reviews": GuardScenario(_accepted_not_submitted, _pending_submitted),
}
GUARD_CODES = {409: "guard_failed", 403: "conflict_of_interest"}
OFFICE_PARTIES = {Party.office_member, Party.office_head}


def _guarded_cases() -> list[Any]:
    return [
        pytest.param(action.value, source.value, guard.code, id=f"{action}-{source}-{guard.code}")
        for action, step in STEPS.items()
        for source in S
        if source in step.sources
        for guard in step.guards
    ]


def test_every_guard_has_a_scenario(client):
    table = client.get("/api/v1/meta/lifecycle").json()
    served = {g["code"] for a in table["actions"] for g in a["guards"]}
    assert served == set(GUARD_SCENARIOS)
    assert {g["status"] for a in table["actions"] for g in a["guards"]} <= set(GUARD_CODES)
    assert NEEDED >= 1, "with MIN_CONCLUSIONS 0 enough_conclusions cannot block"


@pytest.mark.parametrize(("action", "source", "code"), _guarded_cases())
def test_each_guard_blocks_and_passes(client, cast, make_user, action, source, code):
    """Each guard of each guarded step, from each of its sources, with the step's other guards
    passing: `/actions` names it alone in `blocked_by`, `POST /transitions` refuses with the
    status the table serves (409 guard_failed, 403 conflict_of_interest) and the same reason,
    nothing moves; once the guard passes, both agree the step is open and it is taken."""
    table = client.get("/api/v1/meta/lifecycle").json()
    step = next(a for a in table["actions"] if a["action"] == action)
    guards = {g["code"]: g for g in step["guards"]}
    assert code in guards
    assert code in GUARD_SCENARIOS, f"guard {code} has no scenario in GUARD_SCENARIOS"
    assert OFFICE_PARTIES & set(step["parties"]), "a proposers' guard needs a world of its own"
    org = cast["author"].organization_id
    decider = make_user(Role.office_head, Role.office_member, full_name="Дина Решающая")
    insider = make_user(Role.office_head, Role.office_member, organization_id=org)
    initiative = create_initiative(
        client,
        cast["author"],
        title=f"Страж {code}: {action} из {source}",
        team=[
            {"user_id": str(cast["team_lead"].id), "role": "lead"},
            {"user_id": str(insider.id), "role": "member"},
        ],
    )
    set_status(initiative["id"], S(source))
    world = GuardWorld(client, make_user, initiative, decider, insider, actor=decider)
    for other in guards:
        if other != code:
            GUARD_SCENARIOS[other].clear(world)
    GUARD_SCENARIOS[code].block(world)
    url = f"{API}/{initiative['id']}"
    comment = "Комментарий" if step["requires_comment"] else None

    def offered() -> dict[str, Any]:
        listed = client.get(f"{url}/actions", headers=world.actor.headers)
        assert listed.status_code == 200, listed.text
        return next(a for a in listed.json() if a["action"] == action)

    blocked = offered()
    assert blocked["allowed"] is False
    assert [b["guard"] for b in blocked["blocked_by"]] == [code]
    reason = blocked["blocked_by"][0]["reason"]
    assert reason
    version = client.get(url, headers=decider.headers).json()["version"]
    status = guards[code]["status"]
    body = assert_problem(
        act(client, world.actor, initiative, action, comment), status, GUARD_CODES[status]
    )
    assert body["detail"] == reason
    assert body["extra"] == {"action": action, "blocked_by": blocked["blocked_by"]}
    unchanged = client.get(url, headers=decider.headers).json()
    assert (unchanged["status"], unchanged["version"]) == (source, version)
    assert history(client, decider, initiative) == []

    GUARD_SCENARIOS[code].clear(world)
    opened = offered()
    assert (opened["allowed"], opened["blocked_by"]) == (True, [])
    done = act(client, world.actor, initiative, action, comment)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == step["target"]
    assert [t["action"] for t in history(client, decider, initiative)] == [action]


# --- concurrency ------------------------------------------------------------------------------


class TestConflictOfInterest:
    """The office does not decide about its own people's initiatives: an author or a team
    member holding an office role may not take office steps on it (the head could approve their
    own project)."""

    OFFICE_STEPS: ClassVar = {
        S.submitted: ["start_consultation", "send_to_expertise", "request_revision", "reject"],
        S.expertise: ["approve", "reject", "request_revision"],
        S.approved: ["start"],
        S.in_progress: ["suspend", "complete", "cancel"],
        S.suspended: ["resume"],
        S.completed: ["close"],
    }

    @pytest.fixture
    def insiders(self, make_user, make_org):
        org = make_org()
        return {
            "head_author": make_user(Role.office_head, Role.office_member, organization_id=org),
            "member_in_team": make_user(Role.office_member, organization_id=org),
            "head_in_team": make_user(Role.office_head, organization_id=org),
        }

    @pytest.fixture
    def own(self, client, insiders):
        return create_initiative(
            client,
            insiders["head_author"],
            team=[
                {"user_id": str(insiders["member_in_team"].id), "role": "member"},
                {"user_id": str(insiders["head_in_team"].id), "role": "mentor"},
            ],
        )

    def test_insiders_may_not_take_office_steps(self, client, insiders, own, cast, subtests):
        for state, actions in self.OFFICE_STEPS.items():
            set_status(own["id"], state)
            for who, person in insiders.items():
                listed = {
                    a["action"]: a
                    for a in client.get(f"{API}/{own['id']}/actions", headers=person.headers).json()
                }
                for action in actions:
                    if action not in listed:  # not this person's role (approve is the head's)
                        continue
                    with subtests.test(state=state.value, who=who, action=action):
                        offered = listed[action]
                        assert offered["allowed"] is False
                        assert offered["blocked_by"][0]["guard"] == "no_conflict_of_interest"
                        assert "Конфликт интересов" in offered["blocked_by"][0]["reason"]
                        body = assert_problem(
                            act(client, person, own, action, "Своё решение"),
                            403,
                            "conflict_of_interest",
                        )
                        assert "Конфликт интересов" in body["detail"]
                        assert body["extra"]["action"] == action
                        assert body["extra"]["blocked_by"][0]["guard"] == (
                            "no_conflict_of_interest"
                        )
        assert history(client, cast["admin"], own) == []

    def test_the_author_still_withdraws_and_others_decide(self, client, insiders, own, cast):
        set_status(own["id"], S.submitted)
        # An independent member of the office takes the step the insiders may not.
        moved = act(client, cast["office_member"], own, "start_consultation")
        assert moved.status_code == 200, moved.text
        listed = client.get(
            f"{API}/{own['id']}/actions", headers=insiders["head_author"].headers
        ).json()
        assert {a["action"]: a["allowed"] for a in listed}["withdraw"] is True
        withdrawn = act(client, insiders["head_author"], own, "withdraw")
        assert withdrawn.status_code == 200, withdrawn.text

    def test_the_table_names_the_guard(self, client):
        table = client.get("/api/v1/meta/lifecycle").json()
        guarded = {
            a["action"]
            for a in table["actions"]
            for g in a["guards"]
            if g["code"] == "no_conflict_of_interest" and g["status"] == 403
        }
        office_steps = {a["action"] for a in table["actions"]} - {"submit", "resubmit", "withdraw"}
        assert guarded == office_steps


def _race(app: Any, people: list[Any], initiative: dict[str, Any], actions: list[str]) -> list[Any]:
    barrier = threading.Barrier(len(people))

    def one(i: int) -> Any:
        with TestClient(app) as own_client:
            barrier.wait(timeout=30)
            comment = "Одновременно" if actions[i] in COMMENT_REQUIRED else None
            return act(own_client, people[i], initiative, actions[i], comment)

    with ThreadPoolExecutor(len(people)) as pool:
        return list(pool.map(one, range(len(people))))


class TestConcurrentDecisions:
    @pytest.fixture
    def heads(self, make_user, monkeypatch):
        # The approve guards ask for expert conclusions; none are needed to race two heads.
        monkeypatch.setattr(get_settings(), "min_conclusions", 0)
        return [make_user(Role.office_head), make_user(Role.office_head)]

    def test_two_heads_decide_at_once(self, app, client, cast, heads):
        """Real threads on either database: exactly one decision, the other a 409, never 5xx.
        (SQLite serialises the two writers; PostgreSQL races them on the version check.)"""
        races = [["approve", "approve"]] * 3 + [["approve", "reject"]] * 2
        for attempt, actions in enumerate(races):
            initiative = new_initiative(client, cast, title=f"Гонка {attempt}")
            set_status(initiative["id"], S.expertise)
            responses = _race(app, heads, initiative, actions)
            codes = sorted(r.status_code for r in responses)
            assert codes == [200, 409], [r.text for r in responses]
            loser = next(r for r in responses if r.status_code == 409)
            assert loser.json()["code"] in {"version_conflict", "invalid_transition"}
            winner = next(r for r in responses if r.status_code == 200).json()
            recorded = history(client, cast["admin"], initiative)
            assert len(recorded) == 1
            assert recorded[0]["to_status"] == winner["status"]
            now = client.get(f"{API}/{initiative['id']}", headers=cast["admin"].headers).json()
            assert now["status"] == winner["status"]
            assert now["version"] == 2
            events = audit_items(client, cast["admin"], initiative["id"])
            assert [e["action"] for e in events].count("initiative.transitioned") == 1

    @pytest.mark.postgres_only
    def test_both_read_before_either_writes(
        self, app, client, cast, heads, is_postgres, monkeypatch
    ):
        """Both transactions load version 1 and pass every check before either writes: the
        version check alone must let exactly one through."""
        if not is_postgres:
            pytest.skip("SQLite runs one write transaction at a time: no overlap to force")
        inside = threading.Barrier(2)

        def rendezvous(session: Any, initiative: Any, actor: Any) -> str | None:
            inside.wait(timeout=30)
            return None

        add_guard(monkeypatch, A.approve, GuardSpec("rendezvous", "test", rendezvous))
        initiative = new_initiative(client, cast)
        set_status(initiative["id"], S.expertise)
        responses = _race(app, heads, initiative, ["approve", "approve"])
        assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.json()["code"] == "version_conflict"
        recorded = history(client, cast["admin"], initiative)
        assert [t["action"] for t in recorded] == ["approve"]
