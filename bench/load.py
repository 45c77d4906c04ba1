"""Load driver of issue 7: per-endpoint figures on a large dataset, the raw baseline, mixed load.

For each database (SQLite, PostgreSQL): a throw-away database is seeded by bench/seed_large.py
(or `--seeded-url URL --manifest PATH` reuses one), our API and bench/baseline_initiatives.py
are started by uvicorn with the same number of workers, and then

1. `wrk` (Lua scripts) drives each endpoint in turn and reports requests/s and p50/p95/p99:
   sign-in, the initiatives list (first page, a page ~90 000 rows deep, a filter, `q`), detail,
   history, a transition (suspend/resume over a pool), expertise summary, charter diff; the
   first page against the baseline in alternating rounds gives the throughput ratio;
2. a mixed load (N asyncio clients for S seconds: reads, creates, transitions, expert
   assignments, accepts and conclusions) runs against our API alone, and the database is then
   checked: no 5xx, no "database is locked", every acknowledged write stored exactly once with
   its event, codes gap-free.

    .venv/bin/python -m bench.load                                   # both databases, full scale
    .venv/bin/python -m bench.load --databases sqlite --scale 0.05 \\
        --duration 3 --mixed-seconds 5                                # a quick smoke run
    .venv/bin/python -m bench.load --seeded-url URL --manifest PATH  # an already seeded database

See bench/README.md ("Load driver") for what the figures mean.
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Engine, func, select

from bench.run import HOST, PYTHON, ROOT, cpu_seconds, free_ports, postgres_database, server
from bench.run import wait_ready as _wait_ready

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
API = "/api/v1"
# Passwords tried when the manifest names none: demo data's, then bench/seed_users.py's.
FALLBACK_PASSWORDS = ("demo-password", "bench-password-2026")
DEEP_ROWS = 90_000
P99_TARGET_MS = 500.0


# --- databases and data ----------------------------------------------------------------------


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    directory.mkdir(parents=True, exist_ok=True)
    name = f"load-{uuid.uuid4().hex[:8]}.db"
    try:
        yield f"sqlite:///{directory / name}"
    finally:
        for leftover in directory.glob(f"{name}*"):
            leftover.unlink()


def seed(database_url: str, scale: float, manifest_path: Path) -> dict[str, Any]:
    """bench/seed_large.py when it is there; otherwise the demo data (tiny, for development)."""
    if (ROOT / "bench" / "seed_large.py").exists():
        command = [PYTHON, "-m", "bench.seed_large", "--database-url", database_url,
                   "--scale", str(scale), "--manifest", str(manifest_path)]  # fmt: skip
        subprocess.run(command, cwd=ROOT, check=True)
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
        return manifest
    print("bench/seed_large.py is not there: seeding the demo data instead", flush=True)
    env = {**os.environ, "PROJOFFICE_DATABASE_URL": database_url}
    for step in ("migrate", "demo-data"):
        subprocess.run([str(Path(PYTHON).parent / "projoffice"), step], env=env, check=True)
    return {"source": "demo-data", "password": FALLBACK_PASSWORDS[0]}


def manifest_password(manifest: dict[str, Any]) -> str | None:
    for key in ("password", "shared_password"):
        if isinstance(manifest.get(key), str):
            return str(manifest[key])
    return None


def manifest_emails(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Emails per role from whichever key the manifest uses for them."""
    for key in ("emails", "emails_by_role", "logins", "accounts"):
        found = manifest.get(key)
        if isinstance(found, dict):
            return {
                role: [value] if isinstance(value, str) else [str(v) for v in value]
                for role, value in found.items()
                if isinstance(value, str | list)
            }
    return {}


def manifest_counts(manifest: dict[str, Any]) -> dict[str, Any]:
    counts = manifest.get("counts")
    return dict(counts) if isinstance(counts, dict) else {}


@dataclass
class Dataset:
    """What the driver needs from the database, found there rather than assumed."""

    initiatives: int
    visible: int
    deep_rows: int
    deep_cursor: str | None
    search_term: str
    search_share: float
    history_id: str  # the initiative with the longest lifecycle history
    history_length: int
    summary_id: str  # the initiative with the most submitted conclusions
    summary_conclusions: int
    charter: tuple[int, int] | None  # (newer, older) version numbers
    pool: list[tuple[str, str]] = field(repr=False)  # (id, status) in in_progress / suspended


def app_engine(database_url: str) -> Engine:
    from app.db import build_engine

    return build_engine(database_url, pool_size=2)


def _visible_to(user_id: uuid.UUID) -> Any:
    """The app's own visibility rule for a signed-in office person (not an admin)."""
    from app.models import Role
    from app.security import Principal
    from app.services.initiatives import _visible

    return _visible(
        Principal(id=user_id, kind="user", name="", roles=frozenset({Role.office_head}))
    )


def _search_term(engine: Engine, visible: Any) -> tuple[str, float]:
    """A word of recent titles found in about 2 % of them: a selective, realistic search."""
    from sqlmodel import col

    from app.models import Initiative

    with engine.connect() as conn:
        titles = conn.scalars(
            select(col(Initiative.title))
            .where(visible)
            .order_by(col(Initiative.created_at).desc())
            .limit(3000)
        ).all()
    if not titles:
        return "проект", 0.0
    df: Counter[str] = Counter()
    for title in titles:
        df.update(set(re.findall(r"[а-яё]{6,}", title.casefold())))
    if not df:
        return "проект", 0.0
    word, hits = min(df.items(), key=lambda kv: (abs(kv[1] / len(titles) - 0.02), kv[0]))
    return word.capitalize(), hits / len(titles)


