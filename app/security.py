"""Passwords and tokens: nothing here touches the database."""

import calendar
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.config import Settings
from app.models.base import utcnow
from app.models.users import Role

JWT_ALGORITHM = "HS256"
# Clocks of several API processes drift a little; a token "issued" later than this is refused.
IAT_LEEWAY_SECONDS = 60
TokenType = Literal["access", "refresh"]

password_hasher = PasswordHash((Argon2Hasher(),))
# Verified against when the email is unknown, so a miss costs the same time as a wrong password.
_DUMMY_HASH = password_hasher.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def verify_password(password: str, hashed: str | None) -> bool:
    if hashed is None:
        password_hasher.verify(password, _DUMMY_HASH)
        return False
    try:
        return password_hasher.verify(password, hashed)
    except Exception:  # a corrupt or foreign hash must read as a failed login, not a 500
        return False


def new_client_secret() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: a person with roles or a service account with scopes."""

    id: uuid.UUID
    # "system": the operator's own commands (CLI, demo data), logged with no actor id.
    kind: Literal["user", "service", "system"]
    name: str
    roles: frozenset[Role] = frozenset()
    scopes: frozenset[str] = frozenset()
    organization_id: uuid.UUID | None = None
    # The login (refresh-token family) the access token belongs to, when it names one.
    family_id: uuid.UUID | None = None

    @property
    def is_user(self) -> bool:
        return self.kind == "user"

    def has_role(self, *roles: Role) -> bool:
        return not self.roles.isdisjoint(roles)


# The operator's own commands (the CLI's create-admin, demo data) act as the system.
SYSTEM = Principal(id=uuid.UUID(int=0), kind="system", name="system")


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    token_type: TokenType
    jti: uuid.UUID
    family_id: uuid.UUID | None
    expires_at: datetime


class InvalidToken(Exception):
    """Any reason a token cannot be trusted; callers answer 401 without saying which."""


def create_token(
    settings: Settings,
    *,
    subject: str,
    token_type: TokenType,
    lifetime: timedelta,
    family_id: uuid.UUID | None = None,
    scopes: list[str] | None = None,
) -> tuple[str, TokenClaims]:
    now = utcnow()
    jti = uuid.uuid4()
    expires_at = now + lifetime
    payload: dict[str, Any] = {
        "sub": subject,
        "typ": token_type,
        "jti": str(jti),
        "iat": int(now.timestamp()),
        "nbf": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    if family_id is not None:
        payload["fam"] = str(family_id)
    if scopes:
        payload["scope"] = " ".join(scopes)
    token = jwt.encode(payload, settings.signing_key, algorithm=JWT_ALGORITHM)
    return token, TokenClaims(subject, token_type, jti, family_id, expires_at)


def decode_token(settings: Settings, token: str, *, expected_type: TokenType) -> TokenClaims:
    claims, expires, not_before, issued = _verified(
        settings.signing_key,
        settings.jwt_audience,
        settings.jwt_issuer,
        token,
        expected_type,
    )
    # A token verified before is checked against the clock again, as python-jose does it.
    now = calendar.timegm(datetime.now(UTC).utctimetuple())
    if expires < now:
        raise InvalidToken("Signature has expired.")
    if not_before is not None and not_before > now:
        raise InvalidToken("The token is not yet valid (nbf)")
    # python-jose only type-checks `iat`; a token issued in the future was not issued by us.
    if issued > now + IAT_LEEWAY_SECONDS:
        raise InvalidToken("The token is issued in the future (iat)")
    return claims


@lru_cache(maxsize=4096)
def _verified(
    secret: str, audience: str, issuer: str, token: str, expected_type: TokenType
) -> tuple[TokenClaims, int, int | None, int]:
    """The claims of a token whose signature and static claims check out, with its `exp` and
    `nbf`. Kept per token: verifying costs as much as the rest of a list request's
    dependencies. Only tokens that passed are kept (an exception is never cached); the times
    are checked on every use (`decode_token`), and who the token belongs to — active, not
    logged out — is looked up in the database on every request (`deps.get_current_principal`)."""
    try:
        # Only HS256 is accepted: `alg: none` and HS/RS confusion fail here.
        header = jwt.get_unverified_header(token)
        if header.get("alg") != JWT_ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        payload = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],
            audience=audience,
            issuer=issuer,
            options={
                "require_exp": True,
                "require_iat": True,
                "require_aud": True,
                "require_iss": True,
                "require_sub": True,
                "require_jti": True,
            },
        )
    except JWTError as exc:
        raise InvalidToken(str(exc)) from exc
    if payload.get("typ") != expected_type:
        raise InvalidToken("wrong token type")
    try:
        jti = uuid.UUID(str(payload["jti"]))
        family = uuid.UUID(str(payload["fam"])) if "fam" in payload else None
        expires = int(payload["exp"])
        not_before = int(payload["nbf"]) if "nbf" in payload else None
        issued = int(payload["iat"])
        expires_at = datetime.fromtimestamp(expires, tz=UTC)
    except (ValueError, TypeError) as exc:
        raise InvalidToken("malformed claims") from exc
    claims = TokenClaims(str(payload["sub"]), expected_type, jti, family, expires_at)
    return claims, expires, not_before, issued
