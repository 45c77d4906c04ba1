"""One pure-ASGI middleware for what every request needs: a request id, a body-size limit,
the content type check and security headers. Pure ASGI because BaseHTTPMiddleware costs a
large share of a small endpoint's time."""

import json
import uuid

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE
from app.security_headers import security_headers

FORM_PATHS = frozenset({"/api/v1/auth/token"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a body without Content-Length outgrows the limit. An
    HTTPException, because FastAPI's body parsing turns any other error into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Тело запроса больше {limit} байт")


def _problem(status: int, code: str, title: str, detail: str, path: str) -> bytes:
    return json.dumps(
        {
            "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
            "title": title,
            "status": status,
            "detail": detail,
            "instance": path,
            "code": code,
        },
        ensure_ascii=False,
    ).encode()


class RequestGuard:
    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        request_id = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        scope["request_id"] = request_id
        path: str = scope["path"]
        extra_headers = security_headers(path)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                raw.extend(h for h in extra_headers if h[0] not in present)
                raw.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = raw
            await send(message)

        async def reply(status: int, code: str, title: str, detail: str) -> None:
            body = _problem(status, code, title, detail, path)
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [
                        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})

        if scope["method"] in BODY_METHODS:
            length = headers.get(b"content-length")
            if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
                await reply(
                    413,
                    "payload_too_large",
                    "Content Too Large",
                    f"Тело запроса больше {self.max_body_bytes} байт",
                )
                return
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            has_body = length not in (None, b"0") or b"transfer-encoding" in headers
            if has_body and path.startswith("/api/") and not _acceptable(path, content_type):
                expected = (
                    "application/x-www-form-urlencoded"
                    if path in FORM_PATHS
                    else "application/json"
                )
                await reply(
                    415,
                    "unsupported_media_type",
                    "Unsupported Media Type",
                    f"Ожидается Content-Type: {expected}",
                )
                return

        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLarge(self.max_body_bytes)
            return message

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge:
            await reply(
                413,
                "payload_too_large",
                "Content Too Large",
                f"Тело запроса больше {self.max_body_bytes} байт",
            )


def _acceptable(path: str, content_type: bytes) -> bool:
    if path in FORM_PATHS:
        return content_type in (b"application/x-www-form-urlencoded", b"multipart/form-data")
    return content_type == b"application/json" or content_type.endswith(b"+json")
