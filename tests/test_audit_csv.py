"""GET /audit as CSV: `Accept: text/csv` or `?format=csv`, the JSON list's filters, streamed."""

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session

from app.db import get_engine
from app.models import Role
from app.models.base import clock_at
from app.services import events
from tests.factories import SYSTEM, assert_problem

AUDIT = "/api/v1/audit"
CSV = {"Accept": "text/csv"}


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == events.CSV_COLUMNS
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def json_items(client: Any, admin: Any, **params: Any) -> list[dict[str, Any]]:
    response = client.get(AUDIT, params={"limit": 200, **params}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def record(n: int, *, action: str = "test.happened", at: datetime | None = None) -> None:
    with Session(get_engine()) as session:
        for i in range(n):
            with clock_at(at or datetime.now(UTC)):
                events.record(
                    session,
                    actor=SYSTEM,
                    action=action,
                    entity_type="test",
                    entity_id=f"item-{i}",
                    data={"i": i, "текст": 'Проектный офис, "кавычки"\nи строки'},
                )
        session.commit()


class TestAuditCsv:
    def test_anonymous(self, client):
        assert_problem(client.get(AUDIT, headers=CSV), 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_head, Role.observer])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        response = client.get(AUDIT, params={"format": "csv"}, headers=person.headers)
        assert_problem(response, 403, "forbidden")

    @pytest.mark.parametrize(
        "params",
        [{"format": "xml"}, {"since": "0"}, {"until": "1700000000"}],
        ids=["format", "since-timestamp", "until-timestamp"],
    )
    def test_invalid(self, client, admin, params):
        response = client.get(AUDIT, params=params, headers={**admin.headers, **CSV})
        problem = assert_problem(response, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["query", next(iter(params))]

    def test_happy_same_events_as_the_json_list(self, client, admin, make_org):
        make_org()
        record(3)
        expected = json_items(client, admin)
        response = client.get(AUDIT, headers={**admin.headers, **CSV})
        rows = read_csv(response)
        assert response.headers["content-disposition"].startswith('attachment; filename="audit-')
        assert [int(r["id"]) for r in rows] == [e["id"] for e in expected]  # newest first
        for row, item in zip(rows, expected, strict=True):
            assert row["at"] == item["at"]
            assert row["actor_id"] == (item["actor_id"] or "")
            assert (row["actor_kind"], row["action"]) == (item["actor_kind"], item["action"])
            assert row["entity_type"] == item["entity_type"]
            assert row["entity_id"] == item["entity_id"]
            assert json.loads(row["data"]) == item["data"]

    @pytest.mark.parametrize(
        ("headers", "params", "is_csv"),
        [
            ({}, {"format": "csv"}, True),
            ({"Accept": "text/csv"}, {"format": "json"}, False),
            ({"Accept": "application/json;q=0.5, text/csv"}, {}, True),
            ({"Accept": "text/*"}, {}, True),
            ({"Accept": "text/csv, application/json"}, {}, False),
            ({"Accept": "*/*"}, {}, False),
        ],
        ids=["format", "format-wins", "q-values", "text-range", "tie", "any"],
    )
    def test_negotiation(self, client, admin, headers, params, is_csv):
        response = client.get(AUDIT, params=params, headers={**admin.headers, **headers})
        assert response.status_code == 200
        media = "text/csv" if is_csv else "application/json"
        assert response.headers["content-type"].startswith(media)

    def test_filters_match_the_json_list(self, client, admin, make_user):
        person = make_user(Role.participant)  # user.created by the test system actor
        edited = client.patch(
            f"/api/v1/users/{person.id}", json={"job_title": "Учитель"}, headers=admin.headers
        )
        assert edited.status_code == 200, edited.text
        old = datetime(2024, 1, 10, 12, tzinfo=UTC)
        record(2, action="test.old", at=old)
        record(2, action="test.new")
        cases: list[dict[str, Any]] = [
            {"action": "test.old"},
            {"entity_type": "test", "entity_id": "item-1"},
            {"actor_id": str(admin.id), "action": "user.updated"},
            {"since": (old + timedelta(days=1)).isoformat()},
            {"until": (old + timedelta(days=1)).isoformat()},
            {"entity_id": str(person.id)},
        ]
        for params in cases:
            expected = [e["id"] for e in json_items(client, admin, **params)]
            response = client.get(AUDIT, params=params, headers={**admin.headers, **CSV})
            assert [int(r["id"]) for r in read_csv(response)] == expected, params
            assert expected, params

    def test_cursor_and_limit_apply_to_json_only(self, client, admin):
        record(5)
        response = client.get(AUDIT, params={"limit": 2, "format": "csv"}, headers=admin.headers)
        assert len(read_csv(response)) == 5 + 1  # and the admin's creation

    def test_empty(self, client, admin):
        response = client.get(
            AUDIT, params={"action": "nothing.ever"}, headers={**admin.headers, **CSV}
        )
        assert read_csv(response) == []

    def test_cells_that_a_spreadsheet_would_run_are_quoted(self, client, admin):
        with Session(get_engine()) as session:
            events.record(
                session, actor=None, action="=HYPERLINK()", entity_type="@x", entity_id="-1+1"
            )
            session.commit()
        row = read_csv(client.get(AUDIT, params={"format": "csv"}, headers=admin.headers))[0]
        assert (row["action"], row["entity_type"], row["entity_id"]) == (
            "'=HYPERLINK()",
            "'@x",
            "'-1+1",
        )
        assert row["actor_id"] == ""
        assert row["actor_kind"] == "system"

    def test_streams_in_chunks_from_its_own_connection(self, client, admin, monkeypatch):
        monkeypatch.setattr(events, "CSV_CHUNK_ROWS", 10)
        record(95)
        with client.stream("GET", AUDIT, headers={**admin.headers, **CSV}) as response:
            assert response.status_code == 200
            assert "content-length" not in response.headers
            chunks = list(response.iter_raw())
        # The request's session is closed when the handler returns; the rows still come, in
        # one chunk per 10 (the first with the header).
        assert len(chunks) >= 10
        body = b"".join(chunks).decode()
        assert len(list(csv.reader(io.StringIO(body)))) == 1 + 95 + 1  # + the admin's creation

    def test_documented_as_text_csv(self, app):
        operation = app.openapi()["paths"][AUDIT]["get"]
        content = operation["responses"]["200"]["content"]
        assert set(content) == {"application/json", "text/csv"}
        assert any(p["name"] == "format" for p in operation["parameters"])
