"""Faults: the database goes away and comes back, a process dies inside a transition, and two
API processes share one database.

PostgreSQL only: the tests run their own cluster (initdb + pg_ctl from the machine's PostgreSQL
binaries, in a temporary directory, on a free port) so that they can stop and start it, and
real `projoffice serve` processes that they can kill. Where they cannot (no initdb, no
`postgres` user to run it as root) they skip, except in CI, where that is a failure.
"""

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from app.db import build_engine
from app.models import Event, Initiative, OrganizationKind, Role, Transition
from app.schemas.organizations import OrganizationCreate
from app.schemas.users import UserCreate
from app.services import organizations, users
from tests.factories import _HASH, PASSWORD, SYSTEM, access_headers

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG_BINARIES = sorted(
    Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
)
INITIATIVES = "/api/v1/initiatives"

# The SQLite half of the suite skips them; the PostgreSQL half (which CI always runs) has them.
pytestmark = [
    pytest.mark.postgres_only,
    pytest.mark.skipif(
        not os.environ.get("TEST_DATABASE_URL"),
        reason="fault tests stop, kill and share PostgreSQL; SQLite has no server to lose",
    ),
]


def _required() -> bool:
    """CI (CI or REQUIRE_POSTGRES set, as .ci/run does) must run these tests: what they need
    missing there is a failure, or a broken runner would quietly turn them into skips."""
    return any(os.environ.get(name, "") not in ("", "0") for name in ("CI", "REQUIRE_POSTGRES"))


def skip_or_fail(reason: str) -> NoReturn:
    if _required():
        pytest.fail(f"fault tests are required in CI, but {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Cluster:
    """A PostgreSQL cluster of the test's own, run as `postgres` when the tests run as root
    (initdb refuses root)."""

    bindir: Path
    directory: Path
    port: int
    user: str | None

    @property
    def data(self) -> Path:
        return self.directory / "data"

    def run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        log = str(self.directory / "log")
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"


def cluster_user() -> str | None:
    """Who runs the cluster: `postgres` when we are root (initdb refuses root), else ourselves
    (None). Skips, or fails in CI, when this machine cannot run a cluster at all."""
    if not PG_BINARIES:
        skip_or_fail("there are no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb)")
    if os.geteuid() != 0:
        return None
    try:
        user = pwd.getpwnam("postgres").pw_name
    except KeyError:
        skip_or_fail("running as root and there is no `postgres` user to run initdb as")
    if not shutil.which("runuser"):
        skip_or_fail("running as root and there is no `runuser` to run initdb as `postgres`")
    return user


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    user = cluster_user()
    directory = Path(tempfile.mkdtemp(prefix="projoffice-faults-"))
    if user:
        entry = pwd.getpwnam(user)
        os.chown(directory, entry.pw_uid, entry.pw_gid)
    cluster = Cluster(PG_BINARIES[-1].parent, directory, free_port(), user)
    cluster.run("initdb", "-D", str(cluster.data), "-U", "postgres", "-A", "trust", "--no-sync")
    with (cluster.data / "postgresql.auto.conf").open("a") as conf:
        conf.write(
            f"port = {cluster.port}\nunix_socket_directories = '{directory}'\n"
            "listen_addresses = '127.0.0.1'\nfsync = off\nfull_page_writes = off\n"
            "synchronous_commit = off\n"
        )
    cluster.start()
    try:
        yield cluster
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            cluster.stop("immediate")
        shutil.rmtree(directory, ignore_errors=True)


@dataclass
class Api:
    base: str
    process: subprocess.Popen[bytes]
    log: Path


def api_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "PROJOFFICE_DATABASE_URL": database_url,
        "PROJOFFICE_ENV": "test",
        "PROJOFFICE_LOG_LEVEL": "WARNING",
    }


