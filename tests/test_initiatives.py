"""Initiatives as a resource: create, read, edit, team, lists, search, visibility, codes, events.

The lifecycle (transitions, history, actions, the table walk) is in tests/test_lifecycle.py; the
helpers at the top are shared with it. Cases of one kind loop inside one test (`subtests`), so
each is still reported on its own but the database is set up and emptied once.
"""

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from app.db import get_engine
from app.models import Initiative, InitiativeStatus, Role
from app.models.base import clock_at
from app.policy import OBJECT_RULES, ObjectRule
from app.services.office_time import OFFICE_TZ, local
from tests.factories import assert_problem

API = "/api/v1/initiatives"
S = InitiativeStatus
CODE = re.compile(r"^INI-(\d{4})-(\d{4})$")


# --- helpers (shared with test_lifecycle.py) --------------------------------------------------


def initiative_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Смысловое чтение как основа умения работать с информацией в начальной школе",
        "summary": "Учим младших школьников понимать и использовать прочитанное",
        "problem": "Дети читают, но не понимают текст",
        "goal": "Сформировать навыки смыслового чтения",
        "tasks": ["Провести диагностику", "Разработать задания"],
        "expected_results": "Рост читательской грамотности",
        "kind": "project",
        "education_level": "primary",
        "academic_year": "2025-2026",
        "start_date": "2025-09-01",
        "end_date": "2026-05-31",
        "topics": ["смысловое чтение"],
    }
    body.update(overrides)
    return body


