"""/service-accounts and the client_credentials grant of POST /auth/token."""

import uuid
from typing import Any

import pytest
from jose import jwt

from app.models import Role
from tests.factories import assert_problem

ACCOUNTS = "/api/v1/service-accounts"
TOKEN = "/api/v1/auth/token"


def create(client: Any, admin: Any, scopes: list[str] | None = None) -> dict[str, Any]:
    response = client.post(
        ACCOUNTS,
        json={"name": "Выгрузка KPI для Управления образования", "scopes": scopes or ["kpi:read"]},
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def client_login(client: Any, client_id: str, client_secret: str) -> Any:
    return client.post(
        TOKEN,
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestCreateServiceAccount:
    def test_anonymous(self, client):
        response = client.post(ACCOUNTS, json={"name": "x", "scopes": ["kpi:read"]})
        assert_problem(response, 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_head, Role.office_member, Role.observer])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        response = client.post(
            ACCOUNTS, json={"name": "x", "scopes": ["kpi:read"]}, headers=person.headers
        )
        problem = assert_problem(response, 403, "forbidden")
        assert problem["extra"] == {"action": "service_accounts.manage"}

    def test_a_service_account_cannot_make_another(self, client, admin):
        account = create(client, admin, ["webhooks:manage", "kpi:read", "initiatives:read"])
        token = client_login(client, account["client_id"], account["client_secret"]).json()
        response = client.post(
            ACCOUNTS,
            json={"name": "x", "scopes": ["kpi:read"]},
            headers=bearer(token["access_token"]),
        )
        assert_problem(response, 403, "forbidden")

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": "x", "scopes": []}, "scopes"),
            ({"name": "x", "scopes": ["users:write"]}, "scopes"),
            ({"name": "x"}, "scopes"),
            ({"name": "", "scopes": ["kpi:read"]}, "name"),
            ({"scopes": ["kpi:read"]}, "name"),
            ({"name": "x", "scopes": ["kpi:read"], "client_id": "mine"}, "client_id"),
            ({"name": "x", "scopes": ["kpi:read"], "is_active": False}, "is_active"),
        ],
        ids=["no-scopes", "bad-scope", "missing-scopes", "blank-name", "no-name", "id", "active"],
    )
    def test_invalid(self, client, admin, body, field):
        response = client.post(ACCOUNTS, json=body, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"][:2] == ["body", field]

    def test_happy_secret_is_shown_once(self, client, admin):
        response = client.post(
            ACCOUNTS,
            json={"name": "  Скрипт KPI  ", "scopes": ["kpi:read", "initiatives:read", "kpi:read"]},
            headers=admin.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"/api/v1/service-accounts/{body['id']}"
        assert body["name"] == "Скрипт KPI"
        assert body["scopes"] == ["initiatives:read", "kpi:read"]
        assert body["is_active"] is True
        assert body["client_id"].startswith("po-")
        assert len(body["client_secret"]) >= 32

        fetched = client.get(response.headers["location"], headers=admin.headers).json()
        assert "client_secret" not in fetched
        assert "hashed_secret" not in fetched
        assert fetched == {k: v for k, v in body.items() if k != "client_secret"}
        listed = client.get(ACCOUNTS, headers=admin.headers).json()["items"]
        assert all("client_secret" not in item for item in listed)


class TestListServiceAccounts:
    def test_anonymous(self, client):
        assert_problem(client.get(ACCOUNTS), 401, "unauthorized")

    def test_wrong_role(self, client, office_head):
        assert_problem(client.get(ACCOUNTS, headers=office_head.headers), 403, "forbidden")

    @pytest.mark.parametrize("params", [{"limit": 100000}, {"limit": 0}, {"cursor": "@@"}])
    def test_invalid(self, client, admin, params):
        response = client.get(ACCOUNTS, params=params, headers=admin.headers)
        assert_problem(response, 422)

    def test_happy_pages_oldest_first(self, client, admin):
        created = [create(client, admin)["id"] for _ in range(5)]
        seen: list[str] = []
        cursor = None
        for _ in range(5):
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            response = client.get(ACCOUNTS, params=params, headers=admin.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            seen.extend(a["id"] for a in page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == created


class TestGetServiceAccount:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{ACCOUNTS}/{uuid.uuid4()}"), 401, "unauthorized")

    def test_wrong_role(self, client, admin, office_member):
        account = create(client, admin)
        response = client.get(f"{ACCOUNTS}/{account['id']}", headers=office_member.headers)
        assert_problem(response, 403, "forbidden")

    def test_unknown_is_404(self, client, admin):
        response = client.get(f"{ACCOUNTS}/{uuid.uuid4()}", headers=admin.headers)
        assert_problem(response, 404, "not_found")

    def test_malformed_uuid(self, client, admin):
        response = client.get(f"{ACCOUNTS}/po-123", headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["path", "account_id"]

    def test_happy(self, client, admin):
        account = create(client, admin, ["initiatives:read"])
        response = client.get(f"{ACCOUNTS}/{account['id']}", headers=admin.headers)
        assert response.status_code == 200
        assert response.json()["scopes"] == ["initiatives:read"]
        assert response.json()["client_id"] == account["client_id"]


class TestDeactivateServiceAccount:
    def test_anonymous(self, client):
        assert_problem(client.delete(f"{ACCOUNTS}/{uuid.uuid4()}"), 401, "unauthorized")

    def test_wrong_role(self, client, admin, office_head):
        account = create(client, admin)
        response = client.delete(f"{ACCOUNTS}/{account['id']}", headers=office_head.headers)
        assert_problem(response, 403, "forbidden")
        fetched = client.get(f"{ACCOUNTS}/{account['id']}", headers=admin.headers).json()
        assert fetched["is_active"] is True

    def test_unknown_is_404(self, client, admin):
        response = client.delete(f"{ACCOUNTS}/{uuid.uuid4()}", headers=admin.headers)
        assert_problem(response, 404, "not_found")

    def test_malformed_uuid(self, client, admin):
        assert_problem(client.delete(f"{ACCOUNTS}/1", headers=admin.headers), 422)

    def test_happy_kills_its_token_and_login(self, client, admin):
        account = create(client, admin)
        token = client_login(client, account["client_id"], account["client_secret"]).json()
        headers = bearer(token["access_token"])
        assert client.get("/api/v1/organizations", headers=headers).status_code == 200

        response = client.delete(f"{ACCOUNTS}/{account['id']}", headers=admin.headers)
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False
        assert response.json()["id"] == account["id"]

        assert_problem(client.get("/api/v1/organizations", headers=headers), 401, "invalid_token")
        failed = client_login(client, account["client_id"], account["client_secret"])
        assert_problem(failed, 401, "invalid_client")
        # Deactivating twice is harmless and the record stays for the audit trail.
        again = client.delete(f"{ACCOUNTS}/{account['id']}", headers=admin.headers)
        assert again.status_code == 200
        assert again.json()["is_active"] is False


class TestClientCredentials:
    def test_happy_token_reads_organizations_but_not_users(self, client, admin, make_org):
        org = make_org()
        account = create(client, admin, ["kpi:read"])
        response = client_login(client, account["client_id"], account["client_secret"])
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "bearer"
        assert body["refresh_token"] is None
        assert body["scope"] == "kpi:read"
        claims = jwt.get_unverified_claims(body["access_token"])
        assert claims["sub"] == "sa:" + account["id"]
        assert claims["scope"] == "kpi:read"
        assert claims["typ"] == "access"

        headers = bearer(body["access_token"])
        orgs = client.get("/api/v1/organizations", headers=headers)
        assert orgs.status_code == 200
        assert [o["id"] for o in orgs.json()["items"]] == [str(org)]
        assert client.get(f"/api/v1/organizations/{org}", headers=headers).status_code == 200

        problem = assert_problem(client.get("/api/v1/users", headers=headers), 403, "forbidden")
        assert problem["extra"] == {"action": "users.read"}
        assert_problem(client.get("/api/v1/users/me", headers=headers), 403, "users_only")
        assert_problem(client.get("/api/v1/audit", headers=headers), 403, "forbidden")
        write = client.post(
            "/api/v1/organizations",
            json={"name": "Новая", "short_name": "Новая", "kind": "school"},
            headers=headers,
        )
        assert_problem(write, 403, "forbidden")

    def test_sign_in_is_logged(self, client, admin):
        account = create(client, admin, ["kpi:read"])
        client_login(client, account["client_id"], account["client_secret"])
        logged = client.get(
            "/api/v1/audit", params={"action": "auth.client_login"}, headers=admin.headers
        ).json()["items"]
        assert [(e["actor_kind"], e["actor_id"], e["entity_id"]) for e in logged] == [
            ("service", account["id"], account["id"])
        ]

    def test_wrong_secret_and_unknown_client_look_the_same(self, client, admin):
        account = create(client, admin)
        wrong = client_login(client, account["client_id"], "not-the-secret")
        unknown = client_login(client, "po-unknown", account["client_secret"])
        assert_problem(wrong, 401, "invalid_client")
        assert wrong.json() == unknown.json()

    def test_invalid_missing_secret(self, client):
        response = client.post(TOKEN, data={"grant_type": "client_credentials", "client_id": "x"})
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["body", "client_id"]

    def test_service_token_cannot_refresh(self, client, admin):
        account = create(client, admin)
        token = client_login(client, account["client_id"], account["client_secret"]).json()
        response = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": token["access_token"]}
        )
        assert_problem(response, 401, "invalid_refresh_token")

    def test_user_password_is_not_a_client_secret(self, client, participant):
        from tests.factories import PASSWORD

        response = client_login(client, participant.email, PASSWORD)
        assert_problem(response, 401, "invalid_client")
