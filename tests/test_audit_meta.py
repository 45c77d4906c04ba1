"""GET /audit, /meta/enums, /meta/policy and /health/*."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine

from app.models import Role
from app.policy import OBJECT_RULES, POLICY, ObjectRule, can
from app.security import Principal
from tests.factories import PASSWORD, assert_problem

AUDIT = "/api/v1/audit"


def events(client: Any, admin: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get(AUDIT, params=params, headers=admin.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


class TestAudit:
    def test_anonymous(self, client):
        assert_problem(client.get(AUDIT), 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_head, Role.office_member, Role.observer])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        problem = assert_problem(client.get(AUDIT, headers=person.headers), 403, "forbidden")
        assert problem["extra"] == {"action": "audit.read"}

    @pytest.mark.parametrize(
        "params",
        [
            {"limit": 100000},
            {"actor_id": "admin"},
            {"since": "2026-01-01T00:00:00"},
            {"until": "yesterday"},
            {"action": "x" * 81},
            {"since": "0001-01-01T00:00:00+14:00"},
            {"until": "9999-12-31T23:59:59-10:00"},
        ],
        ids=["limit", "actor", "naive-since", "until", "long-action", "before-utc", "after-utc"],
    )
    def test_invalid(self, client, admin, params):
        response = client.get(AUDIT, params=params, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["query", next(iter(params))]

    def test_invalid_cursor(self, client, admin):
        response = client.get(AUDIT, params={"cursor": "WyJ4Il0"}, headers=admin.headers)
        assert_problem(response, 422, "invalid_cursor")

    def test_happy_writes_are_logged_newest_first(self, client, admin, make_org):
        org = make_org(name="МБОУ СОШ № 1", short_name="СОШ 1")
        created = client.post(
            "/api/v1/users",
            json={
                "email": "auditor@example.org",
                "full_name": "Проверяемая Анна",
                "roles": ["expert"],
                "password": "секретный-пароль",
            },
            headers=admin.headers,
        ).json()
        client.patch(
            f"/api/v1/organizations/{org}",
            json={"name": "МБОУ «СОШ № 1»", "short_name": "СОШ 1"},
            headers=admin.headers,
        )

        mine = events(client, admin, actor_id=str(admin.id))
        assert [e["action"] for e in mine] == ["organization.updated", "user.created"]
        updated, user_created = mine
        assert updated["entity_type"] == "organization"
        assert updated["entity_id"] == str(org)
        assert updated["actor_kind"] == "user"
        assert updated["data"] == {"changes": {"name": ["МБОУ СОШ № 1", "МБОУ «СОШ № 1»"]}}
        assert user_created["entity_type"] == "user"
        assert user_created["entity_id"] == created["id"]
        assert user_created["data"]["email"] == "auditor@example.org"
        assert user_created["data"]["roles"] == ["expert"]
        assert "password" not in user_created["data"]
        assert "секретный-пароль" not in str(user_created["data"])
        assert updated["id"] > user_created["id"]
        assert datetime.fromisoformat(updated["at"]) >= datetime.fromisoformat(user_created["at"])

    def test_user_update_diff_covers_roles_and_deactivation(self, client, admin, participant):
        client.patch(
            f"/api/v1/users/{participant.id}",
            json={"roles": ["participant", "expert"], "is_active": False},
            headers=admin.headers,
        )
        [event] = events(client, admin, action="user.updated", entity_id=str(participant.id))
        assert event["actor_id"] == str(admin.id)
        assert event["data"] == {
            "changes": {
                "roles": [["participant"], ["expert", "participant"]],
                "is_active": [True, False],
            }
        }

    def test_filters(self, client, admin, make_org, make_user):
        first = make_org()
        second = make_org()
        mark = datetime.now(UTC)
        client.patch(
            f"/api/v1/organizations/{first}", json={"short_name": "A"}, headers=admin.headers
        )
        client.patch(
            f"/api/v1/organizations/{second}", json={"short_name": "B"}, headers=admin.headers
        )

        by_entity = events(client, admin, entity_type="organization", entity_id=str(first))
        assert [e["action"] for e in by_entity] == ["organization.updated", "organization.created"]
        assert {e["entity_id"] for e in events(client, admin, action="organization.updated")} == {
            str(first),
            str(second),
        }
        after = events(client, admin, since=mark.isoformat())
        assert [e["entity_id"] for e in after] == [str(second), str(first)]
        before = events(client, admin, until=mark.isoformat())
        assert {e["action"] for e in before} == {"organization.created", "user.created"}
        assert events(client, admin, entity_type="initiative") == []
        assert events(client, admin, actor_id=str(uuid.uuid4())) == []

    def test_keyset_pagination(self, client, admin, make_org):
        for _ in range(6):
            make_org()
        seen: list[int] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": 2}
            if cursor:
                params["cursor"] = cursor
            response = client.get(AUDIT, params=params, headers=admin.headers)
            assert response.status_code == 200, response.text
            seen.extend(e["id"] for e in response.json()["items"])
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        # 6 organizations and the admin made by the fixture
        assert len(seen) == len(set(seen)) == 7
        assert seen == sorted(seen, reverse=True)

    def test_refresh_reuse_is_logged_although_the_request_fails(self, client, admin, participant):
        pair = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": participant.email, "password": PASSWORD},
        ).json()
        client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        reused = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
        assert reused.status_code == 401

        entity = str(participant.id)
        actions = [e["action"] for e in events(client, admin, entity_id=entity)]
        assert actions == [
            "auth.refresh_reuse_detected",
            "auth.refreshed",
            "auth.login",
            "user.created",
        ]
        [reuse] = events(client, admin, action="auth.refresh_reuse_detected")
        assert reuse["actor_kind"] == "system"
        assert reuse["data"]["family_id"]

    def test_service_account_lifecycle_is_logged(self, client, admin):
        account = client.post(
            "/api/v1/service-accounts",
            json={"name": "KPI", "scopes": ["kpi:read"]},
            headers=admin.headers,
        ).json()
        client.delete(f"/api/v1/service-accounts/{account['id']}", headers=admin.headers)
        logged = events(client, admin, entity_type="service_account")
        assert [e["action"] for e in logged] == [
            "service_account.deactivated",
            "service_account.created",
        ]
        assert logged[1]["data"] == {"name": "KPI", "scopes": ["kpi:read"]}
        assert "secret" not in str(logged[1]["data"])


class TestEnums:
    def test_public_without_a_token(self, client):
        response = client.get("/api/v1/meta/enums")
        assert response.status_code == 200
        groups = {g["name"]: g["values"] for g in response.json()}
        assert {"role", "organization_kind"} <= set(groups)
        for name, values in groups.items():
            assert values, name
            codes = [v["code"] for v in values]
            assert len(codes) == len(set(codes)), name
            for value in values:
                assert value["ru"].strip(), (name, value)
                assert value["en"].strip(), (name, value)

    def test_roles_and_organization_kinds_have_their_glossary_labels(self, client):
        groups = {g["name"]: g["values"] for g in client.get("/api/v1/meta/enums").json()}
        roles = {v["code"]: (v["ru"], v["en"]) for v in groups["role"]}
        assert set(roles) == {r.value for r in Role}
        assert roles["office_head"][0] == "Руководитель проектного офиса"
        assert roles["participant"][0] == "Участник сети (педагог)"
        assert roles["admin"] == ("Администратор", "Administrator")
        kinds = {v["code"]: v["ru"] for v in groups["organization_kind"]}
        assert kinds["gymnasium"] == "Гимназия"
        assert kinds["education_department"] == "Управление образования"

    def test_every_domain_enum_of_the_api_has_labels(self, client):
        # A frontend labels every value it can receive or send; only these technical ones
        # (formats, sort keys, diff operations) have no display names.
        technical = {
            frozenset({"csv", "json"}),
            frozenset({"client_credentials", "password"}),
            frozenset({"added", "modified", "removed"}),
            frozenset({"delete", "equal", "insert"}),
        }
        groups = [{v["code"] for v in g["values"]} for g in client.get("/api/v1/meta/enums").json()]
        unlabelled = []

        def walk(node):
            if isinstance(node, dict):
                values = node.get("enum")
                if values and all(isinstance(v, str) for v in values):
                    key = frozenset(values)
                    sort_keys = any(v.startswith("-") for v in values) and all(
                        v.lstrip("-") in values for v in values
                    )
                    if not (key in technical or sort_keys or any(key <= g for g in groups)):
                        unlabelled.append(sorted(values))
                for child in node.values():
                    walk(child)
            elif isinstance(node, list):
                for child in node:
                    walk(child)

        walk(client.get("/openapi.json").json())
        assert not unlabelled

    def test_invalid_method(self, client, admin):
        response = client.post("/api/v1/meta/enums", json={}, headers=admin.headers)
        assert_problem(response, 405, "method_not_allowed")


class TestPolicy:
    URL = "/api/v1/meta/policy"

    def test_anonymous(self, client):
        assert_problem(client.get(self.URL), 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_head, Role.office_member, Role.participant])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        problem = assert_problem(client.get(self.URL, headers=person.headers), 403, "forbidden")
        assert problem["extra"] == {"action": "policy.read"}

    def test_happy_admin_sees_the_matrix_the_api_enforces(self, client, admin):
        response = client.get(self.URL, headers=admin.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["roles"] == [r.value for r in Role]
        rows = {row["action"]: row for row in body["rows"]}
        assert set(rows) == {action.value for action in POLICY}
        assert rows["users.create"]["allowed"] == {r.value: r is Role.admin for r in Role}
        assert all(rows["organizations.read"]["allowed"].values())
        assert rows["organizations.read"]["scopes"] == ["initiatives:read", "kpi:read"]
        assert rows["audit.read"]["scopes"] == []
        for action, rule in POLICY.items():
            row = rows[action.value]
            assert row["description"] == rule.description
            for role in Role:
                person = Principal(id=uuid.uuid4(), kind="user", name="x", roles=frozenset({role}))
                assert row["allowed"][role.value] is can(person, action), (action, role)

    def test_object_rules_are_printed(self, client, admin):
        body = client.get(self.URL, headers=admin.headers).json()
        rules = {row["rule"]: row for row in body["object_rules"]}
        assert set(rules) == {rule.value for rule in OBJECT_RULES}
        for rule, spec in OBJECT_RULES.items():
            row = rules[rule.value]
            assert (row["description"], row["relation"], row["denied"]) == (
                spec.description,
                spec.relation,
                spec.denied,
            )
            assert row["allowed"] == {r.value: r in spec.roles for r in Role}

    @pytest.mark.parametrize(
        ("rule", "path", "make"),
        [
            (ObjectRule.initiative_draft_read, "/api/v1/initiatives", "initiative"),
            (ObjectRule.consultation_read, "/api/v1/consultations", "consultation"),
            (ObjectRule.meeting_unheld_read, "/api/v1/meetings", "meeting"),
        ],
        ids=lambda value: value if isinstance(value, str) else None,
    )
    def test_the_printed_roles_are_the_enforced_ones(
        self, client, make_user, make_org, rule, path, make
    ):
        """Someone with no relation to the object reads it exactly when their role passes."""
        if make == "initiative":
            owner = make_user(Role.participant, organization_id=make_org())
            body = {
                "title": "Смысловое чтение в начальной школе",
                "summary": "Черновик замысла",
                "kind": "project",
                "education_level": "primary",
                "academic_year": "2025-2026",
            }
        elif make == "consultation":
            owner = make_user(Role.participant)
            body = {"topic": "Читательский клуб", "description": "Нужна помощь с замыслом"}
        else:
            owner = make_user(Role.office_member)
            body = {"title": "Заседание", "scheduled_at": "2030-01-15T15:00:00+05:00"}
        created = client.post(path, json=body, headers=owner.headers)
        assert created.status_code == 201, created.text
        url = f"{path}/{created.json()['id']}"
        for role in Role:
            stranger = make_user(role)
            status = client.get(url, headers=stranger.headers).status_code
            expected = 200 if role in OBJECT_RULES[rule].roles else OBJECT_RULES[rule].denied
            assert status == expected, (rule, role)


class TestHealth:
    def test_live(self, client):
        response = client.get("/health/live")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": None}

    def test_ready(self, client):
        response = client.get("/health/ready")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok"}

    def test_ready_is_503_when_the_database_is_down(self, client, monkeypatch, tmp_path):
        from app.services import health

        unreachable = create_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
        monkeypatch.setattr(health, "get_engine", lambda: unreachable)
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "unreachable"}

    @pytest.mark.parametrize("revision", [None, "base", "-1"], ids=["empty", "base", "behind"])
    def test_ready_is_503_until_the_schema_is_at_head(
        self, client, tmp_path, monkeypatch, revision
    ):
        from alembic import command
        from app.migrations import alembic_config
        from app.services import health

        url = f"sqlite:///{tmp_path}/schema.db"
        unmigrated = create_engine(url)
        if revision is not None:
            config = alembic_config()
            config.set_main_option("sqlalchemy.url", url)
            command.upgrade(config, "head")
            command.downgrade(config, revision)
        monkeypatch.setattr(health, "get_engine", lambda: unmigrated)
        response = client.get("/health/ready")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "not_migrated"}