def discover(
    engine: Engine, actor_id: uuid.UUID, *, search: str | None, pool_size: int = 4000
) -> Dataset:
    from sqlmodel import col

    from app.models import (
        CharterVersion,
        Initiative,
        InitiativeMember,
        InitiativeStatus,
        ReviewAssignment,
        ReviewStatus,
        Transition,
    )
    from app.pagination import encode_cursor

    visible = _visible_to(actor_id)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(Initiative)).scalar_one()
        shown = conn.execute(select(func.count()).where(visible)).scalar_one()
        deep = min(DEEP_ROWS, max(shown - 60, 0))
        cursor = None
        if deep:
            row = conn.execute(
                select(col(Initiative.created_at), col(Initiative.id))
                .where(visible)
                .order_by(col(Initiative.created_at).desc(), col(Initiative.id).desc())
                .offset(deep - 1)
                .limit(1)
            ).one()
            cursor = encode_cursor([row[0], row[1]])
        longest = conn.execute(
            select(col(Transition.initiative_id), func.count().label("n"))
            .group_by(col(Transition.initiative_id))
            .order_by(func.count().desc())
            .limit(1)
        ).first()
        richest = conn.execute(
            select(col(ReviewAssignment.initiative_id), func.count().label("n"))
            .where(col(ReviewAssignment.status) == ReviewStatus.submitted)
            .group_by(col(ReviewAssignment.initiative_id))
            .order_by(func.count().desc())
            .limit(1)
        ).first()
        any_initiative = conn.scalars(
            select(col(Initiative.id)).where(visible).order_by(col(Initiative.created_at)).limit(1)
        ).first()
        numbers = conn.execute(
            select(func.max(CharterVersion.number), func.min(CharterVersion.number))
        ).one()
        pool = conn.execute(
            select(col(Initiative.id), col(Initiative.status))
            .where(
                col(Initiative.status).in_(
                    [InitiativeStatus.in_progress, InitiativeStatus.suspended]
                ),
                # The office may not decide on its own initiatives (conflict of interest).
                col(Initiative.author_id) != actor_id,
                col(Initiative.id).not_in(
                    select(col(InitiativeMember.initiative_id)).where(
                        col(InitiativeMember.user_id) == actor_id
                    )
                ),
            )
            .order_by(col(Initiative.id))
            .limit(pool_size)
        ).all()
    term, share = (search, -1.0) if search else _search_term(engine, visible)
    fallback = str(any_initiative) if any_initiative else ""
    return Dataset(
        initiatives=total,
        visible=shown,
        deep_rows=deep,
        deep_cursor=cursor,
        search_term=term,
        search_share=share,
        history_id=str(longest[0]) if longest else fallback,
        history_length=longest[1] if longest else 0,
        summary_id=str(richest[0]) if richest else fallback,
        summary_conclusions=richest[1] if richest else 0,
        charter=(numbers[0], numbers[1]) if numbers[0] else None,
        pool=[(str(i), s.value if hasattr(s, "value") else str(s)) for i, s in pool],
    )


def discover_emails(engine: Engine) -> dict[str, list[str]]:
    """Active people with an organization, per role (all generated people share a password)."""
    from sqlmodel import col

    from app.models import Role, User, UserRole

    with engine.connect() as conn:
        emails: dict[str, list[str]] = {}
        for role in (Role.office_head, Role.office_member, Role.expert, Role.participant):
            emails[role.value] = list(
                conn.scalars(
                    select(col(User.email))
                    .join(UserRole, col(UserRole.user_id) == col(User.id))
                    .where(
                        col(UserRole.role) == role,
                        col(User.is_active).is_(True),
                        col(User.organization_id).is_not(None),
                    )
                    .order_by(col(User.email))
                    .limit(200)
                )
            )
    return emails


# --- signing in ------------------------------------------------------------------------------


@dataclass
class Account:
    email: str
    id: uuid.UUID
    organization_id: uuid.UUID | None
    roles: frozenset[str]
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def sign_in(client: httpx.AsyncClient, email: str, password: str) -> Account | None:
    response = await client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )
    if response.status_code != 200:
        return None
    token = response.json()["access_token"]
    me = await client.get(f"{API}/users/me", headers={"Authorization": f"Bearer {token}"})
    me.raise_for_status()
    body = me.json()
    org = body.get("organization_id")
    return Account(
        email=email,
        id=uuid.UUID(body["id"]),
        organization_id=uuid.UUID(org) if org else None,
        roles=frozenset(body["roles"]),
        token=token,
    )


@dataclass
class Cast:
    """The people the load acts as."""

    password: str
    head: Account
    member: Account
    authors: list[Account]
    experts: list[Account]


async def sign_in_cast(
    client: httpx.AsyncClient,
    emails: dict[str, list[str]],
    password: str | None,
    *,
    authors: int,
    experts: int,
) -> Cast:
    heads = list(emails.get("office_head", []))
    if not heads:
        raise SystemExit("no office head in the database to sign in as")
    passwords = [password] if password else list(FALLBACK_PASSWORDS)
    head = None
    for candidate in passwords:
        for email in heads[:20]:
            account = await sign_in(client, email, candidate)
            if account and "admin" not in account.roles:
                head, password = account, candidate
                break
        if head:
            break
    if head is None or password is None:
        raise SystemExit(f"could not sign in as an office head ({heads[:3]}…)")

    async def some(role: str, count: int, exclude: set[str]) -> list[Account]:
        found: list[Account] = []
        for email in emails.get(role, []):
            if len(found) >= count:
                break
            if email in exclude:
                continue
            account = await sign_in(client, email, password)
            if account and account.organization_id and "admin" not in account.roles:
                found.append(account)
        return found

    members = await some("office_member", 1, {head.email})
    taken = {head.email, *(m.email for m in members)}
    expert_list = await some("expert", experts, taken)
    author_list = await some("participant", authors, taken | {e.email for e in expert_list})
    return Cast(password, head, members[0] if members else head, author_list, expert_list)


# --- wrk -------------------------------------------------------------------------------------


@dataclass
class Sample:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    errors: int
    cpu_ms_per_request: float = 0.0


@dataclass
class Request:
    method: str
    path: str
    body: str | None = None
    content_type: str | None = None
    flip_body: str | None = None  # the body on odd passes over the list (suspend ↔ resume)


LUA = """
local reqs = {{
{requests}
}}
wrk.headers["Authorization"] = [==[{authorization}]==]
local n = 0
request = function()
  n = n + 1
  local k = (n - 1) % #reqs + 1
  local pass = math.floor((n - 1) / #reqs)
  local r = reqs[k]
  local body = r[3]
  if r[5] ~= nil and pass % 2 == 1 then body = r[5] end
  local headers = nil
  if r[4] ~= nil then
    headers = {{}}
    for key, value in pairs(wrk.headers) do headers[key] = value end
    headers["Content-Type"] = r[4]
  end
  return wrk.format(r[1], r[2], headers, body)
end
{response}
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %.0f %.0f %.0f %.0f %.0f %.0f %.0f\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


# Only where refusals are possible (writes): a response() callback makes wrk read every body.
LUA_RESPONSE = """
local shown = 0
response = function(status, headers, body)
  if status >= 400 and shown < 3 then
    shown = shown + 1
    io.write("WRKREFUSED " .. status .. " " .. string.sub(body, 1, 300) .. "\\n")
  end
