"""/users, /users/{id}, /users/me and /users/me/password."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.config import get_settings
from app.models import Role
from app.security import create_token
from tests.factories import PASSWORD, assert_problem

USERS = "/api/v1/users"
ME = "/api/v1/users/me"


def service_headers(client: Any, admin: Any, scopes: list[str]) -> dict[str, str]:
    response = client.post(
        "/api/v1/service-accounts",
        json={"name": "Скрипт KPI", "scopes": scopes},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    token, _ = create_token(
        get_settings(),
        subject="sa:" + response.json()["id"],
        token_type="access",
        lifetime=timedelta(minutes=5),
        scopes=scopes,
    )
    return {"Authorization": f"Bearer {token}"}


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )


def new_user_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "email": f"new-{uuid.uuid4().hex[:8]}@example.org",
        "full_name": "Новикова Анна Петровна",
        "job_title": "Учитель истории",
        "roles": ["participant", "expert"],
        "password": "Новый-пароль-2026",
    }
    body.update(overrides)
    return body


def walk(client: Any, url: str, headers: dict[str, str], **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        query = dict(params)
        if cursor:
            query["cursor"] = cursor
        response = client.get(url, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= params["limit"]
        items.extend(body["items"])
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert pages < 100
    return items


class TestReadMe:
    def test_anonymous(self, client):
        assert_problem(client.get(ME), 401, "unauthorized")

    def test_service_account_is_not_a_person(self, client, admin):
        headers = service_headers(client, admin, ["kpi:read"])
        assert_problem(client.get(ME, headers=headers), 403, "users_only")

    def test_happy(self, client, make_org, make_user):
        org = make_org()
        person = make_user(Role.expert, Role.participant, organization_id=org)
        response = client.get(ME, headers=person.headers)
        assert response.status_code == 200
        body = response.json()
        assert response.headers["etag"] == '"1"'
        assert body["id"] == str(person.id)
        assert body["email"] == person.email
        assert body["roles"] == ["expert", "participant"]
        assert body["organization_id"] == str(org)
        assert body["is_active"] is True
        assert body["version"] == 1
        assert "hashed_password" not in body
        assert "password" not in body


class TestUpdateMe:
    def test_anonymous(self, client):
        assert_problem(client.patch(ME, json={"full_name": "X"}), 401, "unauthorized")

    def test_wrong_role_service_account(self, client, admin):
        headers = service_headers(client, admin, ["kpi:read"])
        assert_problem(client.patch(ME, json={"full_name": "X"}, headers=headers), 403)

    def test_a_nul_character_is_refused_and_nothing_changes(self, client, participant):
        """Refused alike on both databases (SQLite would have stored it)."""
        before = client.get(ME, headers=participant.headers).json()
        response = client.patch(ME, json={"full_name": "abc\u0000def"}, headers=participant.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert [e["loc"] for e in problem["errors"]] == [["body", "full_name"]]
        assert "NUL" in problem["errors"][0]["msg"]
        assert client.get(ME, headers=participant.headers).json() == before

    @pytest.mark.parametrize(
        "body",
        [
            {"roles": ["admin"]},
            {"is_active": False},
            {"id": str(uuid.uuid4())},
            {"email": "other@example.org"},
            {"full_name": "Новое Имя", "roles": ["admin", "participant"]},
        ],
        ids=["roles", "is_active", "id", "email", "mixed"],
    )
    def test_unknown_fields_are_422_and_never_applied(self, client, participant, body):
        response = client.patch(ME, json=body, headers=participant.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"]
        assert all(e["type"] == "extra_forbidden" for e in problem["errors"])
        forbidden = {e["loc"][-1] for e in problem["errors"]}
        assert forbidden == set(body) - {"full_name"}
        me = client.get(ME, headers=participant.headers).json()
        assert me["roles"] == ["participant"]
        assert me["is_active"] is True
        assert me["id"] == str(participant.id)
        assert me["email"] == participant.email
        assert me["version"] == 1
        assert me["full_name"] != "Новое Имя"

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"full_name": None}, "null_not_allowed"),
            ({"full_name": "   "}, "validation_error"),
            ({"full_name": "x" * 201}, "validation_error"),
            ({"organization_id": "not-a-uuid"}, "validation_error"),
            ({"organization_id": str(uuid.uuid4())}, "unknown_organization"),
            ({"version": 0}, "validation_error"),
        ],
        ids=["null-name", "blank-name", "long-name", "malformed-org", "unknown-org", "version-0"],
    )
    def test_invalid(self, client, participant, body, code):
        response = client.patch(ME, json=body, headers=participant.headers)
        problem = assert_problem(response, 422, code)
        assert problem["errors"][0]["loc"][:2] == ["body", next(iter(body))]

    def test_happy(self, client, make_org, participant):
        org = make_org()
        response = client.patch(
            ME,
            json={
                "full_name": "  Ёлкина Ирина  ",
                "job_title": "Методист",
                "organization_id": str(org),
            },
            headers=participant.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["full_name"] == "Ёлкина Ирина"
        assert body["job_title"] == "Методист"
        assert body["organization_id"] == str(org)
        assert body["version"] == 2
        assert response.headers["etag"] == '"2"'
        assert client.get(ME, headers=participant.headers).json() == body

    def test_clearing_nullable_fields(self, client, make_org, make_user):
        person = make_user(organization_id=make_org())
        response = client.patch(
            ME, json={"job_title": None, "organization_id": None}, headers=person.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["organization_id"] is None
        assert response.json()["job_title"] is None

    def test_unchanged_patch_keeps_the_version(self, client, participant):
        name = client.get(ME, headers=participant.headers).json()["full_name"]
        response = client.patch(ME, json={"full_name": name}, headers=participant.headers)
        assert response.status_code == 200
        assert response.json()["version"] == 1

    def test_stale_if_match_is_412(self, client, participant):
        client.patch(ME, json={"job_title": "A"}, headers=participant.headers)
        response = client.patch(
            ME, json={"job_title": "B"}, headers={**participant.headers, "If-Match": '"1"'}
        )
        problem = assert_problem(response, 412, "precondition_failed")
        assert problem["extra"] == {"current_version": 2}
        assert client.get(ME, headers=participant.headers).json()["job_title"] == "A"

    def test_fresh_if_match_passes(self, client, participant):
        response = client.patch(
            ME, json={"job_title": "B"}, headers={**participant.headers, "If-Match": 'W/"1"'}
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'

    def test_if_match_star_matches_any_version(self, client, participant):
        client.patch(ME, json={"job_title": "A"}, headers=participant.headers)
        response = client.patch(
            ME, json={"job_title": "B"}, headers={**participant.headers, "If-Match": "*"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 3

    def test_stale_body_version_is_409(self, client, participant):
        client.patch(ME, json={"job_title": "A"}, headers=participant.headers)
        response = client.patch(
            ME, json={"job_title": "B", "version": 1}, headers=participant.headers
        )
        assert_problem(response, 409, "version_conflict")


class TestChangePassword:
    URL = "/api/v1/users/me/password"

    def test_anonymous(self, client):
        body = {"current_password": PASSWORD, "new_password": "другой-пароль-1"}
        assert_problem(client.post(self.URL, json=body), 401, "unauthorized")

    def test_wrong_role_service_account(self, client, admin):
        headers = service_headers(client, admin, ["kpi:read"])
        body = {"current_password": PASSWORD, "new_password": "другой-пароль-1"}
        assert_problem(client.post(self.URL, json=body, headers=headers), 403, "users_only")

    def test_wrong_current_password(self, client, participant):
        body = {"current_password": "nope-nope", "new_password": "другой-пароль-1"}
        response = client.post(self.URL, json=body, headers=participant.headers)
        problem = assert_problem(response, 422, "wrong_password")
        assert problem["errors"][0]["loc"] == ["body", "current_password"]

    @pytest.mark.parametrize(
        "body",
        [
            {"current_password": PASSWORD, "new_password": "short"},
            {"current_password": PASSWORD},
            {"current_password": PASSWORD, "new_password": "другой-пароль-1", "user_id": "x"},
        ],
        ids=["too-short", "missing", "unknown-field"],
    )
    def test_invalid(self, client, participant, body):
        response = client.post(self.URL, json=body, headers=participant.headers)
        assert_problem(response, 422, "validation_error")

    def test_happy(self, client, participant):
        this_login = login(client, participant.email).json()
        other_login = login(client, participant.email).json()
        this = {"Authorization": f"Bearer {this_login['access_token']}"}
        other = {"Authorization": f"Bearer {other_login['access_token']}"}
        body = {"current_password": PASSWORD, "new_password": "другой-пароль-1"}
        response = client.post(self.URL, json=body, headers=this)
        assert response.status_code == 204, response.text

        assert_problem(login(client, participant.email), 401, "invalid_credentials")
        assert login(client, participant.email, "другой-пароль-1").status_code == 200
        # Every other login ends...
        refreshed = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": other_login["refresh_token"]}
        )
        assert_problem(refreshed, 401, "invalid_refresh_token")
        assert_problem(client.get(ME, headers=other), 401, "invalid_token")
        # ...and the one that changed the password goes on.
        assert client.get(ME, headers=this).status_code == 200
        rotated = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": this_login["refresh_token"]}
        )
        assert rotated.status_code == 200, rotated.text


class TestListUsers:
    def test_anonymous(self, client):
        assert_problem(client.get(USERS), 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.participant, Role.observer, Role.expert])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        problem = assert_problem(client.get(USERS, headers=person.headers), 403, "forbidden")
        assert problem["extra"] == {"action": "users.read"}

    def test_wrong_role_service_account(self, client, admin):
        headers = service_headers(client, admin, ["kpi:read", "initiatives:read"])
        assert_problem(client.get(USERS, headers=headers), 403, "forbidden")

    @pytest.mark.parametrize(
        "params",
        [
            {"limit": 100000},
            {"limit": 0},
            {"limit": "ten"},
            {"organization_id": "not-a-uuid"},
            {"role": "superuser"},
            {"is_active": "maybe"},
            {"q": ""},
            {"q": "x" * 201},
        ],
        ids=[
            "limit-huge",
            "limit-0",
            "limit-text",
            "org",
            "role",
            "is_active",
            "q-empty",
            "q-long",
        ],
    )
    def test_invalid(self, client, office_member, params):
        response = client.get(USERS, params=params, headers=office_member.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["query", next(iter(params))]

    def test_invalid_cursor(self, client, office_member):
        response = client.get(USERS, params={"cursor": "!!!"}, headers=office_member.headers)
        problem = assert_problem(response, 422, "invalid_cursor")
        assert problem["errors"][0]["loc"] == ["query", "cursor"]

    @pytest.mark.parametrize("role", [Role.admin, Role.office_head, Role.office_member])
    def test_happy_office_roles(self, client, make_user, role):
        reader = make_user(role, full_name="Читатель Справочника")
        other = make_user(Role.participant, Role.expert, full_name="Абрамова Вера")
        response = client.get(USERS, headers=reader.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["next_cursor"] is None
        assert [u["id"] for u in body["items"]] == [str(other.id), str(reader.id)]
        assert body["items"][0]["roles"] == ["expert", "participant"]
        assert body["items"][0]["email"] == other.email

    def test_filters(self, client, admin, make_org, make_user):
        org = make_org()
        expert = make_user(Role.expert, organization_id=org)
        teacher = make_user(Role.participant, organization_id=org)
        outsider = make_user(Role.expert)
        client.patch(f"{USERS}/{outsider.id}", json={"is_active": False}, headers=admin.headers)

        def ids(**params: Any) -> set[str]:
            response = client.get(USERS, params=params, headers=admin.headers)
            assert response.status_code == 200, response.text
            return {u["id"] for u in response.json()["items"]}

        assert ids(role="expert") == {str(expert.id), str(outsider.id)}
        assert ids(organization_id=str(org)) == {str(expert.id), str(teacher.id)}
        assert ids(role="expert", is_active="true") == {str(expert.id)}
        assert ids(is_active="false") == {str(outsider.id)}
        assert ids(organization_id=str(uuid.uuid4())) == set()

    def test_q_is_case_insensitive_in_cyrillic(self, client, admin, make_user):
        yolkina = make_user(full_name="Ёлкина Ирина")
        elkin = make_user(full_name="Елкин Пётр")
        make_user(full_name="Иванова Мария")
        expected = {str(yolkina.id), str(elkin.id)}
        for q in ("ЁЛК", "елк", "Ёлк", "ЕЛКИН"):
            response = client.get(USERS, params={"q": q}, headers=admin.headers)
            assert response.status_code == 200, response.text
            assert {u["id"] for u in response.json()["items"]} == expected, q
        response = client.get(USERS, params={"q": "пётр"}, headers=admin.headers)
        assert [u["id"] for u in response.json()["items"]] == [str(elkin.id)]

    def test_q_searches_email_and_job_title(self, client, admin, make_user):
        person = make_user(email="Unique.Mailbox@Example.org")
        client.patch(f"{USERS}/{person.id}", json={"job_title": "Завуч"}, headers=admin.headers)
        for q in ("unique.MAILBOX", "ЗАВУЧ"):
            found = client.get(USERS, params={"q": q}, headers=admin.headers).json()["items"]
            assert [u["id"] for u in found] == [str(person.id)], q

    def test_q_takes_percent_and_underscore_literally(self, client, admin, make_user):
        percent = make_user(full_name="Скидка 50% Тестова")
        underscore = make_user(full_name="Логин_Ученика")
        plain = make_user(full_name="Скидка 505 Логинова")

        def names(q: str) -> set[str]:
            response = client.get(USERS, params={"q": q}, headers=admin.headers)
            assert response.status_code == 200, response.text
            return {u["id"] for u in response.json()["items"]}

        assert names("50%") == {str(percent.id)}
        assert names("%") == {str(percent.id)}
        assert names("_") == {str(underscore.id)}
        assert names("н_у") == {str(underscore.id)}
        assert names("Скидка") == {str(percent.id), str(plain.id)}
        assert names("\\") == set()

    @pytest.mark.parametrize(
        "url", ["/api/v1/users", "/api/v1/organizations", "/api/v1/initiatives"]
    )
    def test_q_with_a_nul_is_422_on_both_databases(self, client, admin, url):
        # SQLite matched every row (the NUL ended its pattern); PostgreSQL refused it.
        response = client.get(url, params={"q": "а\x00"}, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["query", "q"]

    def test_keyset_pagination_walks_every_page_once(self, client, admin, make_user):
        created = {str(admin.id)}
        for n in range(7):
            # Equal names force the id tie-breaker to do its job.
            created.add(str(make_user(full_name=f"Однофамилец {n % 2}").id))
        items = walk(client, USERS, admin.headers, limit=3)
        ids = [u["id"] for u in items]
        assert len(ids) == len(set(ids)) == 8
        assert set(ids) == created
        keys = [(u["full_name"], u["id"]) for u in items]
        assert keys == sorted(keys)

    def test_no_n_plus_one(self, client, admin, make_user, count_queries):
        client.get(USERS, headers=admin.headers)
        count_queries.statements.clear()
        client.get(USERS, headers=admin.headers)
        few = count_queries.count
        for _ in range(10):
            make_user(Role.expert, Role.participant)
        count_queries.statements.clear()
        response = client.get(USERS, headers=admin.headers)
        assert len(response.json()["items"]) == 11
        assert count_queries.count == few


class TestCreateUser:
    def test_anonymous(self, client):
        assert_problem(client.post(USERS, json=new_user_body()), 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_head, Role.office_member, Role.participant])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        response = client.post(USERS, json=new_user_body(), headers=person.headers)
        problem = assert_problem(response, 403, "forbidden")
        assert problem["extra"] == {"action": "users.create"}

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"email": None}, "email"),
            ({"email": "not-an-email"}, "email"),
            ({"full_name": ""}, "full_name"),
            ({"password": "short"}, "password"),
            ({"roles": ["superuser"]}, "roles"),
            ({"organization_id": "42"}, "organization_id"),
            ({"id": str(uuid.uuid4())}, "id"),
            ({"is_active": False}, "is_active"),
        ],
        ids=[
            "no-email",
            "bad-email",
            "blank-name",
            "short-password",
            "bad-role",
            "bad-org",
            "id",
            "active",
        ],
    )
    def test_invalid(self, client, admin, change, field):
        body = new_user_body(**change)
        if change.get("email", "") is None:
            body.pop("email")
        response = client.post(USERS, json=body, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"][:2] == ["body", field]

    def test_unknown_organization(self, client, admin):
        body = new_user_body(organization_id=str(uuid.uuid4()))
        problem = assert_problem(
            client.post(USERS, json=body, headers=admin.headers), 422, "unknown_organization"
        )
        assert problem["errors"] == [
            {
                "loc": ["body", "organization_id"],
                "msg": problem["detail"],
                "type": "unknown_organization",
            }
        ]

    def test_duplicate_email_is_409(self, client, admin, participant):
        body = new_user_body(email=participant.email.upper())
        response = client.post(USERS, json=body, headers=admin.headers)
        assert_problem(response, 409, "duplicate_email")

    def test_happy(self, client, admin, make_org):
        org = make_org()
        body = new_user_body(
            email="New.Teacher@Example.ORG",
            roles=["participant", "expert", "expert"],
            organization_id=str(org),
        )
        response = client.post(USERS, json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        created = response.json()
        assert response.headers["location"] == f"/api/v1/users/{created['id']}"
        assert response.headers["etag"] == '"1"'
        assert created["email"] == "new.teacher@example.org"
        assert created["full_name"] == body["full_name"]
        assert created["job_title"] == body["job_title"]
        assert created["organization_id"] == str(org)
        assert created["roles"] == ["expert", "participant"]
        assert created["is_active"] is True
        assert created["version"] == 1
        assert "password" not in created
        assert "hashed_password" not in created
        fetched = client.get(response.headers["location"], headers=admin.headers)
        assert fetched.json() == created
        # The new person can sign in with the password the administrator set.
        assert login(client, "new.teacher@example.org", body["password"]).status_code == 200

    def test_default_role_is_participant(self, client, admin):
        body = new_user_body()
        body.pop("roles")
        response = client.post(USERS, json=body, headers=admin.headers)
        assert response.status_code == 201, response.text
        assert response.json()["roles"] == ["participant"]


class TestGetUser:
    def test_anonymous(self, client, participant):
        assert_problem(client.get(f"{USERS}/{participant.id}"), 401, "unauthorized")

    def test_someone_else_is_hidden(self, client, participant, make_user):
        other = make_user(Role.participant)
        hidden = client.get(f"{USERS}/{other.id}", headers=participant.headers)
        missing = client.get(f"{USERS}/{uuid.uuid4()}", headers=participant.headers)
        assert_problem(hidden, 404, "not_found")
        assert_problem(missing, 404, "not_found")
        assert hidden.json()["detail"] == missing.json()["detail"]

    @pytest.mark.parametrize("role", [Role.expert, Role.observer])
    def test_wrong_role_sees_only_themselves(self, client, make_user, admin, role):
        person = make_user(role)
        assert_problem(client.get(f"{USERS}/{admin.id}", headers=person.headers), 404)
        assert client.get(f"{USERS}/{person.id}", headers=person.headers).status_code == 200

    def test_wrong_role_service_account(self, client, admin):
        headers = service_headers(client, admin, ["kpi:read"])
        assert_problem(client.get(f"{USERS}/{admin.id}", headers=headers), 403, "users_only")

    def test_unknown_is_404(self, client, admin):
        assert_problem(
            client.get(f"{USERS}/{uuid.uuid4()}", headers=admin.headers), 404, "not_found"
        )

    @pytest.mark.parametrize("bad", ["42", "not-a-uuid", "00000000-0000-0000-0000-00000000000g"])
    def test_malformed_uuid(self, client, admin, bad):
        problem = assert_problem(client.get(f"{USERS}/{bad}", headers=admin.headers), 422)
        assert problem["errors"][0]["loc"] == ["path", "user_id"]

    def test_happy_self(self, client, participant):
        response = client.get(f"{USERS}/{participant.id}", headers=participant.headers)
        assert response.status_code == 200
        assert response.json()["id"] == str(participant.id)
        assert response.headers["etag"] == '"1"'

    @pytest.mark.parametrize("role", [Role.admin, Role.office_head, Role.office_member])
    def test_happy_office_sees_others(self, client, make_user, participant, role):
        reader = make_user(role)
        response = client.get(f"{USERS}/{participant.id}", headers=reader.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["id"] == str(participant.id)
        assert body["email"] == participant.email
        assert body["roles"] == ["participant"]


class TestUpdateUser:
    def test_anonymous(self, client, participant):
        response = client.patch(f"{USERS}/{participant.id}", json={"roles": ["admin"]})
        assert_problem(response, 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_head, Role.office_member, Role.participant])
    def test_wrong_role(self, client, make_user, participant, role):
        actor = make_user(role)
        for target in (participant.id, actor.id):
            response = client.patch(
                f"{USERS}/{target}", json={"roles": ["admin"]}, headers=actor.headers
            )
            problem = assert_problem(response, 403, "forbidden")
            assert problem["extra"] == {"action": "users.update"}
        assert client.get(ME, headers=actor.headers).json()["roles"] == [role.value]

    def test_unknown_is_404(self, client, admin):
        response = client.patch(
            f"{USERS}/{uuid.uuid4()}", json={"job_title": "X"}, headers=admin.headers
        )
        assert_problem(response, 404, "not_found")

    def test_malformed_uuid(self, client, admin):
        response = client.patch(f"{USERS}/nope", json={"job_title": "X"}, headers=admin.headers)
        assert_problem(response, 422, "validation_error")

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"roles": ["superuser"]}, "validation_error"),
            ({"roles": "admin"}, "validation_error"),
            ({"email": "x@example.org"}, "validation_error"),
            ({"password": "new-password-1"}, "validation_error"),
            ({"full_name": None}, "null_not_allowed"),
            ({"is_active": None}, "null_not_allowed"),
            ({"roles": None}, "null_not_allowed"),
            ({"organization_id": str(uuid.uuid4())}, "unknown_organization"),
        ],
        ids=[
            "bad-role",
            "roles-str",
            "email",
            "password",
            "null-name",
            "null-active",
            "null-roles",
            "unknown-org",
        ],
    )
    def test_invalid(self, client, admin, participant, body, code):
        response = client.patch(f"{USERS}/{participant.id}", json=body, headers=admin.headers)
        problem = assert_problem(response, 422, code)
        assert problem["errors"][0]["loc"][:2] == ["body", next(iter(body))]
        assert client.get(f"{USERS}/{participant.id}", headers=admin.headers).json()["version"] == 1

    def test_invalid_null_roles_on_self(self, client, admin):
        response = client.patch(f"{USERS}/{admin.id}", json={"roles": None}, headers=admin.headers)
        assert_problem(response, 422, "null_not_allowed")

    def test_happy_roles_and_profile(self, client, admin, make_org, participant):
        org = make_org()
        response = client.patch(
            f"{USERS}/{participant.id}",
            json={
                "roles": ["expert", "participant"],
                "job_title": "Эксперт",
                "organization_id": str(org),
            },
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["roles"] == ["expert", "participant"]
        assert body["job_title"] == "Эксперт"
        assert body["organization_id"] == str(org)
        assert body["version"] == 2
        assert response.headers["etag"] == '"2"'
        # The person's next request already carries the new role.
        assert client.get(ME, headers=participant.headers).json()["roles"] == [
            "expert",
            "participant",
        ]

    def test_happy_roles_only_bumps_the_version(self, client, admin, participant):
        response = client.patch(
            f"{USERS}/{participant.id}", json={"roles": ["observer"]}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["roles"] == ["observer"]
        assert response.json()["version"] == 2

    def test_deactivation_stops_the_token(self, client, admin, participant):
        response = client.patch(
            f"{USERS}/{participant.id}", json={"is_active": False}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False
        assert_problem(client.get(ME, headers=participant.headers), 401, "invalid_token")

    def test_admin_never_changes_own_roles_or_active_flag(self, client, admin):
        for body in (
            {"is_active": False},
            {"roles": ["office_head"]},
            {"roles": []},
            {"roles": ["admin", "office_head"]},
        ):
            response = client.patch(f"{USERS}/{admin.id}", json=body, headers=admin.headers)
            problem = assert_problem(response, 403, "own_roles")
            assert problem["extra"] == {"field": next(iter(body))}
        me = client.get(ME, headers=admin.headers).json()
        assert me["roles"] == ["admin"]
        assert me["is_active"] is True

    def test_admin_edits_own_profile(self, client, admin):
        # Restating the roles one holds is no change, so the profile edit goes through.
        response = client.patch(
            f"{USERS}/{admin.id}",
            json={"roles": ["admin"], "is_active": True, "full_name": "Главный Администратор"},
            headers=admin.headers,
        )
        assert response.status_code == 200, response.text
        assert response.json()["full_name"] == "Главный Администратор"

    def test_another_admin_grants_roles(self, client, admin, make_user):
        other = make_user("admin")
        response = client.patch(
            f"{USERS}/{admin.id}", json={"roles": ["admin", "office_head"]}, headers=other.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["roles"] == ["admin", "office_head"]

    def test_stale_if_match_is_412(self, client, admin, participant):
        url = f"{USERS}/{participant.id}"
        etag = client.get(url, headers=admin.headers).headers["etag"]
        assert client.patch(url, json={"job_title": "A"}, headers=admin.headers).status_code == 200
        response = client.patch(
            url, json={"job_title": "B"}, headers={**admin.headers, "If-Match": etag}
        )
        problem = assert_problem(response, 412, "precondition_failed")
        assert problem["extra"] == {"current_version": 2}
        assert client.get(url, headers=admin.headers).json()["job_title"] == "A"

    def test_garbage_if_match_is_412(self, client, admin, participant):
        response = client.patch(
            f"{USERS}/{participant.id}",
            json={"job_title": "B"},
            headers={**admin.headers, "If-Match": "yesterday"},
        )
        assert_problem(response, 412, "precondition_failed")

    def test_stale_body_version_is_409(self, client, admin, participant):
        url = f"{USERS}/{participant.id}"
        client.patch(url, json={"job_title": "A"}, headers=admin.headers)
        response = client.patch(url, json={"job_title": "B", "version": 1}, headers=admin.headers)
        problem = assert_problem(response, 409, "version_conflict")
        assert problem["extra"] == {"current_version": 2}
        ok = client.patch(url, json={"job_title": "B", "version": 2}, headers=admin.headers)
        assert ok.status_code == 200
        assert ok.json()["version"] == 3
