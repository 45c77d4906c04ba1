"""Memory of the server while it streams the audit log as CSV (`GET /api/v1/audit`, text/csv).

A throw-away database (SQLite file, or a fresh database on the PostgreSQL server given by
--database-url) is built by Alembic, gets one administrator and N events (bulk insert, default
1 000 000), and `projoffice serve` answers on a loopback port. After a warm-up (a JSON page and
a small CSV), the server's resident memory (VmRSS of its process) is sampled every 20 ms while
the whole log is downloaded and counted. The target (issue 7): growth under 100 MB.

    .venv/bin/python -m bench.audit_csv_memory                          # SQLite
    .venv/bin/python -m bench.audit_csv_memory --database-url postgresql://postgres@127.0.0.1/postgres
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ADMIN_EMAIL = "bench-admin@example.org"
ADMIN_PASSWORD = "bench-password"
TARGET_MB = 100
ACTIONS = [
    ("initiative.created", "initiative"),
    ("initiative.transitioned", "initiative"),
    ("review.submitted", "review"),
    ("user.updated", "user"),
    ("network_event.created", "network_event"),
    ("charter.amendment_voted", "amendment"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def throwaway_database(server_url: str | None, workdir: Path) -> Iterator[str]:
    if not server_url:
        yield f"sqlite:///{workdir / 'audit.db'}"
        return
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"projoffice_bench_audit_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def fill_events(database_url: str, count: int) -> float:
    """Bulk insert `count` events shaped like the services' (actors, entities, JSON diffs)."""
    from app.db import build_engine
    from app.models import Event

    started = time.perf_counter()
    rng = random.Random(7)
    actors = [uuid.uuid4() for _ in range(500)]
    start = datetime(2021, 9, 1, tzinfo=UTC)
    engine = build_engine(database_url)
    batch = 10_000
    with engine.begin() as conn:
        for first in range(0, count, batch):
            rows = []
            for n in range(first, min(first + batch, count)):
                action, entity_type = ACTIONS[n % len(ACTIONS)]
                rows.append(
                    {
                        "at": start + timedelta(seconds=n * 90),
                        "actor_id": rng.choice(actors),
                        "actor_kind": "user",
                        "action": action,
                        "entity_type": entity_type,
                        "entity_id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "data": {
                            "changes": {
                                "title": [f"Замысел № {n}", f"Проект «Сеть» № {n}"],
                                "status": ["submitted", "expertise"],
                            },
                            "comment": "Отправлено на экспертизу после консультации",
                        },
                    }
                )
            conn.execute(insert(Event), rows)
            print(f"\r  events: {min(first + batch, count):>9,}", end="", flush=True)
    print()
    engine.dispose()
    return time.perf_counter() - started


@contextlib.contextmanager
def server(env: dict[str, str], port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "projoffice"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{log.read_text()[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).is_success:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become ready in 60 s")
            time.sleep(0.2)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(base: str, pid: int, headers: dict[str, str]) -> dict[str, float]:
    samples: list[float] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append(rss_mb(pid))
            time.sleep(0.02)

    baseline = rss_mb(pid)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    size = lines = 0
    started = time.perf_counter()
    try:
        with httpx.stream(
            "GET", f"{base}/api/v1/audit", headers={**headers, "Accept": "text/csv"}, timeout=600
        ) as response:
            response.raise_for_status()
            for chunk in response.iter_raw():
                size += len(chunk)
                lines += chunk.count(b"\r\n")
    finally:
        done.set()
        sampler.join()
    seconds = time.perf_counter() - started
    peak = max(samples, default=baseline)
    return {
        "rows": lines - 1,  # the header
        "megabytes": size / 1e6,
        "seconds": seconds,
        "rss_before_mb": baseline,
        "rss_peak_mb": peak,
        "rss_growth_mb": peak - baseline,
        "rss_after_mb": rss_mb(pid),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="a PostgreSQL server (default: SQLite)")
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="projoffice-bench-audit-"))
    try:
        with throwaway_database(args.database_url, workdir) as database_url:
            env = {
                **os.environ,
                "PROJOFFICE_DATABASE_URL": database_url,
                "PROJOFFICE_ENV": "test",
                "PROJOFFICE_LOG_LEVEL": "WARNING",
            }
            database = make_url(database_url).get_backend_name()
            print(f"database: {database}; building the schema and one administrator")
            subprocess.run([str(BIN / "projoffice"), "migrate"], env=env, check=True)
            admin = ["create-admin", "--email", ADMIN_EMAIL, "--password", ADMIN_PASSWORD]
            subprocess.run([str(BIN / "projoffice"), *admin], env=env, check=True)
            os.environ["PROJOFFICE_DATABASE_URL"] = database_url
            fill_seconds = fill_events(database_url, args.events)
            print(f"  filled in {fill_seconds:.0f} s")
            port = free_port()
            base = f"http://127.0.0.1:{port}"
            with server(env, port, workdir / "server.log") as process:
                form = {"grant_type": "password", "username": ADMIN_EMAIL}
                form["password"] = ADMIN_PASSWORD
                login = httpx.post(f"{base}/api/v1/auth/token", data=form, timeout=60)
                login.raise_for_status()
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                # Warm-up: imports, the pool's first connections, a first small CSV.
                httpx.get(f"{base}/api/v1/audit", headers=headers, timeout=60).raise_for_status()
                httpx.get(
                    f"{base}/api/v1/audit",
                    params={"format": "csv", "action": "user.created"},
                    headers=headers,
                    timeout=60,
                ).raise_for_status()
                figures = measure(base, process.pid, headers)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ok = figures["rows"] >= args.events and figures["rss_growth_mb"] < TARGET_MB
    print(json.dumps({"database": database, "events": args.events} | figures, indent=2))
    print(
        f"{database}: {figures['rows']:,} rows, {figures['megabytes']:.0f} MB of CSV in "
        f"{figures['seconds']:.1f} s ({figures['rows'] / figures['seconds']:,.0f} rows/s); "
        f"server RSS {figures['rss_before_mb']:.0f} → peak {figures['rss_peak_mb']:.0f} MB, "
        f"growth {figures['rss_growth_mb']:.1f} MB (target < {TARGET_MB} MB): "
        + ("OK" if ok else "MISSED")
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
