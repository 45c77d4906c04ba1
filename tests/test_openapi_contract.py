"""The committed OpenAPI document and the app agree route for route, and every operation in it
is documented the way clients and our fuzzing rely on."""

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from starlette.routing import Mount, Route

from app.errors import PROBLEM_MEDIA_TYPE
from tests.route_catalog import (
    DOCS_ROUTES,
    Operation,
    all_operations,
    default_app,
    openapi,
    route_contexts,
)
from tests.shared_rows import SharedRows

DOCUMENT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"
OPERATIONS = all_operations()
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}
PROBLEM_REF = "#/components/schemas/Problem"
# Errors that are not problem documents on purpose.
NOT_PROBLEMS = {
    ("GET /health/ready", "503"): "the readiness body load balancers read",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    return loaded


def documented(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def test_every_route_is_in_the_document_and_every_operation_is_a_route(document):
    in_app = {op.key for op in OPERATIONS}
    in_document = set(documented(document))
    assert in_app - in_document == set(), "run `make openapi`: routes missing from the document"
    assert in_document - in_app == set(), "the document lists operations the app does not serve"


def test_no_hidden_routes_but_the_docs_and_static_files():
    hidden = []
    for route in route_contexts(default_app()):
        original = route.original_route
        if isinstance(original, APIRoute):
            if not route.include_in_schema:
                hidden += [f"{m} {route.path}" for m in sorted(route.methods or ())]
        elif isinstance(original, Mount):
            if route.path != "/static":
                hidden.append(f"mount {route.path}")
        elif isinstance(original, Route):
            hidden += [f"{m} {route.path}" for m in sorted(route.methods or ()) if m != "HEAD"]
        else:
            hidden.append(repr(original))
    assert set(hidden) <= DOCS_ROUTES, set(hidden) - DOCS_ROUTES


def test_the_document_is_what_the_app_generates(document):
    generated = json.loads(json.dumps(default_app().openapi()))
    assert generated == document, "openapi/openapi.json is stale: run `make openapi`"


@pytest.fixture(scope="module")
def generated() -> dict[str, Any]:
    """What the app serves now; the tests above keep the committed file equal to it."""
    return openapi()


@pytest.fixture(scope="module")
def declared_tags(generated: dict[str, Any]) -> set[str]:
    return {tag["name"] for tag in generated.get("tags", [])}


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.key)
class TestEveryOperation(SharedRows):
    """Reads the document only: no rows to share, and no per-test cleanup to pay for."""

    def spec(self, document: dict[str, Any], op: Operation) -> dict[str, Any]:
        return documented(document)[op.key]

    def test_summary_tags_and_operation_id(self, generated, declared_tags, op):
        spec = self.spec(generated, op)
        assert spec.get("summary", "").strip(), "summary"
        assert spec.get("tags"), "tags"
        assert set(spec["tags"]) <= declared_tags, "tags must be declared with a description"
        assert spec.get("operationId"), "operationId"
        ids = [o.get("operationId") for o in documented(generated).values()]
        assert ids.count(spec["operationId"]) == 1, "operationId must be unique"

    def test_errors_are_problem_documents(self, generated, op):
        for status, response in self.spec(generated, op)["responses"].items():
            if not status.startswith(("4", "5")) or (op.key, status) in NOT_PROBLEMS:
                continue
            content = response.get("content", {})
            assert set(content) == {PROBLEM_MEDIA_TYPE}, (status, list(content))
            assert content[PROBLEM_MEDIA_TYPE]["schema"] == {"$ref": PROBLEM_REF}, status

    def test_errors_the_route_can_answer_are_documented(self, generated, op):
        """What the dependencies alone can answer: 401 without a token, 403 for a role or a
        service account turned away, 422 for parameters or a body that do not validate."""
        spec = self.spec(generated, op)
        statuses = set(spec["responses"])
        expected = set()
        if op.authenticated:
            expected.add("401")
        if op.actions or op.users_only:
            expected.add("403")
        if spec.get("parameters") or spec.get("requestBody"):
            expected.add("422")
        assert expected <= statuses, f"document {sorted(expected - statuses)} in responses="

    def test_a_success_response_with_a_schema(self, generated, op):
        responses = self.spec(generated, op)["responses"]
        successes = {s: r for s, r in responses.items() if s.startswith("2")}
        assert successes, "no 2xx response"
        for status, response in successes.items():
            if status == "204":
                assert not response.get("content"), "204 has no body"
                continue
            content = response.get("content", {})
            assert content, f"{status} without content"
            for media, body in content.items():
                assert body.get("schema"), f"{status} {media} without a schema"
