"""The network charter: versions, diffs, amendments, comments, votes, adoption, acknowledgements.

Every endpoint has its anonymous / wrong role / someone else's / invalid / happy cases; the bad
inputs of the issue each have a test; `test_done_when_story` walks the whole story of the issue.
"""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from app import demo
from app.config import get_settings
from app.db import get_engine
from app.models import Amendment, Role
from tests.factories import assert_problem

API = "/api/v1/charter"
TODAY = datetime.now(UTC).date()

SECTIONS = [
    {"key": "purpose", "title": "Назначение сети", "text": "Сеть объединяет педагогов округа."},
    {"key": "membership", "title": "Членство", "text": "Участником становится любой педагог."},
    {
        "key": "meetings",
        "title": "Как проходят встречи",
        "text": "Сеть встречается раз в четверть на заседании проектного офиса.",
    },
    {"key": "changes", "title": "Как меняются правила", "text": "Поправки принимает сеть."},
]


# --- helpers ------------------------------------------------------------------------------------


def adopt_first(
    client: TestClient, head: Any, *, effective_from: date | None = None
) -> dict[str, Any]:
    body = {
        "sections": SECTIONS,
        "effective_from": (effective_from or TODAY - timedelta(days=200)).isoformat(),
        "summary": "Первая редакция устава",
    }
    response = client.post(f"{API}/versions", json=body, headers=head.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def propose(
    client: TestClient,
    person: Any,
    changes: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "title": "Живые форматы встреч",
        "changes": changes
        or [
            {
                "op": "modify",
                "key": "meetings",
                "text": "Сеть встречается раз в месяц в открытом пространстве.",
            }
        ],
        "rationale": "Заседания стали формальными",
        **extra,
    }
    response = client.post(f"{API}/amendments", json=body, headers=person.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def move(client: TestClient, person: Any, amendment_id: str, action: str, **body: Any) -> Any:
    return client.post(
        f"{API}/amendments/{amendment_id}/transitions",
        json={"action": action, **body},
        headers=person.headers,
    )


def step(client: TestClient, person: Any, amendment_id: str, *actions: str) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for action in actions:
        response = move(client, person, amendment_id, action)
        assert response.status_code == 200, response.text
        body = response.json()
    return body


def vote(client: TestClient, person: Any, amendment_id: str, choice: str, **extra: Any) -> Any:
    return client.put(
        f"{API}/amendments/{amendment_id}/vote",
        json={"vote": choice, **extra},
        headers=person.headers,
    )


def accepted(
    client: TestClient,
    head: Any,
    proposer: Any,
    voters: list[Any],
    changes: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    amendment = propose(client, proposer, changes, **extra)
    step(client, head, amendment["id"], "open_discussion", "open_voting")
    for voter in voters:
        assert vote(client, voter, amendment["id"], "agree").status_code == 200
    closed = step(client, head, amendment["id"], "close_voting")
    assert closed["status"] == "accepted", closed["result"]
    return closed


def adopt(client: TestClient, head: Any, *ids: str, effective_from: date | None = None) -> Any:
    return client.post(
        f"{API}/versions",
        json={
            "amendment_ids": list(ids),
            "effective_from": (effective_from or TODAY).isoformat(),
            "summary": "Новая редакция",
        },
        headers=head.headers,
    )


def expire_voting(amendment_id: str) -> None:
    with Session(get_engine()) as session:
        session.execute(
            update(Amendment)
            .where(col(Amendment.id) == uuid.UUID(amendment_id))
            .values(voting_closes_at=datetime.now(UTC) - timedelta(minutes=1))
        )
        session.commit()


def audit(client: TestClient, admin: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/api/v1/audit", params={**params, "limit": 200}, headers=admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def head(make_user):
    return make_user(Role.office_head, full_name="Воронцова Марина")


@pytest.fixture
def proposer(make_user):
    return make_user(Role.participant, full_name="Орлова Наталья")


@pytest.fixture
def voters(make_user):
    return [make_user(Role.participant, full_name=f"Участник {n}") for n in range(3)]


@pytest.fixture
def charter(client, head):
    return adopt_first(client, head)


# --- versions -----------------------------------------------------------------------------------


class TestCharterInForce:
    def test_anonymous(self, client):
        assert_problem(client.get(API), 401)

    def test_nothing_adopted(self, client, participant):
        assert_problem(client.get(API, headers=participant.headers), 404, "charter_not_adopted")

    def test_invalid_date(self, client, participant):
        assert_problem(client.get(API, params={"as_of": "вчера"}, headers=participant.headers), 422)
        assert_problem(client.get(API, params={"as_of": "0"}, headers=participant.headers), 422)

    def test_happy(self, client, observer, charter):
        body = client.get(API, headers=observer.headers).json()
        assert body["number"] == 1
        assert body["in_force"] is True
        assert [s["key"] for s in body["sections"]] == [s["key"] for s in SECTIONS]
        assert [s["number"] for s in body["sections"]] == [1, 2, 3, 4]
        assert body["acknowledged_by_me_at"] is None

    def test_as_of_before_first_version(self, client, participant, head):
        adopt_first(client, head, effective_from=date(2021, 9, 1))
        body = assert_problem(
            client.get(API, params={"as_of": "2021-08-31"}, headers=participant.headers),
            404,
            "charter_not_in_force",
        )
        assert "31.08.2021" in body["detail"]
        assert "01.09.2021" in body["detail"]

    def test_service_account_with_kpi_scope_reads(self, client, charter, admin):
        created = client.post(
            "/api/v1/service-accounts",
            json={"name": "KPI", "scopes": ["kpi:read"]},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        token = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created.json()["client_id"],
                "client_secret": created.json()["client_secret"],
            },
        ).json()["access_token"]
        response = client.get(API, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text


class TestAdoptFirstVersion:
    def test_anonymous(self, client):
        assert_problem(client.post(f"{API}/versions", json={}), 401)

    def test_wrong_roles(self, client, participant, office_member, admin):
        for person in (participant, office_member, admin):
            response = client.post(
                f"{API}/versions",
                json={"sections": SECTIONS, "effective_from": "2021-09-01", "summary": "x"},
                headers=person.headers,
            )
            assert_problem(response, 403)

    def test_invalid(self, client, head, subtests):
        base = {"effective_from": "2021-09-01", "summary": "Первая редакция"}
        cases = {
            "neither": base,
            "both": {**base, "sections": SECTIONS, "amendment_ids": [str(uuid.uuid4())]},
            "duplicate keys": {**base, "sections": [SECTIONS[0], SECTIONS[0]]},
            "bad key": {**base, "sections": [{**SECTIONS[0], "key": "Назначение"}]},
            "empty text": {**base, "sections": [{**SECTIONS[0], "text": "  "}]},
            "extra field": {**base, "sections": SECTIONS, "number": 7},
            "no summary": {"sections": SECTIONS, "effective_from": "2021-09-01"},
            "timestamp date": {**base, "sections": SECTIONS, "effective_from": 1630454400},
        }
        for name, body in cases.items():
            with subtests.test(name):
                assert_problem(client.post(f"{API}/versions", json=body, headers=head.headers), 422)

    def test_happy(self, client, head, admin):
        response = client.post(
            f"{API}/versions",
            json={"sections": SECTIONS, "effective_from": "2021-09-01", "summary": "Первая"},
            headers=head.headers,
        )
        assert response.status_code == 201, response.text
        assert response.headers["Location"] == f"{API}/versions/1"
        body = response.json()
        assert body["number"] == 1
        assert body["adopted_by_id"] == str(head.id)
        assert body["adopted_by_name"] == "Воронцова Марина"
        assert body["amendment_ids"] == []
        events = audit(client, admin, action="charter_version.adopted")
        assert [e["data"]["number"] for e in events] == [1]

    def test_explicit_nulls_are_omitted_values(self, client, head):
        response = client.post(
            f"{API}/versions",
            json={
                "sections": SECTIONS,
                "amendment_ids": None,
                "effective_from": "2021-09-01",
                "summary": "Первая",
            },
            headers=head.headers,
        )
        assert response.status_code == 201, response.text
        response = client.post(
            f"{API}/versions",
            json={"sections": None, "amendment_ids": None, "effective_from": "2021-09-01"},
            headers=head.headers,
        )
        assert_problem(response, 422)

    def test_second_first_version_is_a_conflict(self, client, head, charter):
        response = client.post(
            f"{API}/versions",
            json={"sections": SECTIONS, "effective_from": "2022-09-01", "summary": "Ещё раз"},
            headers=head.headers,
        )
        assert_problem(response, 409, "charter_already_adopted")

    def test_amendments_on_empty_charter(self, client, head):
        assert_problem(adopt(client, head, str(uuid.uuid4())), 409, "charter_not_adopted")


class TestVersions:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/versions"), 401)
        assert_problem(client.get(f"{API}/versions/1"), 401)

    def test_unknown_and_invalid(self, client, participant, charter):
        assert_problem(
            client.get(f"{API}/versions/9", headers=participant.headers),
            404,
            "charter_version_not_found",
        )
        assert_problem(client.get(f"{API}/versions/0", headers=participant.headers), 422)
        assert_problem(client.get(f"{API}/versions/x", headers=participant.headers), 422)
        huge = 2**63 + 1
        assert_problem(client.get(f"{API}/versions/{huge}", headers=participant.headers), 422)
        assert_problem(
            client.get(f"{API}/versions/1/diff?against={huge}", headers=participant.headers), 422
        )

    def test_list_and_get(self, client, observer, head, proposer, voters):
        adopt_first(client, head)
        amendment = accepted(client, head, proposer, [proposer, *voters])
        assert adopt(client, head, amendment["id"]).status_code == 201
        page = client.get(f"{API}/versions", params={"limit": 1}, headers=observer.headers).json()
        assert [v["number"] for v in page["items"]] == [2]
        assert page["items"][0]["sections_count"] == 4
        assert page["items"][0]["amendment_ids"] == [amendment["id"]]
        assert page["items"][0]["in_force"] is True
        rest = client.get(
            f"{API}/versions",
            params={"cursor": page["next_cursor"]},
            headers=observer.headers,
        ).json()
        assert [v["number"] for v in rest["items"]] == [1]
        assert rest["items"][0]["in_force"] is False
        assert rest["next_cursor"] is None
        one = client.get(f"{API}/versions/1", headers=observer.headers).json()
        assert one["sections"][2]["text"] == SECTIONS[2]["text"]


class TestDiff:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/versions/1/diff"), 401)

    def test_unknown_and_invalid(self, client, participant, charter):
        assert_problem(client.get(f"{API}/versions/2/diff", headers=participant.headers), 404)
        assert_problem(
            client.get(f"{API}/versions/1/diff?against=5", headers=participant.headers), 404
        )
        assert_problem(
            client.get(f"{API}/versions/1/diff?against=-1", headers=participant.headers), 422
        )

    def test_first_version_against_empty(self, client, participant, charter):
        body = client.get(f"{API}/versions/1/diff", headers=participant.headers).json()
        assert body["from_version"] == 0
        assert body["stats"] == {"added": 4, "removed": 0, "modified": 0}
        assert body["unified"].startswith("--- Пустой устав\n+++ Устав, версия 1")

    def test_added_removed_modified(self, client, participant, head, proposer, voters):
        adopt_first(client, head)
        amendment = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [
                {
                    "op": "modify",
                    "key": "meetings",
                    "title": "Встречи сети",
                    "text": "Сеть встречается раз в месяц в открытом пространстве.",
                },
                {"op": "remove", "key": "membership"},
                {
                    "op": "add",
                    "key": "mentoring",
                    "title": "Наставничество",
                    "text": "Опытные педагоги сопровождают новичков.",
                    "after": "purpose",
                },
            ],
        )
        assert adopt(client, head, amendment["id"]).status_code == 201
        body = client.get(f"{API}/versions/2/diff", headers=participant.headers).json()
        assert body["from_version"] == 1
        assert body["to_version"] == 2
        assert body["stats"] == {"added": 1, "removed": 1, "modified": 1}
        by_key = {s["key"]: s for s in body["sections"]}
        assert set(by_key) == {"meetings", "membership", "mentoring"}
        added = by_key["mentoring"]
        assert (added["change"], added["number_before"], added["number_after"]) == (
            "added",
            None,
            2,
        )
        assert added["words"] is None
        removed = by_key["membership"]
        assert (removed["change"], removed["number_before"], removed["number_after"]) == (
            "removed",
            2,
            None,
        )
        modified = by_key["meetings"]
        assert modified["title_before"] == "Как проходят встречи"
        assert modified["title_after"] == "Встречи сети"
        words = modified["words"]
        assert "".join(w["text"] for w in words if w["op"] != "insert") == SECTIONS[2]["text"]
        assert "".join(w["text"] for w in words if w["op"] != "delete") == (
            "Сеть встречается раз в месяц в открытом пространстве."
        )
        assert {"op": "delete", "text": "четверть"} in words or any(
            w["op"] == "delete" and "четверть" in w["text"] for w in words
        )
        assert any(w["op"] == "insert" and "месяц" in w["text"] for w in words)
        assert any(w["op"] == "equal" and "Сеть встречается раз в" in w["text"] for w in words)
        assert "-3. Как проходят встречи" in body["unified"]
        assert "+3. Встречи сети" in body["unified"]
        assert "+2. Наставничество" in body["unified"]
        # Backwards, and a version against itself.
        back = client.get(f"{API}/versions/1/diff?against=2", headers=participant.headers).json()
        assert back["stats"] == {"added": 1, "removed": 1, "modified": 1}
        same = client.get(f"{API}/versions/2/diff?against=2", headers=participant.headers).json()
        assert same["sections"] == []
        assert same["unified"] == ""


# --- amendments ---------------------------------------------------------------------------------


class TestCreateAmendment:
    def test_anonymous(self, client):
        assert_problem(client.post(f"{API}/amendments", json={}), 401)

    def test_wrong_roles(self, client, observer, admin, charter):
        for person in (observer, admin):
            response = client.post(
                f"{API}/amendments",
                json={
                    "title": "Поправка",
                    "changes": [{"op": "remove", "key": "purpose"}],
                    "rationale": "Так лучше",
                },
                headers=person.headers,
            )
            assert_problem(response, 403)

    def test_invalid(self, client, proposer, charter, subtests):
        base = {"title": "Поправка", "rationale": "Так лучше"}
        cases = {
            "no changes": {**base, "changes": []},
            "unknown op": {**base, "changes": [{"op": "rename", "key": "purpose"}]},
            "modify nothing": {**base, "changes": [{"op": "modify", "key": "purpose"}]},
            "add without text": {
                **base,
                "changes": [{"op": "add", "key": "new", "title": "Новый"}],
            },
            "remove with text": {
                **base,
                "changes": [{"op": "remove", "key": "purpose", "text": "x"}],
            },
            "same section twice": {
                **base,
                "changes": [
                    {"op": "remove", "key": "purpose"},
                    {"op": "modify", "key": "purpose", "text": "Иначе"},
                ],
            },
            "extra field": {**base, "changes": [{"op": "remove", "key": "purpose"}], "status": "x"},
            "no rationale": {"title": "Поправка", "changes": [{"op": "remove", "key": "purpose"}]},
        }
        for name, body in cases.items():
            with subtests.test(name):
                response = client.post(f"{API}/amendments", json=body, headers=proposer.headers)
                assert_problem(response, 422)

    def test_modify_unknown_section(self, client, proposer, charter):
        response = client.post(
            f"{API}/amendments",
            json={
                "title": "Поправка",
                "changes": [{"op": "modify", "key": "budget", "text": "Бюджет сети"}],
                "rationale": "Нужен раздел о бюджете",
            },
            headers=proposer.headers,
        )
        body = assert_problem(response, 422, "unknown_section")
        assert "budget" in body["detail"]
        assert body["errors"][0]["loc"] == ["body", "changes", 0, "key"]
        assert "meetings" in body["extra"]["known_keys"]

    def test_rules_against_the_base(self, client, proposer, charter, subtests):
        cases = {
            "add existing": ([{"op": "add", "key": "purpose", "title": "x", "text": "y"}], 422),
            "remove unknown": ([{"op": "remove", "key": "nothing"}], 422),
            "no-op modify": (
                [{"op": "modify", "key": "purpose", "text": SECTIONS[0]["text"]}],
                422,
            ),
            "unknown anchor": (
                [{"op": "add", "key": "new", "title": "x", "text": "y", "after": "nowhere"}],
                422,
            ),
            "remove everything": ([{"op": "remove", "key": s["key"]} for s in SECTIONS], 422),
        }
        for name, (changes, expected) in cases.items():
            with subtests.test(name):
                response = client.post(
                    f"{API}/amendments",
                    json={"title": "Поправка", "changes": changes, "rationale": "Потому что"},
                    headers=proposer.headers,
                )
                assert_problem(response, expected)

    def test_unknown_base_and_no_charter(self, client, proposer, head):
        body = {
            "title": "Поправка",
            "changes": [{"op": "remove", "key": "purpose"}],
            "rationale": "Так лучше",
        }
        response = client.post(f"{API}/amendments", json=body, headers=proposer.headers)
        assert_problem(response, 409, "charter_not_adopted")
        adopt_first(client, head)
        response = client.post(
            f"{API}/amendments", json={**body, "base_version": 3}, headers=proposer.headers
        )
        assert_problem(response, 422, "unknown_charter_version")

    def test_happy(self, client, proposer, charter, admin):
        response = client.post(
            f"{API}/amendments",
            json={
                "title": "Живые форматы встреч",
                "changes": [{"op": "modify", "key": "meetings", "text": "Раз в месяц."}],
                "rationale": "Заседания стали формальными",
            },
            headers=proposer.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"] == f"{API}/amendments/{body['id']}"
        assert response.headers["ETag"] == '"1"'
        assert body["status"] == "draft"
        assert body["base_version"] == 1
        assert body["section_keys"] == ["meetings"]
        assert body["changes"] == [
            {
                "op": "modify",
                "key": "meetings",
                "title": None,
                "text": "Раз в месяц.",
                "after": None,
            }
        ]
        assert body["proposer_name"] == "Орлова Наталья"
        assert body["tally"] == {"agree": 0, "abstain": 0, "disagree": 0, "block": 0, "total": 0}
        assert body["result"] is None
        assert body["my_vote"] is None
        assert [e["action"] for e in audit(client, admin, entity_id=body["id"])] == [
            "charter_amendment.created"
        ]


class TestReadAmendments:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/amendments"), 401)
        assert_problem(client.get(f"{API}/amendments/{uuid.uuid4()}"), 401)

    def test_someone_elses_draft_is_hidden(
        self, client, proposer, participant, observer, office_member, head, charter
    ):
        amendment = propose(client, proposer)
        url = f"{API}/amendments/{amendment['id']}"
        for person in (participant, observer):
            assert_problem(client.get(url, headers=person.headers), 404, "amendment_not_found")
            listed = client.get(f"{API}/amendments", headers=person.headers).json()["items"]
            assert listed == []
        for person in (proposer, office_member, head):
            assert client.get(url, headers=person.headers).status_code == 200
            listed = client.get(f"{API}/amendments", headers=person.headers).json()["items"]
            assert [a["id"] for a in listed] == [amendment["id"]]
        step(client, head, amendment["id"], "open_discussion")
        assert client.get(url, headers=participant.headers).status_code == 200

    def test_unknown_and_invalid(self, client, participant):
        assert_problem(
            client.get(f"{API}/amendments/{uuid.uuid4()}", headers=participant.headers), 404
        )
        assert_problem(client.get(f"{API}/amendments/nope", headers=participant.headers), 422)
        assert_problem(
            client.get(f"{API}/amendments", params={"status": "lost"}, headers=participant.headers),
            422,
        )

    def test_filters_and_pages(self, client, proposer, participant, head, charter, subtests):
        mine = propose(client, proposer, title="Про встречи сети")
        other = propose(
            client,
            participant,
            [{"op": "modify", "key": "purpose", "text": "Сеть развивает инициативы."}],
            title="Про назначение",
        )
        step(client, head, mine["id"], "open_discussion")
        step(client, head, other["id"], "open_discussion", "open_voting")
        cases = {
            "status": ({"status": "voting"}, [other["id"]]),
            "several statuses": ({"status": ["voting", "discussion"]}, [other["id"], mine["id"]]),
            "proposer": ({"proposer_id": str(proposer.id)}, [mine["id"]]),
            "mine": ({"mine": "true"}, [mine["id"]]),
            "base": ({"base_version": 1}, [other["id"], mine["id"]]),
            "other base": ({"base_version": 2}, []),
            "q cyrillic": ({"q": "ВСТРЕЧИ"}, [mine["id"]]),
            "q by section key": ({"q": "purpose"}, [other["id"]]),
            "q wildcard": ({"q": "%"}, []),
        }
        for name, (params, expected) in cases.items():
            with subtests.test(name):
                response = client.get(f"{API}/amendments", params=params, headers=proposer.headers)
                assert response.status_code == 200, response.text
                assert [a["id"] for a in response.json()["items"]] == expected
        first = client.get(f"{API}/amendments", params={"limit": 1}, headers=proposer.headers)
        page = first.json()
        assert [a["id"] for a in page["items"]] == [other["id"]]
        second = client.get(
            f"{API}/amendments", params={"cursor": page["next_cursor"]}, headers=proposer.headers
        ).json()
        assert [a["id"] for a in second["items"]] == [mine["id"]]

    def test_list_has_no_n_plus_one(self, client, head, proposer, voters, charter, count_queries):
        def list_queries() -> int:
            count_queries.statements.clear()
            response = client.get(f"{API}/amendments", headers=head.headers)
            assert response.status_code == 200
            return count_queries.count

        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        vote(client, voters[0], amendment["id"], "agree")
        one = list_queries()
        for n in range(4):
            extra = propose(client, voters[n % 3], title=f"Поправка {n}")
            step(client, head, extra["id"], "open_discussion", "open_voting")
            vote(client, voters[0], extra["id"], "disagree")
        assert list_queries() == one


class TestUpdateAmendment:
    def test_anonymous(self, client):
        assert_problem(client.patch(f"{API}/amendments/{uuid.uuid4()}", json={}), 401)

    def test_wrong_role_and_others(self, client, proposer, participant, observer, head, charter):
        amendment = propose(client, proposer)
        url = f"{API}/amendments/{amendment['id']}"
        assert_problem(client.patch(url, json={"title": "Чужая"}, headers=observer.headers), 403)
        # Someone else's draft is hidden; once public it is visible but not theirs.
        assert_problem(client.patch(url, json={"title": "Чужая"}, headers=participant.headers), 404)
        assert_problem(
            client.patch(url, json={"title": "Чужая"}, headers=head.headers), 403, "not_proposer"
        )
        step(client, head, amendment["id"], "open_discussion")
        assert_problem(
            client.patch(url, json={"title": "Чужая"}, headers=participant.headers),
            403,
            "not_proposer",
        )

    def test_invalid(self, client, proposer, charter, subtests):
        url = f"{API}/amendments/{propose(client, proposer)['id']}"
        cases = {
            "extra field": {"status": "accepted"},
            "short title": {"title": "ab"},
            "null title": {"title": None},
            "unknown section": {"changes": [{"op": "remove", "key": "budget"}]},
            "unknown base": {"base_version": 7},
        }
        for name, body in cases.items():
            with subtests.test(name):
                assert_problem(client.patch(url, json=body, headers=proposer.headers), 422)

    def test_happy_stale_and_locked(self, client, proposer, head, admin, charter):
        amendment = propose(client, proposer)
        url = f"{API}/amendments/{amendment['id']}"
        response = client.patch(
            url,
            json={"title": "Встречи раз в месяц", "changes": [{"op": "remove", "key": "changes"}]},
            headers={**proposer.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["title"] == "Встречи раз в месяц"
        assert body["section_keys"] == ["changes"]
        assert response.headers["ETag"] == '"2"'
        # The same again is no change: no new version, no event.
        again = client.patch(url, json={"title": "Встречи раз в месяц"}, headers=proposer.headers)
        assert again.json()["version"] == 2
        events = audit(client, admin, entity_id=amendment["id"], action="charter_amendment.updated")
        assert len(events) == 1
        assert events[0]["data"]["changes"]["title"] == [
            "Живые форматы встреч",
            "Встречи раз в месяц",
        ]
        assert_problem(
            client.patch(
                url, json={"title": "Снова"}, headers={**proposer.headers, "If-Match": '"1"'}
            ),
            412,
        )
        assert_problem(
            client.patch(url, json={"title": "Снова", "version": 1}, headers=proposer.headers),
            409,
            "version_conflict",
        )
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        assert_problem(
            client.patch(url, json={"title": "Поздно"}, headers=proposer.headers),
            409,
            "amendment_not_editable",
        )


class TestTransitions:
    def test_anonymous(self, client):
        assert_problem(
            client.post(
                f"{API}/amendments/{uuid.uuid4()}/transitions", json={"action": "withdraw"}
            ),
            401,
        )

    def test_wrong_party(self, client, proposer, participant, head, charter):
        amendment = propose(client, proposer)
        assert_problem(
            move(client, proposer, amendment["id"], "open_discussion"), 403, "action_forbidden"
        )
        assert_problem(move(client, head, amendment["id"], "withdraw"), 403, "action_forbidden")
        assert_problem(move(client, participant, amendment["id"], "withdraw"), 404)
        step(client, head, amendment["id"], "open_discussion")
        assert_problem(move(client, participant, amendment["id"], "withdraw"), 403)
        assert_problem(move(client, participant, amendment["id"], "open_voting"), 403)

    def test_invalid(self, client, proposer, head, charter):
        amendment = propose(client, proposer)
        assert_problem(move(client, head, amendment["id"], "approve"), 422)
        response = client.post(
            f"{API}/amendments/{amendment['id']}/transitions",
            json={"action": "open_discussion", "extra": 1},
            headers=head.headers,
        )
        assert_problem(response, 422)

    def test_state_conflicts(self, client, proposer, head, charter):
        amendment = propose(client, proposer)
        body = assert_problem(
            move(client, head, amendment["id"], "close_voting"), 409, "invalid_transition"
        )
        assert body["extra"]["allowed_actions"] == ["open_discussion"]
        step(client, proposer, amendment["id"], "withdraw")
        assert_problem(
            move(client, proposer, amendment["id"], "withdraw"), 409, "invalid_transition"
        )

    def test_stale_if_match(self, client, proposer, head, charter):
        amendment = propose(client, proposer)
        response = client.post(
            f"{API}/amendments/{amendment['id']}/transitions",
            json={"action": "open_discussion"},
            headers={**head.headers, "If-Match": '"7"'},
        )
        assert_problem(response, 412)

    def test_happy_path_and_window(self, client, proposer, head, admin, charter):
        amendment = propose(client, proposer)
        body = step(client, head, amendment["id"], "open_discussion")
        assert body["status"] == "discussion"
        assert body["discussion_opened_at"] is not None
        body = step(client, head, amendment["id"], "open_voting")
        assert body["status"] == "voting"
        opened = datetime.fromisoformat(body["voting_opened_at"])
        closes = datetime.fromisoformat(body["voting_closes_at"])
        assert closes - opened == timedelta(days=get_settings().charter_voting_days)
        body = step(client, proposer, amendment["id"], "withdraw")
        assert body["status"] == "withdrawn"
        events = audit(
            client, admin, entity_id=amendment["id"], action="charter_amendment.transitioned"
        )
        assert [e["data"]["action"] for e in events] == [
            "withdraw",
            "open_voting",
            "open_discussion",
        ]


class TestVoting:
    def test_anonymous(self, client):
        assert_problem(
            client.put(f"{API}/amendments/{uuid.uuid4()}/vote", json={"vote": "agree"}), 401
        )

    def test_wrong_roles(self, client, observer, admin, proposer, head, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        for person in (observer, admin):
            assert_problem(vote(client, person, amendment["id"], "agree"), 403)

    def test_someone_elses_draft(self, client, proposer, participant, charter):
        amendment = propose(client, proposer)
        assert_problem(vote(client, participant, amendment["id"], "agree"), 404)

    def test_invalid(self, client, proposer, head, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        assert_problem(vote(client, proposer, amendment["id"], "maybe"), 422)
        assert_problem(vote(client, proposer, amendment["id"], "agree", weight=2), 422)

    def test_block_needs_reason(self, client, proposer, participant, head, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        body = assert_problem(vote(client, participant, amendment["id"], "block"), 422)
        assert "reason" in body["detail"]
        assert_problem(vote(client, participant, amendment["id"], "block", reason="  "), 422)
        response = vote(client, participant, amendment["id"], "block", reason="Исключает новичков")
        assert response.status_code == 200, response.text

    def test_outside_the_window(self, client, proposer, participant, head, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion")
        assert_problem(vote(client, participant, amendment["id"], "agree"), 409, "voting_not_open")
        step(client, head, amendment["id"], "open_voting")
        assert vote(client, participant, amendment["id"], "agree").status_code == 200
        expire_voting(amendment["id"])
        body = assert_problem(
            vote(client, participant, amendment["id"], "disagree"), 409, "voting_window_closed"
        )
        assert "UTC" in body["detail"]
        step(client, head, amendment["id"], "close_voting")
        assert_problem(vote(client, participant, amendment["id"], "agree"), 409, "voting_not_open")

    def test_same_vote_is_idempotent_and_a_change_counts(
        self, client, proposer, participant, head, admin, charter
    ):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        first = vote(client, participant, amendment["id"], "agree")
        assert first.status_code == 200, first.text
        again = vote(client, participant, amendment["id"], "agree")
        assert again.status_code == 200
        assert again.json() == first.json()
        changed = vote(client, participant, amendment["id"], "abstain")
        assert changed.status_code == 200
        assert changed.json()["vote"] == "abstain"
        assert changed.json()["cast_at"] == first.json()["cast_at"]
        events = audit(client, admin, entity_id=amendment["id"], action="charter_amendment.voted")
        assert [(e["data"]["vote"], e["data"]["previous"]) for e in events] == [
            ("abstain", "agree"),
            ("agree", None),
        ]
        body = client.get(f"{API}/amendments/{amendment['id']}", headers=participant.headers).json()
        assert body["my_vote"] == "abstain"
        assert body["tally"]["abstain"] == 1
        assert body["tally"]["total"] == 1

    def test_list_votes(self, client, proposer, participant, observer, head, charter):
        amendment = propose(client, proposer)
        url = f"{API}/amendments/{amendment['id']}/votes"
        assert_problem(client.get(url), 401)
        assert_problem(client.get(url, headers=participant.headers), 404)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        vote(client, proposer, amendment["id"], "agree")
        vote(client, participant, amendment["id"], "block", reason="Рано")
        page = client.get(url, params={"limit": 1}, headers=observer.headers).json()
        assert [v["user_id"] for v in page["items"]] == [str(proposer.id)]
        rest = client.get(url, params={"cursor": page["next_cursor"]}, headers=observer.headers)
        assert [(v["vote"], v["reason"]) for v in rest.json()["items"]] == [("block", "Рано")]


class TestCloseVoting:
    """The result comes from the tally, the quorum, the threshold and blocks (settings)."""

    @pytest.fixture
    def members(self, make_user):
        return [make_user(Role.participant) for _ in range(5)]

    def close(self, client, head, proposer, members, votes: list[tuple[str, str | None]]):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        for member, (choice, reason) in zip(members, votes, strict=False):
            response = vote(client, member, amendment["id"], choice, reason=reason)
            assert response.status_code == 200, response.text
        return step(client, head, amendment["id"], "close_voting")

    def test_accepted(self, client, head, proposer, members, charter):
        # 7 members (head, proposer, 5): 4 votes meet the 50 % quorum; 3 of 4 agree ≥ 2/3.
        body = self.close(
            client, head, proposer, members, [("agree", None)] * 3 + [("disagree", None)]
        )
        assert body["status"] == "accepted"
        result = body["result"]
        assert result["outcome"] == "accepted"
        assert (result["eligible"], result["cast"], result["quorum_required"]) == (7, 4, 4)
        assert result["agree_share"] == 0.75
        assert result["closed_early"] is True
        assert body["closed_at"] is not None

    def test_no_quorum(self, client, head, proposer, members, charter):
        body = self.close(client, head, proposer, members, [("agree", None)] * 3)
        assert body["status"] == "rejected"
        assert body["result"]["quorum_met"] is False
        assert "кворума" in body["result"]["reason"]

    def test_below_threshold(self, client, head, proposer, members, charter):
        body = self.close(
            client, head, proposer, members, [("agree", None)] * 2 + [("disagree", None)] * 2
        )
        assert body["status"] == "rejected"
        assert body["result"]["agree_share"] == 0.5

    def test_abstentions_count_for_quorum_only(self, client, head, proposer, members, charter):
        body = self.close(
            client, head, proposer, members, [("agree", None)] + [("abstain", None)] * 3
        )
        assert body["status"] == "accepted"
        assert body["result"]["agree_share"] == 1.0

    def test_one_block_rejects(self, client, head, proposer, members, charter):
        body = self.close(
            client, head, proposer, members, [("agree", None)] * 4 + [("block", "Против сути")]
        )
        assert body["status"] == "rejected"
        assert body["result"]["blocks"] == 1
        assert "заблокирована" in body["result"]["reason"]

    def test_settings_move_the_rule(self, client, head, proposer, members, charter, monkeypatch):
        settings = get_settings()
        monkeypatch.setattr(settings, "charter_quorum", 0.2)
        monkeypatch.setattr(settings, "charter_threshold", 0.5)
        monkeypatch.setattr(settings, "charter_blocks_to_reject", 2)
        body = self.close(
            client, head, proposer, members, [("agree", None), ("block", "Сомневаюсь")]
        )
        assert body["status"] == "accepted", body["result"]
        assert body["result"]["quorum_required"] == 2
        assert body["result"]["threshold"] == 0.5


class TestComments:
    def test_anonymous(self, client):
        url = f"{API}/amendments/{uuid.uuid4()}/comments"
        assert_problem(client.get(url), 401)
        assert_problem(client.post(url, json={"text": "x"}), 401)

    def test_wrong_role(self, client, observer, proposer, head, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion")
        response = client.post(
            f"{API}/amendments/{amendment['id']}/comments",
            json={"text": "Мнение"},
            headers=observer.headers,
        )
        assert_problem(response, 403)

    def test_someone_elses_draft(self, client, proposer, participant, charter):
        url = f"{API}/amendments/{propose(client, proposer)['id']}/comments"
        assert_problem(client.post(url, json={"text": "x"}, headers=participant.headers), 404)
        assert_problem(client.get(url, headers=participant.headers), 404)

    def test_invalid(self, client, proposer, charter, subtests):
        url = f"{API}/amendments/{propose(client, proposer)['id']}/comments"
        cases = {
            "empty": ({"text": " "}, None),
            "extra": ({"text": "x", "author_id": str(uuid.uuid4())}, None),
            "bad key": ({"text": "x", "section_key": "Раздел"}, None),
            "unknown section": ({"text": "x", "section_key": "budget"}, "unknown_section"),
        }
        for name, (body, code) in cases.items():
            with subtests.test(name):
                assert_problem(client.post(url, json=body, headers=proposer.headers), 422, code)

    def test_happy_and_closed(self, client, proposer, participant, head, voters, charter):
        amendment = propose(
            client,
            proposer,
            [
                {"op": "add", "key": "mentoring", "title": "Наставничество", "text": "Опыт."},
                {"op": "modify", "key": "meetings", "text": "Раз в месяц."},
            ],
        )
        url = f"{API}/amendments/{amendment['id']}/comments"
        step(client, head, amendment["id"], "open_discussion")
        first = client.post(
            url,
            json={"text": "Кто ведёт встречи?", "section_key": "meetings"},
            headers=participant.headers,
        )
        assert first.status_code == 201, first.text
        assert first.json()["author_id"] == str(participant.id)
        assert first.json()["section_key"] == "meetings"
        new_section = client.post(
            url,
            json={"text": "Нужны наставники", "section_key": "mentoring"},
            headers=proposer.headers,
        )
        assert new_section.status_code == 201
        general = client.post(url, json={"text": "В целом за"}, headers=head.headers)
        assert general.status_code == 201
        listed = client.get(url, headers=participant.headers).json()["items"]
        assert [c["text"] for c in listed] == [
            "Кто ведёт встречи?",
            "Нужны наставники",
            "В целом за",
        ]
        filtered = client.get(url, params={"section_key": "meetings"}, headers=participant.headers)
        assert [c["text"] for c in filtered.json()["items"]] == ["Кто ведёт встречи?"]
        page = client.get(url, params={"limit": 2}, headers=participant.headers).json()
        rest = client.get(url, params={"cursor": page["next_cursor"]}, headers=participant.headers)
        assert [c["text"] for c in rest.json()["items"]] == ["В целом за"]
        detail = client.get(f"{API}/amendments/{amendment['id']}", headers=participant.headers)
        assert detail.json()["comments_count"] == 3
        step(client, head, amendment["id"], "open_voting")
        assert (
            client.post(
                url, json={"text": "Во время голосования"}, headers=participant.headers
            ).status_code
            == 201
        )
        step(client, head, amendment["id"], "close_voting")
        assert_problem(
            client.post(url, json={"text": "Поздно"}, headers=participant.headers),
            409,
            "discussion_closed",
        )


# --- adoption -----------------------------------------------------------------------------------


class TestAdoption:
    def test_wrong_roles(self, client, office_member, participant, head, proposer, voters, charter):
        amendment = accepted(client, head, proposer, [proposer, *voters])
        for person in (office_member, participant):
            assert_problem(adopt(client, person, amendment["id"]), 403)

    def test_invalid(self, client, head, charter, subtests):
        cases = {
            "unknown amendment": ({"amendment_ids": [str(uuid.uuid4())]}, "unknown_amendment"),
            "duplicate": ({"amendment_ids": [str(uuid.UUID(int=1))] * 2}, None),
            "empty list": ({"amendment_ids": []}, None),
            "bad date": ({"amendment_ids": [str(uuid.uuid4())], "effective_from": "завтра"}, None),
        }
        for name, (body, code) in cases.items():
            with subtests.test(name):
                payload = {"effective_from": TODAY.isoformat(), "summary": "x", **body}
                response = client.post(f"{API}/versions", json=payload, headers=head.headers)
                assert_problem(response, 422, code)

    def test_rejected_amendment(self, client, head, proposer, voters, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        for voter in [proposer, *voters]:
            vote(client, voter, amendment["id"], "disagree")
        assert step(client, head, amendment["id"], "close_voting")["status"] == "rejected"
        body = assert_problem(adopt(client, head, amendment["id"]), 409, "amendment_not_accepted")
        assert "Отклонена" in body["detail"]

    def test_amendment_still_in_voting(self, client, head, proposer, charter):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        assert_problem(adopt(client, head, amendment["id"]), 409, "amendment_not_accepted")

    def test_adopted_twice(self, client, head, proposer, voters, charter):
        amendment = accepted(client, head, proposer, [proposer, *voters])
        assert adopt(client, head, amendment["id"]).status_code == 201
        assert_problem(adopt(client, head, amendment["id"]), 409, "amendment_already_adopted")

    def test_effective_date_cannot_go_back(self, client, head, proposer, voters, charter):
        amendment = accepted(client, head, proposer, [proposer, *voters])
        early = date.fromisoformat(charter["effective_from"]) - timedelta(days=1)
        response = adopt(client, head, amendment["id"], effective_from=early)
        assert_problem(response, 422, "effective_from_too_early")

    def test_two_amendments_merge(self, client, head, proposer, voters, charter):
        meetings = accepted(client, head, proposer, [proposer, *voters])
        purpose = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "modify", "key": "purpose", "text": "Сеть развивает инициативы."}],
        )
        response = adopt(client, head, meetings["id"], purpose["id"])
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["number"] == 2
        assert body["amendment_ids"] == [meetings["id"], purpose["id"]]
        texts = {s["key"]: s["text"] for s in body["sections"]}
        assert texts["purpose"] == "Сеть развивает инициативы."
        assert texts["meetings"] == "Сеть встречается раз в месяц в открытом пространстве."
        merged = client.get(f"{API}/amendments/{meetings['id']}", headers=head.headers).json()
        assert merged["adopted_in_version"] == 2
        assert merged["status"] == "accepted"

    def test_conflicting_amendments_in_one_adoption(self, client, head, proposer, voters, charter):
        one = accepted(client, head, proposer, [proposer, *voters])
        two = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "remove", "key": "meetings"}],
            title="Убрать встречи",
        )
        body = assert_problem(adopt(client, head, one["id"], two["id"]), 409, "amendment_conflict")
        assert "meetings" in body["detail"]
        assert body["extra"]["conflicts"][0]["section"] == "meetings"
        assert set(body["extra"]["conflicts"][0]["amendment_ids"]) == {one["id"], two["id"]}

    def test_older_base_merges_when_sections_differ_and_conflicts_when_same(
        self, client, head, proposer, voters, charter, admin
    ):
        # Three amendments against version 1; the first becomes version 2.
        first = accepted(client, head, proposer, [proposer, *voters])
        other_section = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "modify", "key": "membership", "text": "Участник — любой педагог округа."}],
        )
        same_section = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "modify", "key": "meetings", "text": "Встречи по запросу участников."}],
            title="Встречи по запросу",
        )
        draft_same = propose(
            client, proposer, [{"op": "remove", "key": "meetings"}], title="Черновик про встречи"
        )
        draft_other = propose(
            client, proposer, [{"op": "remove", "key": "changes"}], title="Черновик про правила"
        )
        assert adopt(client, head, first["id"]).status_code == 201
        # A section nobody touched since version 1: merged into version 3.
        response = adopt(client, head, other_section["id"])
        assert response.status_code == 201, response.text
        version3 = response.json()
        texts = {s["key"]: s["text"] for s in version3["sections"]}
        assert texts["membership"] == "Участник — любой педагог округа."
        assert texts["meetings"] == "Сеть встречается раз в месяц в открытом пространстве."
        # The same section changed in version 2: the amendment became superseded, and adopting
        # it is refused naming the section and the versions.
        stale = client.get(f"{API}/amendments/{same_section['id']}", headers=head.headers).json()
        assert stale["status"] == "superseded"
        assert stale["superseded_by_version"] == 2
        assert (
            client.get(f"{API}/amendments/{draft_same['id']}", headers=head.headers).json()[
                "status"
            ]
            == "superseded"
        )
        assert (
            client.get(f"{API}/amendments/{draft_other['id']}", headers=head.headers).json()[
                "status"
            ]
            == "draft"
        )
        body = assert_problem(adopt(client, head, same_section["id"]), 409, "amendment_conflict")
        assert "«meetings»" in body["detail"]
        # A draft the new version superseded was never accepted: refused as such, with the
        # sections that made it stale.
        body = assert_problem(adopt(client, head, draft_same["id"]), 409, "amendment_not_accepted")
        assert "Устарела" in body["detail"]
        assert "«meetings»" in body["detail"]
        assert body["extra"]["amendments"] == [
            {
                "id": draft_same["id"],
                "status": "superseded",
                "base_version": 1,
                "superseded_by_version": 2,
                "conflicts": [{"section": "meetings", "changed_in_versions": [2]}],
            }
        ]
        superseded = audit(client, admin, action="charter_amendment.superseded")
        assert {e["entity_id"] for e in superseded} == {same_section["id"], draft_same["id"]}

    def test_conflict_with_a_newer_version_names_sections_and_versions(
        self, client, head, proposer, voters, charter
    ):
        # Through the API only: an accepted amendment against version 1 whose section versions
        # 2 and 3 then changed. It used to answer `amendment_not_accepted` «Устарела» without
        # saying which sections or versions.
        first = accepted(client, head, proposer, [proposer, *voters])
        same_section = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [
                {"op": "modify", "key": "meetings", "text": "Встречи по запросу участников."},
                {"op": "modify", "key": "purpose", "text": "Сеть развивает инициативы."},
            ],
            title="Встречи по запросу",
        )
        assert adopt(client, head, first["id"]).status_code == 201
        again = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "modify", "key": "meetings", "text": "Сеть встречается в мировом кафе."}],
        )
        assert again["base_version"] == 2
        assert adopt(client, head, again["id"]).status_code == 201

        stale = client.get(f"{API}/amendments/{same_section['id']}", headers=proposer.headers)
        assert stale.json()["status"] == "superseded"
        assert stale.json()["superseded_by_version"] == 2
        assert stale.json()["conflicts"] == [{"section": "meetings", "changed_in_versions": [2, 3]}]
        listed = client.get(
            f"{API}/amendments", params={"status": "superseded"}, headers=proposer.headers
        ).json()["items"]
        assert [(a["id"], a["superseded_by_version"]) for a in listed] == [(same_section["id"], 2)]

        body = assert_problem(adopt(client, head, same_section["id"]), 409, "amendment_conflict")
        assert "«meetings»" in body["detail"]
        assert "«purpose»" not in body["detail"]
        assert "к версии 1" in body["detail"]
        assert "в версии 2, 3" in body["detail"]
        assert body["extra"]["conflicts"] == [
            {
                "section": "meetings",
                "amendment_ids": [same_section["id"]],
                "base_version": 1,
                "versions": [2, 3],
                "detail": body["extra"]["conflicts"][0]["detail"],
            }
        ]
        versions = client.get(f"{API}/versions", headers=head.headers).json()["items"]
        assert [v["number"] for v in versions] == [3, 2, 1]
        fresh = client.get(f"{API}/amendments/{first['id']}", headers=proposer.headers).json()
        assert (fresh["status"], fresh["conflicts"]) == ("accepted", [])

    def test_new_amendment_against_a_stale_base(self, client, head, proposer, voters, charter):
        first = accepted(client, head, proposer, [proposer, *voters])
        assert adopt(client, head, first["id"]).status_code == 201
        response = client.post(
            f"{API}/amendments",
            json={
                "title": "К старой версии",
                "base_version": 1,
                "changes": [{"op": "modify", "key": "meetings", "text": "Иначе."}],
                "rationale": "Причина",
            },
            headers=proposer.headers,
        )
        body = assert_problem(response, 409, "amendment_stale")
        assert body["extra"]["conflicts"] == [{"section": "meetings", "changed_in_versions": [2]}]
        fine = propose(
            client,
            proposer,
            [{"op": "modify", "key": "purpose", "text": "Иначе."}],
            base_version=1,
        )
        assert fine["base_version"] == 1


