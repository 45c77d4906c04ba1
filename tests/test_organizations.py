"""/organizations and /organizations/{id}."""

import uuid
from datetime import timedelta
from typing import Any

import pytest

from app.config import get_settings
from app.models import OrganizationKind, Role
from app.security import create_token
from tests.factories import assert_problem

ORGS = "/api/v1/organizations"


def service_headers(client: Any, admin: Any, scopes: list[str]) -> dict[str, str]:
    response = client.post(
        "/api/v1/service-accounts",
        json={"name": "Интеграция", "scopes": scopes},
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


def org_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Муниципальное автономное общеобразовательное учреждение «Гимназия»",
        "short_name": "МАОУ Гимназия",
        "kind": "gymnasium",
        "is_innovation_centre": True,
    }
    body.update(overrides)
    return body


def found(client: Any, headers: dict[str, str], **params: Any) -> set[str]:
    response = client.get(ORGS, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {o["id"] for o in response.json()["items"]}


class TestListOrganizations:
    def test_anonymous(self, client):
        assert_problem(client.get(ORGS), 401, "unauthorized")

    def test_wrong_scope_service_account(self, client, admin):
        headers = service_headers(client, admin, ["webhooks:manage"])
        problem = assert_problem(client.get(ORGS, headers=headers), 403, "forbidden")
        assert problem["extra"] == {"action": "organizations.read"}

    @pytest.mark.parametrize(
        "params",
        [
            {"limit": 100000},
            {"limit": -1},
            {"kind": "university"},
            {"is_innovation_centre": "perhaps"},
            {"q": ""},
        ],
        ids=["limit-huge", "limit-negative", "kind", "flag", "q-empty"],
    )
    def test_invalid(self, client, observer, params):
        response = client.get(ORGS, params=params, headers=observer.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["query", next(iter(params))]

    def test_invalid_cursor(self, client, observer):
        response = client.get(ORGS, params={"cursor": "eyJ4Ijox"}, headers=observer.headers)
        assert_problem(response, 422, "invalid_cursor")

    @pytest.mark.parametrize("role", list(Role))
    def test_happy_every_role_reads(self, client, make_user, make_org, role):
        org = make_org(name="МБОУ СОШ № 7", short_name="СОШ № 7")
        reader = make_user(role)
        response = client.get(ORGS, headers=reader.headers)
        assert response.status_code == 200
        body = response.json()
        assert body == {
            "items": [
                {
                    "id": str(org),
                    "name": "МБОУ СОШ № 7",
                    "short_name": "СОШ № 7",
                    "kind": "school",
                    "is_innovation_centre": False,
                    "version": 1,
                    "created_at": body["items"][0]["created_at"],
                    "updated_at": body["items"][0]["updated_at"],
                }
            ],
            "next_cursor": None,
        }

    def test_happy_service_account_with_kpi_read(self, client, admin, make_org):
        org = make_org()
        headers = service_headers(client, admin, ["kpi:read"])
        assert found(client, headers) == {str(org)}

    def test_q_is_case_insensitive_in_cyrillic(self, client, observer, make_org):
        gymnasium = make_org(name="МАОУ Гимназия", kind=OrganizationKind.gymnasium)
        short = make_org(name="Лицей № 2", short_name="ЛИЦЕЙ-ГИМНАЗИЯ")
        make_org(name="МБОУ СОШ № 1")
        for q in ("гимназ", "ГИМНАЗ", "Гимназия", "ГиМнАзИя"):
            assert found(client, observer.headers, q=q) == {str(gymnasium), str(short)}, q
        yolka = make_org(name="Детский сад «Ёлочка»", kind=OrganizationKind.kindergarten)
        assert found(client, observer.headers, q="ЕЛОЧК") == {str(yolka)}
        assert found(client, observer.headers, q="ёлочка") == {str(yolka)}

    def test_q_takes_percent_and_underscore_literally(self, client, observer, make_org):
        percent = make_org(name="Школа 100% успеха")
        underscore = make_org(name="Школа_будущего")
        plain = make_org(name="Школа 1000 будущего")
        assert found(client, observer.headers, q="100%") == {str(percent)}
        assert found(client, observer.headers, q="%") == {str(percent)}
        assert found(client, observer.headers, q="а_б") == {str(underscore)}
        assert found(client, observer.headers, q="_") == {str(underscore)}
        assert found(client, observer.headers, q="Школа") == {
            str(percent),
            str(underscore),
            str(plain),
        }

    def test_filters(self, client, admin, observer, make_org):
        school = make_org()
        kindergarten = make_org(kind=OrganizationKind.kindergarten)
        centre = make_org(kind=OrganizationKind.methodological_centre)
        client.patch(f"{ORGS}/{centre}", json={"is_innovation_centre": True}, headers=admin.headers)
        assert found(client, observer.headers, kind="kindergarten") == {str(kindergarten)}
        assert found(client, observer.headers, is_innovation_centre="true") == {str(centre)}
        assert found(client, observer.headers, is_innovation_centre="false") == {
            str(school),
            str(kindergarten),
        }
        assert found(client, observer.headers, kind="school", is_innovation_centre="true") == set()

    def test_keyset_pagination_walks_every_page_once(self, client, observer, make_org):
        created = {str(make_org()) for _ in range(11)}
        seen: list[dict[str, Any]] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": 4}
            if cursor:
                params["cursor"] = cursor
            response = client.get(ORGS, params=params, headers=observer.headers)
            assert response.status_code == 200, response.text
            page = response.json()
            assert len(page["items"]) <= 4
            seen.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        ids = [o["id"] for o in seen]
        assert len(ids) == len(set(ids)) == 11
        assert set(ids) == created
        keys = [(o["name"], o["id"]) for o in seen]
        assert keys == sorted(keys)

    def test_last_full_page_has_no_cursor(self, client, observer, make_org):
        for _ in range(3):
            make_org()
        body = client.get(ORGS, params={"limit": 3}, headers=observer.headers).json()
        assert len(body["items"]) == 3
        assert body["next_cursor"] is None


class TestCreateOrganization:
    def test_anonymous(self, client):
        assert_problem(client.post(ORGS, json=org_body()), 401, "unauthorized")

    @pytest.mark.parametrize(
        "role", [Role.office_member, Role.expert, Role.participant, Role.observer]
    )
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        problem = assert_problem(
            client.post(ORGS, json=org_body(), headers=person.headers), 403, "forbidden"
        )
        assert problem["extra"] == {"action": "organizations.write"}

    def test_wrong_role_service_account(self, client, admin):
        headers = service_headers(client, admin, ["kpi:read", "initiatives:read"])
        assert_problem(client.post(ORGS, json=org_body(), headers=headers), 403, "forbidden")

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"kind": "university"}, "kind"),
            ({"kind": None}, "kind"),
            ({"name": "  "}, "name"),
            ({"name": "x" * 301}, "name"),
            ({"short_name": ""}, "short_name"),
            ({"id": str(uuid.uuid4())}, "id"),
            ({"version": 5}, "version"),
        ],
        ids=["kind", "null-kind", "blank-name", "long-name", "blank-short", "id", "version"],
    )
    def test_invalid(self, client, admin, change, field):
        response = client.post(ORGS, json=org_body(**change), headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"][:2] == ["body", field]

    def test_invalid_missing_fields(self, client, admin):
        response = client.post(ORGS, json={}, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert {tuple(e["loc"]) for e in problem["errors"]} == {
            ("body", "name"),
            ("body", "short_name"),
            ("body", "kind"),
        }

    def test_duplicate_name_is_409(self, client, admin):
        assert client.post(ORGS, json=org_body(), headers=admin.headers).status_code == 201
        response = client.post(ORGS, json=org_body(short_name="Другая"), headers=admin.headers)
        assert_problem(response, 409, "duplicate_organization")

    @pytest.mark.parametrize("role", [Role.admin, Role.office_head])
    def test_happy(self, client, make_user, role):
        writer = make_user(role)
        response = client.post(
            ORGS, json=org_body(name="  МАОУ «Гимназия»  "), headers=writer.headers
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["location"] == f"/api/v1/organizations/{body['id']}"
        assert response.headers["etag"] == '"1"'
        assert body["name"] == "МАОУ «Гимназия»"
        assert body["short_name"] == "МАОУ Гимназия"
        assert body["kind"] == "gymnasium"
        assert body["is_innovation_centre"] is True
        assert body["version"] == 1
        assert client.get(response.headers["location"], headers=writer.headers).json() == body


class TestGetOrganization:
    def test_anonymous(self, client, make_org):
        assert_problem(client.get(f"{ORGS}/{make_org()}"), 401, "unauthorized")

    def test_wrong_scope_service_account(self, client, admin, make_org):
        headers = service_headers(client, admin, ["webhooks:manage"])
        assert_problem(client.get(f"{ORGS}/{make_org()}", headers=headers), 403, "forbidden")

    def test_unknown_is_404(self, client, observer):
        response = client.get(f"{ORGS}/{uuid.uuid4()}", headers=observer.headers)
        problem = assert_problem(response, 404, "not_found")
        assert problem["detail"] == "Организация не найдена"

    @pytest.mark.parametrize("bad", ["1", "gymnasium", "6f1c"])
    def test_malformed_uuid(self, client, observer, bad):
        problem = assert_problem(
            client.get(f"{ORGS}/{bad}", headers=observer.headers), 422, "validation_error"
        )
        assert problem["errors"][0]["loc"] == ["path", "organization_id"]

    def test_happy(self, client, participant, make_org):
        org = make_org(name="МБОУ «Фокинская СОШ»", short_name="Фокинская СОШ")
        response = client.get(f"{ORGS}/{org}", headers=participant.headers)
        assert response.status_code == 200
        assert response.headers["etag"] == '"1"'
        body = response.json()
        assert body["id"] == str(org)
        assert body["name"] == "МБОУ «Фокинская СОШ»"
        assert body["short_name"] == "Фокинская СОШ"


class TestUpdateOrganization:
    def test_anonymous(self, client, make_org):
        response = client.patch(f"{ORGS}/{make_org()}", json={"short_name": "X"})
        assert_problem(response, 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_member, Role.participant, Role.observer])
    def test_wrong_role(self, client, make_user, make_org, role):
        org = make_org()
        person = make_user(role, organization_id=org)
        response = client.patch(f"{ORGS}/{org}", json={"short_name": "X"}, headers=person.headers)
        assert_problem(response, 403, "forbidden")

    def test_unknown_is_404(self, client, admin):
        response = client.patch(
            f"{ORGS}/{uuid.uuid4()}", json={"short_name": "X"}, headers=admin.headers
        )
        assert_problem(response, 404, "not_found")

    def test_malformed_uuid(self, client, admin):
        response = client.patch(f"{ORGS}/zzz", json={"short_name": "X"}, headers=admin.headers)
        assert_problem(response, 422, "validation_error")

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            ({"kind": "university"}, "validation_error"),
            ({"name": ""}, "validation_error"),
            ({"id": str(uuid.uuid4())}, "validation_error"),
            ({"search_text": "x"}, "validation_error"),
            ({"version": 0}, "validation_error"),
            ({"name": None}, "null_not_allowed"),
            ({"short_name": None}, "null_not_allowed"),
            ({"kind": None}, "null_not_allowed"),
            ({"is_innovation_centre": None}, "null_not_allowed"),
        ],
        ids=[
            "kind",
            "blank-name",
            "id",
            "search-text",
            "version-0",
            "null-name",
            "null-short",
            "null-kind",
            "null-flag",
        ],
    )
    def test_invalid(self, client, admin, make_org, body, code):
        org = make_org()
        response = client.patch(f"{ORGS}/{org}", json=body, headers=admin.headers)
        problem = assert_problem(response, 422, code)
        assert problem["errors"][0]["loc"][:2] == ["body", next(iter(body))]
        assert client.get(f"{ORGS}/{org}", headers=admin.headers).json()["version"] == 1

    def test_rename_to_an_existing_name_is_409(self, client, admin, make_org):
        make_org(name="МБОУ СОШ № 10")
        org = make_org(name="МБОУ СОШ № 12")
        response = client.patch(
            f"{ORGS}/{org}", json={"name": "МБОУ СОШ № 10"}, headers=admin.headers
        )
        assert_problem(response, 409, "duplicate_organization")

    @pytest.mark.parametrize("role", [Role.admin, Role.office_head])
    def test_happy(self, client, make_user, make_org, role):
        writer = make_user(role)
        org = make_org(name="МБОУ ООШ № 12", short_name="ООШ 12")
        response = client.patch(
            f"{ORGS}/{org}",
            json={"name": "МБОУ СОШ № 12", "kind": "school", "is_innovation_centre": True},
            headers=writer.headers,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["name"] == "МБОУ СОШ № 12"
        assert body["short_name"] == "ООШ 12"
        assert body["is_innovation_centre"] is True
        assert body["version"] == 2
        assert response.headers["etag"] == '"2"'
        # The search index follows the rename.
        assert found(client, writer.headers, q="сош № 12") == {str(org)}
        assert found(client, writer.headers, q="ООШ № 12") == set()

    def test_unchanged_patch_keeps_the_version(self, client, admin, make_org):
        org = make_org(name="МБУ ЦРО")
        response = client.patch(f"{ORGS}/{org}", json={"name": "МБУ ЦРО"}, headers=admin.headers)
        assert response.status_code == 200
        assert response.json()["version"] == 1
        assert response.headers["etag"] == '"1"'

    def test_if_match_current_passes(self, client, admin, make_org):
        org = make_org()
        etag = client.get(f"{ORGS}/{org}", headers=admin.headers).headers["etag"]
        response = client.patch(
            f"{ORGS}/{org}",
            json={"short_name": "Новое"},
            headers={**admin.headers, "If-Match": etag},
        )
        assert response.status_code == 200, response.text
        assert response.headers["etag"] == '"2"'

    def test_stale_if_match_is_412(self, client, admin, make_org):
        org = make_org()
        etag = client.get(f"{ORGS}/{org}", headers=admin.headers).headers["etag"]
        client.patch(f"{ORGS}/{org}", json={"short_name": "A"}, headers=admin.headers)
        response = client.patch(
            f"{ORGS}/{org}", json={"short_name": "B"}, headers={**admin.headers, "If-Match": etag}
        )
        problem = assert_problem(response, 412, "precondition_failed")
        assert problem["extra"] == {"current_version": 2}
        assert client.get(f"{ORGS}/{org}", headers=admin.headers).json()["short_name"] == "A"

    def test_stale_body_version_is_409(self, client, admin, make_org):
        org = make_org()
        client.patch(f"{ORGS}/{org}", json={"short_name": "A"}, headers=admin.headers)
        response = client.patch(
            f"{ORGS}/{org}", json={"short_name": "B", "version": 1}, headers=admin.headers
        )
        problem = assert_problem(response, 409, "version_conflict")
        assert problem["extra"] == {"current_version": 2}
        ok = client.patch(
            f"{ORGS}/{org}", json={"short_name": "B", "version": 2}, headers=admin.headers
        )
        assert ok.status_code == 200
        assert ok.json()["version"] == 3
