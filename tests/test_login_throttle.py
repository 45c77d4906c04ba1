"""Brute force on POST /auth/token: per account and per client address, in the database, without
telling who has an account (by status, body or time)."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session

from app import security
from app.config import Settings, get_settings
from app.db import get_engine
from app.models.auth import LoginThrottle
from app.services import auth, login_throttle
from tests.factories import PASSWORD, assert_problem

TOKEN = "/api/v1/auth/token"
ROOT = Path(__file__).resolve().parent.parent


def login(client: Any, email: str, password: str = PASSWORD) -> Any:
    return client.post(
        TOKEN, data={"grant_type": "password", "username": email, "password": password}
    )


def _cheap_verify(password: str, hashed: str | None) -> bool:
    return hashed is not None and password == PASSWORD


@pytest.fixture
def limits(monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Small limits for these tests, on the settings object every request reads. The password
    check is a plain comparison here (Argon2 costs a tenth of a second a try); the timing test
    and the two-process test keep the real one."""
    monkeypatch.setattr(auth, "verify_password", _cheap_verify)
    settings = get_settings()
    monkeypatch.setattr(settings, "login_max_failures", 3)
    monkeypatch.setattr(settings, "login_max_failures_per_address", 8)
    monkeypatch.setattr(settings, "login_window_seconds", 600)
    monkeypatch.setattr(settings, "login_lockout_seconds", 300)
    return settings


def throttle_rows() -> list[LoginThrottle]:
    with Session(get_engine()) as session:
        return list(session.scalars(select(LoginThrottle)).all())


def shift_rows(**moved: timedelta) -> None:
    """Move the stored moments into the past, as if that much time had gone by."""
    with Session(get_engine()) as session:
        for row in session.scalars(select(LoginThrottle)).all():
            for name, delta in moved.items():
                value = getattr(row, name)
                if value is not None:
                    setattr(row, name, value - delta)
        session.commit()


class TestPerAccount:
    def test_locked_after_the_limit_even_for_the_right_password(self, client, participant, limits):
        for _ in range(3):
            assert_problem(login(client, participant.email, "wrong-password"), 401)
        locked = login(client, participant.email)
        problem = assert_problem(locked, 429, "too_many_login_attempts")
        assert 0 < int(locked.headers["retry-after"]) <= limits.login_lockout_seconds
        assert problem["detail"] == login_throttle.TOO_MANY_ATTEMPTS
        assert "access_token" not in locked.text

    def test_the_email_is_normalised_like_the_login(self, client, participant, limits):
        for spelling in (participant.email.upper(), f"  {participant.email} ", participant.email):
            assert_problem(login(client, spelling, "wrong-password"), 401)
        assert_problem(login(client, participant.email), 429)

    def test_success_resets_the_account_counter(self, client, participant, limits):
        for _ in range(2):
            assert_problem(login(client, participant.email, "wrong-password"), 401)
        assert login(client, participant.email).status_code == 200
        for _ in range(2):
            assert_problem(login(client, participant.email, "wrong-password"), 401)
        assert login(client, participant.email).status_code == 200

    def test_lock_ends_after_the_lockout(self, client, participant, limits):
        for _ in range(3):
            login(client, participant.email, "wrong-password")
        assert_problem(login(client, participant.email), 429)
        shift_rows(locked_until=timedelta(seconds=limits.login_lockout_seconds + 1))
        # A fresh start: one more failure is a 401, not straight back to 429.
        assert_problem(login(client, participant.email, "wrong-password"), 401)
        assert login(client, participant.email).status_code == 200

    def test_failures_outside_the_window_stop_counting(self, client, participant, limits):
        for _ in range(2):
            login(client, participant.email, "wrong-password")
        shift_rows(
            window_started_at=timedelta(seconds=limits.login_window_seconds + 1),
            expires_at=timedelta(seconds=limits.login_window_seconds + 1),
        )
        for _ in range(2):
            assert_problem(login(client, participant.email, "wrong-password"), 401)
        assert login(client, participant.email).status_code == 200

    def test_other_accounts_are_not_affected(self, client, participant, make_user, limits):
        other = make_user()
        for _ in range(3):
            login(client, participant.email, "wrong-password")
        assert login(client, other.email).status_code == 200

    def test_client_credentials_are_counted_too(self, client, limits):
        data = {"grant_type": "client_credentials", "client_id": "po-x", "client_secret": "nope"}
        for _ in range(3):
            assert_problem(client.post(TOKEN, data=data), 401, "invalid_client")
        assert_problem(client.post(TOKEN, data=data), 429, "too_many_login_attempts")

    def test_no_email_is_stored(self, client, participant, limits):
        login(client, participant.email, "wrong-password")
        login(client, "nobody-at-all@example.org", "wrong-password")
        rows = throttle_rows()
        assert len(rows) == 3  # two accounts and one address
        stored = " ".join(f"{r.key}" for r in rows)
        assert "@" not in stored
        assert "testclient" not in stored


