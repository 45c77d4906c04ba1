"""The request guard (request id, body size, content type, headers) and problem+json errors."""

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from app.config import get_settings
from app.main import create_app
from tests.factories import assert_problem

ORGS = "/api/v1/organizations"
TWO_MIB = 2 * 1024 * 1024


def big_json() -> bytes:
    body = json.dumps(
        {"name": "Школа", "short_name": "Ш", "kind": "school", "padding": "я" * (TWO_MIB // 2)}
    ).encode()
    assert len(body) > TWO_MIB
    return body


@pytest.fixture(scope="module")
def broken_app() -> Any:
    """The real app plus routes that fail the ways a handler can fail."""
    app = create_app()

    def boom() -> None:
        raise ZeroDivisionError("secret internals: password=hunter2")

    def database_down() -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    def stale() -> None:
        raise StaleDataError("UPDATE statement on table 'organization' expected to update 1 row")

    app.add_api_route("/api/v1/test/boom", boom)
    app.add_api_route("/api/v1/test/database-down", database_down)
    app.add_api_route("/api/v1/test/stale", stale)
    return app


@pytest.fixture
def broken_client(broken_app: Any) -> Iterator[TestClient]:
    with TestClient(broken_app, raise_server_exceptions=False) as test_client:
        yield test_client


class TestNotFoundAndMethod:
    def test_unknown_route_is_404_problem(self, client):
        problem = assert_problem(client.get("/api/v1/no-such-thing"), 404, "not_found")
        assert problem["instance"] == "/api/v1/no-such-thing"
        assert problem["type"].endswith("/not-found")

    def test_wrong_method_is_405_problem(self, client, admin):
        response = client.delete(ORGS, headers=admin.headers)
        assert_problem(response, 405, "method_not_allowed")
        assert "allow" in response.headers


class TestBodySize:
    def test_oversized_body_is_413(self, client, admin):
        response = client.post(
            ORGS,
            content=big_json(),
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        problem = assert_problem(response, 413, "payload_too_large")
        assert str(get_settings().max_body_bytes) in problem["detail"]
        assert client.get(ORGS, headers=admin.headers).json()["items"] == []

    def test_oversized_body_is_413_before_authentication(self, client):
        response = client.post(
            ORGS, content=big_json(), headers={"Content-Type": "application/json"}
        )
        assert_problem(response, 413, "payload_too_large")

    def test_oversized_chunked_body_is_413(self, client, admin):
        payload = big_json()

        def chunks() -> Iterator[bytes]:
            for start in range(0, len(payload), 64 * 1024):
                yield payload[start : start + 64 * 1024]

        response = client.post(
            ORGS, content=chunks(), headers={**admin.headers, "Content-Type": "application/json"}
        )
        assert_problem(response, 413, "payload_too_large")
        assert client.get(ORGS, headers=admin.headers).json()["items"] == []

    def test_body_under_the_limit_reaches_validation(self, client, admin):
        padding = "x" * (get_settings().max_body_bytes - 1000)
        body = {"name": "Школа", "short_name": "Ш", "kind": "school", "padding": padding}
        response = client.post(ORGS, json=body, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["type"] == "extra_forbidden"


class TestContentType:
    def test_text_plain_is_415(self, client, admin):
        response = client.post(
            ORGS,
            content=b'{"name": "x", "short_name": "x", "kind": "school"}',
            headers={**admin.headers, "Content-Type": "text/plain"},
        )
        problem = assert_problem(response, 415, "unsupported_media_type")
        assert "application/json" in problem["detail"]

    def test_missing_content_type_is_415(self, client, admin):
        response = client.post(ORGS, content=b'{"name": "x"}', headers=admin.headers)
        assert_problem(response, 415, "unsupported_media_type")

    def test_form_on_a_json_endpoint_is_415(self, client, admin):
        response = client.post(
            ORGS, data={"name": "x", "short_name": "x", "kind": "school"}, headers=admin.headers
        )
        assert_problem(response, 415, "unsupported_media_type")

    def test_json_with_charset_and_merge_patch_pass(self, client, participant):
        response = client.patch(
            "/api/v1/users/me",
            content=json.dumps({"job_title": "Учитель"}).encode(),
            headers={**participant.headers, "Content-Type": "application/json; charset=utf-8"},
        )
        assert response.status_code == 200, response.text
        response = client.patch(
            "/api/v1/users/me",
            content=json.dumps({"job_title": "Методист"}).encode(),
            headers={**participant.headers, "Content-Type": "application/merge-patch+json"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["job_title"] == "Методист"


class TestValidationProblem:
    def test_malformed_json_is_422(self, client, admin):
        response = client.post(
            ORGS,
            content=b'{"name": "x",',
            headers={**admin.headers, "Content-Type": "application/json"},
        )
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["type"] == "json_invalid"

    def test_body_that_is_not_an_object_is_422(self, client, admin):
        response = client.post(ORGS, json=["x"], headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["body"]

    def test_every_error_is_listed_with_loc_msg_type(self, client, admin):
        response = client.post(ORGS, json={"kind": "castle"}, headers=admin.headers)
        problem = assert_problem(response, 422, "validation_error")
        assert problem["type"].endswith("/validation-error")
        assert problem["instance"] == ORGS
        assert {tuple(e["loc"]) for e in problem["errors"]} == {
            ("body", "name"),
            ("body", "short_name"),
            ("body", "kind"),
        }
        for error in problem["errors"]:
            assert set(error) == {"loc", "msg", "type"}
        assert problem["detail"].startswith("body.")


class TestUnexpectedErrors:
    def test_unhandled_exception_is_500_without_internals(self, broken_client, caplog):
        with caplog.at_level(logging.ERROR, logger="app.errors"):
            response = broken_client.get(
                "/api/v1/test/boom", headers={"X-Request-ID": "trace-me-42"}
            )
        problem = assert_problem(response, 500, "internal_error")
        assert "trace-me-42" in problem["detail"]
        assert response.headers["x-request-id"] == "trace-me-42"
        for secret in ("hunter2", "ZeroDivisionError", "Traceback", "secret internals"):
            assert secret not in response.text
        logged = [r for r in caplog.records if "trace-me-42" in r.getMessage()]
        assert logged
        assert logged[0].exc_info is not None

    def test_database_outage_is_503(self, broken_client):
        response = broken_client.get("/api/v1/test/database-down")
        assert_problem(response, 503, "database_unavailable")
        assert response.headers["retry-after"] == "5"
        assert "refused" not in response.text

    def test_lost_update_is_409(self, broken_client):
        response = broken_client.get("/api/v1/test/stale")
        assert_problem(response, 409, "version_conflict")
        assert "UPDATE" not in response.text


class TestRequestGuardHeaders:
    def test_request_id_is_echoed(self, client):
        response = client.get("/health/live", headers={"X-Request-ID": "abc-123"})
        assert response.headers["x-request-id"] == "abc-123"

    def test_request_id_is_generated_and_bounded(self, client):
        generated = client.get("/health/live").headers["x-request-id"]
        assert len(generated) == 32
        assert int(generated, 16) >= 0
        long = client.get("/health/live", headers={"X-Request-ID": "x" * 500})
        assert long.headers["x-request-id"] == "x" * 64

    def test_api_responses_carry_security_headers(self, client, participant):
        for response in (
            client.get("/api/v1/users/me", headers=participant.headers),
            client.get("/api/v1/users/me"),
        ):
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["x-frame-options"] == "DENY"
            assert response.headers["cache-control"] == "no-store"
            assert "default-src 'none'" in response.headers["content-security-policy"]

    def test_docs_are_served_from_our_own_static_files(self, client):
        response = client.get("/docs")
        assert response.status_code == 200
        assert "/static/swagger/swagger-ui-bundle.js" in response.text
        assert "cdn" not in response.text.lower()
        assert "content-security-policy" not in response.headers
        assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
        redoc = client.get("/redoc")
        assert redoc.status_code == 200
        assert "/static/redoc/redoc.standalone.js" in redoc.text


class TestUniqueRace:
    def test_unique_violation_that_slips_past_the_check_is_409(
        self, client, office_head, monkeypatch
    ):
        from app.services import organizations

        # Two concurrent creators both pass the service's check; the database decides.
        monkeypatch.setattr(organizations, "_ensure_unique_name", lambda *a, **k: None)
        body = {"name": "МБОУ СОШ № 99", "short_name": "СОШ 99", "kind": "school"}
        first = client.post("/api/v1/organizations", headers=office_head.headers, json=body)
        assert first.status_code == 201
        second = client.post("/api/v1/organizations", headers=office_head.headers, json=body)
        assert_problem(second, 409, "duplicate")
        assert "UNIQUE" not in second.text
        assert "unique" not in second.text.lower()