@contextlib.contextmanager
def serve(database_url: str, tmp: Path, *, ready: str = "/health/ready") -> Iterator[Api]:
    port = free_port()
    log = tmp / f"api-{port}.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(BIN / "projoffice"), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=api_env(database_url),
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    api = Api(f"http://127.0.0.1:{port}", process, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(api.base + ready, timeout=10).status_code == 200:
                    break
            assert time.monotonic() < deadline, f"the API is not ready:\n{log.read_text()}"
            time.sleep(0.2)
        yield api
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass
class World:
    url: str
    engine: Engine
    author_headers: dict[str, str]
    tmp: Path


@pytest.fixture(scope="module")
def world(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """One database on the cluster, built by Alembic, with an organization and an author."""
    name = f"projoffice_faults_{uuid.uuid4().hex[:8]}"
    admin = build_engine(cluster.url())
    with admin.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            text(f'CREATE DATABASE "{name}"')
        )
    admin.dispose()
    url = cluster.url(name)
    subprocess.run(
        [str(BIN / "projoffice"), "migrate"], env=api_env(url), check=True, capture_output=True
    )
    engine = build_engine(url)
    with Session(engine) as session:
        org = organizations.create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(
                name="МБОУ «Средняя школа № 10»", short_name="СОШ 10", kind=OrganizationKind.school
            ),
        )
        author = users.create_user(
            session,
            actor=SYSTEM,
            data=UserCreate(
                email="author@example.org",
                full_name="Автор Замысла",
                organization_id=org.id,
                roles=[Role.participant],
                password=PASSWORD,
            ),
            hashed_password=_HASH,
        )
        session.commit()
    yield World(url, engine, access_headers(author.id), tmp_path_factory.mktemp("faults"))
    engine.dispose()


def initiative_body(title: str = "Смысловое чтение в начальной школе") -> dict[str, Any]:
    return {"title": title, "education_level": "primary", "academic_year": "2025-2026"}


def create_drafts(api: Api, world: World, count: int) -> list[str]:
    ids = []
    for i in range(count):
        response = httpx.post(
            api.base + INITIATIVES,
            json=initiative_body(title=f"Замысел для проверки отказов {uuid.uuid4().hex[:6]} {i}"),
            headers=world.author_headers,
            timeout=30,
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def submit(api: Api, world: World, initiative_id: str, timeout: float = 30) -> httpx.Response:
    return httpx.post(
        f"{api.base}{INITIATIVES}/{initiative_id}/transitions",
        json={"action": "submit"},
        headers=world.author_headers,
        timeout=timeout,
    )


def history(world: World, initiative_id: str) -> tuple[str, int, int]:
    """The initiative's status and how many transitions and transition events it has."""
    key = uuid.UUID(initiative_id)
    with Session(world.engine) as session:
        status = session.scalars(select(col(Initiative.status)).where(col(Initiative.id) == key))
        transitions = session.scalar(
            select(func.count()).where(col(Transition.initiative_id) == key)
        )
        logged = session.scalar(
            select(func.count()).where(
                col(Event.entity_id) == initiative_id,
                col(Event.action) == "initiative.transitioned",
            )
        )
        return str(status.one()), int(transitions or 0), int(logged or 0)


def scalar(world: World, sql: str) -> Any:
    # A connection (and transaction) of its own each time: within one transaction
    # pg_stat_activity is a snapshot that never changes.
    with world.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


# A hang, not slowness, is what these tests catch: the client gives up well after the
# database's connect timeout (5 s) yet far before anything waiting without one would answer.
# Speed itself is measured in bench/, never asserted here.
HANG = 25


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "database_unavailable"
    assert response.headers["retry-after"]


IN_CI = [{"CI": "true"}, {"REQUIRE_POSTGRES": "1"}]
ELSEWHERE = [{}, {"REQUIRE_POSTGRES": "0"}, {"CI": ""}]


def no_such_user(name: str) -> NoReturn:
    raise KeyError(name)


class TestPrerequisites:
    """A runner without initdb or a `postgres` user must not turn these tests into skips in CI."""

    @pytest.fixture
    def ci(self, monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, str]], None]:
        def set_env(env: dict[str, str]) -> None:
            for name in ("CI", "REQUIRE_POSTGRES"):
                monkeypatch.delenv(name, raising=False)
            for name, value in env.items():
                monkeypatch.setenv(name, value)

        return set_env

    @pytest.mark.parametrize("env", IN_CI)
    def test_no_server_binaries_fail_in_ci(self, monkeypatch, ci, env):
        ci(env)
        monkeypatch.setattr(sys.modules[__name__], "PG_BINARIES", [])
        with pytest.raises(pytest.fail.Exception, match="initdb"):
            cluster_user()

    @pytest.mark.parametrize("env", IN_CI)
    def test_no_postgres_user_fails_in_ci(self, monkeypatch, ci, env):
        ci(env)
        monkeypatch.setattr(os, "geteuid", lambda: 0)
        monkeypatch.setattr(pwd, "getpwnam", no_such_user)
        with pytest.raises(pytest.fail.Exception, match="`postgres` user"):
            cluster_user()

    @pytest.mark.parametrize("env", ELSEWHERE)
    def test_elsewhere_they_skip(self, monkeypatch, ci, env):
        ci(env)
        monkeypatch.setattr(sys.modules[__name__], "PG_BINARIES", [])
        with pytest.raises(pytest.skip.Exception):
            cluster_user()


