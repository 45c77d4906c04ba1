from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response, status

from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput, problem_responses
from app.schemas.auth import RefreshRequest, TokenResponse
from app.services import auth

router = APIRouter(prefix="/auth", tags=["auth"])


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post(
    "/token",
    summary="Получить токены (вход)",
    responses=problem_responses(401, 415, 422, 429),
)
def issue_token(
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    grant_type: Annotated[Literal["password", "client_credentials"], Form(description="Тип входа")],
    username: Annotated[str | None, Form(max_length=254, description="Email пользователя")] = None,
    password: Annotated[str | None, Form(max_length=128)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=128)] = None,
) -> TokenResponse:
    """OAuth2 token endpoint: `password` for people (email as username), `client_credentials`
    for integrations. People also get a refresh token. Repeated failures for one account or
    from one address lock them for a while: 429 with `Retry-After`."""
    _no_store(response)
    address = request.client.host if request.client else None
    if grant_type == "password":
        if not username or not password:
            raise InvalidInput("Нужны username (email) и password", loc=["body", "username"])
        return auth.login_password(
            session, settings, email=username, password=password, client_address=address
        )
    if not client_id or not client_secret:
        raise InvalidInput("Нужны client_id и client_secret", loc=["body", "client_id"])
    return auth.login_client(
        session,
        settings,
        client_id=client_id,
        client_secret=client_secret,
        client_address=address,
    )


@router.post(
    "/refresh",
    summary="Обновить пару токенов",
    responses=problem_responses(401, 422),
)
def refresh_token(
    session: SessionDep, settings: SettingsDep, response: Response, body: RefreshRequest
) -> TokenResponse:
    """Rotates the pair. A refresh token works once: presenting a used one again ends every
    token of that login (someone has a copy)."""
    _no_store(response)
    return auth.refresh(session, settings, token=body.refresh_token)


@router.post(
    "/logout",
    summary="Выйти",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={
        204: {
            "description": "Вход завершён (или уже был завершён): токены этого входа не действуют"
        },
        **problem_responses(401, 422),
    },
)
def logout(session: SessionDep, settings: SettingsDep, body: RefreshRequest) -> None:
    """Ends the login the refresh token belongs to: every refresh and access token of that
    login stops working. The refresh token is the credential: no access token is needed (it may
    already have expired). Idempotent: logging out again with a token of a login that has
    already ended, by logout or by reuse detection, is again 204 and changes nothing. 401 for
    anything that is not a refresh token this server issued and still knows: malformed, forged,
    an access token, expired. Nothing is ever issued here."""
    auth.logout(session, settings, token=body.refresh_token)