end
"""


def _lua_value(value: str | None) -> str:
    return "nil" if value is None else f"[==[{value}]==]"


def lua_script(requests: list[Request], token: str | None) -> str:
    rows = ",\n".join(
        "{" + ", ".join(_lua_value(v) for v in (r.method, r.path, r.body, r.content_type,
                                                r.flip_body)) + "}"
        for r in requests
    )  # fmt: skip
    writes = any(r.method != "GET" for r in requests)
    return LUA.format(
        requests=rows,
        authorization=f"Bearer {token}" if token else "",
        response=LUA_RESPONSE if writes else "",
    )


def drive_wrk(
    base: str, requests: list[Request], token: str | None, seconds: float, connections: int
) -> Sample:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(requests, token))
    try:
        duration = f"-d{max(1, round(seconds))}s"
        command = ["wrk", "-t1", f"-c{connections}", duration, "--timeout", "10s",
                   "-s", script.name, base]  # fmt: skip
        output = subprocess.run(
            command, capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        os.unlink(script.name)
    found = re.search(r"WRKRESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", output)
    if not found:
        raise SystemExit(f"wrk said:\n{output}")
    for refused in re.findall(r"^WRKREFUSED .*$", output, re.MULTILINE):
        print(f"    {refused[:300]}")
    requests_done, micros, p50, p95, p99, status_errors, socket_errors = map(int, found.groups())
    return Sample(
        rps=requests_done / (micros / 1e6),
        p50_ms=p50 / 1000,
        p95_ms=p95 / 1000,
        p99_ms=p99 / 1000,
        requests=requests_done,
        errors=status_errors + socket_errors,
    )


# --- the endpoints ---------------------------------------------------------------------------


def endpoint_requests(
    data: Dataset, cast: Cast, filter_query: str
) -> dict[str, tuple[list[Request], str | None]]:
    """name → (requests cycled by wrk, bearer token or None)."""
    token = cast.head.token
    lists = f"{API}/initiatives"
    login = urlencode(
        {"grant_type": "password", "username": cast.head.email, "password": cast.password}
    )
    form = "application/x-www-form-urlencoded"
    plan: dict[str, tuple[list[Request], str | None]] = {
        "login": ([Request("POST", f"{API}/auth/token", login, form)], None),
        "list_first": ([Request("GET", f"{lists}?limit=50")], token),
    }
    if data.deep_cursor:
        plan["list_deep"] = (
            [Request("GET", f"{lists}?limit=50&cursor={data.deep_cursor}")],
            token,
        )
    plan["list_filter"] = ([Request("GET", f"{lists}?{filter_query}&limit=50")], token)
    q = urlencode({"q": data.search_term})
    plan["list_q"] = ([Request("GET", f"{lists}?{q}&limit=50")], token)
    plan["detail"] = ([Request("GET", f"{lists}/{data.history_id}")], token)
    plan["history"] = ([Request("GET", f"{lists}/{data.history_id}/transitions")], token)
    if data.pool:
        if len(data.pool) < 2000:
            print(
                f"  note: a pool of {len(data.pool)} initiatives may wrap within a run; a "
                "suspend still in flight then meets its own resume (409s; SQLite's write "
                "queue holds some for seconds)",
                flush=True,
            )
        suspend = json.dumps({"action": "suspend", "comment": "Нагрузочный тест: пауза"})
        resume = json.dumps({"action": "resume"})
        plan["transition"] = (
            [
                Request(
                    "POST",
                    f"{lists}/{initiative_id}/transitions",
                    suspend if status == "in_progress" else resume,
                    "application/json",
                    resume if status == "in_progress" else suspend,
                )
                for initiative_id, status in data.pool
            ],
            token,
        )
    plan["expertise_summary"] = (
        [Request("GET", f"{lists}/{data.summary_id}/expertise-summary")],
        token,
    )
    if data.charter:
        newer, older = data.charter
        plan["charter_diff"] = (
            [Request("GET", f"{API}/charter/versions/{newer}/diff?against={older}")],
            token,
        )
    return plan


def same_page(ours: dict[str, Any], baseline: dict[str, Any]) -> None:
    if ours == baseline:
        return
    if ours.get("next_cursor") != baseline.get("next_cursor"):
        print(f"  next_cursor: ours {ours.get('next_cursor')!r} != {baseline.get('next_cursor')!r}")
    for a, b in zip(ours.get("items", []), baseline.get("items", []), strict=False):
        if a != b:
            print(f"  first differing item:\n    ours     {a}\n    baseline {b}")
            break
    raise SystemExit("our page and the baseline's differ: the comparison would be unfair")


def check_endpoints(
    base: str, plan: dict[str, tuple[list[Request], str | None]], data: Dataset
) -> dict[str, int]:
    """One call of each read endpoint: it must answer 200 (and the deep page a full page)."""
    sizes: dict[str, int] = {}
    for name, (requests, token) in plan.items():
        first = requests[0]
        if first.method != "GET":
            continue
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = httpx.get(base + first.path, headers=headers, timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {first.path} answered {response.status_code}")
        sizes[name] = len(response.content)
        if name.startswith("list_"):
            sizes[f"{name}_items"] = len(response.json()["items"])
    return sizes


def bench_endpoints(
    ours_base: str,
    base_base: str,
    ours_sid: int,
    base_sid: int,
    plan: dict[str, tuple[list[Request], str | None]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    def run(name: str, base: str, sid: int, requests: list[Request], token: str | None) -> Sample:
        settle(sid)
        # A sign-in is ~0.2 s of argon2: 16 at a time would not even finish within a short run.
        connections = min(args.connections, 4) if name == "login" else args.connections
        before = cpu_seconds(sid)
        sample = drive_wrk(base, requests, token, args.duration, connections)
        settle(sid)
        sample.cpu_ms_per_request = 1000 * (cpu_seconds(sid) - before) / max(sample.requests, 1)
        print(
            f"  {name:<18} {sample.rps:8.1f} req/s  p50 {sample.p50_ms:7.1f}  "
            f"p95 {sample.p95_ms:7.1f}  p99 {sample.p99_ms:7.1f} ms  "
            f"CPU {sample.cpu_ms_per_request:5.2f} ms/req  errors {sample.errors}",
            flush=True,
        )
        return sample

    first_requests, token = plan["list_first"]
    baseline_requests = [Request("GET", "/initiatives?limit=50")]
    drive_wrk(ours_base, first_requests, token, args.warmup, args.connections)
    drive_wrk(base_base, baseline_requests, None, args.warmup, args.connections)
    rounds: dict[str, list[Sample]] = {"list_first": [], "baseline": []}
    for round_no in range(args.rounds):
        order = ["list_first", "baseline"] if round_no % 2 == 0 else ["baseline", "list_first"]
        for name in order:
            if name == "baseline":
                rounds[name].append(run(name, base_base, base_sid, baseline_requests, None))
            else:
                rounds[name].append(run(name, ours_base, ours_sid, first_requests, token))
    samples: dict[str, Sample] = {name: _median_sample(values) for name, values in rounds.items()}
    for name, (requests, token) in plan.items():
        if name != "list_first":
            samples[name] = run(name, ours_base, ours_sid, requests, token)
    return {"samples": samples, "rounds": rounds}


def settle(sid: int, timeout: float = 60) -> None:
    """Wait until the server has finished what wrk left in flight (wrk stops sending, not the
    server working: a run of slow requests, sign-ins above all, would bleed into the next)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = cpu_seconds(sid)
        time.sleep(0.5)
        if cpu_seconds(sid) - before < 0.05:
            return