class TestDatabaseUnreachable:
    def test_answers_503_while_down_and_recovers_by_itself(self, cluster, world):
        with serve(world.url, world.tmp) as api:
            me = f"{api.base}/api/v1/users/me"
            assert httpx.get(me, headers=world.author_headers).status_code == 200
            cluster.stop()
            try:
                for _ in range(3):  # the pool's dead connections do not pile up or hang
                    ready = httpx.get(api.base + "/health/ready", timeout=HANG)
                    assert ready.status_code == 503
                    assert ready.json() == {"status": "unavailable", "database": "unreachable"}
                    response = httpx.get(me, headers=world.author_headers, timeout=HANG)
                    assert_database_unavailable(response)
                    response = httpx.post(
                        api.base + INITIATIVES,
                        json=initiative_body(),
                        headers=world.author_headers,
                        timeout=30,
                    )
                    assert_database_unavailable(response)
                assert httpx.get(api.base + "/health/live").status_code == 200
            finally:
                cluster.start()
            deadline = time.monotonic() + 30
            while httpx.get(api.base + "/health/ready", timeout=30).status_code != 200:
                assert time.monotonic() < deadline, "the API did not see the database return"
                time.sleep(0.2)
            assert httpx.get(me, headers=world.author_headers).status_code == 200
            assert create_drafts(api, world, 1)
            assert "Traceback" not in api.log.read_text()

    def test_a_silent_server_is_a_503_within_the_connect_timeout(self, world):
        # Accepts connections and never answers: what a dropped network or a hung server
        # looks like. Without a connect timeout every request would hang.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(64)
            url = f"postgresql://postgres@127.0.0.1:{silent.getsockname()[1]}/projoffice"
            with serve(url, world.tmp, ready="/health/live") as api:
                ready = httpx.get(api.base + "/health/ready", timeout=HANG)
                assert ready.status_code == 503
                response = httpx.get(
                    f"{api.base}/api/v1/users/me", headers=world.author_headers, timeout=HANG
                )
                assert_database_unavailable(response)


