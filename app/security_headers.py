"""The security headers of every response: strict for the API, looser for the documentation
pages, which load their own scripts and styles."""

API_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"cache-control", b"no-store"),
]
DOCS_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """What every response to `path` carries. The request guard (`app/middleware.py`) adds
    them; the 500 handler (`app/errors.py`), which Starlette runs outside it, adds them
    itself."""
    return API_HEADERS if path.startswith("/api/") else DOCS_HEADERS