def page_times(
    base: str, plan: dict[str, tuple[list[Request], str | None]], repeats: int
) -> dict[str, float]:
    """Median milliseconds of each list page, one request at a time, the pages interleaved so
    the machine's noise falls on all of them alike: the "time of a page" of the targets."""
    names = [n for n in ("list_first", "list_deep", "list_filter", "list_q") if n in plan]
    times: dict[str, list[float]] = defaultdict(list)
    with httpx.Client(base_url=base, timeout=60) as http:
        for _ in range(repeats):
            for name in names:
                requests, token = plan[name]
                started = time.perf_counter()
                response = http.get(requests[0].path, headers={"Authorization": f"Bearer {token}"})
                times[name].append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
    return {name: round(statistics.median(values), 2) for name, values in times.items()}


def _median_sample(samples: list[Sample]) -> Sample:
    return Sample(
        rps=statistics.median(s.rps for s in samples),
        p50_ms=statistics.median(s.p50_ms for s in samples),
        p95_ms=statistics.median(s.p95_ms for s in samples),
        p99_ms=statistics.median(s.p99_ms for s in samples),
        requests=sum(s.requests for s in samples),
        errors=sum(s.errors for s in samples),
        cpu_ms_per_request=statistics.median(s.cpu_ms_per_request for s in samples),
    )


# --- mixed load ------------------------------------------------------------------------------


@dataclass
class Ledger:
    """What the clients were told: every answer, and every write acknowledged with a 2xx."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    transport_errors: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # 4xx, for the report
    created: dict[str, str] = field(default_factory=dict)  # initiative id → code
    transitions: Counter[tuple[str, str]] = field(default_factory=Counter)  # (id, action)
    assigned: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)
    submitted: set[str] = field(default_factory=set)
    seconds: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


@dataclass
class Snapshot:
    event_id: int
    transition_id: int
    counters: dict[int, int]


def take_snapshot(engine: Engine) -> Snapshot:
    from sqlmodel import col

    from app.models import Event, InitiativeCodeCounter, Transition

    with engine.connect() as conn:
        return Snapshot(
            event_id=conn.execute(select(func.max(col(Event.id)))).scalar() or 0,
            transition_id=conn.execute(select(func.max(col(Transition.id)))).scalar() or 0,
            counters=dict(
                conn.execute(
                    select(col(InitiativeCodeCounter.year), col(InitiativeCodeCounter.last_number))
                ).all()
            ),
        )


class Client:
    """One simulated person at a keyboard: reads mostly, and pushes its own initiatives along
    the whole lifecycle (create → … → conclusions → approve → … → close), suspends and resumes
    initiatives of its own slice of the pool, and contests a few shared ones with If-Match."""

    def __init__(
        self,
        number: int,
        http: httpx.AsyncClient,
        cast: Cast,
        ledger: Ledger,
        *,
        reads: list[str],
        pool: list[tuple[str, str]],
        hot: list[str],
        criteria: list[tuple[str, int]],
        think_ms: float,
        rng: random.Random,
    ) -> None:
        self.number = number
        self.http = http
        self.cast = cast
        self.ledger = ledger
        self.reads = reads
        self.pool = dict(pool)
        self.hot = hot
        self.criteria = criteria
        self.think_ms = think_ms
        self.rng = rng
        self.author = cast.authors[number % len(cast.authors)] if cast.authors else cast.head
        self.plan: list[tuple[str, int]] = []
        self.initiative: str | None = None
        self.chosen: list[Account] = []
        self.reviews: list[tuple[str, Account]] = []
        self.mine: list[str] = []

    async def call(
        self,
        op: str,
        method: str,
        path: str,
        account: Account,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(
                method, path, json=body, headers={**account.auth, **(headers or {})}
            )
        except httpx.HTTPError as exc:
            self.ledger.transport_errors.append(f"{op} {method} {path}: {exc!r}")
            self.ledger.statuses[(op, 0)] += 1
            return None
        self.ledger.latencies[op].append((time.perf_counter() - started) * 1000)
        self.ledger.statuses[(op, response.status_code)] += 1
        if response.status_code >= 500:
            self.ledger.server_errors.append(
                f"{op} {method} {path}: {response.status_code} {response.text[:300]}"
            )
        if response.status_code == 503 or "database is locked" in response.text:
            self.ledger.locked.append(f"{op} {method} {path}: {response.status_code}")
        elif 400 <= response.status_code < 500 and len(self.ledger.refusals) < 200:
            self.ledger.refusals.append(
                f"{op} {method} {path}: {response.status_code} {response.text[:300]}"
            )
        return response

    async def run(self, deadline: float) -> None:
        while time.perf_counter() < deadline:
            x = self.rng.random()
            if x < 0.30:
                await self.lifecycle_step()
            elif x < 0.40 and self.pool:
                await self.pool_transition()
            elif x < 0.45 and self.hot:
                await self.contested_transition()
            else:
                await self.read()
            if self.think_ms:
                await asyncio.sleep(self.rng.uniform(0, 2 * self.think_ms) / 1000)

    async def read(self) -> None:
        paths = self.reads
        if self.mine and self.rng.random() < 0.2:
            own = self.rng.choice(self.mine)
            paths = [f"{API}/initiatives/{own}", f"{API}/initiatives/{own}/transitions"]
        # A draft is visible to its author only: one's own initiatives are read as the author.
        reader = self.author if paths is not self.reads else self.cast.head
        path = self.rng.choice(paths)
        op = "read " + re.sub(r"[0-9a-f-]{36}", "{id}", path.split("?")[0].removeprefix(API))
        await self.call(op, "GET", path, reader)

    async def transition(
        self, initiative_id: str, action: str, account: Account
    ) -> httpx.Response | None:
        body: dict[str, Any] = {"action": action}
        if action in {"suspend", "cancel", "reject", "request_revision"}:
            body["comment"] = "Нагрузочный тест"
        response = await self.call(
            f"transition {action}",
            "POST",
            f"{API}/initiatives/{initiative_id}/transitions",
            account,
            body,
        )
        if response is not None and response.status_code == 200:
            self.ledger.transitions[(initiative_id, action)] += 1
        return response

    async def step_transition(self, action: str, account: Account) -> bool:
        assert self.initiative is not None
        response = await self.transition(self.initiative, action, account)
        return response is not None and response.status_code == 200

    async def pool_transition(self) -> None:
        initiative_id = self.rng.choice(list(self.pool))
        status = self.pool[initiative_id]
        action = "suspend" if status == "in_progress" else "resume"
        response = await self.transition(initiative_id, action, self.cast.head)
        if response is not None and response.status_code == 200:
            self.pool[initiative_id] = "suspended" if action == "suspend" else "in_progress"
        elif response is not None and response.status_code == 403:
            del self.pool[initiative_id]  # the head's own initiative
        else:  # someone else moved it: look again
            current = await self.call(
                "read /initiatives/{id}", "GET", f"{API}/initiatives/{initiative_id}",
                self.cast.head,
            )  # fmt: skip
            if current is not None and current.status_code == 200:
                self.pool[initiative_id] = current.json()["status"]

    async def contested_transition(self) -> None:
        """Every client races for the same few initiatives: If-Match makes the losers 412."""
        initiative_id = self.rng.choice(self.hot)
        current = await self.call(
            "read /initiatives/{id}", "GET", f"{API}/initiatives/{initiative_id}", self.cast.head
        )
        if current is None or current.status_code != 200:
            return
        state = current.json()
        action = {"in_progress": "suspend", "suspended": "resume"}.get(state["status"])
        if action is None:
            return
        body: dict[str, Any] = {"action": action}
        if action == "suspend":
            body["comment"] = "Нагрузочный тест: гонка"
        response = await self.call(
            f"contested {action}",
            "POST",
            f"{API}/initiatives/{initiative_id}/transitions",
            self.cast.head,
            body,
            headers={"If-Match": f'"{state["version"]}"'},
        )
        if response is not None and response.status_code == 200:
            self.ledger.transitions[(initiative_id, action)] += 1
        elif response is not None and response.status_code == 403 and initiative_id in self.hot:
            self.hot.remove(initiative_id)  # the head's own initiative

    def _restart(self) -> None:
        self.plan, self.initiative, self.reviews = [], None, []

    async def lifecycle_step(self) -> None:
        """The next step of this client's own initiative; a refusal starts a new one."""
        if not self.plan:
            await self.create()
            return
        kind, argument = self.plan[0]
        member = self.cast.member
        if kind == "assign":
            ok = await self.assign(self.chosen[argument])
        elif kind == "accept":
            ok = await self.accept(*self.reviews[argument])
        elif kind == "conclude":
            ok = await self.conclude(*self.reviews[argument])
        else:
            account = {"submit": self.author, "approve": self.cast.head, "close": self.cast.head}
            ok = await self.step_transition(kind, account.get(kind, member))
        if ok:
            self.plan.pop(0)
        if not ok or not self.plan:
            self._restart()

    async def create(self) -> None:
        year = 2025 + self.rng.randrange(2)
        body = {
            "title": f"Нагрузочная инициатива клиента {self.number}: смысловое чтение "
            f"{self.rng.randrange(10**6)}",
            "summary": "Проверка под нагрузкой: создание, экспертиза, реализация.",
            "education_level": self.rng.choice(["primary", "basic", "secondary"]),
            "academic_year": f"{year}-{year + 1}",
            "topics": ["нагрузка", "смысловое чтение"],
        }
        response = await self.call(
            "create initiative", "POST", f"{API}/initiatives", self.author, body
        )
        if response is None or response.status_code != 201:
            return
        created = response.json()
        self.ledger.created[created["id"]] = created["code"]
        self.initiative = created["id"]
        self.mine.append(created["id"])
        # Experts from another organization than the initiative's, and not its author.
        eligible = [
            e
            for e in self.cast.experts
            if e.id != self.author.id and str(e.organization_id) != created["organization_id"]
        ]
        self.chosen = self.rng.sample(eligible, min(2, len(eligible)))
        experts = range(len(self.chosen))
        self.plan = [
            ("submit", 0),
            ("send_to_expertise", 0),
            *(("assign", k) for k in experts),
            *((step, k) for k in experts for step in ("accept", "conclude")),
            *((action, 0) for action in ("approve", "start", "suspend", "resume", "complete")),
            ("close", 0),
        ]

    async def assign(self, expert: Account) -> bool:
        due = (datetime.now(UTC) + timedelta(days=30)).isoformat()
        response = await self.call(
            "assign expert",
            "POST",
            f"{API}/initiatives/{self.initiative}/reviews",
            self.cast.member,
            {"expert_id": str(expert.id), "position": "content_expert", "due_at": due},
        )
        if response is None or response.status_code != 201:
            return False
        review_id = response.json()["id"]
        self.ledger.assigned.add(review_id)
        self.reviews.append((review_id, expert))
        return True

    async def accept(self, review_id: str, expert: Account) -> bool:
        response = await self.call(
            "accept review", "POST", f"{API}/reviews/{review_id}/accept", expert, {}
        )
        if response is not None and response.status_code == 200:
            self.ledger.accepted.add(review_id)
            return True
        return False

    async def conclude(self, review_id: str, expert: Account) -> bool:
        body = {
            "scores": [
                {"criterion": code, "score": self.rng.randint(1, top), "comment": "Обосновано"}
                for code, top in self.criteria
            ],
            "recommendation": "approve",
            "summary": "Замысел актуален, задачи согласованы с целью.",
            "developmental_feedback": "Как вы поймёте, что цель достигнута?",
        }
        response = await self.call(
            "submit conclusion", "POST", f"{API}/reviews/{review_id}/submit", expert, body
        )
        if response is not None and response.status_code == 200:
            self.ledger.submitted.add(review_id)
            return True
        return False


