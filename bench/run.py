"""Throughput of `GET /api/v1/users` (first page of 50, filtered) against the raw baseline.

For each database: a fresh database is seeded with 100 000 people (bench/seed_users.py), our
API (uvicorn, `app.main:create_app`) and the baseline (bench/baseline.py) are started on
loopback ports with the same number of workers, our API is called with a real bearer token
from `POST /api/v1/auth/token`, both pages are checked to be the same JSON, and then `wrk`
drives each of them in turn (warm-up, then alternating rounds). The result is our requests/s
as a ratio of the baseline's. Everything is bounded in time and stays on 127.0.0.1.

    .venv/bin/python -m bench.run                     # SQLite and PostgreSQL
    .venv/bin/python -m bench.run --databases sqlite  # just one

Without `wrk` on PATH, an asyncio httpx driver takes over (slower than the servers, so its
ratios are only indicative).
"""

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from bench.seed_users import BENCH_EMAIL, BENCH_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float = 0.0


@dataclass
class Result:
    database: str
    target: str
    samples: list[Sample]

    @property
    def rps(self) -> float:
        return statistics.median(s.rps for s in self.samples)

    @property
    def p50_ms(self) -> float:
        return statistics.median(s.p50_ms for s in self.samples)

    @property
    def p99_ms(self) -> float:
        return statistics.median(s.p99_ms for s in self.samples)

    @property
    def cpu_ms(self) -> float:
        return statistics.median(s.cpu_ms_per_request for s in self.samples)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind((HOST, 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


# --- databases -------------------------------------------------------------------------------


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bench-sqlite.db"
    for leftover in directory.glob("bench-sqlite.db*"):
        leftover.unlink()
    try:
        yield f"sqlite:///{path}"
    finally:
        for leftover in directory.glob("bench-sqlite.db*"):
            leftover.unlink()


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"projoffice_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'"))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- servers ---------------------------------------------------------------------------------


