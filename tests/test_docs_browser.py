"""Swagger UI and ReDoc in a real browser, offline.

The app is served by uvicorn on a free loopback port (against the test database) and Debian's
Chromium is driven headless by Playwright. Every request the page makes to anything but that
server is recorded and aborted, as on a closed municipal network: a script or stylesheet from a
CDN would leave the page blank and fail the test.

Chromium comes from Debian (scripts/test installs it); Playwright's own browser download is
never used. Without Chromium the test is skipped locally and fails in CI.
"""

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn

from app.main import create_app
from tests.factories import PASSWORD, Person

CHROMIUM = os.environ.get("PROJOFFICE_TEST_CHROMIUM") or shutil.which("chromium") or ""
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("TMPDIR", "/tmp"))
TIMEOUT_MS = 30_000


def _required() -> bool:
    return any(os.environ.get(name, "") not in ("", "0") for name in ("CI", "REQUIRE_POSTGRES"))


def _browser_missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the `playwright` package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM or not os.access(CHROMIUM, os.X_OK):
        return "no Chromium: install Debian's `chromium` (scripts/test does so as root)"
    return None


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    missing = _browser_missing()
    if missing:
        if _required():
            pytest.fail(f"browser test required in CI, but {missing}")
        pytest.skip(missing)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser(base_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)  # a loaded 2-core CI machine renders slowly
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 1000},
            locale="ru-RU",
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any, base_url: str) -> Iterator[tuple[Any, list[str], list[str]]]:
    """A fresh tab, with what left the loopback (aborted) and what the page logged as errors."""
    outside: list[str] = []
    errors: list[str] = []
    allowed = urlsplit(base_url).netloc

    def guard(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("data", "blob") or urlsplit(url).netloc == allowed:
            route.continue_()
        else:
            outside.append(url)
            route.abort("internetdisconnected")

    tab = browser.new_page()
    tab.set_default_timeout(TIMEOUT_MS)
    tab.route("**/*", guard)
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield tab, outside, errors
    tab.close()


def test_swagger_ui_authorize_and_try_it_out_offline(
    page: tuple[Any, list[str], list[str]], base_url: str, make_user: Callable[..., Person]
) -> None:
    from playwright.sync_api import expect

    tab, outside, errors = page
    person = make_user(email="browser.test@example.org", full_name="Браузерова Ольга Тестовна")
    loaded: list[str] = []
    tab.on("requestfinished", lambda request: loaded.append(urlsplit(request.url).path))

    tab.goto(f"{base_url}/docs", wait_until="load")
    assert outside == [], f"the page asked for files outside the app: {outside}"
    expect(tab.locator(".swagger-ui .info .title")).to_contain_text("Проектный офис+ API")
    assert "/static/swagger/swagger-ui-bundle.js" in loaded
    assert "/static/swagger/swagger-ui.css" in loaded
    assert "/openapi.json" in loaded

    # Authorize: the OAuth2 password flow form, email as username.
    tab.locator(".auth-wrapper button.authorize").click()
    modal = tab.locator(".dialog-ux .modal-ux")
    expect(modal).to_be_visible()
    modal.locator("#oauth_username").fill(person.email)
    modal.locator("#oauth_password").fill(PASSWORD)
    with tab.expect_response(lambda r: r.url.endswith("/api/v1/auth/token")) as token:
        modal.locator("button.modal-btn.authorize").click()
    assert token.value.status == 200, token.value.text()
    expect(modal.locator("button", has_text="Logout")).to_be_visible()
    expect(modal.locator(".errors")).to_have_count(0)
    modal.screenshot(path=str(SCREENSHOTS / "projoffice-swagger-authorize.png"))
    modal.locator("button.btn-done").click()
    expect(modal).to_have_count(0)
    expect(tab.locator(".auth-wrapper button.authorize.locked")).to_be_visible()

    # Try it out + Execute on GET /api/v1/users/me.
    operation = tab.locator("#operations-users-users-read_me")
    operation.locator(".opblock-summary").first.click()
    operation.locator("button.try-out__btn").click()
    with tab.expect_response(lambda r: r.url.endswith("/api/v1/users/me")) as me:
        operation.locator("button.execute").click()
    assert me.value.status == 200, me.value.text()
    assert me.value.request.headers["authorization"].startswith("Bearer ")
    live = operation.locator(".live-responses-table .response")
    expect(live.locator(".response-col_status")).to_contain_text("200")
    expect(live.locator(".response-col_description")).to_contain_text(person.email)
    expect(live.locator(".response-col_description")).to_contain_text("Браузерова Ольга Тестовна")
    live.scroll_into_view_if_needed()
    tab.screenshot(path=str(SCREENSHOTS / "projoffice-swagger-ui.png"), full_page=False)

    assert outside == [], f"requests left the loopback: {outside}"
    assert errors == [], f"the page logged errors: {errors}"


def test_redoc_renders_offline(page: tuple[Any, list[str], list[str]], base_url: str) -> None:
    from playwright.sync_api import expect

    tab, outside, errors = page
    tab.goto(f"{base_url}/redoc", wait_until="load")
    assert outside == [], f"the page asked for files outside the app: {outside}"
    expect(tab.locator("h1").first).to_contain_text("Проектный офис+ API")
    expect(tab.locator(".menu-content")).to_contain_text("Получить токены (вход)")
    tab.screenshot(path=str(SCREENSHOTS / "projoffice-redoc.png"))
    assert outside == [], f"requests left the loopback: {outside}"
    assert errors == [], f"the page logged errors: {errors}"