async def active_criteria(http: httpx.AsyncClient, account: Account) -> list[tuple[str, int]]:
    response = await http.get(f"{API}/criteria-sets", headers=account.auth)
    response.raise_for_status()
    for item in response.json()["items"]:
        if item["is_active"]:
            return [(c["code"], c["max_score"]) for c in item["criteria"]]
    return []


def read_paths(data: Dataset, filter_query: str) -> list[str]:
    lists = f"{API}/initiatives"
    paths = [
        f"{lists}?limit=50",
        f"{lists}?{filter_query}&limit=50",
        f"{lists}?{urlencode({'q': data.search_term})}&limit=50",
        f"{lists}/{data.history_id}",
        f"{lists}/{data.history_id}/transitions",
        f"{lists}/{data.summary_id}/expertise-summary",
    ]
    if data.deep_cursor:
        paths.append(f"{lists}?limit=50&cursor={data.deep_cursor}")
    if data.charter:
        paths.append(f"{API}/charter/versions/{data.charter[0]}/diff?against={data.charter[1]}")
    return paths


async def mixed_load(
    http: httpx.AsyncClient,
    cast: Cast,
    data: Dataset,
    *,
    clients: int,
    seconds: float,
    think_ms: float,
    filter_query: str = "status=in_progress",
    seed: int = 1,
    hot: int = 4,
) -> Ledger:
    ledger = Ledger()
    criteria = await active_criteria(http, cast.head)
    pool = list(data.pool)
    contested = [i for i, _ in pool[:hot]]
    slices: list[list[tuple[str, str]]] = [pool[hot + k :: clients] for k in range(clients)]
    reads = read_paths(data, filter_query)
    people = [
        Client(
            k,
            http,
            cast,
            ledger,
            reads=reads,
            pool=slices[k],
            hot=list(contested),
            criteria=criteria,
            think_ms=think_ms,
            rng=random.Random(seed * 1000 + k),
        )
        for k in range(clients)
    ]
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(person.run(deadline) for person in people))
    ledger.seconds = time.perf_counter() - started
    return ledger