# --- acknowledgements ---------------------------------------------------------------------------


class TestAcknowledgements:
    def test_anonymous(self, client):
        assert_problem(client.post(f"{API}/versions/1/acknowledgements"), 401)
        assert_problem(client.get(f"{API}/versions/1/acknowledgements"), 401)

    def test_wrong_roles(self, client, observer, admin, participant, charter):
        for person in (observer, admin):
            assert_problem(
                client.post(f"{API}/versions/1/acknowledgements", headers=person.headers), 403
            )
        assert_problem(
            client.get(f"{API}/versions/1/acknowledgements", headers=participant.headers), 403
        )

    def test_unknown_and_invalid(self, client, participant, head, charter):
        assert_problem(
            client.post(f"{API}/versions/5/acknowledgements", headers=participant.headers), 404
        )
        assert_problem(
            client.post(f"{API}/versions/0/acknowledgements", headers=participant.headers), 422
        )
        assert_problem(client.get(f"{API}/versions/5/acknowledgements", headers=head.headers), 404)
        assert_problem(
            client.get(
                f"{API}/versions/1/acknowledgements?acknowledged=может", headers=head.headers
            ),
            422,
        )

    def test_version_not_in_force(self, client, participant, head, proposer, voters, charter):
        amendment = accepted(client, head, proposer, [proposer, *voters])
        future = TODAY + timedelta(days=30)
        assert adopt(client, head, amendment["id"], effective_from=future).status_code == 201
        body = assert_problem(
            client.post(f"{API}/versions/2/acknowledgements", headers=participant.headers),
            409,
            "version_not_in_force",
        )
        assert "вступит в силу" in body["detail"]
        assert body["extra"]["in_force_version"] == 1
        assert (
            client.post(
                f"{API}/versions/1/acknowledgements", headers=participant.headers
            ).status_code
            == 201
        )
        newer = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "modify", "key": "purpose", "text": "Сеть развивает инициативы."}],
        )
        assert adopt(client, head, newer["id"], effective_from=future).status_code == 201
        # Version 1 is still in force; version 2 never will be on its own date: 3 replaces it.
        assert_problem(
            client.post(f"{API}/versions/2/acknowledgements", headers=participant.headers),
            409,
            "version_not_in_force",
        )

    def test_replaced_version(self, client, participant, head, proposer, voters, charter):
        assert (
            client.post(
                f"{API}/versions/1/acknowledgements", headers=participant.headers
            ).status_code
            == 201
        )
        amendment = accepted(client, head, proposer, [proposer, *voters])
        assert adopt(client, head, amendment["id"], effective_from=TODAY).status_code == 201
        # Version 2 is in force from today: version 1 is history, even for someone who had
        # already acknowledged it.
        body = assert_problem(
            client.post(f"{API}/versions/1/acknowledgements", headers=participant.headers),
            409,
            "version_not_in_force",
        )
        assert "уже заменена" in body["detail"]
        assert "сейчас действует версия 2" in body["detail"]
        assert body["extra"] == {"version": 1, "in_force_version": 2}
        assert (
            client.post(
                f"{API}/versions/2/acknowledgements", headers=participant.headers
            ).status_code
            == 201
        )

    def test_happy_idempotent_and_listed(
        self, client, participant, head, make_user, admin, charter
    ):
        later = make_user(Role.participant, full_name="Яковлева Юлия")
        make_user(Role.observer, full_name="Не участник")
        first = client.post(f"{API}/versions/1/acknowledgements", headers=participant.headers)
        assert first.status_code == 201, first.text
        assert first.json()["user_id"] == str(participant.id)
        again = client.post(f"{API}/versions/1/acknowledgements", headers=participant.headers)
        assert again.status_code == 200
        assert again.json() == first.json()
        assert len(audit(client, admin, action="charter_version.acknowledged")) == 1
        mine = client.get(API, headers=participant.headers).json()
        assert mine["acknowledged_by_me_at"] == first.json()["at"]
        page = client.get(f"{API}/versions/1/acknowledgements", headers=head.headers).json()
        assert page["members_total"] == 3  # head, participant, later; not the observer
        assert page["acknowledged_total"] == 1
        by_user = {item["user_id"]: item["acknowledged_at"] for item in page["items"]}
        assert by_user[str(participant.id)] == first.json()["at"]
        assert by_user[str(later.id)] is None
        assert str(admin.id) not in by_user
        done = client.get(
            f"{API}/versions/1/acknowledgements",
            params={"acknowledged": "true"},
            headers=head.headers,
        ).json()
        assert [i["user_id"] for i in done["items"]] == [str(participant.id)]
        pending = client.get(
            f"{API}/versions/1/acknowledgements",
            params={"acknowledged": "false", "limit": 1},
            headers=head.headers,
        ).json()
        assert len(pending["items"]) == 1
        rest = client.get(
            f"{API}/versions/1/acknowledgements",
            params={"acknowledged": "false", "cursor": pending["next_cursor"]},
            headers=head.headers,
        ).json()
        names = [i["full_name"] for i in pending["items"] + rest["items"]]
        assert names == sorted(names)
        assert len(names) == 2


