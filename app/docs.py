"""Swagger UI and ReDoc from the app's own files: closed municipal networks have no CDN."""

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse

STATIC = "/static"


def install_docs(app: FastAPI) -> None:
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — Swagger UI",
            swagger_js_url=f"{STATIC}/swagger/swagger-ui-bundle.js",
            swagger_css_url=f"{STATIC}/swagger/swagger-ui.css",
            swagger_favicon_url=f"{STATIC}/swagger/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url,
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{STATIC}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{STATIC}/swagger/favicon-32x32.png",
            with_google_fonts=False,
        )