class TestKilledMidTransition:
    def test_the_transition_and_its_event_are_both_there_or_neither(self, world):
        with serve(world.url, world.tmp) as api:
            (initiative_id,) = create_drafts(api, world, 1)
        assert history(world, initiative_id) == ("draft", 0, 0)

        with serve(world.url, world.tmp) as api, world.engine.connect() as locker:
            # The event log is locked against writes, so the transition waits inside its
            # transaction after it has written the initiative (and maybe its transition row).
            locker.execute(text("LOCK TABLE event IN SHARE MODE"))
            pending = ThreadPoolExecutor(1).submit(submit, api, world, initiative_id, 60)
            deadline = time.monotonic() + 30
            while not scalar(
                world,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND backend_xid IS NOT NULL AND query ILIKE 'INSERT INTO event%'",
            ):
                assert time.monotonic() < deadline, "the transition never reached the log"
                assert not pending.done(), pending.result().text
                time.sleep(0.05)
            api.process.send_signal(signal.SIGKILL)
            api.process.wait(timeout=10)
            locker.rollback()  # releases the lock: the orphaned transaction may go on now
        with pytest.raises(httpx.HTTPError):
            pending.result(timeout=30)

        deadline = time.monotonic() + 30
        while scalar(  # the orphaned backend finds its client gone and rolls back
            world,
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state <> 'idle'",
        ):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert history(world, initiative_id) == ("draft", 0, 0)

        with serve(world.url, world.tmp) as api:
            response = submit(api, world, initiative_id)
            assert response.status_code == 200, response.text
        assert history(world, initiative_id) == ("submitted", 1, 1)


READS = frozenset({"list", "search", "detail", "history"})