def create_initiative(client: TestClient, person: Any, **overrides: Any) -> dict[str, Any]:
    response = client.post(API, json=initiative_body(**overrides), headers=person.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def set_status(initiative_id: str | uuid.UUID, status: InitiativeStatus) -> None:
    """Puts an initiative straight into a state, as if it had been submitted on the way there
    (any state but a draft); the tests then act through the API."""
    with Session(get_engine()) as session:
        session.execute(
            update(Initiative)
            .where(col(Initiative.id) == uuid.UUID(str(initiative_id)))
            .values(
                status=status,
                submitted_at=None if status == InitiativeStatus.draft else datetime.now(UTC),
            )
        )
        session.commit()


def audit_items(client: TestClient, admin: Any, initiative_id: str) -> list[dict[str, Any]]:
    """The initiative's activity log, newest first."""
    response = client.get(
        "/api/v1/audit",
        params={"entity_type": "initiative", "entity_id": initiative_id, "limit": 200},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def walk(
    client: TestClient, person: Any, limit: int, url: str = API, **params: Any
) -> list[dict[str, Any]]:
    """Every page of a list with these parameters, checking the cursors on the way."""
    items: list[dict[str, Any]] = []
    cursor = params.pop("cursor", None)
    for _ in range(200):
        query = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(url, params=query, headers=person.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            assert len(page["items"]) <= limit
            return items
        assert len(page["items"]) == limit
    raise AssertionError("pagination does not end")


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


# Roles with no relation to an initiative who still try to change it: what the policy promises.
OUTSIDER_ROLES = [Role.observer, Role.expert, Role.admin]


def outsider_refusal(role: Role, state: InitiativeStatus) -> tuple[int, str]:
    """Someone else's draft is a 404 unless the role reads every draft; what they see they may
    not change (403 from the service's team check)."""
    sees_drafts = role in OBJECT_RULES[ObjectRule.initiative_draft_read].roles
    if state == S.draft and not sees_drafts:
        return 404, "initiative_not_found"
    return 403, "not_initiative_team"


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def org(make_org):
    return make_org(name="МАОУ СОШ № 7", short_name="СОШ № 7")


@pytest.fixture
def author(make_user, org):
    return make_user(Role.participant, organization_id=org, full_name="Анна Автор")


@pytest.fixture
def teammate(make_user, org):
    return make_user(Role.participant, organization_id=org, full_name="Борис Команда")


@pytest.fixture
def service_headers(client, admin):
    """A service account with the given scopes, logged in with client_credentials."""

    def make(*scopes: str) -> dict[str, str]:
        created = client.post(
            "/api/v1/service-accounts",
            json={"name": "Выгрузка KPI", "scopes": list(scopes)},
            headers=admin.headers,
        )
        assert created.status_code == 201, created.text
        account = created.json()
        token = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": account["client_id"],
                "client_secret": account["client_secret"],
            },
        )
        assert token.status_code == 200, token.text
        return {"Authorization": f"Bearer {token.json()['access_token']}"}

    return make


# --- POST /initiatives ------------------------------------------------------------------------

INVALID_CREATE = {
    "empty title": ({"title": ""}, ["body", "title"]),
    "blank title": ({"title": "   "}, ["body", "title"]),
    "10 000-character title": ({"title": "Я" * 10_000}, ["body", "title"]),
    "null title": ({"title": None}, ["body", "title"]),
    "academic year 2021-2023": ({"academic_year": "2021-2023"}, ["body", "academic_year"]),
    "academic year with a slash": ({"academic_year": "2021/2022"}, ["body", "academic_year"]),
    "academic year too short": ({"academic_year": "21-22"}, ["body", "academic_year"]),
    "unknown education level": ({"education_level": "university"}, ["body", "education_level"]),
    "unknown kind": ({"kind": "hackathon"}, ["body", "kind"]),
    "end before start": ({"start_date": "2026-05-01", "end_date": "2026-04-30"}, ["body"]),
    "timestamp start date": ({"start_date": 1777593600}, ["body", "start_date"]),
    "empty task": ({"tasks": [""]}, ["body", "tasks", 0]),
    "long topic": ({"topics": ["т" * 101]}, ["body", "topics", 0]),
    "21 topics": ({"topics": [f"тема {i}" for i in range(21)]}, ["body", "topics"]),
    "long summary": ({"summary": "с" * 20_001}, ["body", "summary"]),
    "member not a uuid": ({"team": [{"user_id": "x"}]}, ["body", "team", 0, "user_id"]),
    "unknown team role": (
        {"team": [{"user_id": str(uuid.uuid4()), "role": "boss"}]},
        ["body", "team", 0, "role"],
    ),
    "status is not input": ({"status": "approved"}, ["body", "status"]),
    "code is not input": ({"code": "INI-2020-0001"}, ["body", "code"]),
}


class TestCreate:
    def test_anonymous_is_401(self, client):
        assert_problem(client.post(API, json=initiative_body()), 401, "unauthorized")

    def test_roles_that_may_not_propose_are_403(
        self, client, make_user, org, service_headers, subtests
    ):
        for role in (Role.observer, Role.admin):
            with subtests.test(role=role.value):
                person = make_user(role, organization_id=org)
                body = assert_problem(
                    client.post(API, json=initiative_body(), headers=person.headers),
                    403,
                    "forbidden",
                )
                assert body["extra"] == {"action": "initiatives.create"}
        with subtests.test(role="service account"):
            headers = service_headers("initiatives:read")
            assert_problem(
                client.post(API, json=initiative_body(), headers=headers), 403, "forbidden"
            )

    def test_happy_path(self, client, author, teammate, org, office_member):
        response = client.post(
            API,
            json=initiative_body(
                topics=["смысловое чтение", "Смысловое Чтение", "ФГОС"],
                team=[{"user_id": str(teammate.id), "role": "lead"}],
            ),
            headers=author.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"] == f"{API}/{body['id']}"
        assert response.headers["ETag"] == '"1"'
        year = datetime.now(UTC).year
        assert body["code"] == f"INI-{year}-0001"
        assert body["status"] == "draft"
        assert body["version"] == 1
        assert body["review_round"] == 1
        assert body["author_id"] == str(author.id)
        assert body["author_name"] == "Анна Автор"
        assert body["organization_id"] == str(org)
        assert body["organization_name"] == "СОШ № 7"
        assert body["title"].startswith("Смысловое чтение")
        assert body["summary"] == initiative_body()["summary"]
        assert body["problem"] == initiative_body()["problem"]
        assert body["goal"] == initiative_body()["goal"]
        assert body["expected_results"] == initiative_body()["expected_results"]
        assert body["tasks"] == ["Провести диагностику", "Разработать задания"]
        assert body["kind"] == "project"
        assert body["education_level"] == "primary"
        assert body["academic_year"] == "2025-2026"
        assert body["start_date"] == "2025-09-01"
        assert body["end_date"] == "2026-05-31"
        # The same topic twice (case aside) is kept once, as first written.
        assert body["topics"] == ["смысловое чтение", "ФГОС"]
        assert body["team"] == [
            {"user_id": str(teammate.id), "full_name": "Борис Команда", "role": "lead"}
        ]
        assert body["created_at"] == body["updated_at"]
        assert client.get(f"{API}/{body['id']}", headers=author.headers).json() == body
        # Office members bring ideas too.
        own = create_initiative(client, office_member, organization_id=str(org))
        assert own["author_id"] == str(office_member.id)
        assert own["code"] == f"INI-{year}-0002"

    def test_organization_defaults_to_the_authors(self, client, author, org, make_org):
        response = client.post(
            API,
            json={
                "title": "Миссия выполнима",
                "education_level": "basic",
                "academic_year": "2021-2022",
            },
            headers=author.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["organization_id"] == str(org)
        assert body["kind"] == "project"
        assert (body["team"], body["topics"], body["tasks"]) == ([], [], [])
        assert (body["start_date"], body["end_date"]) == (None, None)
        other = make_org(short_name="Гимназия № 2")
        explicit = create_initiative(client, author, organization_id=str(other))
        assert explicit["organization_id"] == str(other)
        assert explicit["organization_name"] == "Гимназия № 2"

    def test_invalid_body_is_422(self, client, author, participant, subtests):
        for case, (overrides, loc) in INVALID_CREATE.items():
            with subtests.test(case):
                body = assert_problem(
                    client.post(API, json=initiative_body(**overrides), headers=author.headers),
                    422,
                    "validation_error",
                )
                assert body["errors"][0]["loc"] == loc, body
        with subtests.test("required fields missing"):
            body = assert_problem(
                client.post(API, json={"summary": "без названия"}, headers=author.headers), 422
            )
            locs = {tuple(e["loc"]) for e in body["errors"]}
            assert locs >= {
                ("body", "title"),
                ("body", "education_level"),
                ("body", "academic_year"),
            }
        with subtests.test("not JSON"):
            response = client.post(
                API,
                content="title=x",
                headers={**author.headers, "Content-Type": "application/x-www-form-urlencoded"},
            )
            assert_problem(response, 415, "unsupported_media_type")
        with subtests.test("author without an organization names none"):
            body = assert_problem(
                client.post(API, json=initiative_body(), headers=participant.headers),
                422,
                "organization_required",
            )
            assert body["errors"][0]["loc"] == ["body", "organization_id"]
        with subtests.test("clear messages"):
            year = client.post(
                API, json=initiative_body(academic_year="2021-2023"), headers=author.headers
            ).json()
            assert "2021-2022" in year["errors"][0]["msg"]
            dates = client.post(
                API,
                json=initiative_body(start_date="2026-05-01", end_date="2026-04-30"),
                headers=author.headers,
            ).json()
            assert "дата окончания раньше даты начала" in dates["detail"]
            for blank in ("", "   "):
                title = client.post(
                    API, json=initiative_body(title=blank), headers=author.headers
                ).json()
                assert [e["loc"] for e in title["errors"]] == [["body", "title"]]
                # Which field, and how long it must be (Title: at least 3 characters).
                assert title["detail"] == f"body.title: {title['errors'][0]['msg']}"
                assert "3" in title["errors"][0]["msg"]
            missing = uuid.uuid4()
            organization = client.post(
                API, json=initiative_body(organization_id=str(missing)), headers=author.headers
            ).json()
            assert organization["detail"] == f"Организация {missing} не найдена"
            assert [(e["loc"], e["msg"]) for e in organization["errors"]] == [
                (["body", "organization_id"], organization["detail"])
            ]
        # Nothing was written, and no code was spent.
        assert client.get(API, headers=author.headers).json()["items"] == []
        assert create_initiative(client, author)["code"].endswith("-0001")

    def test_unknown_organization_is_422(self, client, author):
        missing = uuid.uuid4()
        body = assert_problem(
            client.post(
                API, json=initiative_body(organization_id=str(missing)), headers=author.headers
            ),
            422,
            "unknown_organization",
        )
        assert body["errors"][0]["loc"] == ["body", "organization_id"]
        assert str(missing) in body["detail"]

    def test_team_members_must_exist(self, client, author, teammate, make_user, admin, subtests):
        missing = uuid.uuid4()
        with subtests.test("unknown user"):
            body = assert_problem(
                client.post(
                    API,
                    json=initiative_body(
                        team=[{"user_id": str(teammate.id)}, {"user_id": str(missing)}]
                    ),
                    headers=author.headers,
                ),
                422,
                "unknown_team_member",
            )
            assert body["extra"] == {"user_ids": [str(missing)]}
            assert body["errors"][0]["loc"] == ["body", "team"]
            assert str(missing) in body["detail"]
        with subtests.test("deactivated user"):
            gone = make_user(Role.participant)
            response = client.patch(
                f"/api/v1/users/{gone.id}", json={"is_active": False}, headers=admin.headers
            )
            assert response.status_code == 200, response.text
            body = assert_problem(
                client.post(
                    API,
                    json=initiative_body(team=[{"user_id": str(gone.id)}]),
                    headers=author.headers,
                ),
                422,
                "unknown_team_member",
            )
            assert body["extra"] == {"user_ids": [str(gone.id)]}
        with subtests.test("the same member twice"):
            member = {"user_id": str(teammate.id)}
            assert_problem(
                client.post(
                    API, json=initiative_body(team=[member, member]), headers=author.headers
                ),
                422,
                "duplicate_member",
            )
        with subtests.test("the author in the own team"):
            assert_problem(
                client.post(
                    API,
                    json=initiative_body(team=[{"user_id": str(author.id)}]),
                    headers=author.headers,
                ),
                422,
                "author_in_team",
            )


# --- codes ------------------------------------------------------------------------------------


class TestCodes:
    def test_sequential_and_gap_free_around_failures(self, client, author):
        codes = []
        for i in range(6):
            if i % 2:  # a failed creation in between spends no number
                assert_problem(
                    client.post(
                        API,
                        json=initiative_body(team=[{"user_id": str(uuid.uuid4())}]),
                        headers=author.headers,
                    ),
                    422,
                    "unknown_team_member",
                )
            codes.append(create_initiative(client, author, title=f"Инициатива {i}")["code"])
        year = local(datetime.now(UTC)).year
        assert codes == [f"INI-{year}-{n:04d}" for n in range(1, 7)]

    def test_a_new_year_starts_again_at_0001(self, client, author):
        """The year in the code is the office's (UTC+5, like its academic years and documents):
        its New Year restarts the numbering while UTC still says 31 December. The app's clock
        (`clock_at`, the seam the demo data replays history with) stands in for the date."""

        def code_at(moment: datetime) -> str:
            at = moment.astimezone(UTC)  # what utcnow() returns
            with clock_at(at):
                created = create_initiative(client, author, title=f"Создана {moment:%d.%m %H:%M}")
            assert created["created_at"] == at.isoformat().replace("+00:00", "Z")
            return str(created["code"])

        eve = datetime(2031, 12, 31, 23, 58, tzinfo=OFFICE_TZ)
        new_year = datetime(2032, 1, 1, 0, 1, tzinfo=OFFICE_TZ)
        assert new_year.astimezone(UTC).day == 31  # the case UTC gets wrong
        codes = [
            code_at(eve),
            code_at(eve.replace(minute=59)),
            code_at(new_year),
            code_at(new_year.replace(hour=10)),
            code_at(datetime(2033, 1, 1, 9, 0, tzinfo=OFFICE_TZ)),
        ]
        assert codes == [
            "INI-2031-0001",
            "INI-2031-0002",
            "INI-2032-0001",
            "INI-2032-0002",
            "INI-2033-0001",
        ]
        # Each year keeps its own counter: today's numbering is untouched by those years.
        today = local(datetime.now(UTC)).year
        assert create_initiative(client, author)["code"] == f"INI-{today}-0001"
        found = client.get(API, params={"q": "INI-2032"}, headers=author.headers).json()
        assert sorted(i["code"] for i in found["items"]) == ["INI-2032-0001", "INI-2032-0002"]

    @pytest.mark.postgres_only
    def test_concurrent_creation_from_eight_threads(self, app, is_postgres, author):
        if not is_postgres:
            pytest.skip("SQLite serialises writers: concurrent creation is a PostgreSQL matter")
        threads = 8
        barrier = threading.Barrier(threads)

        def create(i: int) -> Any:
            with TestClient(app) as own_client:
                barrier.wait(timeout=30)
                return own_client.post(
                    API, json=initiative_body(title=f"Параллельная {i}"), headers=author.headers
                )

        with ThreadPoolExecutor(threads) as pool:
            responses = list(pool.map(create, range(threads)))
        assert [r.status_code for r in responses] == [201] * threads, [r.text for r in responses]
        year = local(datetime.now(UTC)).year
        codes = sorted(r.json()["code"] for r in responses)
        assert codes == [f"INI-{year}-{n:04d}" for n in range(1, threads + 1)]
        with TestClient(app) as own_client:
            after = own_client.post(API, json=initiative_body(), headers=author.headers)
        assert after.json()["code"] == f"INI-{year}-{threads + 1:04d}"


# --- GET /initiatives/{id} --------------------------------------------------------------------


class TestRead:
    def test_anonymous_is_401(self, client, author):
        created = create_initiative(client, author)
        assert_problem(client.get(f"{API}/{created['id']}"), 401, "unauthorized")
        assert_problem(
            client.get(f"{API}/{created['id']}", headers={"Authorization": "Bearer junk"}),
            401,
            "invalid_token",
        )

    def test_unknown_is_404_and_bad_id_is_422(self, client, author):
        assert_problem(
            client.get(f"{API}/{uuid.uuid4()}", headers=author.headers),
            404,
            "initiative_not_found",
        )
        assert_problem(client.get(f"{API}/42", headers=author.headers), 422, "validation_error")

    def test_happy_path_has_etag(self, client, author):
        created = create_initiative(client, author)
        response = client.get(f"{API}/{created['id']}", headers=author.headers)
        assert response.status_code == 200
        assert response.headers["ETag"] == '"1"'
        assert response.json() == created

    def test_draft_is_visible_only_to_author_team_and_admin(
        self, client, author, teammate, make_user, admin, office_head, office_member, participant
    ):
        mentor = make_user(Role.participant)
        observer = make_user(Role.observer)
        created = create_initiative(
            client,
            author,
            team=[{"user_id": str(teammate.id)}, {"user_id": str(mentor.id), "role": "mentor"}],
        )
        url = f"{API}/{created['id']}"
        for person in (author, teammate, mentor, admin):
            assert client.get(url, headers=person.headers).status_code == 200
        # Someone else's draft does not exist for them, office roles included.
        for person in (office_head, office_member, participant, observer):
            assert_problem(client.get(url, headers=person.headers), 404, "initiative_not_found")

    def test_other_states_are_visible_to_every_user(
        self, client, author, admin, office_head, office_member, participant, observer, subtests
    ):
        created = create_initiative(client, author)
        for status in S:
            if status == S.draft:
                continue
            with subtests.test(status=status.value):
                set_status(created["id"], status)
                for person in (author, admin, office_head, office_member, participant, observer):
                    response = client.get(f"{API}/{created['id']}", headers=person.headers)
                    assert response.status_code == 200, (person.roles, response.text)
                    assert response.json()["status"] == status.value

    def test_withdrawn_before_submission_stays_private(
        self,
        client,
        author,
        teammate,
        admin,
        office_head,
        office_member,
        participant,
        observer,
        service_headers,
    ):
        # A draft withdrawn before it was ever submitted became visible to every user.
        def withdraw(created: dict[str, Any], *actions: str) -> None:
            for action in (*actions, "withdraw"):
                response = client.post(
                    f"{API}/{created['id']}/transitions",
                    json={"action": action},
                    headers=author.headers,
                )
                assert response.status_code == 200, response.text

        never = create_initiative(
            client, author, title="Отозванный черновик", team=[{"user_id": str(teammate.id)}]
        )
        withdraw(never)
        once = create_initiative(client, author, title="Отозванная поданная")
        withdraw(once, "submit")
        url = f"{API}/{never['id']}"
        for person in (author, teammate, admin):
            response = client.get(url, headers=person.headers)
            assert response.status_code == 200, response.text
            assert response.json()["status"] == "withdrawn"
        machine = service_headers("initiatives:read")
        for headers in (
            office_head.headers,
            office_member.headers,
            participant.headers,
            observer.headers,
            machine,
        ):
            for path in ("", "/transitions", "/actions"):
                assert_problem(client.get(url + path, headers=headers), 404, "initiative_not_found")
            assert client.get(f"{API}/{once['id']}", headers=headers).status_code == 200
            # Lists, filters and search show the one that was submitted, never the draft.
            for params in (
                {},
                {"status": "withdrawn"},
                {"q": "Отозван"},
                {"author_id": str(author.id)},
            ):
                listed = client.get(API, params=params, headers=headers).json()["items"]
                assert ids(listed) == [once["id"]], params
        assert set(ids(client.get(API, headers=teammate.headers).json()["items"])) == {
            never["id"],
            once["id"],
        }

    def test_constant_queries_whatever_the_team_size(
        self, client, author, make_user, count_queries
    ):
        def queries_for(team_size: int) -> int:
            members = [make_user(Role.participant) for _ in range(team_size)]
            created = create_initiative(
                client, author, team=[{"user_id": str(m.id)} for m in members]
            )
            count_queries.statements.clear()
            response = client.get(f"{API}/{created['id']}", headers=author.headers)
            assert response.status_code == 200
            assert len(response.json()["team"]) == team_size
            return count_queries.count

        small, large = queries_for(1), queries_for(10)
        assert small == large, count_queries.statements
        assert small <= 6, count_queries.statements


class TestServiceAccounts:
    """The only callers a read endpoint refuses (403) are machines without the scope."""

    def test_without_initiatives_scope_is_403_everywhere(self, client, author, service_headers):
        created = create_initiative(client, author)
        set_status(created["id"], S.submitted)
        headers = service_headers("webhooks:manage")
        for url in (
            API,
            f"{API}/{created['id']}",
            f"{API}/{created['id']}/transitions",
            f"{API}/{created['id']}/actions",
        ):
            body = assert_problem(client.get(url, headers=headers), 403, "forbidden")
            assert body["extra"] == {"action": "initiatives.read"}

    def test_initiatives_read_sees_every_non_draft_and_nothing_more(
        self, client, author, service_headers
    ):
        headers = service_headers("initiatives:read")
        draft = create_initiative(client, author, title="Черновик автора")
        submitted = create_initiative(client, author, title="Поданная инициатива")
        set_status(submitted["id"], S.submitted)
        assert client.get(f"{API}/{submitted['id']}", headers=headers).status_code == 200
        assert_problem(
            client.get(f"{API}/{draft['id']}", headers=headers), 404, "initiative_not_found"
        )
        assert ids(client.get(API, headers=headers).json()["items"]) == [submitted["id"]]
        assert client.get(API, params={"mine": "true"}, headers=headers).json()["items"] == []
        history = client.get(f"{API}/{submitted['id']}/transitions", headers=headers)
        assert history.status_code == 200
        assert client.get(f"{API}/{submitted['id']}/actions", headers=headers).json() == []
        # Reading is all it may do.
        writes = [
            client.patch(f"{API}/{submitted['id']}", json={"topics": []}, headers=headers),
            client.put(f"{API}/{submitted['id']}/team", json={"members": []}, headers=headers),
            client.post(
                f"{API}/{submitted['id']}/transitions",
                json={"action": "start_consultation"},
                headers=headers,
            ),
        ]
        for response in writes:
            assert_problem(response, 403, "users_only")


# --- PATCH /initiatives/{id} ------------------------------------------------------------------

INVALID_PATCH = {
    "10 000-character title": ({"title": "Я" * 10_000}, "validation_error"),
    "empty title": ({"title": ""}, "validation_error"),
    "academic year 2021-2023": ({"academic_year": "2021-2023"}, "validation_error"),
    "end before start": (
        {"start_date": "2026-05-01", "end_date": "2026-04-01"},
        "validation_error",
    ),
    "unknown education level": ({"education_level": "university"}, "validation_error"),
    "timestamp end date": ({"end_date": 0}, "validation_error"),
    "version 0": ({"version": 0}, "validation_error"),
    "author is not editable": ({"author_id": str(uuid.uuid4())}, "validation_error"),
    "status is not editable": ({"status": "approved"}, "validation_error"),
    "not an object": ([], "validation_error"),
    # Only the dates may be cleared with null.
    **{
        f"null {field}": ({field: None}, "null_not_allowed")
        for field in (
            "title",
            "summary",
            "problem",
            "goal",
            "tasks",
            "expected_results",
            "kind",
            "education_level",
            "academic_year",
            "topics",
            "organization_id",
        )
    },
}


class TestUpdate:
    def test_anonymous_is_401(self, client, author):
        created = create_initiative(client, author)
        assert_problem(
            client.patch(f"{API}/{created['id']}", json={"title": "Новое"}), 401, "unauthorized"
        )

    def test_someone_elses_draft_is_404(self, client, author, participant, office_head):
        created = create_initiative(client, author)
        for person in (participant, office_head):
            assert_problem(
                client.patch(
                    f"{API}/{created['id']}", json={"title": "Чужое"}, headers=person.headers
                ),
                404,
                "initiative_not_found",
            )
        assert_problem(
            client.patch(f"{API}/{uuid.uuid4()}", json={"title": "Нет"}, headers=author.headers),
            404,
            "initiative_not_found",
        )
        assert client.get(f"{API}/{created['id']}", headers=author.headers).json()["version"] == 1

    def test_outsiders_and_office_content_edits_are_403(
        self, client, author, participant, office_head, office_member, subtests
    ):
        created = create_initiative(client, author)
        set_status(created["id"], S.revision)
        url = f"{API}/{created['id']}"
        for patch in ({"title": "Моё теперь"}, {"topics": ["чужие темы"]}):
            with subtests.test("participant outside the team", patch=patch):
                assert_problem(
                    client.patch(url, json=patch, headers=participant.headers),
                    403,
                    "not_initiative_team",
                )
        set_status(created["id"], S.submitted)
        content = {
            "title": "Правка офиса",
            "summary": "Правка офиса",
            "goal": "Правка офиса",
            "tasks": ["Задача офиса"],
            "education_level": "secondary",
            "start_date": "2025-10-01",
            "organization_id": str(author.organization_id),
        }
        for office in (office_head, office_member):
            for field, value in content.items():
                with subtests.test("office edits content", role=office.roles[0], field=field):
                    assert_problem(
                        client.patch(url, json={field: value}, headers=office.headers),
                        403,
                        "not_initiative_team",
                    )
        with subtests.test("office metadata mixed with content"):
            assert_problem(
                client.patch(
                    url,
                    json={"topics": ["новая"], "title": "И название заодно"},
                    headers=office_member.headers,
                ),
                403,
                "not_initiative_team",
            )
        assert client.get(url, headers=author.headers).json()["version"] == 1

    @pytest.mark.parametrize("state", [S.draft, S.revision], ids=str)
    @pytest.mark.parametrize("role", OUTSIDER_ROLES, ids=str)
    def test_outsider_roles_change_nothing(self, client, author, make_user, role, state, subtests):
        """An observer, a plain expert and an administrator (who reads every draft but is not on
        its team) neither edit content nor metadata, in a draft or in revision."""
        assert role not in OBJECT_RULES[ObjectRule.initiative_metadata_edit].roles
        person = make_user(role)
        created = create_initiative(client, author)
        set_status(created["id"], state)
        url = f"{API}/{created['id']}"
        before = client.get(url, headers=author.headers).json()
        status, code = outsider_refusal(role, state)
        for patch in (
            {"title": "Чужая правка"},
            {"goal": "Чужая цель"},
            {"topics": ["чужая тема"]},
            {"academic_year": "2026-2027"},
            {"title": "Всё сразу", "topics": ["и темы"]},
        ):
            with subtests.test(patch=patch):
                body = assert_problem(
                    client.patch(url, json=patch, headers=person.headers), status, code
                )
                if status == 403:
                    assert "автор или команда" in body["detail"]
        after = client.get(url, headers=author.headers).json()
        assert after == before
        assert after["version"] == 1

    def test_invalid_body_is_422(self, client, author, subtests):
        created = create_initiative(client, author, start_date="2025-09-01", end_date=None)
        url = f"{API}/{created['id']}"
        for case, (patch, code) in INVALID_PATCH.items():
            with subtests.test(case):
                body = assert_problem(
                    client.patch(url, json=patch, headers=author.headers), 422, code
                )
                if code == "null_not_allowed":
                    assert body["errors"][0]["loc"] == ["body", next(iter(patch))]
        with subtests.test("end before the stored start"):
            body = assert_problem(
                client.patch(url, json={"end_date": "2025-08-31"}, headers=author.headers), 422
            )
            assert body["errors"][0]["loc"] == ["body", "end_date"]
        with subtests.test("unknown organization"):
            assert_problem(
                client.patch(
                    url, json={"organization_id": str(uuid.uuid4())}, headers=author.headers
                ),
                422,
                "unknown_organization",
            )
        assert client.get(url, headers=author.headers).json()["version"] == 1

    def test_author_edits_draft(self, client, author, make_org):
        other = make_org(short_name="Лицей № 1")
        created = create_initiative(client, author)
        response = client.patch(
            f"{API}/{created['id']}",
            json={
                "title": "  Чайковское метро  ",
                "summary": "Новое описание",
                "tasks": ["Одна задача"],
                "kind": "program",
                "topics": ["метро"],
                "organization_id": str(other),
                "end_date": None,
            },
            headers=author.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        # One edit, one new version, whatever the number of fields.
        assert response.headers["ETag"] == '"2"'
        assert body["version"] == 2
        assert body["title"] == "Чайковское метро"
        assert body["summary"] == "Новое описание"
        assert body["tasks"] == ["Одна задача"]
        assert body["kind"] == "program"
        assert body["topics"] == ["метро"]
        assert body["organization_name"] == "Лицей № 1"
        assert body["end_date"] is None
        assert body["updated_at"] > created["updated_at"]
        assert body["created_at"] == created["created_at"]
        # Untouched fields stay.
        assert body["goal"] == created["goal"]
        assert body["start_date"] == created["start_date"]
        # The new title and topics are what search now finds.
        found = client.get(API, params={"q": "МЕТРО"}, headers=author.headers).json()["items"]
        assert ids(found) == [created["id"]]
        by_topic = client.get(API, params={"topic": "метро"}, headers=author.headers).json()
        assert ids(by_topic["items"]) == [created["id"]]
        old = client.get(API, params={"topic": "смысловое чтение"}, headers=author.headers)
        assert old.json()["items"] == []

    def test_nothing_changed_keeps_the_version(self, client, author):
        created = create_initiative(client, author)
        response = client.patch(
            f"{API}/{created['id']}",
            json={"title": created["title"], "topics": created["topics"]},
            headers=author.headers,
        )
        assert response.status_code == 200
        assert response.json()["version"] == 1
        assert response.json()["updated_at"] == created["updated_at"]

    def test_team_edits_draft_and_revision(self, client, author, make_user, org, subtests):
        for role in ("member", "lead", "mentor"):
            with subtests.test(role=role):
                member = make_user(Role.participant, organization_id=org)
                created = create_initiative(
                    client, author, team=[{"user_id": str(member.id), "role": role}]
                )
                url = f"{API}/{created['id']}"
                first = client.patch(url, json={"goal": "Цель команды"}, headers=member.headers)
                assert first.status_code == 200, first.text
                set_status(created["id"], S.revision)
                second = client.patch(url, json={"topics": ["грамотность"]}, headers=member.headers)
                assert second.status_code == 200, second.text
                assert second.json()["goal"] == "Цель команды"
                assert second.json()["topics"] == ["грамотность"]
                assert second.json()["version"] == 3

    def test_author_edits_in_revision(self, client, author):
        created = create_initiative(client, author)
        set_status(created["id"], S.revision)
        response = client.patch(
            f"{API}/{created['id']}",
            json={"problem": "Уточнённая проблема"},
            headers=author.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["problem"] == "Уточнённая проблема"

    def test_author_cannot_edit_a_submitted_initiative(self, client, author, teammate, subtests):
        created = create_initiative(client, author, team=[{"user_id": str(teammate.id)}])
        url = f"{API}/{created['id']}"
        for status in sorted(set(S) - {S.draft, S.revision}):
            for person in (author, teammate):
                for patch in ({"title": "Поправка"}, {"topics": ["своё"]}):
                    with subtests.test(status=status.value, person=person.email, patch=patch):
                        set_status(created["id"], status)
                        body = assert_problem(
                            client.patch(url, json=patch, headers=person.headers),
                            409,
                            "initiative_not_editable",
                        )
                        assert body["extra"] == {"status": status.value}
                        assert "«Черновик» и «На доработке»" in body["detail"]

    def test_office_edits_metadata_at_any_time(
        self, client, author, office_member, office_head, subtests
    ):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}"
        version = 1
        for status in sorted(set(S) - {S.draft}):
            with subtests.test(status=status.value):
                set_status(created["id"], status)
                response = client.patch(
                    url,
                    json={"topics": ["4К компетенции", status.value], "academic_year": "2021-2022"},
                    headers=office_member.headers,
                )
                assert response.status_code == 200, response.text
                version += 1
                assert response.json()["topics"] == ["4К компетенции", status.value]
                assert response.json()["academic_year"] == "2021-2022"
                response = client.patch(
                    url, json={"academic_year": "2020-2021"}, headers=office_head.headers
                )
                assert response.status_code == 200, response.text
                version += 1
                assert response.json()["version"] == version
                assert response.json()["status"] == status.value

    def test_stale_if_match_is_412(self, client, author):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}"
        ok = client.patch(url, json={"goal": "A"}, headers={**author.headers, "If-Match": '"1"'})
        assert ok.status_code == 200
        assert ok.headers["ETag"] == '"2"'
        body = assert_problem(
            client.patch(url, json={"goal": "B"}, headers={**author.headers, "If-Match": '"1"'}),
            412,
            "precondition_failed",
        )
        assert body["extra"] == {"current_version": 2}
        assert_problem(
            client.patch(url, json={"goal": "B"}, headers={**author.headers, "If-Match": "junk"}),
            412,
        )
        weak = client.patch(
            url, json={"goal": "B"}, headers={**author.headers, "If-Match": 'W/"2"'}
        )
        assert weak.status_code == 200
        assert client.get(url, headers=author.headers).json()["goal"] == "B"

    def test_stale_body_version_is_409(self, client, author):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}"
        first = client.patch(url, json={"goal": "A", "version": 1}, headers=author.headers)
        assert first.status_code == 200
        body = assert_problem(
            client.patch(url, json={"goal": "B", "version": 1}, headers=author.headers),
            409,
            "version_conflict",
        )
        assert body["extra"] == {"current_version": 2}
        assert client.get(url, headers=author.headers).json()["goal"] == "A"

    def test_edit_writes_the_diff_to_the_audit_log(self, client, author, admin, office_member):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}"
        response = client.patch(
            url,
            json={"title": "Чайковское метро", "goal": created["goal"], "topics": ["метро"]},
            headers=author.headers,
        )
        assert response.status_code == 200
        set_status(created["id"], S.submitted)
        response = client.patch(
            url, json={"academic_year": "2021-2022"}, headers=office_member.headers
        )
        assert response.status_code == 200
        events = audit_items(client, admin, created["id"])
        assert [e["action"] for e in events] == [
            "initiative.updated",
            "initiative.updated",
            "initiative.created",
        ]
        office_edit, author_edit, creation = events
        # Not sent, defaulted to the author's: the log records it as stored.
        assert creation["data"]["organization_id"] == created["organization_id"]
        assert author_edit["actor_id"] == str(author.id)
        assert author_edit["actor_kind"] == "user"
        # Only what really changed, as [old, new].
        assert author_edit["data"]["changes"] == {
            "title": [created["title"], "Чайковское метро"],
            "topics": [["смысловое чтение"], ["метро"]],
        }
        assert office_edit["actor_id"] == str(office_member.id)
        assert office_edit["data"]["changes"] == {"academic_year": ["2025-2026", "2021-2022"]}


# --- PUT /initiatives/{id}/team ---------------------------------------------------------------


class TestTeam:
    def test_anonymous_is_401(self, client, author):
        created = create_initiative(client, author)
        assert_problem(
            client.put(f"{API}/{created['id']}/team", json={"members": []}), 401, "unauthorized"
        )

    def test_someone_elses_draft_is_404(self, client, author, participant):
        created = create_initiative(client, author)
        assert_problem(
            client.put(
                f"{API}/{created['id']}/team", json={"members": []}, headers=participant.headers
            ),
            404,
            "initiative_not_found",
        )

    def test_outsider_and_office_are_403(self, client, author, participant, office_head):
        created = create_initiative(client, author)
        set_status(created["id"], S.revision)
        for person in (participant, office_head):
            assert_problem(
                client.put(
                    f"{API}/{created['id']}/team",
                    json={"members": [{"user_id": str(person.id)}]},
                    headers=person.headers,
                ),
                403,
                "not_initiative_team",
            )

    @pytest.mark.parametrize("state", [S.draft, S.revision], ids=str)
    @pytest.mark.parametrize("role", OUTSIDER_ROLES, ids=str)
    def test_outsider_roles_change_nothing(
        self, client, author, teammate, make_user, role, state, subtests
    ):
        person = make_user(role)
        created = create_initiative(client, author, team=[{"user_id": str(teammate.id)}])
        set_status(created["id"], state)
        url = f"{API}/{created['id']}"
        before = client.get(url, headers=author.headers).json()
        status, code = outsider_refusal(role, state)
        for members in (
            [{"user_id": str(person.id), "role": "lead"}],
            [{"user_id": str(teammate.id), "role": "lead"}],
            [],
        ):
            with subtests.test(members=members):
                assert_problem(
                    client.put(f"{url}/team", json={"members": members}, headers=person.headers),
                    status,
                    code,
                )
        after = client.get(url, headers=author.headers).json()
        assert after == before
        assert after["version"] == 1
        assert [m["user_id"] for m in after["team"]] == [str(teammate.id)]

    def test_invalid_body_is_422(self, client, author, teammate, subtests):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}/team"
        missing = uuid.uuid4()
        cases = {
            "no members key": ({}, "validation_error"),
            "unknown role": (
                {"members": [{"user_id": str(teammate.id), "role": "boss"}]},
                "validation_error",
            ),
            "51 members": (
                {"members": [{"user_id": str(uuid.uuid4())} for _ in range(51)]},
                "validation_error",
            ),
            "unknown member": ({"members": [{"user_id": str(missing)}]}, "unknown_team_member"),
            "author in the team": ({"members": [{"user_id": str(author.id)}]}, "author_in_team"),
            "the same member twice": (
                {"members": [{"user_id": str(teammate.id)}, {"user_id": str(teammate.id)}]},
                "duplicate_member",
            ),
        }
        for case, (payload, code) in cases.items():
            with subtests.test(case):
                body = assert_problem(
                    client.put(url, json=payload, headers=author.headers), 422, code
                )
                if code == "unknown_team_member":
                    assert body["errors"][0]["loc"] == ["body", "members"]
                    assert body["extra"] == {"user_ids": [str(missing)]}
        assert client.get(f"{API}/{created['id']}", headers=author.headers).json()["version"] == 1

    def test_replace_team(self, client, author, teammate, make_user, admin):
        mentor = make_user(Role.participant, full_name="Вера Наставник")
        created = create_initiative(client, author, team=[{"user_id": str(teammate.id)}])
        url = f"{API}/{created['id']}/team"
        response = client.put(
            url,
            json={
                "members": [
                    {"user_id": str(mentor.id), "role": "mentor"},
                    {"user_id": str(teammate.id), "role": "lead"},
                ]
            },
            headers={**author.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.headers["ETag"] == '"2"'
        team = {m["user_id"]: (m["full_name"], m["role"]) for m in response.json()["team"]}
        assert team == {
            str(mentor.id): ("Вера Наставник", "mentor"),
            str(teammate.id): ("Борис Команда", "lead"),
        }
        event = audit_items(client, admin, created["id"])[0]
        assert event["action"] == "initiative.team_replaced"
        assert event["data"]["before"] == [{"user_id": str(teammate.id), "role": "member"}]
        assert sorted(event["data"]["after"], key=lambda m: m["role"]) == [
            {"user_id": str(teammate.id), "role": "lead"},
            {"user_id": str(mentor.id), "role": "mentor"},
        ]
        # The mentor now sees the draft and finds it among their own; without them, no more.
        assert client.get(f"{API}/{created['id']}", headers=mentor.headers).status_code == 200
        mine = client.get(API, params={"mine": "true"}, headers=mentor.headers).json()
        assert ids(mine["items"]) == [created["id"]]
        # A team member (here the lead) may replace the team too.
        emptied = client.put(url, json={"members": []}, headers=teammate.headers)
        assert emptied.status_code == 200, emptied.text
        assert emptied.json()["team"] == []
        assert client.get(f"{API}/{created['id']}", headers=mentor.headers).status_code == 404

    def test_the_same_team_again_changes_nothing(self, client, author, teammate, make_user, admin):
        # Replacing the team with the same members bumped the version and logged an event.
        mentor = make_user(Role.participant)
        team = [
            {"user_id": str(teammate.id), "role": "lead"},
            {"user_id": str(mentor.id), "role": "mentor"},
        ]
        created = create_initiative(client, author, team=team)
        url = f"{API}/{created['id']}/team"
        events_before = audit_items(client, admin, created["id"])
        for members in (team, list(reversed(team))):  # order does not matter
            response = client.put(
                url, json={"members": members}, headers={**author.headers, "If-Match": '"1"'}
            )
            assert response.status_code == 200, response.text
            assert response.headers["ETag"] == '"1"'
            assert response.json() == created
        assert audit_items(client, admin, created["id"]) == events_before
        # A stale version is still refused, a change in a role is still a change.
        assert_problem(
            client.put(url, json={"members": team}, headers={**author.headers, "If-Match": '"5"'}),
            412,
        )
        changed = client.put(
            url,
            json={"members": [{**team[0], "role": "member"}, team[1]]},
            headers={**author.headers, "If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
        assert changed.headers["ETag"] == '"2"'
        # Who stays keeps their place in the team.
        assert [m["user_id"] for m in changed.json()["team"]] == [
            m["user_id"] for m in created["team"]
        ]
        assert audit_items(client, admin, created["id"])[0]["action"] == "initiative.team_replaced"

    def test_submitted_team_is_409(self, client, author):
        created = create_initiative(client, author)
        set_status(created["id"], S.submitted)
        assert_problem(
            client.put(f"{API}/{created['id']}/team", json={"members": []}, headers=author.headers),
            409,
            "initiative_not_editable",
        )

    def test_stale_versions(self, client, author):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}/team"
        client.patch(f"{API}/{created['id']}", json={"goal": "X"}, headers=author.headers)
        assert_problem(
            client.put(url, json={"members": []}, headers={**author.headers, "If-Match": '"1"'}),
            412,
            "precondition_failed",
        )
        assert_problem(
            client.put(url, json={"members": [], "version": 1}, headers=author.headers),
            409,
            "version_conflict",
        )


# --- GET /initiatives -------------------------------------------------------------------------

INVALID_LIST_PARAMS = {
    "unknown status": {"status": "bogus"},
    "limit 0": {"limit": 0},
    "limit 201": {"limit": 201},
    "academic year 2021-2023": {"academic_year": "2021-2023"},
    "unknown education level": {"education_level": "university"},
    "organization not a uuid": {"organization_id": "x"},
    "author not a uuid": {"author_id": "x"},
    "mine not a boolean": {"mine": "perhaps"},
    "unknown sort": {"sort": "code"},
    "empty q": {"q": ""},
    "q of 201 characters": {"q": "я" * 201},
    "empty topic": {"topic": ""},
}


class TestList:
    def test_anonymous_is_401(self, client):
        assert_problem(client.get(API), 401, "unauthorized")

    def test_invalid_parameters_are_422(self, client, participant, subtests):
        for case, params in INVALID_LIST_PARAMS.items():
            with subtests.test(case):
                assert_problem(
                    client.get(API, params=params, headers=participant.headers),
                    422,
                    "validation_error",
                )
        with subtests.test("broken cursor"):
            assert_problem(
                client.get(API, params={"cursor": "not-a-cursor"}, headers=participant.headers),
                422,
                "invalid_cursor",
            )

    def test_drafts_only_for_their_people(
        self, client, author, teammate, admin, office_head, observer, participant
    ):
        org = str(author.organization_id)
        mine = create_initiative(client, author, title="Черновик Анны")
        shared = create_initiative(
            client,
            participant,
            title="Черновик с Анной в команде",
            organization_id=org,
            team=[{"user_id": str(author.id)}],
        )
        others = create_initiative(client, participant, title="Чужой", organization_id=org)
        public = create_initiative(client, participant, title="Поданная", organization_id=org)
        set_status(public["id"], S.submitted)

        def seen(person: Any, **params: Any) -> set[str]:
            response = client.get(API, params=params, headers=person.headers)
            return set(ids(response.json()["items"]))

        assert seen(author) == {mine["id"], shared["id"], public["id"]}
        assert seen(participant) == {shared["id"], others["id"], public["id"]}
        assert seen(admin) == {mine["id"], shared["id"], others["id"], public["id"]}
        assert seen(office_head) == {public["id"]}
        assert seen(observer) == {public["id"]}
        assert seen(teammate) == {public["id"]}
        # Asking for drafts, or someone's drafts, or searching them reveals nothing more.
        assert seen(office_head, status="draft") == set()
        assert seen(office_head, author_id=str(author.id)) == set()
        assert seen(observer, q="Черновик") == set()

    def test_summary_fields(self, client, author):
        created = create_initiative(client, author)
        page = client.get(API, headers=author.headers).json()
        assert page["next_cursor"] is None
        item = page["items"][0]
        assert set(item) == {
            "id",
            "code",
            "title",
            "kind",
            "education_level",
            "academic_year",
            "status",
            "organization_id",
            "author_id",
            "topics",
            "review_round",
            "version",
            "created_at",
            "updated_at",
        }
        assert {k: created[k] for k in item} == item

    def test_list_queries_do_not_grow(self, client, author, teammate, count_queries):
        def queries_for(count: int) -> int:
            for i in range(count):
                create_initiative(
                    client, author, title=f"Инициатива {i}", team=[{"user_id": str(teammate.id)}]
                )
            count_queries.statements.clear()
            response = client.get(
                API, params={"mine": "true", "q": "инициатива"}, headers=author.headers
            )
            assert response.status_code == 200
            return count_queries.count

        assert queries_for(2) == queries_for(12)


@pytest.fixture
def catalogue(client, make_user, make_org, author, teammate):
    """A small portfolio across organizations, levels, years, states and authors."""
    other_org = make_org(short_name="Гимназия № 3")
    other = make_user(Role.participant, organization_id=other_org, full_name="Олег Другой")
    specs = [
        (
            "Чайковское метро",
            author,
            S.submitted,
            "basic",
            "2020-2021",
            ["метро", "Урбанистика"],
            [],
        ),
        (
            "Смысловое чтение как основа умения работать с информацией в начальной школе",
            author,
            S.expertise,
            "primary",
            "2021-2022",
            ["смысловое чтение"],
            [teammate],
        ),
        ("PROкачество+", other, S.approved, "secondary", "2021-2022", ["качество"], []),
        (
            "От инициативы ФГОС 4.0 к «4К» компетенциям",
            other,
            S.in_progress,
            "basic",
            "2020-2021",
            ["ФГОС", "4К"],
            [author],
        ),
        ("Миссия выполнима", other, S.closed, "additional", "2020-2021", ["профориентация"], []),
        ("Программа «УникУм»", author, S.draft, "cross_level", "2021-2022", ["одарённость"], []),
        ("Образовательный лифт: школа № 5", other, S.rejected, "basic", "2021-2022", ["лифт"], []),
    ]
    made = {}
    for title, person, status, level, year, topics, team in specs:
        created = create_initiative(
            client,
            person,
            title=title,
            education_level=level,
            academic_year=year,
            topics=topics,
            organization_id=str(person.organization_id),
            team=[{"user_id": str(m.id)} for m in team],
        )
        set_status(created["id"], status)
        made[title.split()[0]] = created
    return {"items": made, "other": other, "other_org": other_org}


class TestListFilters:
    """Each filter on the same catalogue; items are named by the first word of their title."""

    def test_filters(self, client, catalogue, office_head, author, teammate, org, subtests):
        other_org = str(catalogue["other_org"])
        cases = [
            (office_head, {"status": ["submitted", "closed"]}, {"Чайковское", "Миссия"}),
            (office_head, {"status": "approved"}, {"PROкачество+"}),
            (office_head, {"status": ["withdrawn"]}, set()),
            (
                office_head,
                {"organization_id": other_org},
                {"PROкачество+", "От", "Миссия", "Образовательный"},
            ),
            (office_head, {"organization_id": str(org)}, {"Чайковское", "Смысловое"}),
            (office_head, {"organization_id": str(uuid.uuid4())}, set()),
            (office_head, {"education_level": "basic"}, {"Чайковское", "От", "Образовательный"}),
            (office_head, {"academic_year": "2020-2021"}, {"Чайковское", "От", "Миссия"}),
            (office_head, {"author_id": str(author.id)}, {"Чайковское", "Смысловое"}),
            (author, {"author_id": str(author.id)}, {"Чайковское", "Смысловое", "Программа"}),
            (author, {"mine": "true"}, {"Чайковское", "Смысловое", "Программа", "От"}),
            (teammate, {"mine": "true"}, {"Смысловое"}),
            (office_head, {"mine": "true"}, set()),
            (office_head, {"topic": "урбанистика"}, {"Чайковское"}),
            (office_head, {"topic": "фгос"}, {"От"}),
            (office_head, {"topic": "ФГО"}, set()),
            (
                office_head,
                {"education_level": "basic", "academic_year": "2020-2021", "status": "in_progress"},
                {"От"},
            ),
            (
                author,
                {"mine": "true", "status": ["draft", "submitted"]},
                {"Чайковское", "Программа"},
            ),
        ]
        for person, params, expected in cases:
            with subtests.test(who=person.roles[0].value, **params):
                response = client.get(API, params={**params, "limit": 200}, headers=person.headers)
                assert response.status_code == 200, response.text
                titles = {item["title"].split()[0] for item in response.json()["items"]}
                assert titles == expected

    @pytest.mark.parametrize(
        "topic", ["одаренность", "ОДАРЁННОСТЬ", "Одарённость", " одаренность ", "ОДАРЕННОСТЬ"]
    )
    def test_topic_folds_like_q(self, client, catalogue, author, topic):
        # `?topic=` folded case only: «одаренность» missed the topic «одарённость» that `q`
        # finds.
        by_topic = client.get(API, params={"topic": topic}, headers=author.headers).json()
        by_q = client.get(API, params={"q": topic}, headers=author.headers).json()
        assert [i["title"] for i in by_topic["items"]] == ["Программа «УникУм»"]
        assert ids(by_topic["items"]) == ids(by_q["items"])

    def test_topics_equal_after_folding_are_one(self, client, author, admin):
        created = create_initiative(
            client, author, topics=["Ёлка желаний", "елка ЖЕЛАНИЙ", "ＦＧＯＳ", "fgos"]
        )
        assert created["topics"] == ["Ёлка желаний", "ＦＧＯＳ"]
        for topic in ("елка желаний", "FGOS"):
            found = client.get(API, params={"topic": topic}, headers=author.headers).json()
            assert ids(found["items"]) == [created["id"]], topic

    def test_a_topic_whose_key_does_not_fit_is_422(self, client, author):
        # NFKC spells «ﷺ» out in 18 letters: 100 of them make no 100-letter key.
        response = client.post(API, json=initiative_body(topics=["ﷺ" * 10]), headers=author.headers)
        assert_problem(response, 422)


class TestSearch:
    def titles(self, client: TestClient, person: Any, q: str) -> list[str]:
        response = client.get(API, params={"q": q}, headers=person.headers)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()["items"]]

    def test_cyrillic_ignores_case(self, client, catalogue, office_head, author):
        assert self.titles(client, office_head, "смысловое") == [
            "Смысловое чтение как основа умения работать с информацией в начальной школе"
        ]
        assert self.titles(client, office_head, "ЧАЙКОВСКОЕ") == ["Чайковское метро"]
        assert self.titles(client, office_head, "  чайковское МЕТРО ") == ["Чайковское метро"]
        assert self.titles(client, office_head, "proкачество") == ["PROкачество+"]
        assert self.titles(client, office_head, "«4к»") == [
            "От инициативы ФГОС 4.0 к «4К» компетенциям"
        ]
        # Topics are searched too; ё and е are one letter for search.
        assert self.titles(client, author, "одаренность") == ["Программа «УникУм»"]
        assert self.titles(client, author, "ОДАРЁННОСТЬ") == ["Программа «УникУм»"]

    def test_summary_and_code(self, client, catalogue, office_head):
        year = datetime.now(UTC).year
        assert len(self.titles(client, office_head, f"INI-{year}")) == 6  # all but the draft
        assert self.titles(client, office_head, f"ini-{year + 1}") == []
        code = catalogue["items"]["Чайковское"]["code"]
        assert self.titles(client, office_head, code) == ["Чайковское метро"]
        assert self.titles(client, office_head, code.lower()) == ["Чайковское метро"]
        assert len(self.titles(client, office_head, "МЛАДШИХ школьников")) == 6

    def test_drafts_stay_hidden_from_search(self, client, catalogue, office_head):
        assert self.titles(client, office_head, "УникУм") == []

    def test_sql_wildcards_are_literal(self, client, author):
        for title in (
            "Скидка 100% на кружки",
            "Скидка 1000 рублей",
            "Проект snake_case",
            "Проект snakeXcase",
            "Путь C:\\temp",
        ):
            create_initiative(client, author, title=title, summary="", topics=[])
        assert self.titles(client, author, "100%") == ["Скидка 100% на кружки"]
        assert self.titles(client, author, "%") == ["Скидка 100% на кружки"]
        assert self.titles(client, author, "1%0") == []
        assert self.titles(client, author, "snake_case") == ["Проект snake_case"]
        assert self.titles(client, author, "_") == ["Проект snake_case"]
        assert self.titles(client, author, "C:\\t") == ["Путь C:\\temp"]
        assert self.titles(client, author, "\\") == ["Путь C:\\temp"]


SORTS = ["created_at", "-created_at", "updated_at", "-updated_at", "title", "-title"]


class TestSortAndPagination:
    TITLES = ("Гамма", "Альфа", "Дельта", "Бета", "Ежевика", "Вега", "Жёлудь", "Зенит")

    @pytest.fixture
    def many(self, client, author):
        made = [create_initiative(client, author, title=t) for t in self.TITLES]
        # Touch two of them so the updated_at order differs from the created_at order.
        for item in (made[0], made[3]):
            response = client.patch(
                f"{API}/{item['id']}", json={"goal": "Обновлено"}, headers=author.headers
            )
            assert response.status_code == 200
        return made

    def test_sort(self, client, author, many, subtests):
        touched = {many[0]["id"], many[3]["id"]}
        for sort in SORTS:
            with subtests.test(sort=sort):
                field, descending = sort.lstrip("-"), sort.startswith("-")
                response = client.get(API, params={"sort": sort}, headers=author.headers)
                items = response.json()["items"]
                assert len(items) == len(self.TITLES)
                expected = sorted(
                    items, key=lambda i: (i[field], uuid.UUID(i["id"])), reverse=descending
                )
                assert ids(items) == ids(expected)
                if field == "title":
                    titles = sorted(self.TITLES)
                    assert [i["title"] for i in items] == (titles[::-1] if descending else titles)
                if field == "created_at":
                    order = [m["id"] for m in many]
                    assert ids(items) == (order[::-1] if descending else order)
                if field == "updated_at":
                    ends = ids(items)[:2] if descending else ids(items)[-2:]
                    assert set(ends) == touched
        # The default: newest first.
        default = client.get(API, headers=author.headers).json()["items"]
        assert ids(default) == [m["id"] for m in reversed(many)]

    def test_keyset_walks_every_page_without_duplicates_or_gaps(
        self, client, author, many, subtests
    ):
        for sort in SORTS:
            full = client.get(API, params={"sort": sort, "limit": 200}, headers=author.headers)
            assert full.json()["next_cursor"] is None
            for limit in (1, 3, 8):
                with subtests.test(sort=sort, limit=limit):
                    walked = walk(client, author, limit, sort=sort)
                    assert ids(walked) == ids(full.json()["items"])
                    assert len(set(ids(walked))) == len(self.TITLES)

    def test_pages_with_filters_and_equal_keys(self, client, author, org):
        # The same title everywhere: the id breaks the ties, no row is lost or repeated.
        made = {
            create_initiative(client, author, title="Образовательный лифт")["id"] for _ in range(7)
        }
        create_initiative(client, author, title="Другое")
        for sort in ("title", "-title", "created_at"):
            walked = walk(client, author, 2, sort=sort, q="лифт", organization_id=str(org))
            assert len(walked) == 7
            assert set(ids(walked)) == made

    def test_cursor_is_stable_under_inserts(self, client, author):
        first = [create_initiative(client, author, title=f"Первая волна {i}") for i in range(4)]
        page = client.get(
            API, params={"limit": 2, "sort": "created_at"}, headers=author.headers
        ).json()
        create_initiative(client, author, title="Вставлена позже")
        rest = walk(client, author, 2, sort="created_at", cursor=page["next_cursor"])
        assert ids(page["items"]) + ids(rest)[:2] == [f["id"] for f in first]
        assert [r["title"] for r in rest[2:]] == ["Вставлена позже"]


# --- events -----------------------------------------------------------------------------------


class TestEvents:
    def test_create_edit_and_transition_are_logged(
        self, client, author, teammate, admin, office_member
    ):
        created = create_initiative(
            client, author, team=[{"user_id": str(teammate.id), "role": "lead"}]
        )
        url = f"{API}/{created['id']}"
        edit = client.patch(url, json={"summary": "Короче"}, headers=author.headers)
        assert edit.status_code == 200
        submit = client.post(
            f"{url}/transitions", json={"action": "submit"}, headers=teammate.headers
        )
        assert submit.status_code == 200
        revision = client.post(
            f"{url}/transitions",
            json={"action": "request_revision", "comment": "Уточните задачи"},
            headers=office_member.headers,
        )
        assert revision.status_code == 200
        events = list(reversed(audit_items(client, admin, created["id"])))
        assert [e["action"] for e in events] == [
            "initiative.created",
            "initiative.updated",
            "initiative.transitioned",
            "initiative.transitioned",
        ]
        assert all(e["entity_type"] == "initiative" for e in events)
        assert all(e["entity_id"] == created["id"] for e in events)
        create, edit_event, submit_event, revision_event = events
        assert create["actor_id"] == str(author.id)
        assert create["data"]["code"] == created["code"]
        assert create["data"]["title"] == created["title"]
        assert create["data"]["academic_year"] == "2025-2026"
        assert create["data"]["team"] == [{"user_id": str(teammate.id), "role": "lead"}]
        assert edit_event["data"] == {"changes": {"summary": [created["summary"], "Короче"]}}
        assert submit_event["actor_id"] == str(teammate.id)
        assert submit_event["data"]["action"] == "submit"
        assert submit_event["data"]["changes"] == {"status": ["draft", "submitted"]}
        assert revision_event["actor_id"] == str(office_member.id)
        assert revision_event["data"]["action"] == "request_revision"
        assert revision_event["data"]["changes"] == {"status": ["submitted", "revision"]}
        assert revision_event["data"]["comment"] == "Уточните задачи"
        assert revision_event["data"]["review_round"] == 1

    def test_failed_writes_are_not_logged(self, client, author, admin, participant):
        created = create_initiative(client, author)
        url = f"{API}/{created['id']}"
        assert client.patch(url, json={"title": ""}, headers=author.headers).status_code == 422
        assert (
            client.patch(url, json={"title": "Чужое"}, headers=participant.headers).status_code
            == 404
        )
        response = client.post(
            f"{url}/transitions", json={"action": "approve"}, headers=author.headers
        )
        assert response.status_code == 403
        assert [e["action"] for e in audit_items(client, admin, created["id"])] == [
            "initiative.created"
        ]