# --- verification ----------------------------------------------------------------------------


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def _compare(name: str, told: Counter[Any], stored: Counter[Any]) -> Check:
    lost = sum((told - stored).values())
    extra = sum((stored - told).values())
    return Check(
        name,
        lost == 0 and extra == 0,
        f"{sum(told.values())} acknowledged, {sum(stored.values())} stored; "
        f"lost {lost}, unacknowledged or duplicated {extra}",
    )


def _chunks(values: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def verify(engine: Engine, before: Snapshot, ledger: Ledger) -> list[Check]:
    """Everything the clients were told against what the database holds."""
    from sqlmodel import col

    from app.models import (
        Conclusion,
        Event,
        Initiative,
        InitiativeCodeCounter,
        ReviewAssignment,
        ReviewStatus,
        Transition,
    )

    checks = [
        Check("no 5xx", not ledger.server_errors, f"{len(ledger.server_errors)} answers ≥ 500"),
        Check(
            'no "database is locked"',
            not ledger.locked,
            f"{len(ledger.locked)} answers mention a lock",
        ),
        Check(
            "no transport errors",
            not ledger.transport_errors,
            f"{len(ledger.transport_errors)} requests without an answer",
        ),
    ]
    with engine.connect() as conn:
        events = conn.execute(
            select(col(Event.action), col(Event.entity_id), col(Event.data)).where(
                col(Event.id) > before.event_id
            )
        ).all()
        transitions = conn.execute(
            select(col(Transition.initiative_id), col(Transition.action)).where(
                col(Transition.id) > before.transition_id
            )
        ).all()
        created_ids = [uuid.UUID(i) for i in ledger.created]
        stored_initiatives: dict[str, tuple[str, int, int]] = {}
        for chunk in _chunks(created_ids):
            for row in conn.execute(
                select(
                    col(Initiative.id),
                    col(Initiative.code),
                    col(Initiative.code_year),
                    col(Initiative.code_number),
                ).where(col(Initiative.id).in_(chunk))
            ):
                stored_initiatives[str(row[0])] = (row[1], row[2], row[3])
        counters = dict(
            conn.execute(
                select(col(InitiativeCodeCounter.year), col(InitiativeCodeCounter.last_number))
            ).all()
        )
        issued: dict[int, list[int]] = {}
        for year, last in counters.items():
            first = before.counters.get(year, 0)
            if last > first:
                issued[year] = list(
                    conn.scalars(
                        select(col(Initiative.code_number)).where(
                            col(Initiative.code_year) == year, col(Initiative.code_number) > first
                        )
                    )
                )
        review_ids = [uuid.UUID(i) for i in ledger.submitted]
        submitted_ok = 0
        for chunk in _chunks(review_ids):
            submitted_ok += conn.execute(
                select(func.count())
                .select_from(ReviewAssignment)
                .join(Conclusion, col(Conclusion.assignment_id) == col(ReviewAssignment.id))
                .where(
                    col(ReviewAssignment.id).in_(chunk),
                    col(ReviewAssignment.status) == ReviewStatus.submitted,
                )
            ).scalar_one()

    by_action: dict[str, Counter[Any]] = defaultdict(Counter)
    for action, entity_id, payload in events:
        if action == "initiative.transitioned":
            by_action[action][(entity_id, (payload or {}).get("action"))] += 1
        else:
            by_action[action][entity_id] += 1
    told_created = Counter(ledger.created.keys())
    checks.append(
        Check(
            "every acknowledged create stored",
            all(
                i in stored_initiatives and stored_initiatives[i][0] == code
                for i, code in ledger.created.items()
            ),
            f"{len(ledger.created)} acknowledged, {len(stored_initiatives)} found with their code",
        )
    )
    checks.append(
        _compare("one initiative.created event per create", told_created,
                 by_action["initiative.created"])
    )  # fmt: skip
    stored_transitions = Counter((str(i), a) for i, a in transitions)
    checks.append(
        _compare("transitions stored exactly once", ledger.transitions, stored_transitions)
    )
    checks.append(
        _compare(
            "one initiative.transitioned event per transition",
            ledger.transitions,
            by_action["initiative.transitioned"],
        )
    )
    gaps = []
    for year, numbers in issued.items():
        expected = set(range(before.counters.get(year, 0) + 1, counters[year] + 1))
        if sorted(numbers) != sorted(expected):
            gaps.append(f"{year}: {len(numbers)} codes for {len(expected)} numbers issued")
    checks.append(
        Check(
            "codes gap-free and unique",
            not gaps,
            "; ".join(gaps) or f"{sum(map(len, issued.values()))} new codes, no gap",
        )
    )
    checks.append(
        _compare("expert assignments stored once", Counter(ledger.assigned),
                 by_action["review.assigned"])
    )  # fmt: skip
    checks.append(
        _compare("acceptances stored once", Counter(ledger.accepted), by_action["review.accepted"])
    )
    checks.append(
        _compare("conclusions stored once", Counter(ledger.submitted),
                 by_action["review.submitted"])
    )  # fmt: skip
    checks.append(
        Check(
            "every acknowledged conclusion submitted with its text",
            submitted_ok == len(ledger.submitted),
            f"{submitted_ok} of {len(ledger.submitted)}",
        )
    )
    return checks


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"count": 0, "p50": 0.0, "p95": 0.0, "p99": 0.0}
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {"count": len(ordered), "p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def summarize(ledger: Ledger) -> dict[str, Any]:
    everything = [v for values in ledger.latencies.values() for v in values]
    per_op = {op: percentiles(values) for op, values in sorted(ledger.latencies.items())}
    statuses: dict[str, int] = Counter()
    for (_, status), count in ledger.statuses.items():
        statuses[str(status)] += count
    return {
        "seconds": round(ledger.seconds, 1),
        "requests": ledger.requests,
        "rps": round(ledger.requests / ledger.seconds, 1) if ledger.seconds else 0.0,
        "overall": percentiles(everything),
        "per_operation": per_op,
        "statuses": dict(sorted(statuses.items())),
        "writes": {
            "creates": len(ledger.created),
            "transitions": sum(ledger.transitions.values()),
            "assignments": len(ledger.assigned),
            "acceptances": len(ledger.accepted),
            "conclusions": len(ledger.submitted),
        },
        "server_errors": ledger.server_errors[:20],
        "locked": ledger.locked[:20],
        "transport_errors": ledger.transport_errors[:20],
        "refusals": ledger.refusals[:50],
    }


async def run_mixed(
    base: str,
    engine: Engine,
    emails: dict[str, list[str]],
    password: str | None,
    data: Dataset | None,
    *,
    clients: int,
    seconds: float,
    think_ms: float,
    filter_query: str,
    transport: httpx.AsyncBaseTransport | None = None,
) -> tuple[dict[str, Any], list[Check]]:
    """Sign the cast in, run the load, check the database: the piece the smoke test reuses."""
    # Idle connections are dropped before uvicorn's 5 s keep-alive timeout would close them: at
    # the same 5 s, a request sent on a connection the server is closing fails with ReadError.
    limits = httpx.Limits(
        max_connections=clients + 4, max_keepalive_connections=clients + 4, keepalive_expiry=2
    )
    async with httpx.AsyncClient(
        base_url=base, limits=limits, timeout=30, transport=transport
    ) as http:
        cast = await sign_in_cast(
            http, emails, password, authors=min(clients, 25), experts=max(4, min(clients, 30))
        )
        if data is None:
            data = discover(engine, cast.head.id, search=None)
        before = take_snapshot(engine)
        ledger = await mixed_load(
            http, cast, data, clients=clients, seconds=seconds, think_ms=think_ms,
            filter_query=filter_query,
        )  # fmt: skip
    return summarize(ledger), verify(engine, before, ledger)


# --- one database ----------------------------------------------------------------------------


def wait_ready(url: str) -> None:
    _wait_ready(url, timeout=120)


def machine() -> dict[str, Any]:
    import sqlite3

    cpu = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
    memory = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu.group(1) if cpu else None,
        "memory_gib": round(int(memory.group(1)) / 2**20, 1) if memory else None,
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "wrk": shutil.which("wrk"),
    }


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def bench_database(
    name: str, url: str, manifest: dict[str, Any], args: argparse.Namespace
) -> dict[str, Any]:
    engine = app_engine(url)
    emails = manifest_emails(manifest) or {}
    password = manifest_password(manifest)
    ours_port, base_port = free_ports(2)
    ours_base, base_base = f"http://{HOST}:{ours_port}", f"http://{HOST}:{base_port}"
    ours_env = {
        "PROJOFFICE_DATABASE_URL": url,
        "PROJOFFICE_LOG_LEVEL": "WARNING",
        "PROJOFFICE_ENV": "development",
    }
    report: dict[str, Any] = {
        "database": name,
        "manifest_counts": manifest_counts(manifest),
        "workers": args.workers,
        "load_average_before": load_average(),
    }
    if engine.dialect.name == "postgresql":
        from sqlalchemy import text

        with engine.connect() as conn:
            report["server_version"] = conn.execute(text("SHOW server_version")).scalar()
    with server("app.main:create_app", ours_env, ours_port, args.workers) as ours_sid:
        wait_ready(f"{ours_base}/health/live")
        # Emails from the manifest when it has them, the database's otherwise.
        found = discover_emails(engine)
        emails = {role: emails.get(role) or found.get(role, []) for role in found}
        cast = asyncio.run(_sign_in_head(ours_base, emails, password))
        password = cast.password
        data = discover(engine, cast.head.id, search=args.q)
        report["dataset"] = {
            k: v for k, v in asdict(data).items() if k not in {"pool", "deep_cursor"}
        }
        report["dataset"]["pool"] = len(data.pool)
        print(
            f"  {data.initiatives} initiatives ({data.visible} visible to {cast.head.email}); "
            f"deep page after {data.deep_rows} rows; q={data.search_term!r} "
            f"(in {data.search_share:.1%} of recent titles); history of {data.history_length}; "
            f"{data.summary_conclusions} conclusions; charter {data.charter}; "
            f"pool of {len(data.pool)}",
            flush=True,
        )
        if not args.skip_endpoints:
            plan = endpoint_requests(data, cast, args.filter)
            base_env = {"BENCH_DATABASE_URL": url, "BENCH_ACTOR_ID": str(cast.head.id)}
            with server(
                "bench.baseline_initiatives:create_app", base_env, base_port, args.workers
            ) as base_sid:
                wait_ready(f"{base_base}/initiatives?limit=1")
                ours_page = httpx.get(
                    f"{ours_base}{API}/initiatives?limit=50", headers=cast.head.auth, timeout=30
                )
                ours_page.raise_for_status()
                base_page = httpx.get(f"{base_base}/initiatives?limit=50", timeout=30)
                same_page(ours_page.json(), base_page.json())
                print(
                    f"  same first page from both ({len(ours_page.content)} and "
                    f"{len(base_page.content)} bytes)",
                    flush=True,
                )
                report["page_bytes"] = {
                    "ours": len(ours_page.content),
                    "baseline": len(base_page.content),
                }
                report["response_bytes"] = check_endpoints(ours_base, plan, data)
                figures = bench_endpoints(ours_base, base_base, ours_sid, base_sid, plan, args)
                report["load_average_endpoints_after"] = load_average()
            report["page_ms"] = page_times(ours_base, plan, args.page_repeats)
            print(f"  one at a time, median ms: {report['page_ms']}", flush=True)
            samples: dict[str, Sample] = figures["samples"]
            report["endpoints"] = {k: asdict(v) for k, v in samples.items()}
            report["list_rounds"] = {
                k: [asdict(s) for s in v] for k, v in figures["rounds"].items()
            }
            report["ratios"] = ratios(samples, report["page_ms"])
            bad = {k: v.errors for k, v in samples.items() if v.errors}
            report["endpoint_errors"] = bad
        if not args.skip_mixed:
            clients = args.clients or (20 if name == "sqlite" else 50)
            data = discover(engine, cast.head.id, search=data.search_term)
            print(
                f"  mixed load: {clients} clients for {args.mixed_seconds:.0f} s, think time "
                f"{args.think_ms:.0f} ms on average",
                flush=True,
            )
            report["load_average_mixed_before"] = load_average()
            mixed, checks = asyncio.run(
                run_mixed(
                    ours_base, engine, emails, password, data, clients=clients,
                    seconds=args.mixed_seconds, think_ms=args.think_ms, filter_query=args.filter,
                )
            )  # fmt: skip
            report["load_average_mixed_after"] = load_average()
            mixed["clients"] = clients
            mixed["think_ms"] = args.think_ms
            report["mixed"] = mixed
            report["checks"] = [asdict(c) for c in checks]
    engine.dispose()
    report["targets"] = targets(name, report)
    return report