def test_enums_have_labels(client):
    groups = {g["name"]: g["values"] for g in client.get("/api/v1/meta/enums").json()}
    votes = {v["code"]: v["ru"] for v in groups["charter_vote"]}
    assert votes == {
        "agree": "За",
        "abstain": "Воздержался",
        "disagree": "Против",
        "block": "Блокирую (с обоснованием)",
    }
    assert {v["code"] for v in groups["amendment_status"]} == {
        "draft",
        "discussion",
        "voting",
        "accepted",
        "rejected",
        "withdrawn",
        "superseded",
    }
    assert {v["code"] for v in groups["amendment_action"]} == {
        "open_discussion",
        "open_voting",
        "close_voting",
        "withdraw",
    }


def test_policy_matrix_lists_charter_actions(client, admin):
    rows = {
        r["action"]: r
        for r in client.get("/api/v1/meta/policy", headers=admin.headers).json()["rows"]
    }
    assert rows["charter.adopt"]["allowed"] == {
        "admin": False,
        "office_head": True,
        "office_member": False,
        "expert": False,
        "participant": False,
        "observer": False,
    }
    assert rows["charter.vote"]["allowed"]["participant"] is True
    assert rows["charter.vote"]["allowed"]["observer"] is False


def test_done_when_story(client, make_user, admin):
    """In Swagger UI terms: a participant proposes, others comment and vote, the vote closes as
    accepted, the office head adopts, the diff shows exactly the change, members acknowledge,
    and `as_of` returns the old text for an old date."""
    head = make_user(Role.office_head, full_name="Воронцова Марина")
    member = make_user(Role.office_member, full_name="Лебедева Ольга")
    teacher = make_user(Role.participant, full_name="Орлова Наталья")
    colleague = make_user(Role.participant, full_name="Белов Артём")
    expert = make_user(Role.expert, full_name="Кузнецова Анна")
    first_day = TODAY - timedelta(days=400)
    adopt_first(client, head, effective_from=first_day)

    new_text = "Сеть встречается раз в месяц: рефлексивные сессии и открытое пространство."
    created = client.post(
        f"{API}/amendments",
        json={
            "title": "Живые форматы встреч",
            "changes": [{"op": "modify", "key": "meetings", "text": new_text}],
            "rationale": "Формальные заседания не дают сети жить без автора",
        },
        headers=teacher.headers,
    )
    assert created.status_code == 201, created.text
    amendment_id = created.json()["id"]
    step(client, member, amendment_id, "open_discussion")
    for person, text in ((colleague, "Поддерживаю"), (expert, "Кто модерирует?")):
        response = client.post(
            f"{API}/amendments/{amendment_id}/comments",
            json={"text": text, "section_key": "meetings"},
            headers=person.headers,
        )
        assert response.status_code == 201, response.text
    step(client, member, amendment_id, "open_voting")
    for person, choice in (
        (teacher, "agree"),
        (colleague, "agree"),
        (expert, "abstain"),
        (member, "agree"),
    ):
        assert vote(client, person, amendment_id, choice).status_code == 200
    closed = step(client, head, amendment_id, "close_voting")
    assert closed["status"] == "accepted"
    assert closed["tally"] == {"agree": 3, "abstain": 1, "disagree": 0, "block": 0, "total": 4}

    adoption_day = TODAY - timedelta(days=10)
    response = adopt(client, head, amendment_id, effective_from=adoption_day)
    assert response.status_code == 201, response.text
    assert response.json()["number"] == 2
    assert response.json()["in_force"] is True

    diff = client.get(f"{API}/versions/2/diff?against=1", headers=teacher.headers).json()
    assert diff["stats"] == {"added": 0, "removed": 0, "modified": 1}
    (change,) = diff["sections"]
    assert change["key"] == "meetings"
    assert change["title_before"] == change["title_after"]
    assert (change["text_before"], change["text_after"]) == (SECTIONS[2]["text"], new_text)
    assert [line for line in diff["unified"].splitlines() if line[:1] in "+-"] == [
        "--- Устав, версия 1",
        "+++ Устав, версия 2",
        f"-{SECTIONS[2]['text']}",
        f"+{new_text}",
    ]

    for person in (teacher, colleague, expert, member, head):
        response = client.post(f"{API}/versions/2/acknowledgements", headers=person.headers)
        assert response.status_code == 201, response.text
    acks = client.get(f"{API}/versions/2/acknowledgements", headers=head.headers).json()
    assert (acks["members_total"], acks["acknowledged_total"]) == (5, 5)

    now = client.get(API, headers=teacher.headers).json()
    assert now["number"] == 2
    assert now["sections"][2]["text"] == new_text
    old_day = (adoption_day - timedelta(days=1)).isoformat()
    old = client.get(API, params={"as_of": old_day}, headers=teacher.headers).json()
    assert old["number"] == 1
    assert old["in_force"] is False
    assert old["sections"][2]["text"] == SECTIONS[2]["text"]
    assert_problem(
        client.get(
            API,
            params={"as_of": (first_day - timedelta(days=1)).isoformat()},
            headers=teacher.headers,
        ),
        404,
        "charter_not_in_force",
    )
    actions = [e["action"] for e in audit(client, admin, entity_type="charter_amendment")]
    assert actions.count("charter_amendment.voted") == 4
    assert actions.count("charter_amendment.commented") == 2


