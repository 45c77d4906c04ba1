"""Schemathesis against a live server, once per role and once anonymous.

    .venv/bin/python scripts/fuzz_api.py [--database-url URL] [--max-examples N] [--seed N]

A throw-away database (SQLite file, or a fresh database on the PostgreSQL server given by
--database-url) is built by Alembic and filled with the demo data; `projoffice serve` answers on a
free loopback port; every demo role logs in with the demo password. Then `st run` tests every
operation of the served OpenAPI document with each token (and without one), with all of
Schemathesis' default checks as configured in schemathesis.toml. Exit status 1 on any failure;
the number of generated test cases is printed per role and in total.
"""

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# The least privileged first and the administrator last: whatever a run changes (deactivating
# people, say) cannot take the ground from under the runs after it.
ROLES = [
    ("anonymous", None),
    ("observer", "observer@example.org"),
    ("participant", "teacher@example.org"),
    ("expert", "expert@example.org"),
    ("office_member", "member@example.org"),
    ("office_head", "head@example.org"),
    ("admin", "admin@example.org"),
]
# Two runs at a time (2 cores: one `st` each, the server between them); the administrator alone.
GROUPS = [
    ("anonymous", "observer"),
    ("participant", "expert"),
    ("office_member", "office_head"),
    ("admin",),
]
DEMO_PASSWORD = "demo-password"
AUTH_PATHS = "^/api/v1/auth/"


@dataclass
class RunResult:
    role: str
    exit_code: int
    operations: int
    untested: int
    cases: int
    failures: int
    errors: int
    seconds: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def throwaway_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    if not server_url:
        yield f"sqlite:///{workdir / 'fuzz.db'}"
        return
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"projoffice_fuzz_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def live_server(env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    base = f"http://127.0.0.1:{port}"
    with log.open("w") as out:
        server = subprocess.Popen(  # noqa: S603 (our own executables)
            [str(BIN / "projoffice"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/ready", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready in 60 s")
            time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def login(base: str, email: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": DEMO_PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def run_schemathesis(
    base: str, role: str, token: str | None, args: argparse.Namespace, workdir: Path
) -> tuple[RunResult, str]:
    report = workdir / f"{role}.json"
    command = [
        str(BIN / "st"),
        "--config-file",
        str(ROOT / "schemathesis.toml"),
        "run",
        f"{base}/openapi.json",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    if token:
        # Signing in, refreshing and signing out do not depend on the caller's token; they are
        # fuzzed once, in the anonymous run (each login costs an Argon2 hash).
        command += ["--header", f"Authorization: Bearer {token}"]
        command += ["--exclude-path-regex", AUTH_PATHS]
    else:
        # Without a token every operation answers 401 before it reads a parameter: the coverage
        # phase's boundary values would only say that again, at length.
        command += ["--phases", "examples,fuzzing,stateful"]
    started = time.monotonic()
    completed = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, cwd=workdir, check=False
    )
    seconds = time.monotonic() - started
    output = completed.stdout + completed.stderr
    if completed.returncode == 0:
        # When all is well the summary is enough; on failure the whole report is shown.
        output = output[output.rfind("SUMMARY") :] if "SUMMARY" in output else output[-2000:]
        output = "\n".join(line for line in output.splitlines() if line.strip())
    try:
        data = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        return RunResult(role, completed.returncode or 1, 0, 0, 0, 0, 1, seconds), output
    cases = data["test_cases"]
    result = RunResult(
        role=role,
        exit_code=completed.returncode,
        operations=data["operations"]["tested"],
        # Every operation is tested (by the anonymous run; the others leave out /auth/):
        # none filtered, skipped or errored.
        untested=data["operations"]["selected" if token else "total"]
        - data["operations"]["tested"],
        cases=cases["generated"],
        failures=cases["unique_failures"],
        errors=cases["errored"] + data["operations"]["errored"],
        seconds=seconds,
    )
    return result, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL server to create the throw-away database on (default: SQLite)",
    )
    parser.add_argument("--max-examples", type=int, default=5, help="per operation and phase")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "20261128")))
    parser.add_argument("--workers", type=int, default=1, help="of each `st run`")
    parser.add_argument("--roles", help="a comma-separated subset of: " + ", ".join(dict(ROLES)))
    args = parser.parse_args()
    chosen = set(args.roles.split(",")) if args.roles else {r for r, _ in ROLES}

    workdir = Path(tempfile.mkdtemp(prefix="projoffice-fuzz-"))
    results: list[RunResult] = []
    tracebacks = 0
    try:
        with throwaway_database(args.database_url, workdir) as database_url:
            env = {
                **os.environ,
                "PROJOFFICE_ENV": "test",
                "PROJOFFICE_DATABASE_URL": database_url,
                "PROJOFFICE_ACCESS_TOKEN_MINUTES": "240",
                "PROJOFFICE_LOG_LEVEL": "WARNING",
                "PROJOFFICE_DOCS_ENABLED": "true",
            }
            for step in (["migrate"], ["demo-data"]):
                subprocess.run(  # noqa: S603
                    [str(BIN / "projoffice"), *step], env=env, check=True, capture_output=True
                )
            log = workdir / "server.log"
            with live_server(env, free_port(), log) as base:
                tokens = {role: login(base, email) if email else None for role, email in ROLES}
                for group in GROUPS:
                    roles = [role for role in group if role in chosen]
                    with ThreadPoolExecutor(max_workers=len(roles) or 1) as pool:
                        runs = [
                            pool.submit(run_schemathesis, base, role, tokens[role], args, workdir)
                            for role in roles
                        ]
                        for run in runs:
                            result, output = run.result()
                            print(f"\n--- schemathesis as {result.role}\n{output}", flush=True)
                            results.append(result)
            tracebacks = log.read_text().count("Traceback")
            if tracebacks:
                print(f"\nThe server logged {tracebacks} tracebacks; the end of its log:")
                print(log.read_text()[-6000:])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"\n{'role':<14} {'operations':>10} {'untested':>8} {'cases':>8} {'failures':>9} "
        f"{'errors':>7} {'seconds':>8}"
    )
    for r in results:
        print(
            f"{r.role:<14} {r.operations:>10} {r.untested:>8} {r.cases:>8} {r.failures:>9} "
            f"{r.errors:>7} {r.seconds:>8.0f}"
        )
    total_cases = sum(r.cases for r in results)
    total_failures = sum(r.failures + r.errors + r.untested for r in results) + tracebacks
    print(
        f"schemathesis: {total_cases} test cases generated in {len(results)} runs, "
        f"{total_failures} failures (seed {args.seed}, max {args.max_examples} examples)"
    )
    ok = results and all(r.exit_code == 0 for r in results) and not total_failures
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
