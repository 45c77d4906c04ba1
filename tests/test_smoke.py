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
