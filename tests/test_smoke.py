from tests.factories import assert_problem


def test_live(client):
    assert client.get("/health/live").json() == {"status": "ok", "database": None}


def test_ready(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_unknown_route_is_problem(client):
    assert_problem(client.get("/api/v1/nope"), 404, "not_found")


def test_me(client, participant):
    body = client.get("/api/v1/users/me", headers=participant.headers).json()
    assert body["id"] == str(participant.id)
    assert body["roles"] == ["participant"]


def test_sqlite_connections_are_tuned(tmp_path):
    """WAL (readers beside a writer), a busy timeout instead of "database is locked", foreign
    keys enforced: on every connection of both SQLite engines the app builds."""
    from app.db import build_engine, build_loop_engine

    url = f"sqlite:///{tmp_path}/tuned.db"
    for built in (build_engine(url, pool_size=1), build_loop_engine(url, pool_size=1)):
        with built.connect() as connection:
            pragma = connection.exec_driver_sql
            assert pragma("PRAGMA journal_mode").scalar() == "wal"
            assert pragma("PRAGMA busy_timeout").scalar() == 15000
            assert pragma("PRAGMA foreign_keys").scalar() == 1
        built.dispose()
