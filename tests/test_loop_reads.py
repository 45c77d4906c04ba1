"""Reads on the event loop (`app.db.request_db`): async GET routes run their statements on the
loop, from a pool of their own, a slot per connection. A saturated pool must never stall the
worker: a request that finds every slot taken waits without blocking the loop, and connections
held by worker threads never hold up a read on the loop."""

import asyncio
from typing import Any

import httpx
from sqlalchemy import literal, select

from app.config import get_settings
from app.db import Db, _current_loop_reads, dispose_loop_reads, get_engine
from app.main import create_app

USERS = "/api/v1/users"


async def _list(client: httpx.AsyncClient, headers: dict[str, str]) -> httpx.Response:
    return await client.get(USERS, params={"limit": 5}, headers=headers)


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app()), base_url="http://t")


class TestSaturatedPool:
    def test_a_request_waits_for_a_slot_without_stalling_the_loop(self, office_head: Any) -> None:
        async def main() -> None:
            async with _client() as client:
                assert (await _list(client, office_head.headers)).status_code == 200
                reads = _current_loop_reads()
                # Every slot taken, every connection of the loop's pool checked out and inside
                # a transaction, as by requests that are still running.
                held: list[Db] = []
                for _ in range(get_settings().db_pool_size):
                    await reads.slots.acquire()
                    db = reads.open()
                    assert await db.rows(select(literal(1)), {}) == [(1,)]
                    held.append(db)
                assert reads.slots.locked()

                waiting = asyncio.create_task(_list(client, office_head.headers))
                for _ in range(20):
                    await asyncio.sleep(0.01)
                # The loop kept turning and the request still waits: had it taken a connection
                # on the loop, it would have blocked the loop for the pool's timeout and then
                # failed, so it would be done by now.
                assert not waiting.done()

                for db in held:
                    await db.end(None)
                    reads.slots.release()
                response = await asyncio.wait_for(waiting, 10)
                assert response.status_code == 200, response.text
                assert len(response.json()["items"]) >= 1
            await dispose_loop_reads()

        asyncio.run(main())

    def test_connections_held_by_worker_threads_do_not_hold_up_reads_on_the_loop(
        self, office_head: Any
    ) -> None:
        engine = get_engine()
        # Every connection the worker threads' pool may open (its size and its overflow).
        capacity = engine.pool.size() + engine.pool._max_overflow  # type: ignore[attr-defined]
        held = [engine.connect() for _ in range(capacity)]
        try:

            async def main() -> None:
                async with _client() as client:
                    # Served from the loop's own pool: had it waited for the threads' pool,
                    # it would have timed out there and answered 503.
                    response = await _list(client, office_head.headers)
                    assert response.status_code == 200, response.text
                await dispose_loop_reads()

            asyncio.run(main())
        finally:
            for connection in held:
                connection.close()

    def test_many_requests_at_once_all_answer(self, office_head: Any) -> None:
        async def main() -> list[int]:
            async with _client() as client:
                count = 4 * get_settings().db_pool_size
                responses = await asyncio.wait_for(
                    asyncio.gather(*(_list(client, office_head.headers) for _ in range(count))),
                    60,
                )
            await dispose_loop_reads()
            return [r.status_code for r in responses]

        assert set(main_result := asyncio.run(main())) == {200}, main_result
