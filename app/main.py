import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from app.config import Settings, get_settings
from app.db import dispose_loop_reads
from app.docs import STATIC, install_docs
from app.errors import PROBLEM_MEDIA_TYPE, install_error_handlers
from app.middleware import RequestGuard
from app.routers import (
    audit,
    auth,
    charter,
    consultations,
    expertise,
    health,
    initiatives,
    maturity,
    meetings,
    meta,
    network,
    organizations,
    service_accounts,
    users,
)

API_PREFIX = "/api/v1"
DESCRIPTION = """
API проектного офиса муниципальной системы образования и его инновационно-методической сети.

* Вход: `POST /api/v1/auth/token` (кнопка **Authorize**: email и пароль).
* Ошибки: `application/problem+json` (RFC 9457) со стабильным полем `code`.
* Списки: `?limit=` (до 200) и `?cursor=` из `next_cursor`.
* Правки: `If-Match` с ETag ресурса (412, если устарел) или `version` в теле (409).
"""

TAGS = [
    {"name": "auth", "description": "Вход, обновление и отзыв токенов"},
    {"name": "users", "description": "Люди, их роли и профили"},
    {"name": "organizations", "description": "Школы, детские сады, центры, управление"},
    {"name": "initiatives", "description": "Проектные замыслы и проекты: от идеи до закрытия"},
    {
        "name": "consultations",
        "description": "Консультирование и сопровождение проектных замыслов педагогов и школ",
    },
    {
        "name": "meetings",
        "description": "Заседания проектного офиса: повестка, решения, рефлексия, протокол",
    },
    {"name": "criteria", "description": "Критерии экспертизы и их редакции"},
    {"name": "reviews", "description": "Экспертизы: назначения, заключения, сводки"},
    {"name": "experts", "description": "Рост экспертных позиций"},
    {
        "name": "charter",
        "description": "Устав сети: версии, поправки, обсуждение, голосование, согласие",
    },
    {"name": "network", "description": "События сети и граф её связей"},
    {
        "name": "maturity",
        "description": "Зрелость проектного офиса: функции, самооценка, профиль, рост, "
        "возможности API, которые открываются с ростом зрелости",
    },
    {"name": "service-accounts", "description": "Интеграции и скрипты KPI"},
    {"name": "audit", "description": "Журнал действий"},
    {"name": "meta", "description": "Справочники и матрица прав"},
    {"name": "health", "description": "Живость и готовность"},
]


def _operation_id(route: APIRoute) -> str:
    # Stable ids (`users-list_users`) keep generated frontend clients stable.
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    yield
    await dispose_loop_reads()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    logging.basicConfig(level=settings.log_level)
    app = FastAPI(
        title="Проектный офис+ API",
        version="1.0.0",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        generate_unique_id_function=_operation_id,
        swagger_ui_oauth2_redirect_url=None,
        lifespan=_lifespan,
    )
    install_error_handlers(app)

    api = APIRouter(prefix=API_PREFIX)
    for router in (
        auth.router,
        users.router,
        organizations.router,
        initiatives.router,
        expertise.criteria_router,
        expertise.reviews_router,
        expertise.experts_router,
        charter.router,
        network.router,
        consultations.router,
        meetings.router,
        maturity.router,
        service_accounts.router,
        audit.router,
        meta.router,
    ):
        api.include_router(router)
    app.include_router(api)
    app.include_router(health.router)

    if settings.docs_enabled:
        app.mount(STATIC, StaticFiles(directory=Path(__file__).parent / "static"), name="static")
        install_docs(app)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "X-Request-ID"],
            expose_headers=["ETag", "Location", "X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    _register_problem_schema(app)
    return app


def _register_problem_schema(app: FastAPI) -> None:
    """Errors are documented as `application/problem+json` only, which is what they are sent as
    (FastAPI would also list `application/json` for a response model, and the route's own
    media type, such as Markdown or CSV, for a route with another response class)."""
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if status.startswith(("4", "5")) and PROBLEM_MEDIA_TYPE in content:
                        for media in [m for m in content if m != PROBLEM_MEDIA_TYPE]:
                            del content[media]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
