"""POST /auth/token, /auth/refresh, /auth/logout, and every way a bearer token can be wrong."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from jose import jwt

from app import config
from app.config import get_settings
from app.models import Role
from app.security import create_token
from tests.factories import PASSWORD, access_headers, assert_problem

TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post(
        TOKEN, data={"grant_type": "password", "username": email, "password": password}
    )


def tokens(client: Any, email: str) -> dict[str, Any]:
    response = login(client, email)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims(**overrides: Any) -> dict[str, Any]:
    settings = get_settings()
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "typ": "access",
        "jti": str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
    }
    payload.update(overrides)
    return {k: v for k, v in payload.items() if v is not None}


def forge(
    *, secret: str | None = None, algorithm: str = "HS256", **overrides: Any
) -> dict[str, str]:
    key = secret or get_settings().signing_key
    return bearer(jwt.encode(claims(**overrides), key, algorithm=algorithm))


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


class TestIssueToken:
    def test_happy_password_grant(self, client, participant):
        response = login(client, participant.email.upper())
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        settings = get_settings()
        assert body["token_type"] == "bearer"
        assert body["expires_in"] == settings.access_token_minutes * 60
        assert body["scope"] is None
        access = jwt.get_unverified_claims(body["access_token"])
        refresh = jwt.get_unverified_claims(body["refresh_token"])
        assert access["typ"] == "access"
        assert refresh["typ"] == "refresh"
        assert access["sub"] == refresh["sub"] == str(participant.id)
        assert access["fam"] == refresh["fam"]
        assert access["iss"] == settings.jwt_issuer
        assert access["aud"] == settings.jwt_audience
        me = client.get(ME, headers=bearer(body["access_token"]))
        assert me.status_code == 200
        assert me.json()["id"] == str(participant.id)

    def test_wrong_password_and_unknown_email_look_the_same(self, client, participant):
        wrong = login(client, participant.email, "not-the-password")
        unknown = login(client, "nobody@example.org")
        body = assert_problem(wrong, 401, "invalid_credentials")
        assert_problem(unknown, 401, "invalid_credentials")
        assert wrong.json() == unknown.json()
        assert body["detail"] == "Неверный email или пароль"
        assert wrong.headers["www-authenticate"] == unknown.headers["www-authenticate"]

    def test_invalid_missing_grant_type(self, client, participant):
        response = client.post(TOKEN, data={"username": participant.email, "password": PASSWORD})
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "grant_type"]

    def test_invalid_unknown_grant_type(self, client):
        response = client.post(TOKEN, data={"grant_type": "implicit", "username": "a@b.c"})
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "grant_type"]

    def test_invalid_password_grant_without_password(self, client, participant):
        response = client.post(TOKEN, data={"grant_type": "password", "username": "x@y.z"})
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "username"]

    def test_json_body_is_unsupported_media_type(self, client, participant):
        response = client.post(
            TOKEN,
            json={"grant_type": "password", "username": participant.email, "password": PASSWORD},
        )
        body = assert_problem(response, 415, "unsupported_media_type")
        assert "application/x-www-form-urlencoded" in body["detail"]


class TestRefresh:
    def test_happy_rotates_the_pair(self, client, participant):
        first = tokens(client, participant.email)
        response = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
        second = response.json()
        assert second["token_type"] == "bearer"
        assert second["refresh_token"] != first["refresh_token"]
        assert second["access_token"] != first["access_token"]
        old_claims = jwt.get_unverified_claims(first["refresh_token"])
        new_claims = jwt.get_unverified_claims(second["refresh_token"])
        assert new_claims["fam"] == old_claims["fam"]
        # Rotation is not revocation: both access tokens of the login keep working.
        assert client.get(ME, headers=bearer(second["access_token"])).status_code == 200
        assert client.get(ME, headers=bearer(first["access_token"])).status_code == 200
        third = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
        assert third.status_code == 200, third.text

    def test_reuse_of_rotated_token_revokes_the_family(self, client, participant):
        first = tokens(client, participant.email)
        other_login = tokens(client, participant.email)
        second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()

        reused = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
        assert_problem(reused, 401, "refresh_token_reused")

        # The thief's and the owner's newer tokens of that login are dead too.
        dead = client.post(REFRESH, json={"refresh_token": second["refresh_token"]})
        assert_problem(dead, 401, "invalid_refresh_token")
        for access in (first["access_token"], second["access_token"]):
            assert_problem(client.get(ME, headers=bearer(access)), 401, "invalid_token")

        # Another login of the same person is a different family and lives on.
        assert client.get(ME, headers=bearer(other_login["access_token"])).status_code == 200
        alive = client.post(REFRESH, json={"refresh_token": other_login["refresh_token"]})
        assert alive.status_code == 200, alive.text

    def test_access_token_is_not_a_refresh_token(self, client, participant):
        pair = tokens(client, participant.email)
        response = client.post(REFRESH, json={"refresh_token": pair["access_token"]})
        assert_problem(response, 401, "invalid_refresh_token")

    @staticmethod
    def resigned(refresh_token: str, **overrides: Any) -> str:
        """The issued token with some claims changed, signed with our key: its row is stored,
        so only the changed claim can make it fail."""
        payload = {**jwt.get_unverified_claims(refresh_token), **overrides}
        return jwt.encode(payload, get_settings().signing_key, "HS256")

    def test_control_a_resigned_refresh_token_rotates(self, client, participant):
        pair = tokens(client, participant.email)
        response = client.post(
            REFRESH, json={"refresh_token": self.resigned(pair["refresh_token"])}
        )
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        "overrides",
        [
            {"exp": int(time.time()) - 60},
            {"aud": "another-api"},
            {"iss": "https://evil.example.org"},
            {"iat": int(time.time()) + 3600},
        ],
        ids=["expired", "wrong-aud", "wrong-iss", "issued-in-the-future"],
    )
    def test_a_stored_token_with_a_bad_claim_is_refused(self, client, participant, overrides):
        pair = tokens(client, participant.email)
        token = self.resigned(pair["refresh_token"], **overrides)
        assert_problem(
            client.post(REFRESH, json={"refresh_token": token}), 401, "invalid_refresh_token"
        )
        # Refused before rotation: the genuine token still works.
        genuine = client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert genuine.status_code == 200, genuine.text

    def test_rotation_is_logged(self, client, participant, admin):
        pair = tokens(client, participant.email)
        client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        logged = client.get(
            "/api/v1/audit",
            params={"action": "auth.refreshed", "entity_id": str(participant.id)},
            headers=admin.headers,
        ).json()["items"]
        family = jwt.get_unverified_claims(pair["refresh_token"])["fam"]
        assert [(e["actor_id"], e["data"]) for e in logged] == [
            (str(participant.id), {"family_id": family})
        ]

    def test_anonymous_garbage_token(self, client):
        response = client.post(REFRESH, json={"refresh_token": "not-a-jwt-at-all"})
        assert_problem(response, 401, "invalid_refresh_token")

    def test_forged_refresh_token_never_issued(self, client, participant):
        forged = forge(sub=str(participant.id), typ="refresh", fam=str(uuid.uuid4()))
        token = forged["Authorization"].removeprefix("Bearer ")
        response = client.post(REFRESH, json={"refresh_token": token})
        assert_problem(response, 401, "invalid_refresh_token")

    @pytest.mark.parametrize(
        "body",
        [{}, {"refresh_token": "short"}, {"refresh_token": "x" * 20, "user_id": "1"}],
        ids=["missing", "too-short", "unknown-field"],
    )
    def test_invalid_body(self, client, body):
        assert_problem(client.post(REFRESH, json=body), 422, "validation_error")

    def test_form_body_is_unsupported_media_type(self, client):
        response = client.post(REFRESH, data={"refresh_token": "x" * 20})
        assert_problem(response, 415, "unsupported_media_type")


class TestLogout:
    def test_happy_ends_refresh_and_access_token_of_that_login(self, client, participant):
        pair = tokens(client, participant.email)
        other = tokens(client, participant.email)
        response = client.post(LOGOUT, json={"refresh_token": pair["refresh_token"]})
        assert response.status_code == 204, response.text
        assert response.content == b""

        refreshed = client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert_problem(refreshed, 401, "invalid_refresh_token")
        assert_problem(client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
        # Only that login ends.
        assert client.get(ME, headers=bearer(other["access_token"])).status_code == 200

    def test_anonymous_garbage_token(self, client):
        response = client.post(LOGOUT, json={"refresh_token": "garbage-garbage"})
        assert_problem(response, 401, "invalid_refresh_token")

    def logouts(self, client: Any, admin: Any, person: Any) -> list[dict[str, Any]]:
        page = client.get(
            "/api/v1/audit",
            params={"action": "auth.logout", "entity_id": str(person.id)},
            headers=admin.headers,
        ).json()
        items: list[dict[str, Any]] = page["items"]
        return items

    def test_needs_no_access_token_and_issues_none(self, client, participant):
        pair = tokens(client, participant.email)
        # The refresh token is the credential; a stranger's bearer token changes nothing.
        stranger = tokens(client, participant.email)
        response = client.post(
            LOGOUT,
            json={"refresh_token": pair["refresh_token"]},
            headers=bearer(stranger["access_token"]),
        )
        assert response.status_code == 204, response.text
        assert response.content == b""
        assert "set-cookie" not in response.headers
        assert client.get(ME, headers=bearer(stranger["access_token"])).status_code == 200

    def test_again_is_idempotent_and_logs_once(self, client, participant, admin):
        # A second logout with the same (now revoked) token wrote another auth.logout event.
        pair = tokens(client, participant.email)
        body = {"refresh_token": pair["refresh_token"]}
        for _ in range(3):
            response = client.post(LOGOUT, json=body)
            assert response.status_code == 204, response.text
            assert response.content == b""
        assert len(self.logouts(client, admin, participant)) == 1
        assert_problem(client.post(REFRESH, json=body), 401, "invalid_refresh_token")
        assert_problem(client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")

    def test_a_used_token_ends_its_login(self, client, participant, admin):
        first = tokens(client, participant.email)
        second = client.post(REFRESH, json={"refresh_token": first["refresh_token"]}).json()
        response = client.post(LOGOUT, json={"refresh_token": first["refresh_token"]})
        assert response.status_code == 204, response.text
        assert_problem(
            client.post(REFRESH, json={"refresh_token": second["refresh_token"]}),
            401,
            "invalid_refresh_token",
        )
        assert_problem(client.get(ME, headers=bearer(second["access_token"])), 401)
        assert len(self.logouts(client, admin, participant)) == 1

    def test_after_reuse_detection_changes_nothing(self, client, participant, admin):
        first = tokens(client, participant.email)
        client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
        reused = client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
        assert_problem(reused, 401, "refresh_token_reused")
        response = client.post(LOGOUT, json={"refresh_token": first["refresh_token"]})
        assert response.status_code == 204, response.text
        assert self.logouts(client, admin, participant) == []

    def test_unknown_or_expired_token_is_401(self, client, participant, admin):
        settings = get_settings()
        never_stored, _ = create_token(
            settings,
            subject=str(participant.id),
            token_type="refresh",
            lifetime=timedelta(days=1),
            family_id=uuid.uuid4(),
        )
        expired, _ = create_token(
            settings,
            subject=str(participant.id),
            token_type="refresh",
            lifetime=timedelta(seconds=-60),
            family_id=uuid.uuid4(),
        )
        for token in (never_stored, expired):
            response = client.post(LOGOUT, json={"refresh_token": token})
            assert_problem(response, 401, "invalid_refresh_token")
        assert self.logouts(client, admin, participant) == []

    def test_access_token_is_not_a_refresh_token(self, client, participant):
        pair = tokens(client, participant.email)
        response = client.post(LOGOUT, json={"refresh_token": pair["access_token"]})
        assert_problem(response, 401, "invalid_refresh_token")
        assert client.get(ME, headers=bearer(pair["access_token"])).status_code == 200

    def test_invalid_body(self, client):
        assert_problem(client.post(LOGOUT, json={}), 422, "validation_error")
        assert_problem(client.post(LOGOUT, json=["x"]), 422, "validation_error")


class TestBearerToken:
    """GET /users/me as the probe: every broken token is the same 401."""

    def test_anonymous(self, client):
        response = client.get(ME)
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"

    def test_control_a_well_formed_token_works(self, client, participant):
        assert client.get(ME, headers=forge(sub=str(participant.id))).status_code == 200

    def test_alg_none(self, client, participant):
        token = ".".join(
            [_b64({"alg": "none", "typ": "JWT"}), _b64(claims(sub=str(participant.id))), ""]
        )
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")

    def test_other_hmac_algorithm_with_the_right_secret(self, client, participant):
        headers = forge(sub=str(participant.id), algorithm="HS512")
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    def test_wrong_signature(self, client, participant):
        headers = forge(sub=str(participant.id), secret="another-secret-" * 4)
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    def test_tampered_payload(self, client, participant, admin):
        token = access_headers(participant.id)["Authorization"].removeprefix("Bearer ")
        header, _, signature = token.split(".")
        payload = _b64(claims(sub=str(admin.id)))
        tampered = f"{header}.{payload}.{signature}"
        assert_problem(client.get(ME, headers=bearer(tampered)), 401, "invalid_token")

    def test_expired(self, client, participant):
        now = int(time.time())
        headers = forge(sub=str(participant.id), iat=now - 600, nbf=now - 600, exp=now - 60)
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    def test_issued_in_the_future(self, client, participant):
        now = int(time.time())
        headers = forge(sub=str(participant.id), iat=now + 600, nbf=None, exp=now + 900)
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    def test_a_little_clock_drift_is_tolerated(self, client, participant):
        now = int(time.time())
        headers = forge(sub=str(participant.id), iat=now + 20, nbf=None)
        assert client.get(ME, headers=headers).status_code == 200

    def test_not_yet_valid(self, client, participant):
        now = int(time.time())
        headers = forge(sub=str(participant.id), nbf=now + 600, exp=now + 900)
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    def test_wrong_audience(self, client, participant):
        headers = forge(sub=str(participant.id), aud="another-api")
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    def test_wrong_issuer(self, client, participant):
        headers = forge(sub=str(participant.id), iss="https://evil.example.org")
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    @pytest.mark.parametrize("claim", ["exp", "iat", "aud", "iss", "jti", "sub"])
    def test_missing_required_claim(self, client, participant, claim):
        overrides: dict[str, Any] = {"sub": str(participant.id), claim: None}
        assert_problem(client.get(ME, headers=forge(**overrides)), 401, "invalid_token")

    @pytest.mark.parametrize(
        "overrides",
        [
            {"exp": "tomorrow"},
            {"sub": 42},
            {"jti": "not-a-uuid"},
            {"fam": "not-a-uuid"},
            {"fam": {"nested": True}},
            {"typ": "ACCESS"},
        ],
        ids=["exp-text", "sub-int", "jti", "fam", "fam-object", "typ-case"],
    )
    def test_malformed_claims(self, client, participant, overrides):
        headers = forge(**{"sub": str(participant.id), **overrides})
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    @pytest.mark.parametrize(
        "token",
        [
            _b64({"alg": "HS256"}) + "." + base64.urlsafe_b64encode(b"[1, 2]").decode() + ".sig",
            base64.urlsafe_b64encode(b'["HS256"]').decode() + "." + _b64({"sub": "x"}) + ".sig",
            "a.b.c.d.e",
            "x" * 3000,
        ],
        ids=["payload-list", "header-list", "five-parts", "long"],
    )
    def test_garbage_tokens(self, client, token):
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")

    def test_refresh_token_used_as_access_token(self, client, participant):
        pair = tokens(client, participant.email)
        response = client.get(ME, headers=bearer(pair["refresh_token"]))
        assert_problem(response, 401, "invalid_token")

    def test_token_without_type(self, client, participant):
        headers = forge(sub=str(participant.id), typ=None)
        assert_problem(client.get(ME, headers=headers), 401, "invalid_token")

    @pytest.mark.parametrize(
        "subject", ["8b0c5e0e-3a8f-4f4e-9d57-2f6a4f1b7c11", "not-a-uuid", "sa:not-a-uuid"]
    )
    def test_unknown_or_malformed_subject(self, client, subject):
        assert_problem(client.get(ME, headers=forge(sub=subject)), 401, "invalid_token")

    @pytest.mark.parametrize("value", ["Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz"])
    def test_malformed_authorization_header(self, client, value):
        response = client.get(ME, headers={"Authorization": value})
        assert response.status_code == 401
        assert response.json()["code"] in {"unauthorized", "invalid_token"}


@pytest.fixture(scope="module")
def rsa_pair() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


class TestAlgorithmConfusion:
    """The server knows one HMAC secret; no asymmetric key or key hint in a token is trusted."""

    def test_rs256_signed_by_someone_elses_key(self, client, participant, rsa_pair):
        private, _ = rsa_pair
        token = jwt.encode(claims(sub=str(participant.id)), private.decode(), algorithm="RS256")
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")

    def test_hs256_keyed_with_a_public_key_pem(self, client, participant, rsa_pair):
        """The classic confusion: a verifier that takes "the key" for either family would check
        this HMAC against the public key the attacker also knows."""
        _, public = rsa_pair
        header = _b64({"alg": "HS256", "typ": "JWT"})
        payload = _b64(claims(sub=str(participant.id)))
        signature = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        token = f"{header}.{payload}." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")

    def test_rs256_with_its_own_key_embedded(self, client, participant, rsa_pair):
        from jose import jwk

        private, public = rsa_pair
        embedded = jwk.construct(public.decode(), "RS256").to_dict()
        token = jwt.encode(
            claims(sub=str(participant.id)),
            private.decode(),
            algorithm="RS256",
            headers={"jwk": embedded, "kid": "attacker"},
        )
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")

    @pytest.mark.parametrize("kid", ["../../../../dev/null", "' OR 1=1 --", "0"])
    def test_key_id_is_not_a_lookup(self, client, participant, kid):
        token = jwt.encode(
            claims(sub=str(participant.id)), "", algorithm="HS256", headers={"kid": kid}
        )
        assert_problem(client.get(ME, headers=bearer(token)), 401, "invalid_token")


class TestDeactivatedUser:
    def test_tokens_stop_working_and_login_fails(self, client, admin, make_user):
        person = make_user(Role.participant)
        pair = tokens(client, person.email)

        response = client.patch(
            f"/api/v1/users/{person.id}", json={"is_active": False}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["is_active"] is False

        assert_problem(client.get(ME, headers=person.headers), 401, "invalid_token")
        assert_problem(client.get(ME, headers=bearer(pair["access_token"])), 401, "invalid_token")
        refreshed = client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert_problem(refreshed, 401, "invalid_refresh_token")
        # Same answer as a wrong password: a deactivated account is not confirmed to exist.
        failed = login(client, person.email)
        assert_problem(failed, 401, "invalid_credentials")
        assert failed.json() == login(client, "nobody@example.org").json()

        # Reactivation lets the person log in again, but the old login stays dead.
        client.patch(f"/api/v1/users/{person.id}", json={"is_active": True}, headers=admin.headers)
        assert login(client, person.email).status_code == 200
        again = client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
        assert_problem(again, 401, "invalid_refresh_token")


class TestDevelopmentKey:
    """A server started without PROJOFFICE_JWT_SECRET signs with a key of its own, not with one
    anyone can read in the code."""

    FORMER_DEFAULT = "change-me-development-only-secret-0123456789"

    @pytest.fixture
    def development_server(self, monkeypatch, tmp_path):
        monkeypatch.setenv("PROJOFFICE_ENV", "development")
        monkeypatch.delenv("PROJOFFICE_JWT_SECRET")
        monkeypatch.setattr(config, "DEVELOPMENT_SECRET_FILE", tmp_path / "jwt-secret")
        get_settings.cache_clear()
        yield get_settings()
        get_settings.cache_clear()

    def test_a_token_signed_with_the_former_default_key_is_refused(
        self, client, admin, development_server
    ):
        assert development_server.signing_key != self.FORMER_DEFAULT
        forged = forge(secret=self.FORMER_DEFAULT, sub=str(admin.id))
        assert_problem(client.get(ME, headers=forged), 401, "invalid_token")
        issued = login(client, admin.email).json()["access_token"]
        assert client.get(ME, headers=bearer(issued)).status_code == 200