async def _sign_in_head(base: str, emails: dict[str, list[str]], password: str | None) -> Cast:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        return await sign_in_cast(http, emails, password, authors=0, experts=0)


def ratios(samples: dict[str, Sample], page_ms: dict[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    first, baseline = samples["list_first"], samples["baseline"]
    out["throughput_vs_baseline"] = first.rps / baseline.rps
    out["cpu_per_request_baseline_vs_ours"] = baseline.cpu_ms_per_request / first.cpu_ms_per_request
    if "list_deep" in page_ms:
        out["deep_vs_first"] = page_ms["list_deep"] / page_ms["list_first"]
    out["q_vs_plain"] = page_ms["list_q"] / page_ms["list_first"]
    out["filter_vs_plain"] = page_ms["list_filter"] / page_ms["list_first"]
    if samples.get("list_deep") and samples["list_deep"].rps and first.p50_ms:
        out["deep_vs_first_p50"] = samples["list_deep"].p50_ms / first.p50_ms
        out["deep_vs_first_rps"] = first.rps / samples["list_deep"].rps
    if samples["list_q"].rps and first.p50_ms:
        out["q_vs_plain_p50"] = samples["list_q"].p50_ms / first.p50_ms
        out["q_vs_plain_rps"] = first.rps / samples["list_q"].rps
    return {k: round(v, 3) for k, v in out.items()}


def targets(name: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target of issue 7 this run measures: met or not, and the figure."""
    rows: list[dict[str, Any]] = []

    def add(target: str, figure: float | str, passed: bool) -> None:
        rows.append({"target": target, "figure": figure, "met": passed})

    r = report.get("ratios")
    if r:
        add("list throughput ≥ 0.5× baseline", r["throughput_vs_baseline"],
            r["throughput_vs_baseline"] >= 0.5)  # fmt: skip
        if "deep_vs_first" in r:
            add("deep page ≤ 1.5× first page", r["deep_vs_first"], r["deep_vs_first"] <= 1.5)
        add("q ≤ 3× plain page", r["q_vs_plain"], r["q_vs_plain"] <= 3)
        add("no errors in the endpoint runs", str(report["endpoint_errors"] or 0),
            not report["endpoint_errors"])  # fmt: skip
    checks = report.get("checks")
    if checks:
        for check in checks:
            add(f"mixed: {check['name']}", check["detail"], check["passed"])
        if name != "sqlite":
            p99 = report["mixed"]["overall"]["p99"]
            add(f"mixed: p99 < {P99_TARGET_MS:.0f} ms", round(p99, 1), p99 < P99_TARGET_MS)
    return rows


def print_report(report: dict[str, Any]) -> None:
    print(f"\n=== {report['database']}: figures")
    endpoints = report.get("endpoints", {})
    if endpoints:
        print(f"{'endpoint':<18} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
              f"{'CPU ms':>7} {'errors':>6}")  # fmt: skip
        for endpoint, s in endpoints.items():
            print(
                f"{endpoint:<18} {s['rps']:8.1f} {s['p50_ms']:8.1f} {s['p95_ms']:8.1f} "
                f"{s['p99_ms']:8.1f} {s['cpu_ms_per_request']:7.2f} {s['errors']:6d}"
            )
        for key, value in report["ratios"].items():
            print(f"  {key}: {value:.2f}x")
    mixed = report.get("mixed")
    if mixed:
        o = mixed["overall"]
        print(
            f"mixed: {mixed['clients']} clients, {mixed['seconds']} s, {mixed['requests']} "
            f"requests ({mixed['rps']} req/s), p50 {o['p50']:.1f} p95 {o['p95']:.1f} "
            f"p99 {o['p99']:.1f} ms; statuses {mixed['statuses']}; writes {mixed['writes']}"
        )
        for op, p in mixed["per_operation"].items():
            print(f"  {op:<40} {p['count']:6d}  p50 {p['p50']:7.1f}  p99 {p['p99']:7.1f} ms")
        for line in mixed["server_errors"][:5] + mixed["locked"][:5]:
            print(f"  ! {line}")
    for row in report["targets"]:
        print(f"  [{'met' if row['met'] else 'MISSED'}] {row['target']}: {row['figure']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgres", help="sqlite,postgres")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG))
    parser.add_argument("--scale", type=float, default=1.0, help="of seed_large's dataset")
    parser.add_argument("--seeded-url", help="bench this already seeded database (kept)")
    parser.add_argument("--manifest", type=Path, help="seed_large's manifest of --seeded-url")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, each server")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=float, default=10, help="seconds per endpoint run")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per server")
    parser.add_argument("--rounds", type=int, default=3, help="list vs baseline rounds")
    parser.add_argument(
        "--page-repeats", type=int, default=40, help="one-at-a-time requests of each list page"
    )
    parser.add_argument("--filter", default="status=in_progress", help="the filtered list's query")
    parser.add_argument("--q", help="the search term (default: a word of ~2 %% of titles)")
    parser.add_argument("--clients", type=int, help="mixed load (default 20 SQLite, 50 PG)")
    parser.add_argument("--mixed-seconds", type=float, default=60)
    parser.add_argument("--think-ms", type=float, default=500, help="mean pause per client")
    parser.add_argument("--skip-endpoints", action="store_true")
    parser.add_argument("--skip-mixed", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    if not shutil.which("wrk") and not args.skip_endpoints:
        raise SystemExit("wrk is not on PATH (apt-get install -y wrk), or pass --skip-endpoints")

    started = datetime.now(UTC)
    reports: list[dict[str, Any]] = []
    if args.seeded_url:
        manifest = json.loads(args.manifest.read_text()) if args.manifest else {}
        name = "sqlite" if args.seeded_url.startswith("sqlite") else "postgres"
        print(f"\n=== {name}: {args.seeded_url} (already seeded)", flush=True)
        reports.append(bench_database(name, args.seeded_url, manifest, args))
    for name in [] if args.seeded_url else args.databases.split(","):
        databases: Callable[[], Any]
        if name == "sqlite":
            databases = lambda: sqlite_database(ROOT / "var" / "bench")  # noqa: E731
        elif name == "postgres":
            databases = lambda: postgres_database(args.postgres_url)  # noqa: E731
        else:
            raise SystemExit(f"unknown database {name!r}")
        with databases() as url, tempfile.TemporaryDirectory() as tmp:
            print(f"\n=== {name}: seeding at scale {args.scale}", flush=True)
            began = time.perf_counter()
            manifest = seed(url, args.scale, Path(tmp) / "manifest.json")
            seeded = time.perf_counter() - began
            print(f"  seeded in {seeded:.0f} s", flush=True)
            report = bench_database(name, url, manifest, args)
            report["seed_seconds"] = round(seeded, 1)
            reports.append(report)
    for report in reports:
        print_report(report)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        document = {
            "started_at": started.isoformat(),
            "arguments": {k: str(v) for k, v in vars(args).items()},
            "machine": machine(),
            "reports": reports,
        }
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")
    if any(not row["met"] for r in reports for row in r["targets"] if "mixed" in row["target"]):
        sys.exit(1)


if __name__ == "__main__":
    main()