@dataclass
class Traffic:
    """What the load threads heard: every answer by what was asked, and the creations."""

    answers: list[tuple[str, int]] = field(default_factory=list)
    created: list[tuple[int, str, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def heard(self, what: str, response: httpx.Response) -> httpx.Response:
        self.answers.append((what, response.status_code))  # list.append is atomic
        return response


class TestTwoProcesses:
    """Two API processes on one database, loaded at once: readers, creators taking gap-free
    codes, and pairs of contenders (one on each process) that submit or edit the same draft at
    the same moment. Afterwards the database must hold every write exactly once."""

    CONTESTED = 20  # drafts submitted by both processes at once, and as many edited
    CREATORS = 4  # threads creating initiatives, half on each process
    CREATES = 15  # initiatives per creator
    READERS = 4  # threads reading lists, searches, details and histories, half on each

    def test_two_processes_under_load_behave_as_one(self, world):
        with serve(world.url, world.tmp) as first, serve(world.url, world.tmp) as second:
            drafts = create_drafts(first, world, 2 * self.CONTESTED)
            contests = [("submit", i) for i in drafts[: self.CONTESTED]]
            contests += [("edit", i) for i in drafts[self.CONTESTED :]]
            traffic = Traffic()
            # outcome[(kind, id)][side]: the status each process gave its contender
            outcome = {contest: [0, 0] for contest in contests}
            apis = (first, second)

            def client(api: Api) -> httpx.Client:
                return httpx.Client(base_url=api.base, headers=world.author_headers, timeout=60)

            def contend(side: int, mine: list[tuple[str, str]], barrier: threading.Barrier) -> None:
                with client(apis[side]) as http:
                    for kind, initiative_id in mine:
                        barrier.wait(timeout=60)  # both processes get the draft together
                        url = f"{INITIATIVES}/{initiative_id}"
                        if kind == "submit":
                            sent = http.post(f"{url}/transitions", json={"action": "submit"})
                        else:
                            edit = {"title": f"Правка через процесс {side}"}
                            sent = http.patch(url, json=edit, headers={"If-Match": '"1"'})
                        outcome[(kind, initiative_id)][side] = traffic.heard(kind, sent).status_code

            def create(api: Api, n: int) -> None:
                with client(api) as http:
                    for i in range(self.CREATES):
                        title = f"Замысел под нагрузкой {n}-{i}"
                        sent = traffic.heard(
                            "create", http.post(INITIATIVES, json=initiative_body(title))
                        )
                        body = sent.json()
                        traffic.created.append((sent.status_code, body.get("id"), body.get("code")))

            def read(api: Api) -> None:
                ids = itertools.cycle(drafts)
                with client(api) as http:
                    while not traffic.stop.is_set():
                        initiative_id = next(ids)
                        traffic.heard("list", http.get(INITIATIVES, params={"limit": 20}))
                        search: dict[str, str | int] = {"q": "замысел", "limit": 20}
                        traffic.heard("search", http.get(INITIATIVES, params=search))
                        traffic.heard("detail", http.get(f"{INITIATIVES}/{initiative_id}"))
                        history_url = f"{INITIATIVES}/{initiative_id}/transitions"
                        traffic.heard("history", http.get(history_url))

            pairs = [(contests[k::2], threading.Barrier(2)) for k in range(2)]
            writers: list[Callable[[], None]] = [
                *(partial(contend, side, *pair) for pair in pairs for side in (0, 1)),
                *(partial(create, apis[n % 2], n) for n in range(self.CREATORS)),
            ]
            with ThreadPoolExecutor(len(writers) + self.READERS) as pool:
                readers = [pool.submit(read, apis[n % 2]) for n in range(self.READERS)]
                try:
                    for done in [pool.submit(writer) for writer in writers]:
                        done.result(timeout=120)  # a transport error or timeout fails here
                finally:
                    traffic.stop.set()
                for reader in readers:
                    reader.result(timeout=120)
            for log in (first.log, second.log):
                assert "Traceback" not in log.read_text()

        assert [a for a in traffic.answers if a[1] >= 500] == []
        reads = [status for what, status in traffic.answers if what in READS]
        assert reads
        assert set(reads) == {200}, sorted(set(reads))

        # Creations: every one answered 201, and each is in the database once, with its code.
        assert {status for status, _, _ in traffic.created} == {201}
        created = {initiative_id: code for _, initiative_id, code in traffic.created}
        assert len(created) == len(set(created.values())) == self.CREATORS * self.CREATES
        with Session(world.engine) as session:
            stored = session.execute(
                select(
                    col(Initiative.id),
                    col(Initiative.code),
                    col(Initiative.code_year),
                    col(Initiative.code_number),
                )
            ).all()
            logged = dict(
                session.execute(
                    select(col(Event.entity_id), func.count())
                    .where(col(Event.action) == "initiative.created")
                    .group_by(col(Event.entity_id))
                ).all()
            )
        codes = {str(row.id): row.code for row in stored}
        assert {i: codes.get(i) for i in created} == created
        # Gap-free and unique per year across the whole table (the earlier tests' too).
        numbers: dict[int, list[int]] = {}
        for row in stored:
            numbers.setdefault(row.code_year, []).append(row.code_number)
        assert {y: sorted(n) for y, n in numbers.items()} == {
            y: list(range(1, len(n) + 1)) for y, n in numbers.items()
        }
        # Exactly one creation event per initiative: none lost, none written twice.
        assert logged == dict.fromkeys(codes, 1)

        # Contested submits: one process wins, the other hears 409; one transition, one event.
        submits = [i for kind, i in contests if kind == "submit"]
        assert [sorted(outcome[("submit", i)]) for i in submits] == [[200, 409]] * len(submits)
        assert [history(world, i) for i in submits] == [("submitted", 1, 1)] * len(submits)

        # Contested edits of version 1: one wins, the other is stale (412, or 409 when it lost
        # the race at the row); the winner's title is the one stored, edited once.
        edits = [i for kind, i in contests if kind == "edit"]
        for initiative_id in edits:
            statuses = outcome[("edit", initiative_id)]
            assert sorted(statuses) in ([200, 409], [200, 412]), statuses
            winner = statuses.index(200)
            assert edited(world, initiative_id) == (2, f"Правка через процесс {winner}", 1)


def edited(world: World, initiative_id: str) -> tuple[int, str, int]:
    """The initiative's version and title and how many edit events it has."""
    key = uuid.UUID(initiative_id)
    with Session(world.engine) as session:
        version, title = session.execute(
            select(col(Initiative.version), col(Initiative.title)).where(col(Initiative.id) == key)
        ).one()
        logged = session.scalar(
            select(func.count()).where(
                col(Event.entity_id) == initiative_id,
                col(Event.action) == "initiative.updated",
            )
        )
        return int(version), str(title), int(logged or 0)
