"""bench/load.py's mixed load in miniature: a handful of clients for a few seconds against the
demo data, through httpx against the app, then every acknowledged write checked in the
database (the same checks the full run makes)."""

import asyncio

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session

from app import demo
from app.main import create_app
from bench.load import discover_emails, run_mixed


def test_mixed_load_loses_and_duplicates_nothing(engine: Engine) -> None:
    with Session(engine) as session:
        demo.load_demo_data(session)
        session.commit()
    transport = httpx.ASGITransport(app=create_app())

    summary, checks = asyncio.run(
        run_mixed(
            "http://bench.test",
            engine,
            discover_emails(engine),
            demo.DEMO_PASSWORD,
            None,
            clients=4,
            seconds=3,
            think_ms=0,
            filter_query="status=in_progress",
            transport=transport,
        )
    )

    failed = [f"{c.name}: {c.detail}" for c in checks if not c.passed]
    assert not failed, (failed, summary["server_errors"], summary["locked"])
    statuses = summary["statuses"]
    assert not [s for s in statuses if s == "0" or s.startswith("5")], statuses
    writes = summary["writes"]
    assert writes["creates"] > 0, writes
    assert writes["transitions"] > 0, writes
