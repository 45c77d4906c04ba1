"""Security headers on every response, CORS only for configured origins, docs that can be turned
off, and no internals (stack traces, SQL) in any answer."""

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import IntegrityError, ProgrammingError

from app.config import Settings
from app.main import create_app
from app.models import Role
from tests.factories import assert_problem
from tests.route_catalog import all_operations, call

OPERATIONS = all_operations()
ALWAYS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
API_ONLY = {"cache-control": "no-store"}
# What would betray the implementation: a traceback, a file path, an SQL statement, a driver.
LEAKS = re.compile(
    r"Traceback|File \"|\.py\b|sqlalchemy|psycopg|sqlite3|\bconstraint\b"
    r"|\bSELECT\b|\bINSERT\b|\bUPDATE\s+\w+\s+SET|\bFROM\s+\w+\s+WHERE",
    re.IGNORECASE,
)


def assert_guarded(response: Any, path: str) -> None:
    for name, value in ALWAYS.items():
        assert response.headers.get(name) == value, (path, response.status_code, name)
    if path.startswith("/api/"):
        for name, value in API_ONLY.items():
            assert response.headers.get(name) == value, (path, response.status_code, name)
        assert "default-src 'none'" in response.headers["content-security-policy"]
    assert response.headers.get("x-request-id")


def assert_no_internals(response: Any) -> None:
    if response.headers.get("content-type", "").startswith(
        ("application/json", "application/problem")
    ):
        assert not LEAKS.search(response.text), response.text


@pytest.fixture(scope="module")
def broken_app() -> Any:
    """The app with one route that fails unexpectedly, as a bug would."""
    app = create_app()

    def boom() -> None:
        raise RuntimeError("boom in app/services/x.py: SELECT password FROM app_user")

    app.add_api_route("/api/v1/test/boom", boom)
    app.add_api_route("/test/boom", boom)
    return app


@pytest.fixture
def lenient_client(broken_app: Any) -> Iterator[TestClient]:
    with TestClient(broken_app, raise_server_exceptions=False) as test_client:
        yield test_client


class TestHeadersOnEveryResponse:
    def test_every_operation_anonymous_and_as_admin(self, client, make_user):
        """Whatever the status (200, 401, 403, 404, 422 …), the headers are there."""
        admin = make_user(*Role)
        for op in OPERATIONS:
            for headers in ({}, admin.headers):
                response = call(client, op, headers=headers)
                assert response.status_code < 500, (op.key, response.text)
                assert_guarded(response, op.path)
                assert_no_internals(response)

    @pytest.mark.parametrize(
        "path", ["/docs", "/redoc", "/openapi.json", "/static/swagger/swagger-ui.css"]
    )
    def test_documentation(self, client, path):
        response = client.get(path)
        assert response.status_code == 200
        assert_guarded(response, path)

    def test_errors_raised_before_any_route(self, client, make_user):
        admin = make_user(Role.admin)
        big = b"[" + b"1," * 600_000 + b"1]"
        for path, response in (
            ("/api/v1/nope", client.get("/api/v1/nope")),
            ("/nope", client.get("/nope")),
            ("/api/v1/organizations", client.delete("/api/v1/organizations")),
            (
                "/api/v1/organizations",
                client.post(
                    "/api/v1/organizations",
                    content=big,
                    headers={**admin.headers, "Content-Type": "application/json"},
                ),
            ),
            (
                "/api/v1/organizations",
                client.post(
                    "/api/v1/organizations",
                    content=b"x",
                    headers={**admin.headers, "Content-Type": "text/plain"},
                ),
            ),
        ):
            assert response.status_code in (404, 405, 413, 415), response.status_code
            assert_guarded(response, path)

    @pytest.mark.parametrize("path", ["/api/v1/test/boom", "/test/boom"])
    def test_unexpected_error(self, lenient_client, path):
        response = lenient_client.get(path, headers={"X-Request-ID": "req-7"})
        assert_problem(response, 500, "internal_error")
        assert_guarded(response, path)
        assert response.headers["x-request-id"] == "req-7"