def cpu_seconds(session_id: int) -> float:
    """CPU time (user + system) used so far by every process of a server's session."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session_id:  # field 6 of stat, the session id
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


@contextmanager
def server(target: str, env: dict[str, str], port: int, workers: int) -> Iterator[int]:
    command = [
        PYTHON, "-m", "uvicorn", target, "--factory",
        "--host", HOST, "--port", str(port), "--workers", str(workers),
        "--loop", "uvloop", "--http", "httptools",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
    try:
        yield process.pid
    finally:
        # The server runs in a session of its own: its workers go down with it.
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_ready(url: str, headers: dict[str, str] | None = None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{url} did not come up in {timeout:.0f} s")


def sign_in(base: str) -> str:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"grant_type": "password", "username": BENCH_EMAIL, "password": BENCH_PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


# --- load ------------------------------------------------------------------------------------

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def drive_wrk(url: str, headers: dict[str, str], seconds: int, connections: int) -> Sample:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    ).stdout
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return Sample(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(percentiles["50"]),
        p99_ms=_ms(percentiles["99"]),
        requests=int(re.search(r"(\d+) requests in", output).group(1)),  # type: ignore[union-attr]
        errors=(int(errors.group(1)) if errors else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    )


def drive_httpx(url: str, headers: dict[str, str], seconds: int, connections: int) -> Sample:
    async def main() -> Sample:
        latencies: list[float] = []
        errors = 0
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        async with httpx.AsyncClient(headers=headers, limits=limits, timeout=10) as client:
            deadline = time.perf_counter() + seconds

            async def worker() -> None:
                nonlocal errors
                while (start := time.perf_counter()) < deadline:
                    response = await client.get(url)
                    latencies.append((time.perf_counter() - start) * 1000)
                    errors += response.status_code >= 300

            began = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(connections)))
            elapsed = time.perf_counter() - began
        latencies.sort()
        return Sample(
            rps=len(latencies) / elapsed,
            p50_ms=latencies[len(latencies) // 2],
            p99_ms=latencies[int(len(latencies) * 0.99)],
            requests=len(latencies),
            errors=errors,
        )

    return asyncio.run(main())


# --- the bench -------------------------------------------------------------------------------


def same_page(ours: dict[str, Any], baseline: dict[str, Any]) -> None:
    if ours != baseline:
        for key in ("next_cursor",):
            if ours.get(key) != baseline.get(key):
                print(f"  {key}: ours {ours.get(key)!r} != baseline {baseline.get(key)!r}")
        for a, b in zip(ours.get("items", []), baseline.get("items", []), strict=False):
            if a != b:
                print(f"  first differing item:\n    ours     {a}\n    baseline {b}")
                break
        raise SystemExit("our page and the baseline's differ: the comparison would be unfair")


def bench_database(name: str, database_url: str, args: argparse.Namespace) -> list[Result]:
    if not args.seeded_url:
        print(f"\n=== {name}: seeding {args.users} people", flush=True)
        subprocess.run(
            [PYTHON, "-m", "bench.seed_users", "--database-url", database_url,
             "--users", str(args.users)],
            cwd=ROOT, check=True,
        )  # fmt: skip
    ours_port, base_port = free_ports(2)
    ours_env = {
        "PROJOFFICE_DATABASE_URL": database_url,
        "PROJOFFICE_LOG_LEVEL": "WARNING",
        "PROJOFFICE_ENV": "development",
    }
    base_env = {"BENCH_DATABASE_URL": database_url}
    query = args.query
    ours_url = f"http://{HOST}:{ours_port}/api/v1/users?{query}&limit=50"
    base_url = f"http://{HOST}:{base_port}/users?{query}&limit=50"
    drive = drive_wrk if shutil.which("wrk") and not args.httpx else drive_httpx
    with (
        server("app.main:create_app", ours_env, ours_port, args.workers) as ours_sid,
        server("bench.baseline:create_app", base_env, base_port, args.workers) as base_sid,
    ):
        wait_ready(f"http://{HOST}:{ours_port}/health/live")
        wait_ready(base_url)
        headers = {"Authorization": f"Bearer {sign_in(f'http://{HOST}:{ours_port}')}"}
        ours_page = httpx.get(ours_url, headers=headers, timeout=10)
        ours_page.raise_for_status()
        same_page(ours_page.json(), httpx.get(base_url, timeout=10).json())
        print(f"same page from both ({len(ours_page.content)} bytes); driver {drive.__name__}")
        targets = {"ours": (ours_url, headers, ours_sid), "baseline": (base_url, {}, base_sid)}
        for url, hdrs, _ in targets.values():
            drive(url, hdrs, args.warmup, args.connections)
        results = {target: Result(name, target, []) for target in targets}
        for round_no in range(args.rounds):
            order = list(targets) if round_no % 2 == 0 else list(reversed(targets))
            for target in order:
                url, hdrs, sid = targets[target]
                cpu_before = cpu_seconds(sid)
                sample = drive(url, hdrs, args.duration, args.connections)
                cpu = cpu_seconds(sid) - cpu_before
                sample.cpu_ms_per_request = 1000 * cpu / max(sample.requests, 1)
                if sample.errors:
                    raise SystemExit(f"{target}: {sample.errors} failed requests")
                results[target].samples.append(sample)
                print(
                    f"  round {round_no + 1} {target:<8} {sample.rps:9.1f} req/s  "
                    f"p50 {sample.p50_ms:6.2f} ms  p99 {sample.p99_ms:6.2f} ms  "
                    f"CPU {sample.cpu_ms_per_request:5.2f} ms/req  "
                    f"load {os.getloadavg()[0]:.2f}",
                    flush=True,
                )
    return list(results.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, each server")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per round")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--query", default="role=participant", help="filter of the page")
    parser.add_argument("--httpx", action="store_true", help="use the httpx driver, not wrk")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--seeded-url", help="bench this already seeded database instead (kept as it is)"
    )
    args = parser.parse_args()

    results: list[Result] = []
    if args.seeded_url:
        name = "sqlite" if args.seeded_url.startswith("sqlite") else "postgres"
        results += bench_database(name, args.seeded_url, args)
    for name in [] if args.seeded_url else args.databases.split(","):
        if name == "sqlite":
            with sqlite_database(ROOT / "var" / "bench") as url:
                results += bench_database(name, url, args)
        elif name == "postgres":
            with postgres_database(args.postgres_url) as url:
                results += bench_database(name, url, args)
        else:
            raise SystemExit(f"unknown database {name!r}")

    print(
        f"\n{args.users} people, GET ?{args.query}&limit=50, {args.workers} worker(s) each, "
        f"{args.connections} connections, {args.rounds} x {args.duration} s (medians); "
        "load average now {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())
    )
    print(
        f"{'database':<10} {'target':<9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms/req':>10} {'ratio':>6}"
    )
    summary: list[dict[str, Any]] = []
    for ours, baseline in zip(results[::2], results[1::2], strict=True):
        ratio = ours.rps / baseline.rps
        for result in (ours, baseline):
            print(
                f"{result.database:<10} {result.target:<9} {result.rps:9.1f} "
                f"{result.p50_ms:8.2f} {result.p99_ms:8.2f} {result.cpu_ms:10.2f} "
                + (f"{ratio:5.2f}x" if result is ours else "")
            )
        summary.append(
            {
                "database": ours.database,
                "ratio": round(ratio, 3),
                "ours": [asdict(s) for s in ours.samples],
                "baseline": [asdict(s) for s in baseline.samples],
            }
        )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(summary, indent=2) + "\n")


if __name__ == "__main__":
    main()