@pytest.mark.parametrize("voting_days", [1, 90])
def test_demo_charter(client, monkeypatch, voting_days):
    # The vote used to open two days before the load: with a one-day window it was closed.
    monkeypatch.setattr(get_settings(), "charter_voting_days", voting_days)
    with Session(get_engine()) as session:
        assert demo.load_demo_data(session) is not None
        session.commit()
    token = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "password",
            "username": "teacher2@example.org",
            "password": "demo-password",
        },
    ).json()["access_token"]
    teacher = {"Authorization": f"Bearer {token}"}
    current = client.get(API, headers=teacher).json()
    assert current["number"] == 2
    assert [s["key"] for s in current["sections"]] == [
        "purpose",
        "membership",
        "roles",
        "initiatives",
        "meetings",
        "changes",
    ]
    assert "открытое пространство" in current["sections"][4]["text"]
    old = client.get(API, params={"as_of": "2021-10-01"}, headers=teacher).json()
    assert old["number"] == 1
    assert "открытое пространство" not in old["sections"][4]["text"]
    diff = client.get(f"{API}/versions/2/diff", headers=teacher).json()
    assert [(s["key"], s["change"]) for s in diff["sections"]] == [("meetings", "modified")]
    amendments = client.get(f"{API}/amendments", headers=teacher).json()["items"]
    by_status = {a["status"]: a for a in amendments}
    assert set(by_status) == {"accepted", "voting"}
    assert by_status["accepted"]["adopted_in_version"] == 2
    voting = by_status["voting"]
    left = datetime.fromisoformat(voting["voting_closes_at"]) - datetime.now(UTC)
    assert left > timedelta(days=voting_days) * 0.7
    assert voting["tally"]["agree"] == 2
    assert (
        vote(client, type("P", (), {"headers": teacher})(), voting["id"], "agree").status_code
        == 200
    )
    comments = client.get(
        f"{API}/amendments/{by_status['accepted']['id']}/comments", headers=teacher
    )
    assert len(comments.json()["items"]) == 2


