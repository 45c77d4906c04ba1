"""Login, refresh-token rotation with reuse detection, logout, client credentials."""

import uuid
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlmodel import Session, col

from app.config import Settings
from app.errors import Unauthorized
from app.models import RefreshToken, ServiceAccount, User
from app.models.base import utcnow
from app.schemas.auth import TokenResponse
from app.security import (
    InvalidToken,
    Principal,
    create_token,
    decode_token,
    verify_password,
)
from app.services import events, login_throttle
from app.services.principals import service_subject, user_subject

BAD_CREDENTIALS = "Неверный email или пароль"
BAD_REFRESH = "Refresh-токен недействителен, истёк или уже использован"


def _issue_pair(
    session: Session, settings: Settings, *, user_id: uuid.UUID, family_id: uuid.UUID
) -> TokenResponse:
    # The access token names its family too, so logout and reuse detection end it at once.
    access, _ = create_token(
        settings,
        subject=user_subject(user_id),
        token_type="access",
        lifetime=timedelta(minutes=settings.access_token_minutes),
        family_id=family_id,
    )
    refresh, claims = create_token(
        settings,
        subject=user_subject(user_id),
        token_type="refresh",
        lifetime=timedelta(days=settings.refresh_token_days),
        family_id=family_id,
    )
    session.add(
        RefreshToken(
            jti=claims.jti, family_id=family_id, user_id=user_id, expires_at=claims.expires_at
        )
    )
    session.flush()
    return TokenResponse(
        access_token=access,
        token_type="bearer",
        expires_in=settings.access_token_minutes * 60,
        refresh_token=refresh,
        scope=None,
    )


def login_password(
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    client_address: str | None = None,
) -> TokenResponse:
    email = email.strip().lower()
    # Counted per email whether or not anyone has it: a lock reveals nothing either.
    standing = login_throttle.check(
        session, keys=login_throttle.keys_for(account=email, address=client_address)
    )
    user = session.scalars(select(User).where(col(User.email) == email)).first()
    # The hash is checked even for an unknown or inactive user: every failure costs the same.
    valid = verify_password(password, user.hashed_password if user else None)
    if user is None or not valid or not user.is_active:
        login_throttle.record_failure(session, settings, keys=standing.keys)
        raise Unauthorized(BAD_CREDENTIALS, code="invalid_credentials", keep_changes=True)
    login_throttle.reset_account(session, standing)
    principal = Principal(id=user.id, kind="user", name=user.full_name)
    events.record(
        session, actor=principal, action="auth.login", entity_type="user", entity_id=user.id
    )
    return _issue_pair(session, settings, user_id=user.id, family_id=uuid.uuid4())


def login_client(
    session: Session,
    settings: Settings,
    *,
    client_id: str,
    client_secret: str,
    client_address: str | None = None,
) -> TokenResponse:
    standing = login_throttle.check(
        session, keys=login_throttle.keys_for(account=f"client:{client_id}", address=client_address)
    )
    account = session.scalars(
        select(ServiceAccount).where(col(ServiceAccount.client_id) == client_id)
    ).first()
    valid = verify_password(client_secret, account.hashed_secret if account else None)
    if account is None or not valid or not account.is_active:
        login_throttle.record_failure(session, settings, keys=standing.keys)
        raise Unauthorized(
            "Неверный client_id или client_secret", code="invalid_client", keep_changes=True
        )
    login_throttle.reset_account(session, standing)
    events.record(
        session,
        actor=Principal(id=account.id, kind="service", name=account.name),
        action="auth.client_login",
        entity_type="service_account",
        entity_id=account.id,
    )
    access, _ = create_token(
        settings,
        subject=service_subject(account.id),
        token_type="access",
        lifetime=timedelta(minutes=settings.access_token_minutes),
        scopes=account.scopes,
    )
    return TokenResponse(
        access_token=access,
        token_type="bearer",
        expires_in=settings.access_token_minutes * 60,
        refresh_token=None,
        scope=" ".join(account.scopes),
    )


def _revoke_family(session: Session, family_id: uuid.UUID) -> int:
    """Ends every token of one login; how many were still alive."""
    result = session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=utcnow())
    )
    return int(cast(CursorResult[Any], result).rowcount)


def refresh(session: Session, settings: Settings, *, token: str) -> TokenResponse:
    try:
        claims = decode_token(settings, token, expected_type="refresh")
    except InvalidToken as exc:
        raise Unauthorized(BAD_REFRESH, code="invalid_refresh_token") from exc
    # Lock the row so two concurrent refreshes with one token cannot both rotate it.
    stored = session.scalars(
        select(RefreshToken).where(col(RefreshToken.jti) == claims.jti).with_for_update()
    ).first()
    if stored is None or stored.revoked_at is not None:
        raise Unauthorized(BAD_REFRESH, code="invalid_refresh_token")
    if stored.rotated_at is not None:
        # A rotated token came back: someone holds a copy. Kill the whole family, and keep the
        # revocation even though this request fails.
        _revoke_family(session, stored.family_id)
        events.record(
            session,
            actor=None,
            action="auth.refresh_reuse_detected",
            entity_type="user",
            entity_id=stored.user_id,
            data={"family_id": str(stored.family_id)},
        )
        raise Unauthorized(BAD_REFRESH, code="refresh_token_reused", keep_changes=True)
    user = session.get(User, stored.user_id)
    if user is None or not user.is_active:
        raise Unauthorized(BAD_REFRESH, code="invalid_refresh_token")
    stored.rotated_at = utcnow()
    events.record(
        session,
        actor=Principal(id=user.id, kind="user", name=user.full_name),
        action="auth.refreshed",
        entity_type="user",
        entity_id=user.id,
        data={"family_id": str(stored.family_id)},
    )
    return _issue_pair(session, settings, user_id=user.id, family_id=stored.family_id)


def logout(session: Session, settings: Settings, *, token: str) -> None:
    """Ends the login (token family) the refresh token belongs to; the token itself is the
    credential, so an expired access token does not stop anyone from logging out. Idempotent:
    a token of a login already ended (logged out before, or revoked on reuse) changes and logs
    nothing. A used (rotated) token ends its login too: either its holder wants out or someone
    kept a copy. 401 only for what is no live refresh token of ours: malformed, forged, of
    another type, expired or never issued. Never issues tokens."""
    try:
        claims = decode_token(settings, token, expected_type="refresh")
    except InvalidToken as exc:
        raise Unauthorized(BAD_REFRESH, code="invalid_refresh_token") from exc
    stored = session.get(RefreshToken, claims.jti)
    if stored is None:
        raise Unauthorized(BAD_REFRESH, code="invalid_refresh_token")
    if not _revoke_family(session, stored.family_id):
        return
    events.record(
        session,
        actor=None,
        action="auth.logout",
        entity_type="user",
        entity_id=stored.user_id,
        data={"family_id": str(stored.family_id)},
    )
