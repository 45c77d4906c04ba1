"""bench/seed_large.py at a tiny scale: what it writes reads back through the API as data the
services themselves would have written."""

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.engine import Engine

from app.config import get_settings
from app.models import InitiativeCodeCounter, InitiativeMember
from app.services.lifecycle import STEPS, LifecycleAction, Party
from bench.seed_large import seed
from tests.conftest import DATABASE_URL

API = "/api/v1"
OFFICE_PARTIES = {Party.office_member, Party.office_head}


def _login(client: TestClient, email: str, password: str) -> dict[str, str]:
    response = client.post(
        f"{API}/auth/token",
        data={"grant_type": "password", "username": email, "password": password},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _all(client: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = client.get(f"{API}{path}", headers=headers, params=query)
        assert response.status_code == 200, (path, response.text)
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return items


def test_tiny_dataset_keeps_the_services_rules(client: TestClient, engine: Engine) -> None:
    manifest = seed(DATABASE_URL, scale=0.001, seed=7, quiet=True)
    counts = manifest["counts"]
    assert counts["initiative"] == 100
    password = manifest["password"]

    # Every role can sign in with the shared password.
    headers = {}
    for role, emails in manifest["logins"].items():
        assert emails, role
        headers[role] = _login(client, emails[0], password)
        me = client.get(f"{API}/users/me", headers=headers[role]).json()
        assert role in me["roles"]
    admin, office = headers["admin"], headers["office_member"]

    # Codes: INI-<year>-<NNNN>, gap-free per calendar year of creation in creation order, and
    # the counter at the last number issued.
    initiatives = _all(client, "/initiatives", admin, sort="created_at")
    assert len(initiatives) == counts["initiative"]
    by_year: dict[int, list[int]] = defaultdict(list)
    for item in initiatives:
        _, year, number = item["code"].split("-")
        assert int(year) == datetime.fromisoformat(item["created_at"]).year
        by_year[int(year)].append(int(number))
    for numbers in by_year.values():
        assert numbers == list(range(1, len(numbers) + 1))
    with engine.connect() as conn:
        counters = dict(
            conn.execute(
                select(InitiativeCodeCounter.year, InitiativeCodeCounter.last_number)  # type: ignore[call-overload]
            ).all()
        )
    assert counters == {year: len(numbers) for year, numbers in by_year.items()}
    assert Counter(i["status"] for i in initiatives) == Counter(
        {k: v for k, v in manifest["initiatives_by_status"].items() if v}
    )

    # Each history is a legal walk of the lifecycle table from draft to the current status;
    # the version counts the writes and the round the resubmits.
    # Teams straight from the table: one query instead of a detail request per initiative.
    teams: dict[str, list[tuple[str, str]]] = defaultdict(list)
    with engine.connect() as conn:
        for initiative_id, user_id, role in conn.execute(
            select(InitiativeMember.initiative_id, InitiativeMember.user_id, InitiativeMember.role)  # type: ignore[call-overload]
        ):
            teams[str(initiative_id)].append((str(user_id), role.value))
    summaries_checked = 0
    submitted_conclusions = 0
    min_conclusions = get_settings().min_conclusions
    for item in initiatives:
        history = _all(client, f"/initiatives/{item['id']}/transitions", admin)
        leads = {u for u, role in teams[item["id"]] if role == "lead"}
        insiders = {item["author_id"]} | {u for u, _ in teams[item["id"]]}
        status, review_round = "draft", 1
        for step in history:
            rule = STEPS[LifecycleAction(step["action"])]
            if rule.parties.isdisjoint(OFFICE_PARTIES):
                assert step["actor_id"] in {item["author_id"]} | leads
            else:  # the office never decides about its own people's initiatives
                assert step["actor_id"] not in insiders
            assert step["from_status"] == status
            assert status in rule.sources
            assert step["to_status"] == rule.target
            assert step["comment"] or not rule.requires_comment
            review_round += step["action"] == "resubmit"
            assert step["review_round"] == review_round
            status = step["to_status"]
        assert status == item["status"]
        assert item["version"] == 1 + len(history)
        assert item["review_round"] == review_round
        if not any(step["action"] == "send_to_expertise" for step in history):
            continue
        reviews = client.get(f"{API}/initiatives/{item['id']}/reviews", headers=office).json()
        done: Counter[int] = Counter()
        for review in reviews:
            if review["status"] == "submitted":
                done[review["review_round"]] += 1
                assert len(review["conclusion"]["scores"]) in (7, 8)  # the set's criteria
            else:
                assert review["conclusion"] is None
        submitted_conclusions += sum(done.values())
        for step in history:
            if step["action"] == "approve":
                assert done[step["review_round"]] >= min_conclusions
        decided_rounds = {s["review_round"] for s in history if s["from_status"] == "expertise"}
        assert not [
            r
            for r in reviews
            if r["review_round"] in decided_rounds and r["status"] in ("invited", "accepted")
        ]
        if summaries_checked < 10:  # the summary's own arithmetic is tested elsewhere
            summaries_checked += 1
            summary = client.get(
                f"{API}/initiatives/{item['id']}/expertise-summary", headers=office
            ).json()
            assert sum(r["conclusions"] for r in summary["rounds"]) == sum(done.values())
    assert submitted_conclusions == counts["conclusion"]

    # The activity log is in time order, as if the services had written it live, and every
    # transition has its event.
    seeded_until = datetime.fromisoformat(manifest["now"])
    events = [  # without the sign-ins above
        e for e in _all(client, "/audit", admin) if datetime.fromisoformat(e["at"]) <= seeded_until
    ]
    assert len(events) == counts["event"]
    moments = [e["at"] for e in events]  # newest first
    assert moments == sorted(moments, reverse=True)
    actions = Counter(e["action"] for e in events)
    assert actions["initiative.created"] == counts["initiative"]
    assert actions["initiative.transitioned"] == counts["transition"]
    assert actions["review.submitted"] == counts["conclusion"]
    assert actions["network_event.created"] == counts["network_event"]

    # Consultations, network events, meetings and the charter read back.
    track = manifest["ids"]["consultation_with_sessions"]
    detail = client.get(f"{API}/consultations/{track}", headers=office).json()
    sessions = _all(client, f"/consultations/{track}/sessions", office)
    assert detail["session_count"] == len(sessions) >= 2
    assert len(_all(client, "/network/events", office)) == counts["network_event"]
    meeting = manifest["ids"]["held_meeting"]
    assert client.get(f"{API}/meetings/{meeting}/minutes", headers=office).status_code == 200
    charter = manifest["ids"]["charter"]
    diff = client.get(
        f"{API}/charter/versions/{charter['latest_version']}/diff",
        headers=office,
        params={"against": charter["previous_version"]},
    ).json()
    assert any(s["change"] != "unchanged" for s in diff["sections"])

    # An office member takes a legal step on a generated initiative.
    step = manifest["ids"]["initiative_for_transition"]
    actor = _login(client, step["actor_email"], password)
    response = client.post(
        f"{API}/initiatives/{step['id']}/transitions",
        headers={**actor, "If-Match": str(step["version"])},
        json={"action": step["action"], "comment": step["comment"]},
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == step["version"] + 1

    with engine.connect() as conn:
        # One hash for everybody.
        assert (
            conn.execute(text("SELECT COUNT(DISTINCT hashed_password) FROM app_user")).scalar() == 1
        )
