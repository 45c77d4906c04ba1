"""The `projoffice` command, run in-process against the suite's database."""

import getpass
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.main import create_app
from tests.factories import PASSWORD, assert_problem

runner = CliRunner()
TOKEN = "/api/v1/auth/token"
NEW_PASSWORD = "Новый-пароль-админа-2026"


def login(client, email, password):
    return client.post(
        TOKEN, data={"grant_type": "password", "username": email, "password": password}
    )


def admin_events(client, admin_headers, user_id):
    page = client.get(
        "/api/v1/audit", params={"entity_id": str(user_id)}, headers=admin_headers
    ).json()
    return page["items"]


class TestCreateAdmin:
    def test_creates_an_administrator_who_signs_in(self, client):
        result = runner.invoke(
            cli,
            ["create-admin", "--email", " Root@Example.org ", "--password", NEW_PASSWORD],
        )
        assert result.exit_code == 0, result.output
        assert "Создан администратор root@example.org" in result.output
        signed_in = login(client, "root@example.org", NEW_PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        me = client.get("/api/v1/users/me", headers=headers).json()
        assert me["roles"] == ["admin"]
        # The operator's command is the system, not a made-up service account.
        created = admin_events(client, headers, me["id"])[-1]
        assert (created["action"], created["actor_kind"], created["actor_id"]) == (
            "user.created",
            "system",
            None,
        )

    def test_an_existing_person_becomes_admin_with_the_new_password(self, client, make_user):
        person = make_user("participant", email="teacher@example.org")
        old_login = login(client, person.email, PASSWORD).json()
        result = runner.invoke(
            cli, ["create-admin", "--email", "TEACHER@example.org", "--password", NEW_PASSWORD]
        )
        assert result.exit_code == 0, result.output
        assert "Роль администратора выдана, пароль задан: teacher@example.org" in result.output
        assert_problem(login(client, person.email, PASSWORD), 401)
        signed_in = login(client, person.email, NEW_PASSWORD)
        assert signed_in.status_code == 200, signed_in.text
        headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
        assert client.get("/api/v1/users/me", headers=headers).json()["roles"] == [
            "admin",
            "participant",
        ]
        # The logins made with the old password end with it.
        refreshed = client.post(
            "/api/v1/auth/refresh", json={"refresh_token": old_login["refresh_token"]}
        )
        assert_problem(refreshed, 401)
        actions = [e["action"] for e in admin_events(client, headers, person.id)]
        assert actions.index("user.password_reset") < actions.index("user.updated")

    def test_a_deactivated_person_is_reactivated(self, client, admin, make_user):
        person = make_user("participant")
        client.patch(f"/api/v1/users/{person.id}", json={"is_active": False}, headers=admin.headers)
        result = runner.invoke(
            cli, ["create-admin", "--email", person.email, "--password", NEW_PASSWORD]
        )
        assert result.exit_code == 0, result.output
        assert login(client, person.email, NEW_PASSWORD).status_code == 200

    @pytest.mark.parametrize(
        ("args", "says"),
        [
            (["--email", "not-an-email", "--password", NEW_PASSWORD], "email"),
            (["--email", "root@example.org", "--password", "short"], "password"),
            (
                ["--email", "root@example.org", "--password", NEW_PASSWORD, "--full-name", " "],
                "full_name",
            ),
        ],
        ids=["email", "short-password", "blank-name"],
    )
    def test_bad_input_is_a_usage_error_not_a_traceback(self, client, args, says):
        result = runner.invoke(cli, ["create-admin", *args])
        assert result.exit_code == 2, result.output
        assert says in result.output
        assert "Traceback" not in result.output
        assert login(client, "root@example.org", NEW_PASSWORD).status_code == 401

    def test_prompts_for_the_password_twice(self, client, monkeypatch):
        answers = iter([NEW_PASSWORD, NEW_PASSWORD])
        monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
        result = runner.invoke(cli, ["create-admin", "--email", "root@example.org"])
        assert result.exit_code == 0, result.output
        assert login(client, "root@example.org", NEW_PASSWORD).status_code == 200

    def test_mismatched_passwords_create_nobody(self, client, monkeypatch):
        answers = iter([NEW_PASSWORD, NEW_PASSWORD + "!"])
        monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))
        result = runner.invoke(cli, ["create-admin", "--email", "root@example.org"])
        assert result.exit_code == 2
        assert "Пароли не совпадают" in result.output
        assert_problem(login(client, "root@example.org", NEW_PASSWORD), 401)


def test_migrate_to_head_is_a_no_op_on_a_migrated_database():
    result = runner.invoke(cli, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "База данных обновлена до head" in result.output


def test_export_openapi_writes_what_the_app_serves(tmp_path: Path):
    output = tmp_path / "nested" / "openapi.json"
    result = runner.invoke(cli, ["export-openapi", "--output", str(output)])
    assert result.exit_code == 0, result.output
    assert json.loads(output.read_text(encoding="utf-8")) == create_app().openapi()
    printed = runner.invoke(cli, ["export-openapi"])
    assert json.loads(printed.stdout) == create_app().openapi()
