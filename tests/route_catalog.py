"""What the security and contract tests know about the app's routes, read from the app itself.

Nothing here lists endpoints by hand except `PUBLIC`: the operations come from `app.routes`, the
action each one requires from the `require(...)` markers in its dependencies (`deps.PolicyCheck`),
and the shape of its parameters and body from the OpenAPI document. A route added tomorrow is in
every generated test the moment it is registered.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from app.deps import CapabilityGate, PolicyCheck, current_user, get_current_principal
from app.main import create_app
from app.policy import Action, can
from app.security import Principal
from app.services.maturity.capabilities import Capability

# Operations anyone may call without a token. Everything else must answer 401 to anonymous.
PUBLIC = frozenset(
    {
        "GET /health/live",
        "GET /health/ready",
        "GET /api/v1/meta/enums",
        "GET /api/v1/meta/lifecycle",
        "POST /api/v1/auth/token",
        "POST /api/v1/auth/refresh",
        "POST /api/v1/auth/logout",
    }
)
# Served outside the OpenAPI document on purpose: the documentation itself.
DOCS_ROUTES = frozenset({"GET /docs", "GET /redoc", "GET /openapi.json"})
DUMMY_UUID = uuid.UUID("0b7e4c1a-5d2f-4e8b-9a61-3c9f2d7e8a10")
JSON_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    route: RouteContext  # an APIRoute as mounted, prefixes included
    # Every `require(action)` among the route's dependencies, however deeply nested.
    actions: frozenset[Action]
    authenticated: bool
    users_only: bool
    # Every `gated(capability)` among its dependencies: the capabilities the office's maturity
    # governs that the route uses.
    capabilities: frozenset[Capability] = frozenset()
    # Whether each gate is solved after every `require(...)`: who may not act hears 403 first.
    gated_after_policy: bool = True

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        return [p.name for p in self.route.dependant.path_params]

    def allows(self, principal: Principal | None) -> bool:
        """What the policy table promises this caller before any object rule is looked at."""
        if not self.authenticated:
            return True
        if principal is None:
            return False
        if self.users_only and not principal.is_user:
            return False
        return all(can(principal, action) for action in self.actions)

    def expected_status(self, principal: Principal | None) -> int | None:
        """401 or 403 when the policy turns the caller away; None for "let through"."""
        if self.allows(principal):
            return None
        return 401 if principal is None else 403


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def route_contexts(app: FastAPI) -> list[RouteContext]:
    """Every route as served, through included routers (FastAPI mounts them lazily)."""
    return list(iter_route_contexts(app.routes))


def api_routes(app: FastAPI) -> list[RouteContext]:
    return [r for r in route_contexts(app) if isinstance(r.original_route, APIRoute)]


def operations(app: FastAPI, *, in_schema_only: bool = True) -> list[Operation]:
    found = []
    for route in api_routes(app):
        if in_schema_only and not route.include_in_schema:
            continue
        calls = list(_calls(route.dependant))
        actions = frozenset(c.action for c in calls if isinstance(c, PolicyCheck))
        policy = [i for i, c in enumerate(calls) if isinstance(c, PolicyCheck)]
        gates = [i for i, c in enumerate(calls) if isinstance(c, CapabilityGate)]
        for method in sorted(route.methods):
            found.append(
                Operation(
                    method=method,
                    path=route.path,
                    route=route,
                    actions=actions,
                    authenticated=get_current_principal in calls,
                    users_only=current_user in calls,
                    capabilities=frozenset(
                        c.capability for c in calls if isinstance(c, CapabilityGate)
                    ),
                    gated_after_policy=not gates or max(policy, default=-1) < min(gates),
                )
            )
    return sorted(found, key=lambda op: (op.path, op.method))


@cache
def default_app() -> FastAPI:
    """Introspection only (collection time); requests go through the `app` fixture."""
    return create_app()


@cache
def openapi() -> dict[str, Any]:
    return default_app().openapi()


def all_operations() -> list[Operation]:
    return operations(default_app())


def operation_schema(op: Operation) -> dict[str, Any]:
    spec: dict[str, Any] = openapi()["paths"][op.path][op.method.lower()]
    return spec


# --- minimal instances of a JSON schema ----------------------------------------------------------


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = {**openapi()["components"]["schemas"][name], **_without_ref(schema)}
    return schema


def _without_ref(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if k != "$ref"}


def sample(schema: dict[str, Any], *, name: str = "") -> Any:
    """A small instance that satisfies `schema`: its example when it has one, otherwise the
    least that its type and bounds accept. Only required properties are filled in."""
    schema = resolve(schema)
    if schema.get("examples"):
        return schema["examples"][0]
    if "example" in schema:
        return schema["example"]
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    for union in ("oneOf", "anyOf"):
        if union in schema:
            options = [o for o in schema[union] if resolve(o).get("type") != "null"]
            return sample(options[0], name=name)
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            merged.update(resolve(part))
        return sample(merged, name=name)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties", {})
        return {
            key: sample(properties[key], name=key)
            for key in schema.get("required", [])
            if key in properties
        }
    if kind == "array":
        count = schema.get("minItems", 0)
        return [sample(schema.get("items", {}), name=name) for _ in range(count)]
    if kind == "integer":
        return int(max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(max(schema.get("minimum", 1), schema.get("exclusiveMinimum", 0) + 1))
    if kind == "boolean":
        return False
    if kind == "string":
        return _sample_string(schema, name)
    return None


def _sample_string(schema: dict[str, Any], name: str) -> str:
    fmt = schema.get("format")
    if fmt == "uuid":
        return str(DUMMY_UUID)
    if fmt == "date-time":
        return (datetime.now(UTC) + timedelta(days=7)).isoformat()
    if fmt == "date":
        return date.today().isoformat()
    if fmt == "email":
        return "someone@example.org"
    length = max(schema.get("minLength", 0), 8 if "password" in name else 3)
    return ("Проверка" * (length // 8 + 1))[: min(length, schema.get("maxLength", length))]


def json_body_schema(op: Operation) -> dict[str, Any] | None:
    body = operation_schema(op).get("requestBody")
    if not body:
        return None
    content = body["content"]
    if "application/json" not in content:
        return None
    schema: dict[str, Any] = content["application/json"]["schema"]
    return schema


def url_for(op: Operation, values: dict[str, Any] | None = None) -> str:
    """The operation's path with `values` for its parameters and samples for the rest."""
    values = values or {}
    params = {p["name"]: p for p in operation_schema(op).get("parameters", [])}
    path = op.path
    for name in op.path_params:
        value = values.get(name)
        if value is None:
            value = sample(params[name]["schema"], name=name)
        path = path.replace("{" + name + "}", quote(str(value), safe=""))
    return path


def required_query(op: Operation) -> dict[str, Any]:
    return {
        p["name"]: sample(p["schema"], name=p["name"])
        for p in operation_schema(op).get("parameters", [])
        if p["in"] == "query" and p.get("required")
    }


def call(
    client: Any,
    op: Operation,
    *,
    headers: dict[str, str] | None = None,
    path_values: dict[str, Any] | None = None,
    body: Any = None,
) -> Any:
    """One request to the operation: sampled path and required query parameters, and a JSON
    body (`{}` unless given) for methods that take one."""
    kwargs: dict[str, Any] = {"headers": headers or {}, "params": required_query(op)}
    schema = json_body_schema(op)
    if schema is not None:
        kwargs["json"] = {} if body is None else body
    elif op.method in JSON_BODY_METHODS and op.key not in PUBLIC:
        kwargs["json"] = {}
    return client.request(op.method, url_for(op, path_values), **kwargs)
