"""Domain errors and their one translation into RFC 9457 problem+json."""

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import compile_path

from app.security_headers import security_headers

logger = logging.getLogger("app.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://projoffice.example.org/problems/"


class ProblemFieldError(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem document; `code` is stable for machines, `detail` is for people."""

    type: str = Field(examples=[PROBLEM_TYPE_BASE + "not-found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["Организация не найдена"])
    instance: str = Field(examples=["/api/v1/organizations/6f1c..."])
    code: str = Field(examples=["not_found"])
    errors: list[ProblemFieldError] | None = None
    extra: dict[str, Any] | None = Field(
        default=None, description="Machine-readable details specific to the problem code"
    )


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        keep_changes: bool = False,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        # Security bookkeeping (a revoked token family) must survive the error it answers with.
        self.keep_changes = keep_changes
        self.instance_code = code or self.code
        self.extra = extra
        self.headers = headers


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"

    def __init__(self, detail: str = "Требуется аутентификация", **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kwargs)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PreconditionFailed(DomainError):
    status = 412
    code = "precondition_failed"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class InvalidInput(DomainError):
    """A rule that the schema alone cannot express (an unknown reference, an impossible range)."""

    status = 422
    code = "validation_error"

    def __init__(self, detail: str, *, loc: Sequence[str | int] = (), **kwargs: Any) -> None:
        super().__init__(detail, **kwargs)
        self.loc = list(loc)


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"


def _title(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    request: Request,
    *,
    status: int,
    code: str,
    detail: str,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": _title(status),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
        "code": code,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body["extra"] = jsonable_encoder(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries so every documented error shows its problem+json shape."""
    return {
        status: {
            "model": Problem,
            "description": _title(status),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}


HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@lru_cache(maxsize=512)
def _path_pattern(template: str) -> re.Pattern[str]:
    return compile_path(template)[0]


def _literal_segments(template: str) -> int:
    return sum(1 for part in template.split("/") if part and not part.startswith("{"))


def _allowed_methods(request: Request) -> str | None:
    """Every method the path answers, from the documented operations: Starlette's 405 names
    only the methods of the first route whose path matched. The most specific templates name
    the resource: `/meetings/decisions` is not the meeting `{meeting_id}` = "decisions", so its
    Allow is GET, not GET and PATCH."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    path = request.scope["path"]
    matching = [template for template in paths if _path_pattern(template).match(path)]
    if not matching:
        return None
    specific = max(_literal_segments(template) for template in matching)
    methods = {
        method.upper()
        for template in matching
        if _literal_segments(template) == specific
        for method in paths[template]
        if method in HTTP_METHODS
    }
    return ", ".join(sorted(methods)) if methods else None


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {
            "loc": [str(part) if not isinstance(part, int) else part for part in err["loc"]],
            "msg": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors()
    ]


def _internal_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = request.scope.get("request_id", "-")
    logger.error("unhandled error request_id=%s", request_id, exc_info=exc)
    return problem_response(
        request,
        status=500,
        code="internal_error",
        detail=f"Внутренняя ошибка сервера. Код запроса: {request_id}",
        # Sent from outside the request guard, which would otherwise add these headers.
        headers={**_guard_headers(request.url.path), "X-Request-ID": request_id},
    )


def _guard_headers(path: str) -> dict[str, str]:
    return {name.decode(): value.decode() for name, value in security_headers(path)}


def _is_unique_violation(exc: IntegrityError) -> bool:
    orig = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":  # PostgreSQL unique_violation
        return True
    return "UNIQUE constraint failed" in str(orig)  # SQLite


# A value that no schema bound kept out and the database cannot hold: a number beyond its
# column's range, a date out of range, a NUL character in PostgreSQL text.
_BAD_VALUE_SQLSTATES = frozenset({"22003", "22008", "22021", "22P05"})


def _is_bad_value(exc: Exception) -> bool:
    if isinstance(exc, OverflowError):  # "Python int too large to convert to SQLite INTEGER"
        return "SQLite" in str(exc)
    orig = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) in _BAD_VALUE_SQLSTATES or "NUL (0x00)" in str(orig)


# Answered before any handler runs, for every operation that takes a body: one that cannot be
# read (400, FastAPI), one over the size limit (413) or of another media type (415, RequestGuard).
BODY_ERRORS = (400, 413, 415)


def _document_body_errors(app: FastAPI) -> None:
    original = app.openapi

    def openapi() -> dict[str, Any]:
        schema = original()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                if not isinstance(operation, dict) or "requestBody" not in operation:
                    continue
                responses = operation.setdefault("responses", {})
                for status in BODY_ERRORS:
                    responses.setdefault(
                        str(status),
                        {
                            "description": _title(status),
                            "content": {
                                PROBLEM_MEDIA_TYPE: {
                                    "schema": {"$ref": "#/components/schemas/Problem"}
                                }
                            },
                        },
                    )
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def install_error_handlers(app: FastAPI) -> None:
    """One problem+json translation for every error, and the errors that any operation with a
    body may answer documented on it."""
    _document_body_errors(app)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        errors = None
        if isinstance(exc, InvalidInput):
            errors = [{"loc": exc.loc, "msg": exc.detail, "type": exc.instance_code}]
        return problem_response(
            request,
            status=exc.status,
            code=exc.instance_code,
            detail=exc.detail,
            errors=errors,
            extra=exc.extra,
            headers=exc.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        if any(e["loc"][:1] == ["path"] for e in errors):
            # PATCH /meetings/decisions was routed to /meetings/{meeting_id} and failed on the
            # id; the resource the path names does not answer PATCH at all.
            allowed = _allowed_methods(request)
            if allowed and request.method not in allowed.split(", "):
                return problem_response(
                    request,
                    status=405,
                    code=_STATUS_CODES[405],
                    detail=_title(405),
                    headers={"Allow": allowed},
                )
        first = errors[0] if errors else None
        detail = "Некорректный запрос"
        if first:
            detail = f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        return problem_response(
            request, status=422, code="validation_error", detail=detail, errors=errors
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _STATUS_CODES.get(exc.status_code, "error")
        detail = exc.detail if isinstance(exc.detail, str) else _title(exc.status_code)
        headers = dict(exc.headers) if exc.headers else {}
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem_response(
            request,
            status=exc.status_code,
            code=code,
            detail=detail,
            headers=headers or None,
        )

    @app.exception_handler(StaleDataError)
    async def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem_response(
            request,
            status=409,
            code="version_conflict",
            detail="Ресурс одновременно изменил другой пользователь; обновите его и повторите",
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # Services check uniqueness before writing; a unique violation that still reaches here
        # is a race between two requests, which the loser should hear as a conflict. Any other
        # integrity error is a bug and stays a 500.
        if not _is_unique_violation(exc):
            return _internal_error(request, exc)
        return problem_response(
            request,
            status=409,
            code="duplicate",
            detail="Такая запись уже есть: её только что создал другой запрос",
        )

    @app.exception_handler(DataError)
    @app.exception_handler(OverflowError)
    async def _bad_value(request: Request, exc: Exception) -> JSONResponse:
        if not _is_bad_value(exc):
            return _internal_error(request, exc)
        return problem_response(
            request,
            status=422,
            code="invalid_value",
            detail="Значение не может быть сохранено: число или дата вне допустимого диапазона "
            "либо в тексте есть символ NUL",
        )

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        logger.error(
            "database error request_id=%s: %s",
            request.scope.get("request_id"),
            exc.orig.__class__.__name__ if exc.orig else exc.__class__.__name__,
        )
        return problem_response(
            request,
            status=503,
            code="database_unavailable",
            detail="База данных временно недоступна, повторите запрос позже",
            headers={"Retry-After": "5"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return _internal_error(request, exc)
