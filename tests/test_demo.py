"""The demo data the README's first command loads: it must obey the services' rules."""

from sqlmodel import Session

from app import demo
from app.db import get_engine


def _load() -> list[tuple[str, str]] | None:
    with Session(get_engine()) as session:
        logins = demo.load_demo_data(session)
        session.commit()
    return logins


def test_demo_logins_work_for_every_role(client):
    logins = _load()
    assert logins is not None
    assert {role for role, _ in logins} == {
        "admin",
        "office_head",
        "office_member",
        "expert",
        "participant",
        "observer",
    }
    for role, email in logins:
        response = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "password", "username": email, "password": demo.DEMO_PASSWORD},
        )
        assert response.status_code == 200, (role, response.text)
        me = client.get(
            "/api/v1/users/me",
            headers={"Authorization": f"Bearer {response.json()['access_token']}"},
        ).json()
        assert role in me["roles"]
        assert me["email"].endswith("@example.org")


def test_demo_data_is_idempotent():
    assert _load() is not None
    assert _load() is None


def test_demo_initiatives_span_two_academic_years(client, admin):
    _load()
    page = client.get("/api/v1/initiatives?limit=200", headers=admin.headers).json()
    titles = " ".join(item["title"] for item in page["items"])
    for name in ("Чайковское метро", "Смысловое чтение", "PROкачество+", "4К", "Миссия выполнима"):
        assert name in titles
    assert "УникУм" in titles
    assert titles.count("Образовательный лифт") == 5
    years = {item["academic_year"] for item in page["items"]}
    assert years == {"2020-2021", "2021-2022"}
    statuses = {item["status"] for item in page["items"]}
    assert {"closed", "in_progress", "consultation", "draft"} <= statuses
    metro = next(i for i in page["items"] if "Чайковское метро" in i["title"])
    history = client.get(
        f"/api/v1/initiatives/{metro['id']}/transitions", headers=admin.headers
    ).json()["items"]
    assert [t["action"] for t in history][-1] == "close"
    assert history[0]["at"].startswith("2020-09")
    assert history[-1]["at"].startswith("2021-06")


def test_demo_criteria_set_is_the_issues_seven(client, office_head):
    """The default set the issue names, active, with its Russian titles and descriptions."""
    _load()
    sets = client.get("/api/v1/criteria-sets", headers=office_head.headers).json()["items"]
    (active,) = [s for s in sets if s["is_active"]]
    assert [c["code"] for c in active["criteria"]] == [
        "relevance",
        "strategy_alignment",
        "feasibility",
        "novelty",
        "resources",
        "measurability",
        "network_potential",
    ]
    titles = {c["code"]: c["title_ru"] for c in active["criteria"]}
    assert titles["relevance"] == "Актуальность"
    assert titles["network_potential"].startswith("Тиражируемость")
    assert all(c["description"] and c["max_score"] == 5 for c in active["criteria"])