class TestPerAddress:
    def test_many_accounts_from_one_address_lock_the_address(
        self, app, client, participant, limits
    ):
        for n in range(limits.login_max_failures_per_address):
            assert_problem(login(client, f"guess{n}@example.org", "wrong-password"), 401)
        # Even a right password from that address waits now…
        assert_problem(login(client, participant.email), 429, "too_many_login_attempts")
        # …while the same person from another address signs in.
        with TestClient(app, client=("198.51.100.7", 40000)) as elsewhere:
            assert login(elsewhere, participant.email).status_code == 200


class TestNoEnumeration:
    def test_unknown_email_and_wrong_password_answer_alike_all_the_way_to_the_lock(
        self, client, participant, limits
    ):
        def run(email: str) -> list[tuple[int, dict[str, Any], str | None]]:
            answers = []
            for _ in range(limits.login_max_failures + 1):
                response = login(client, email, "wrong-password")
                body = response.json()
                body.pop("instance")
                answers.append((response.status_code, body, response.headers.get("retry-after")))
            return answers

        known = run(participant.email)
        unknown = run("nobody-at-all@example.org")
        assert [a[0] for a in known] == [401, 401, 401, 429]
        assert [a[:2] for a in known] == [a[:2] for a in unknown]
        assert [a[2] is None for a in known] == [a[2] is None for a in unknown]

    def test_both_misses_cost_one_argon2_verification(self, client, participant, monkeypatch):
        """What makes the two misses take the same time is the work they do: each verifies one
        argon2 hash of the same parameters (an unknown email against a dummy hash). Counted,
        not timed: a wall-clock comparison fails on a busy machine for no fault of the code."""
        monkeypatch.setattr(get_settings(), "login_max_failures", 1000)
        monkeypatch.setattr(get_settings(), "login_max_failures_per_address", 1000)
        verified: list[str] = []
        real_verify = security.password_hasher.verify

        def counting_verify(password: str, hashed: str) -> bool:
            verified.append(hashed)
            return real_verify(password, hashed)

        monkeypatch.setattr(security.password_hasher, "verify", counting_verify)
        for email in (participant.email, "nobody-at-all@example.org"):
            verified.clear()
            assert login(client, email, "wrong-password").status_code == 401
            assert len(verified) == 1, email
            # The same argon2 variant and cost parameters: "$argon2id$v=19$m=…,t=…,p=…$".
            params = verified[0].split("$")[1:4]
            assert params == security._DUMMY_HASH.split("$")[1:4]


class TestCost:
    def test_a_clean_login_reads_the_throttle_once(self, client, participant, count_queries):
        assert login(client, participant.email).status_code == 200
        touching = [s for s in count_queries.statements if "login_throttle" in s]
        assert len(touching) == 1
        assert touching[0].lstrip().upper().startswith("SELECT")

    def test_concurrent_failures_are_all_counted(self, participant, is_postgres):
        """The upsert is atomic: parallel failures from several processes lose no count."""
        settings = get_settings().model_copy(
            update={"login_max_failures": 1000, "login_max_failures_per_address": 1000}
        )
        keys = login_throttle.keys_for(account=participant.email, address="203.0.113.5")
        barrier = threading.Barrier(8)
        errors: list[BaseException] = []

        def fail() -> None:
            try:
                with Session(get_engine()) as session:
                    barrier.wait()
                    login_throttle.record_failure(session, settings, keys=keys)
                    session.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=fail) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        counts = {r.key: r.failures for r in throttle_rows()}
        assert counts == {keys.account: 8, keys.address: 8}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def second_process(database: str) -> Iterator[str]:
    """Another API process on the same database, as a deployment with several workers has."""
    port = _free_port()
    env = {
        **os.environ,
        "PROJOFFICE_DATABASE_URL": database,
        "PROJOFFICE_ENV": "test",
        "PROJOFFICE_LOGIN_MAX_FAILURES": "3",
        "PROJOFFICE_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--log-level", "warning"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, "the second API process exited"
            assert time.monotonic() < deadline, "the second API process did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_lock_holds_across_api_processes(client, participant, limits, second_process):
    with httpx.Client(base_url=second_process, timeout=10) as other:
        for _ in range(2):
            assert login(other, participant.email, "wrong-password").status_code == 401
        assert_problem(login(client, participant.email, "wrong-password"), 401)
        # Three failures, two of them in the other process: both processes now refuse.
        assert_problem(login(client, participant.email), 429)
        refused = login(other, participant.email)
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) > 0


def test_the_table_holds_only_current_rows(client, participant, limits):
    """Failures sweep rows whose window and lockout are over, so guesses do not pile up."""
    for n in range(3):
        login(client, f"guess{n}@example.org", "wrong-password")
    shift_rows(
        window_started_at=timedelta(hours=1),
        expires_at=timedelta(hours=1),
    )
    login(client, participant.email, "wrong-password")
    assert len(throttle_rows()) == 2  # this account and the address
