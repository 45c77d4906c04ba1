"""What routers depend on: the session, the caller, the policy check, list parameters."""

from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session

from app.config import Settings, get_settings
from app.db import Db, request_db
from app.errors import Forbidden, PreconditionFailed, Unauthorized
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.policy import Action, can
from app.security import InvalidToken, Principal, decode_token
from app.services import principals
from app.services.maturity import gating
from app.services.maturity.capabilities import Capability

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/api/v1/auth/token",
    auto_error=False,
    description="Войдите email и паролем (grant_type=password).",
)

# Dependencies that do no I/O are `async def`: FastAPI runs a sync one in a worker thread, and
# under load each such hop costs more than the whole query of a list page (bench/README.md).
DbDep = Annotated[Db, Depends(request_db, scope="function")]


async def request_session(db: DbDep) -> Session:
    return db.session


SessionDep = Annotated[Session, Depends(request_session)]


async def current_settings() -> Settings:
    return get_settings()


SettingsDep = Annotated[Settings, Depends(current_settings)]


async def get_current_principal(
    db: DbDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal:
    if not token:
        raise Unauthorized()
    try:
        # The settings directly, not SettingsDep: one dependency less to solve per request.
        claims = decode_token(get_settings(), token, expected_type="access")
    except InvalidToken as exc:
        raise Unauthorized("Токен недействителен или истёк", code="invalid_token") from exc
    # The token is checked on the event loop; the query runs where the request's reads do
    # (`Db.rows`): on the loop for an async route, in a worker thread for a sync one.
    principal = await principals.read_principal(db, claims.subject, claims.family_id)
    if principal is None:
        raise Unauthorized("Токен недействителен или истёк", code="invalid_token")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_current_principal)]


class PolicyCheck:
    """The dependency `require(action)` returns. It names its `action`, so the security tests
    and the policy printout can tell which action every route requires."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if not can(principal, self.action):
            raise Forbidden(
                "Недостаточно прав для этого действия",
                code="forbidden",
                extra={"action": self.action.value},
            )
        return principal

    def __repr__(self) -> str:
        return f"require({self.action.value!r})"


def require(action: Action) -> PolicyCheck:
    """A dependency that lets the call through only when the policy allows `action`."""
    return PolicyCheck(action)


class CapabilityGate:
    """The dependency `gated(capability)` returns: under PROJOFFICE_MATURITY_GATING=enforced a
    request through a capability whose office function is below its required level is a 409
    `capability_not_mastered`. It names its `capability`, so the tests can check that the
    routes of every capability of the table (services/maturity/capabilities.py) carry it.
    Declared after the route's `require(...)`: who may not act at all hears 403 first."""

    def __init__(self, capability: Capability) -> None:
        self.capability = capability

    async def __call__(self, request: Request, db: DbDep, _: CurrentPrincipal) -> None:
        settings = get_settings()
        if settings.maturity_gating != "enforced":
            return
        # The body is parsed and cached by the time dependencies run.
        body = await request.json() if await request.body() else None
        if gating.uses(self.capability, body):
            await gating.check_capability(db, capability=self.capability, settings=settings)

    def __repr__(self) -> str:
        return f"gated({self.capability.value!r})"


def gated(capability: Capability) -> CapabilityGate:
    """A dependency that lets a request through a capability only once the office masters it
    (when gating is enforced)."""
    return CapabilityGate(capability)


async def current_user(principal: CurrentPrincipal) -> Principal:
    if not principal.is_user:
        raise Forbidden("Действие доступно только пользователям", code="users_only")
    return principal


CurrentUser = Annotated[Principal, Depends(current_user)]

Limit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"Размер страницы: по умолчанию {DEFAULT_LIMIT}, не больше {MAX_LIMIT}",
    ),
]
Cursor = Annotated[
    str | None, Query(max_length=512, description="Курсор из `next_cursor` предыдущей страницы")
]
SearchQuery = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=200,
        # NUL cut SQLite's LIKE pattern short (everything matched) and PostgreSQL refuses it.
        pattern=r"^[^\x00]*$",
        description="Поиск без учёта регистра (кириллица тоже); `%` и `_` ищутся буквально",
    ),
]


def if_match_version(
    if_match: Annotated[
        str | None,
        Header(description='ETag из последнего ответа, например `"3"`: защита от потери правок'),
    ] = None,
) -> int | None:
    if if_match is None:
        return None
    value = if_match.strip()
    if value == "*":
        return None  # any current version matches (RFC 9110)
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    # ASCII digits only ("²" passes isdigit() and breaks int()), and no more than a version can
    # have (int() refuses over 4300 digits with a ValueError, which would be a 500).
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise PreconditionFailed("Заголовок If-Match должен содержать ETag ресурса")
    return int(value)


IfMatch = Annotated[int | None, Depends(if_match_version)]


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = f'"{version}"'
