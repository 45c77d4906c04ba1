"""SQLite's writers queue in the process, in arrival order (`app.db._sqlite_writer_turn`), rather
than racing in SQLite's busy handler: a write request waits for its turn on the event loop and
only one write transaction of the process is open at a time."""

import asyncio
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from app.db import _sqlite_writer_turn, dispose_loop_reads, get_engine
from app.main import create_app

ME = "/api/v1/users/me"


@pytest.fixture(autouse=True)
def _sqlite_only(is_postgres: bool) -> None:
    if is_postgres:
        pytest.skip("PostgreSQL has many writers: its writes need no queue")


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://t")


def test_a_write_waits_for_its_turn_and_a_read_does_not(participant: Any) -> None:
    async def main() -> None:
        async with _client() as client:
            turn = _sqlite_writer_turn()
            async with turn:
                write = asyncio.create_task(
                    client.patch(ME, json={"job_title": "Методист"}, headers=participant.headers)
                )
                for _ in range(20):
                    await asyncio.sleep(0.01)
                assert not write.done()
                # Reads never queue behind writers.
                read = await client.get(ME, headers=participant.headers)
                assert read.status_code == 200
                assert read.json()["job_title"] != "Методист"
            response = await asyncio.wait_for(write, 30)
            assert response.status_code == 200, response.text
            assert response.json()["job_title"] == "Методист"
        await dispose_loop_reads()

    asyncio.run(main())


def test_concurrent_writers_take_a_connection_one_at_a_time(participant: Any) -> None:
    """Without the queue each of them would take a pooled connection and a worker thread and
    wait inside SQLite's busy handler, where the order is luck."""
    pool = get_engine().pool
    checked_out = 0
    most = 0

    def checkout(*_: Any) -> None:
        nonlocal checked_out, most
        checked_out += 1
        most = max(most, checked_out)

    def checkin(*_: Any) -> None:
        nonlocal checked_out
        checked_out -= 1

    async def main() -> list[int]:
        async with _client() as client:
            calls = [
                client.patch(ME, json={"job_title": f"Методист {n}"}, headers=participant.headers)
                for n in range(16)
            ]
            responses = await asyncio.wait_for(asyncio.gather(*calls), 120)
        await dispose_loop_reads()
        return [r.status_code for r in responses]

    event.listen(pool, "checkout", checkout)
    event.listen(pool, "checkin", checkin)
    try:
        statuses = asyncio.run(main())
    finally:
        event.remove(pool, "checkout", checkout)
        event.remove(pool, "checkin", checkin)
    assert statuses == [200] * 16
    assert most == 1