# --- concurrency --------------------------------------------------------------------------------


def _together(app: Any, calls: list[Any]) -> list[Any]:
    """Each call with its own client, released at the same moment."""
    barrier = threading.Barrier(len(calls))

    def one(call: Any) -> Any:
        with TestClient(app) as own_client:
            barrier.wait(timeout=30)
            return call(own_client)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(one, calls))


class TestConcurrency:
    """Real threads on either database: SQLite serialises the writers, PostgreSQL races them."""

    def test_two_adoptions_at_once(self, app, client, head, make_user, proposer, voters, charter):
        second_head = make_user(Role.office_head)
        one = accepted(client, head, proposer, [proposer, *voters])
        two = accepted(
            client,
            head,
            proposer,
            [proposer, *voters],
            [{"op": "modify", "key": "purpose", "text": "Сеть развивает инициативы."}],
        )
        responses = _together(
            app,
            [
                lambda c: adopt(c, head, one["id"]),
                lambda c: adopt(c, second_head, two["id"]),
            ],
        )
        codes = sorted(r.status_code for r in responses)
        assert codes in ([201, 201], [201, 409]), [r.text for r in responses]
        for response in responses:
            if response.status_code == 409:
                assert response.json()["code"] == "charter_version_conflict"
        versions = client.get(f"{API}/versions", headers=head.headers).json()["items"]
        assert [v["number"] for v in versions] == list(range(len(versions), 0, -1))
        assert len(versions) == 1 + codes.count(201)

    def test_double_click_vote(self, app, client, head, proposer, participant, charter, admin):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        responses = _together(
            app, [lambda c: vote(c, participant, amendment["id"], "agree") for _ in range(3)]
        )
        assert [r.status_code for r in responses] == [200, 200, 200], [r.text for r in responses]
        votes = client.get(f"{API}/amendments/{amendment['id']}/votes", headers=head.headers)
        assert len(votes.json()["items"]) == 1
        events = audit(client, admin, entity_id=amendment["id"], action="charter_amendment.voted")
        assert len(events) == 1

    def test_votes_racing_the_close_are_counted_or_refused(
        self, app, client, head, proposer, voters, charter
    ):
        amendment = propose(client, proposer)
        step(client, head, amendment["id"], "open_discussion", "open_voting")
        calls = [lambda c, v=v: vote(c, v, amendment["id"], "agree") for v in voters]
        calls.append(lambda c: move(c, head, amendment["id"], "close_voting"))
        responses = _together(app, calls)
        for response in responses[:-1]:
            assert response.status_code in (200, 409), response.text
            if response.status_code == 409:
                assert response.json()["code"] == "voting_not_open"
        assert responses[-1].status_code == 200, responses[-1].text
        closed = responses[-1].json()
        counted = sum(r.status_code == 200 for r in responses[:-1])
        assert closed["result"]["cast"] == counted
        stored = client.get(f"{API}/amendments/{amendment['id']}/votes", headers=head.headers)
        assert len(stored.json()["items"]) == counted
