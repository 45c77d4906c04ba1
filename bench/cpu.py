"""CPU milliseconds per request of a list page, ours against its raw baseline, in one process.

No HTTP, no load driver: both ASGI apps are called directly on one uvloop loop, one request at
a time, alternating batches, and each batch's process CPU time is divided by its requests; the
least of the batches is reported (what the code costs, less what the shared machine's other
work adds). The same page must come back from both, byte for byte. A seeded database is needed
(`bench.seed_users`, or `bench.seed_large` for `--initiatives`); nothing is written to it.

    .venv/bin/python -m bench.cpu sqlite:///var/bench/bench-sqlite.db
    .venv/bin/python -m bench.cpu postgresql://postgres@127.0.0.1:5432/DB --initiatives

Wall-clock profiles of the same loop: `py-spy record -f raw -o out.txt -- python -m bench.cpu`.
"""

import argparse
import os
import time
from datetime import timedelta
from typing import Any

import uvloop

Scope = dict[str, Any]


def _scope(path: str, query: str, headers: list[tuple[bytes, bytes]]) -> Scope:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"bench"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }


async def _call(app: Any, scope: Scope) -> tuple[int, bytes]:
    status = 0
    body: list[bytes] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        else:
            body.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(body)


def _actor(initiatives: bool) -> str:
    from sqlalchemy import text

    from app.db import get_engine
    from bench.seed_users import BENCH_EMAIL

    # The users bench signs in as its office head; the initiatives baseline serves an office
    # person who is no admin.
    sql = (
        "SELECT u.id FROM app_user u JOIN user_role r ON r.user_id = u.id "
        "WHERE r.role = 'office_head' AND NOT EXISTS (SELECT 1 FROM user_role a "
        "WHERE a.user_id = u.id AND a.role = 'admin') ORDER BY u.email LIMIT 1"
        if initiatives
        else f"SELECT id FROM app_user WHERE email = '{BENCH_EMAIL}'"
    )
    with get_engine().connect() as connection:
        return str(connection.execute(text(sql)).scalar_one())


async def _main(args: argparse.Namespace) -> None:
    from app.config import get_settings
    from app.main import create_app
    from app.security import create_token

    actor = _actor(args.initiatives)
    if args.initiatives:
        os.environ["BENCH_ACTOR_ID"] = actor
        from bench.baseline_initiatives import create_app as create_baseline

        path, query = "/initiatives", args.query or "limit=50"
    else:
        from bench.baseline import create_app as create_baseline

        path, query = "/users", args.query or "role=participant&limit=50"
    token, _ = create_token(
        get_settings(), subject=actor, token_type="access", lifetime=timedelta(hours=1)
    )
    ours, baseline = create_app(), create_baseline()
    bearer = [(b"authorization", b"Bearer " + token.encode())]
    targets = {
        "ours": (ours, _scope(f"/api/v1{path}", query, bearer)),
        "baseline": (baseline, _scope(path, query, [])),
    }
    async with ours.router.lifespan_context(ours), baseline.router.lifespan_context(baseline):
        pages = {name: await _call(app, scope) for name, (app, scope) in targets.items()}
        if pages["ours"] != pages["baseline"] or pages["ours"][0] != 200:
            raise SystemExit(f"the pages differ: {pages['ours'][:1]} {pages['baseline'][:1]}")
        for app, scope in targets.values():
            for _ in range(50):
                await _call(app, scope)
        cpu: dict[str, list[float]] = {name: [] for name in targets}
        for _ in range(args.batches):
            for name, (app, scope) in targets.items():
                started = time.process_time()
                for _ in range(args.requests):
                    await _call(app, scope)
                cpu[name].append((time.process_time() - started) / args.requests * 1000)
    best = {name: min(values) for name, values in cpu.items()}
    print(
        f"GET {path}?{query}: {len(pages['ours'][1])} bytes, the same from both; "
        f"CPU ms/request, least of {args.batches} batches of {args.requests}: "
        f"ours {best['ours']:.3f}, baseline {best['baseline']:.3f}, "
        f"ratio {best['baseline'] / best['ours']:.2f}; "
        "load average {:.2f}".format(os.getloadavg()[0])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url")
    parser.add_argument("--initiatives", action="store_true", help="the initiatives list")
    parser.add_argument("--query", help="query string of the page")
    parser.add_argument("--batches", type=int, default=7)
    parser.add_argument("--requests", type=int, default=500, help="per batch")
    args = parser.parse_args()
    os.environ["PROJOFFICE_DATABASE_URL"] = args.database_url
    os.environ["BENCH_DATABASE_URL"] = args.database_url
    os.environ.setdefault("PROJOFFICE_LOG_LEVEL", "WARNING")
    uvloop.run(_main(args))


if __name__ == "__main__":
    main()