class TestNoInternals:
    def test_unexpected_error_body_has_only_the_request_id(self, lenient_client):
        response = lenient_client.get("/api/v1/test/boom", headers={"X-Request-ID": "req-8"})
        body = response.json()
        assert set(body) == {"type", "title", "status", "detail", "instance", "code"}
        assert "req-8" in body["detail"]
        assert "boom in" not in response.text
        assert_no_internals(response)

    @pytest.mark.parametrize(
        "error",
        [
            ProgrammingError(
                "SELECT hashed_password FROM app_user WHERE email = %(email)s",
                {"email": "a@b.c"},
                Exception('relation "app_user" does not exist'),
            ),
            IntegrityError(
                "INSERT INTO organization (name) VALUES (?)",
                ("Школа",),
                Exception('null value in column "kind" violates not-null constraint'),
            ),
            IntegrityError(
                "INSERT INTO organization (name) VALUES (?)",
                ("Школа",),
                Exception("UNIQUE constraint failed: organization.name"),
            ),
            KeyError("hashed_password"),
        ],
        ids=["programming", "integrity", "unique", "bug"],
    )
    def test_a_failing_service_leaks_no_sql(self, app, make_user, monkeypatch, error):
        from app.services import organizations

        def fail(*args: Any, **kwargs: Any) -> None:
            raise error

        monkeypatch.setattr(organizations, "list_organizations", fail)
        person = make_user(Role.participant)
        with TestClient(app, raise_server_exceptions=False) as test_client:
            response = test_client.get("/api/v1/organizations", headers=person.headers)
        assert response.status_code in (409, 500)
        assert_problem(response, response.status_code)
        assert_guarded(response, "/api/v1/organizations")
        assert_no_internals(response)
        for secret in ("app_user", "organization.name", "hashed_password", "Школа", "kind"):
            assert secret not in response.text

    def test_validation_errors_do_not_echo_the_input(self, client, make_user):
        admin = make_user(Role.admin)
        secret = "s3cr3t-value-" * 3
        response = client.post(
            "/api/v1/users",
            json={"email": secret, "full_name": "x", "password": secret, "roles": ["root"]},
            headers=admin.headers,
        )
        assert_problem(response, 422)
        assert secret not in response.text


ORIGIN = "https://office.example.ru"


@pytest.fixture
def cors_client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings(cors_origins=[ORIGIN]))) as test_client:
        yield test_client


class TestCors:
    def preflight(self, client: TestClient, origin: str) -> Any:
        return client.options(
            "/api/v1/organizations",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "Authorization, Content-Type",
            },
        )

    def test_configured_origin_is_allowed(self, cors_client):
        response = self.preflight(cors_client, ORIGIN)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == ORIGIN
        assert "POST" in response.headers["access-control-allow-methods"]
        simple = cors_client.get("/health/live", headers={"Origin": ORIGIN})
        assert simple.headers["access-control-allow-origin"] == ORIGIN
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()

    @pytest.mark.parametrize(
        "origin",
        [
            "https://evil.example.com",
            "https://office.example.ru.evil.com",
            "null",
            "http://office.example.ru",
        ],
    )
    def test_other_origins_are_not(self, cors_client, origin):
        response = self.preflight(cors_client, origin)
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        simple = cors_client.get("/health/live", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers

    def test_without_configured_origins_there_are_no_cors_headers(self, client):
        assert Settings().cors_origins == []
        response = client.get("/health/live", headers={"Origin": ORIGIN})
        assert "access-control-allow-origin" not in response.headers
        preflight = self.preflight(client, ORIGIN)
        assert "access-control-allow-origin" not in preflight.headers
        assert preflight.status_code in (404, 405)


class TestDocsSwitch:
    def test_docs_off_hides_every_documentation_route(self, monkeypatch):
        monkeypatch.setenv("PROJOFFICE_DOCS_ENABLED", "false")
        settings = Settings()
        assert settings.docs_enabled is False
        with TestClient(create_app(settings)) as test_client:
            for path in (
                "/docs",
                "/redoc",
                "/openapi.json",
                "/static/swagger/swagger-ui-bundle.js",
                "/static/redoc/redoc.standalone.js",
            ):
                response = test_client.get(path)
                assert_problem(response, 404)
                assert_guarded(response, path)
            # The API itself still answers.
            assert test_client.get("/health/live").status_code == 200

    def test_docs_on_by_default(self, client):
        assert client.get("/openapi.json").status_code == 200
        assert json.loads(client.get("/openapi.json").text)["openapi"].startswith("3.")
