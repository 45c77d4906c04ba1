"""Expertise: criteria sets, assignments, conclusions, blind reading, summary and growth."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.models import Role
from tests.factories import assert_problem

CRITERIA = [
    {"code": "relevance", "title_ru": "Актуальность", "title_en": "Relevance", "max_score": 5,
     "weight": 2},
    {"code": "feasibility", "title_ru": "Реализуемость", "title_en": "Feasibility",
     "max_score": 10, "weight": 1},
]  # fmt: skip


def due(days: int = 14) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.fixture
def world(client, make_user, make_org):
    """An initiative in expertise, an office, three experts from other organizations."""
    school, gymnasium, centre = make_org(), make_org(), make_org()
    head = make_user(Role.office_head, Role.office_member, organization_id=centre)
    member = make_user(Role.office_member, organization_id=centre)
    author = make_user(Role.participant, organization_id=school)
    mate = make_user(Role.participant, Role.expert, organization_id=school)
    experts = [make_user(Role.expert, organization_id=gymnasium) for _ in range(3)]
    colleague = make_user(Role.expert, organization_id=school)
    outsider = make_user(Role.participant, organization_id=gymnasium)
    response = client.post(
        "/api/v1/criteria-sets",
        headers=head.headers,
        json={"title": "Критерии", "criteria": CRITERIA, "activate": True},
    )
    assert response.status_code == 201, response.text
    initiative = client.post(
        "/api/v1/initiatives",
        headers=author.headers,
        json={
            "title": "Смысловое чтение в начальной школе",
            "education_level": "primary",
            "academic_year": "2021-2022",
            "topics": ["смысловое чтение"],
            "team": [{"user_id": str(mate.id), "role": "member"}],
        },
    ).json()
    for action, who in [("submit", author), ("send_to_expertise", member)]:
        r = client.post(
            f"/api/v1/initiatives/{initiative['id']}/transitions",
            headers=who.headers,
            json={"action": action},
        )
        assert r.status_code == 200, r.text
    return {
        "head": head,
        "member": member,
        "author": author,
        "mate": mate,
        "experts": experts,
        "colleague": colleague,
        "outsider": outsider,
        "initiative": initiative,
        "criteria_set": response.json(),
    }


def assign(client, world, expert, *, position="content_expert", who=None, **extra):
    return client.post(
        f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
        headers=(who or world["member"]).headers,
        json={"expert_id": str(expert.id), "position": position, "due_at": due(), **extra},
    )


def conclusion(relevance=4, feasibility=8, recommendation="approve"):
    return {
        "scores": [
            {"criterion": "relevance", "score": relevance, "comment": "Проблема реальна"},
            {"criterion": "feasibility", "score": feasibility, "comment": "Ресурсы есть"},
        ],
        "recommendation": recommendation,
        "summary": "Замысел стоит поддержать",
        "developmental_feedback": "Что изменится для ученика через год?",
    }


def accepted(client, world, expert):
    """An assignment the expert has accepted, and the URL to submit its conclusion to."""
    review = assign(client, world, expert).json()
    r = client.post(f"/api/v1/reviews/{review['id']}/accept", headers=expert.headers, json={})
    assert r.status_code == 200, r.text
    return review, f"/api/v1/reviews/{review['id']}/submit"


def review_done(client, world, expert, **scores):
    review, _ = accepted(client, world, expert)
    response = client.post(
        f"/api/v1/reviews/{review['id']}/submit", headers=expert.headers, json=conclusion(**scores)
    )
    assert response.status_code == 200, response.text
    return response.json()


class TestCriteriaSets:
    def test_anonymous(self, client):
        assert_problem(client.get("/api/v1/criteria-sets"), 401)

    def test_wrong_role_cannot_create(self, client, participant):
        r = client.post(
            "/api/v1/criteria-sets",
            headers=participant.headers,
            json={"title": "x", "criteria": CRITERIA},
        )
        assert_problem(r, 403, "forbidden")

    def test_invalid(self, client, office_head):
        r = client.post(
            "/api/v1/criteria-sets",
            headers=office_head.headers,
            json={"title": "x", "criteria": [CRITERIA[0], CRITERIA[0]]},
        )
        assert_problem(r, 422, "validation_error")

    def test_exactly_one_active_and_in_use_is_frozen(self, client, world, office_head):
        first = world["criteria_set"]
        assert first["is_active"] is True
        assert [c["code"] for c in first["criteria"]] == ["relevance", "feasibility"]
        review_id = assign(client, world, world["experts"][0]).json()["id"]
        assert review_id
        r = client.put(
            f"/api/v1/criteria-sets/{first['id']}",
            headers=office_head.headers,
            json={"title": "Правка", "criteria": CRITERIA[:1]},
        )
        assert_problem(r, 409, "criteria_set_in_use")
        second = client.post(
            "/api/v1/criteria-sets",
            headers=office_head.headers,
            json={"title": "Редакция 2", "criteria": CRITERIA[:1], "activate": True},
        ).json()
        assert second["number"] == first["number"] + 1
        sets = client.get("/api/v1/criteria-sets", headers=world["author"].headers).json()
        assert [s["is_active"] for s in sets["items"]] == [True, False]
        assert sets["items"][1]["in_use"] is True

    def test_unused_set_can_be_corrected(self, client, office_head):
        created = client.post(
            "/api/v1/criteria-sets",
            headers=office_head.headers,
            json={"title": "Черновик", "criteria": CRITERIA},
        ).json()
        r = client.put(
            f"/api/v1/criteria-sets/{created['id']}",
            headers=office_head.headers,
            json={"title": "Исправлено", "criteria": CRITERIA[:1]},
        )
        assert r.status_code == 200
        assert r.json()["title"] == "Исправлено"
        assert len(r.json()["criteria"]) == 1

    def test_simultaneous_creations_all_get_a_number(self, app, client, office_head):
        """Numbers are max + 1; on PostgreSQL the racing inserts meet at the unique index."""
        barrier = threading.Barrier(4)

        def create(title: str) -> Any:
            with TestClient(app) as own:
                barrier.wait(timeout=30)
                return own.post(
                    "/api/v1/criteria-sets",
                    headers=office_head.headers,
                    json={"title": title, "criteria": CRITERIA},
                )

        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(create, [f"Редакция {n}" for n in range(4)]))
        assert [r.status_code for r in responses] == [201] * 4, [r.text for r in responses]
        numbers = sorted(r.json()["number"] for r in responses)
        assert numbers == list(range(numbers[0], numbers[0] + 4))

    def test_simultaneous_activations_leave_one_active(self, app, client, office_head):
        """Each activation switches off the set active when it began: without the lock on
        PostgreSQL two of them left two sets active (or one hit the unique index as a 500)."""
        ids = [
            client.post(
                "/api/v1/criteria-sets",
                headers=office_head.headers,
                json={"title": f"Редакция {n}", "criteria": CRITERIA},
            ).json()["id"]
            for n in range(4)
        ]
        barrier = threading.Barrier(len(ids))

        def activate(set_id: str) -> Any:
            with TestClient(app) as own:
                barrier.wait(timeout=30)
                return own.post(
                    f"/api/v1/criteria-sets/{set_id}/activate", headers=office_head.headers
                )

        with ThreadPoolExecutor(len(ids)) as pool:
            responses = list(pool.map(activate, ids))
        assert [r.status_code for r in responses] == [200] * len(ids), [r.text for r in responses]
        listed = client.get(
            "/api/v1/criteria-sets", headers=office_head.headers, params={"limit": 100}
        ).json()["items"]
        active = [s["id"] for s in listed if s["is_active"]]
        (winner,) = active
        assert winner in ids

    def test_activate_moves_the_active_mark(self, client, world, office_head, participant):
        first = world["criteria_set"]
        second = client.post(
            "/api/v1/criteria-sets",
            headers=office_head.headers,
            json={"title": "Редакция 2", "criteria": CRITERIA[:1]},
        ).json()
        assert second["is_active"] is False
        url = f"/api/v1/criteria-sets/{second['id']}/activate"
        assert_problem(client.post(url), 401)
        assert_problem(client.post(url, headers=participant.headers), 403)
        r = client.post(url, headers=office_head.headers)
        assert r.status_code == 200, r.text
        assert r.json()["is_active"] is True
        again = client.get(f"/api/v1/criteria-sets/{first['id']}", headers=office_head.headers)
        assert again.json()["is_active"] is False
        missing = "/api/v1/criteria-sets/00000000-0000-0000-0000-000000000001/activate"
        assert_problem(client.post(missing, headers=office_head.headers), 404)

    def test_unknown_set_is_404(self, client, office_head):
        r = client.get(
            "/api/v1/criteria-sets/00000000-0000-0000-0000-000000000001",
            headers=office_head.headers,
        )
        assert_problem(r, 404)


class TestAssign:
    def test_anonymous(self, client, world):
        r = client.post(f"/api/v1/initiatives/{world['initiative']['id']}/reviews", json={})
        assert_problem(r, 401)

    def test_wrong_role(self, client, world):
        r = assign(client, world, world["experts"][0], who=world["outsider"])
        assert_problem(r, 403)

    def test_invalid_body(self, client, world):
        r = client.post(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
            headers=world["member"].headers,
            json={"expert_id": "nope", "position": "guru"},
        )
        body = assert_problem(r, 422, "validation_error")
        assert {e["loc"][-1] for e in body["errors"]} >= {"expert_id", "position", "due_at"}

    def test_due_at_is_iso_only(self, client, world):
        # A number was read as a Unix timestamp; the house takes ISO 8601 only.
        r = assign(client, world, world["experts"][0], due_at=4102444800)
        body = assert_problem(r, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "due_at"]

    @pytest.mark.parametrize("due_at", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
    def test_due_at_beyond_utc_is_422(self, client, world, due_at):
        # Valid ISO strings whose UTC moment does not exist: a 500 from the database layer once.
        r = assign(client, world, world["experts"][0], due_at=due_at)
        body = assert_problem(r, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "due_at"]

    def test_happy(self, client, world):
        r = assign(client, world, world["experts"][0], position="methodologist")
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["status"] == "invited"
        assert body["review_round"] == 1
        assert body["position"] == "methodologist"
        assert body["expert_id"] == str(world["experts"][0].id)
        assert body["overdue"] is False

    def test_author_and_team_are_a_conflict(self, client, world, make_user):
        # the team mate has the expert role and is still refused
        r = assign(client, world, world["mate"])
        assert_problem(r, 409, "conflict_of_interest")

    def test_the_author_is_a_conflict_whatever_their_roles(self, client, world):
        """The author has no expert role: still a conflict of interest, not «not an expert»."""
        assert_problem(assign(client, world, world["author"]), 409, "conflict_of_interest")

    def test_user_without_expert_role(self, client, world):
        r = assign(client, world, world["outsider"])
        assert_problem(r, 422, "not_an_expert")

    def test_due_in_past(self, client, world):
        r = client.post(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
            headers=world["member"].headers,
            json={
                "expert_id": str(world["experts"][0].id),
                "position": "content_expert",
                "due_at": due(-1),
            },
        )
        assert_problem(r, 422, "due_in_past")

    def test_same_organization_needs_head_override(self, client, world):
        assert_problem(assign(client, world, world["colleague"]), 409, "same_organization")
        r = assign(
            client, world, world["colleague"], conflict_override_reason="Единственный специалист"
        )
        assert_problem(r, 403, "override_forbidden")
        r = assign(
            client,
            world,
            world["colleague"],
            who=world["head"],
            conflict_override_reason="Единственный специалист по теме",
        )
        assert r.status_code == 201, r.text
        assert r.json()["conflict_override_reason"] == "Единственный специалист по теме"

    def test_someone_elses_draft_is_404(self, client, world, make_user):
        draft = client.post(
            "/api/v1/initiatives",
            headers=world["author"].headers,
            json={
                "title": "Черновик замысла",
                "education_level": "basic",
                "academic_year": "2021-2022",
            },
        ).json()
        r = client.post(
            f"/api/v1/initiatives/{draft['id']}/reviews",
            headers=world["member"].headers,
            json={
                "expert_id": str(world["experts"][0].id),
                "position": "content_expert",
                "due_at": due(),
            },
        )
        assert_problem(r, 404)

    def test_simultaneous_assignments_of_one_expert(self, app, client, world):
        """Two office members assigning the same expert at once: both pass the service's check;
        the unique index lets one through and the other gets the same 409."""
        expert = world["experts"][0]
        barrier = threading.Barrier(4)

        def assign_once(_: int) -> Any:
            with TestClient(app) as own:
                barrier.wait(timeout=30)
                return assign(own, world, expert)

        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(assign_once, range(4)))
        codes = sorted(r.status_code for r in responses)
        assert codes == [201, 409, 409, 409], [r.text for r in responses]
        for r in responses:
            if r.status_code == 409:
                assert_problem(r, 409, "already_assigned")
        listed = client.get(
            "/api/v1/reviews",
            headers=world["member"].headers,
            params={"initiative_id": world["initiative"]["id"], "expert_id": str(expert.id)},
        ).json()["items"]
        assert len(listed) == 1

    def test_twice_in_one_round(self, client, world):
        assert assign(client, world, world["experts"][0]).status_code == 201
        assert_problem(assign(client, world, world["experts"][0]), 409, "already_assigned")


class TestExpertActions:
    def test_accept_decline_replace_submit(self, client, world):
        first, second, third = world["experts"]
        r1 = assign(client, world, first).json()
        r2 = assign(client, world, second).json()
        accepted = client.post(
            f"/api/v1/reviews/{r1['id']}/accept",
            headers=first.headers,
            json={"competing_interests": "Нет"},
        )
        assert accepted.json()["status"] == "accepted"
        declined = client.post(
            f"/api/v1/reviews/{r2['id']}/decline",
            headers=second.headers,
            json={"reason": "Отпуск в эти даты"},
        )
        assert declined.json()["status"] == "declined"
        assert declined.json()["decline_reason"] == "Отпуск в эти даты"
        r3 = assign(client, world, third).json()
        client.post(f"/api/v1/reviews/{r3['id']}/accept", headers=third.headers, json={})
        draft = client.put(
            f"/api/v1/reviews/{r1['id']}/conclusion",
            headers=first.headers,
            json={"scores": [{"criterion": "relevance", "score": 3}]},
        )
        assert draft.status_code == 200, draft.text
        assert draft.json()["conclusion"]["scores"][0]["score"] == 3
        assert draft.json()["status"] == "accepted"
        for expert, review in ((first, r1), (third, r3)):
            r = client.post(
                f"/api/v1/reviews/{review['id']}/submit", headers=expert.headers, json=conclusion()
            )
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "submitted"
        mine = client.get("/api/v1/reviews?mine=true", headers=first.headers).json()
        assert [i["id"] for i in mine["items"]] == [r1["id"]]

    def test_submit_by_someone_else_is_404(self, client, world):
        first, second, _ = world["experts"]
        review = assign(client, world, first).json()
        client.post(f"/api/v1/reviews/{review['id']}/accept", headers=first.headers, json={})
        r = client.post(
            f"/api/v1/reviews/{review['id']}/submit", headers=second.headers, json=conclusion()
        )
        assert_problem(r, 404, "review_not_found")
        assert_problem(client.get(f"/api/v1/reviews/{review['id']}", headers=second.headers), 404)

    def test_submit_twice_is_409(self, client, world):
        review = review_done(client, world, world["experts"][0])
        r = client.post(
            f"/api/v1/reviews/{review['id']}/submit",
            headers=world["experts"][0].headers,
            json=conclusion(),
        )
        assert_problem(r, 409, "conclusion_submitted")

    def test_score_out_of_range_names_the_criterion(self, client, world):
        expert = world["experts"][0]
        review = assign(client, world, expert).json()
        client.post(f"/api/v1/reviews/{review['id']}/accept", headers=expert.headers, json={})
        for bad in (6, -1):
            r = client.post(
                f"/api/v1/reviews/{review['id']}/submit",
                headers=expert.headers,
                json=conclusion(relevance=bad),
            )
            body = assert_problem(r, 422, "score_out_of_range")
            assert "relevance" in body["detail"]
            assert "Актуальность" in body["detail"]

    def test_every_score_needs_a_comment_and_feedback_is_required(self, client, world):
        expert = world["experts"][0]
        review, url = accepted(client, world, expert)
        body = conclusion()
        body["scores"][1]["comment"] = "  "
        r = client.post(url, headers=expert.headers, json=body)
        assert_problem(r, 422, "comment_required")
        assert "feasibility" in r.json()["detail"]
        assert r.json()["errors"][0]["loc"] == ["body", "scores", 1, "comment"]
        body = conclusion()
        del body["developmental_feedback"]
        assert_problem(client.post(url, headers=expert.headers, json=body), 422)
        # a draft may leave both out
        draft = conclusion()
        draft["scores"][1]["comment"] = ""
        draft["developmental_feedback"] = ""
        saved = client.put(
            f"/api/v1/reviews/{review['id']}/conclusion", headers=expert.headers, json=draft
        )
        assert saved.status_code == 200, saved.text
        assert client.post(url, headers=expert.headers, json=conclusion()).status_code == 200

    def test_missing_criterion(self, client, world):
        expert = world["experts"][0]
        review = assign(client, world, expert).json()
        client.post(f"/api/v1/reviews/{review['id']}/accept", headers=expert.headers, json={})
        body = conclusion()
        body["scores"] = body["scores"][:1]
        r = client.post(f"/api/v1/reviews/{review['id']}/submit", headers=expert.headers, json=body)
        assert_problem(r, 422, "missing_criteria")

    def test_accept_after_due_date_is_409(self, client, world, engine):
        from sqlalchemy import text

        expert = world["experts"][0]
        review = assign(client, world, expert).json()
        with engine.begin() as conn:
            conn.execute(
                text("UPDATE review_assignment SET due_at = :due"),
                {"due": datetime.now(UTC) - timedelta(days=1)},
            )
        listed = client.get(f"/api/v1/reviews/{review['id']}", headers=expert.headers).json()
        assert listed["overdue"] is True
        r = client.post(f"/api/v1/reviews/{review['id']}/accept", headers=expert.headers, json={})
        assert_problem(r, 409, "review_overdue")

    def test_anonymous_and_invalid(self, client, world):
        review = assign(client, world, world["experts"][0]).json()
        assert_problem(client.post(f"/api/v1/reviews/{review['id']}/accept", json={}), 401)
        r = client.post(
            f"/api/v1/reviews/{review['id']}/decline",
            headers=world["experts"][0].headers,
            json={"reason": ""},
        )
        assert_problem(r, 422)

    def test_office_cancels_and_rates(self, client, world):
        first, second, _ = world["experts"]
        pending = assign(client, world, second).json()
        r = client.post(
            f"/api/v1/reviews/{pending['id']}/cancel",
            headers=world["member"].headers,
            json={"reason": "Эксперт заболел"},
        )
        assert r.json()["status"] == "cancelled"
        done = review_done(client, world, first)
        r = client.put(
            f"/api/v1/reviews/{done['id']}/quality",
            headers=world["head"].headers,
            json={"rating": 5},
        )
        assert r.json()["conclusion"]["quality_rating"] == 5
        r = client.put(
            f"/api/v1/reviews/{done['id']}/quality", headers=first.headers, json={"rating": 5}
        )
        assert_problem(r, 403)


class TestVisibilityAndApproval:
    def test_author_reads_blind_expert_only_after_own(self, client, world):
        first, second, _ = world["experts"]
        done = review_done(client, world, first)
        pending = assign(client, world, second).json()
        client.post(f"/api/v1/reviews/{pending['id']}/accept", headers=second.headers, json={})

        seen_by_author = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
            headers=world["author"].headers,
        ).json()
        assert [r["id"] for r in seen_by_author] == [done["id"]]
        assert seen_by_author[0]["expert_id"] is None
        assert seen_by_author[0]["expert_name"] is None
        assert seen_by_author[0]["conclusion"]["summary"] == "Замысел стоит поддержать"

        seen_by_second = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews", headers=second.headers
        ).json()
        assert [r["id"] for r in seen_by_second] == [pending["id"]]

        client.post(
            f"/api/v1/reviews/{pending['id']}/submit", headers=second.headers, json=conclusion()
        )
        seen_by_second = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews", headers=second.headers
        ).json()
        assert {r["id"] for r in seen_by_second} == {pending["id"], done["id"]}

        seen_by_office = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
            headers=world["member"].headers,
        ).json()
        assert all(r["expert_name"] for r in seen_by_office)
        assert_problem(
            client.get(
                f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
                headers=world["outsider"].headers,
            ),
            403,
            "reviews_hidden",
        )

    def test_identity_shown_when_not_blind(self, client, world, monkeypatch):
        monkeypatch.setattr(get_settings(), "blind_reviews", False)
        review_done(client, world, world["experts"][0])
        seen = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
            headers=world["author"].headers,
        ).json()
        assert seen[0]["expert_id"] == str(world["experts"][0].id)

    def test_approve_needs_two_conclusions(self, client, world):
        url = f"/api/v1/initiatives/{world['initiative']['id']}/transitions"
        review_done(client, world, world["experts"][0])
        r = client.post(url, headers=world["head"].headers, json={"action": "approve"})
        body = assert_problem(r, 409, "guard_failed")
        assert body["extra"]["blocked_by"][0]["guard"] == "enough_conclusions"
        assert "подано 1" in body["detail"]
        actions = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/actions",
            headers=world["head"].headers,
        ).json()
        approve = next(a for a in actions if a["action"] == "approve")
        assert approve["allowed"] is False
        assert approve["blocked_by"][0]["guard"] == "enough_conclusions"

        review_done(client, world, world["experts"][1])
        pending = assign(client, world, world["experts"][2]).json()
        client.post(
            f"/api/v1/reviews/{pending['id']}/accept",
            headers=world["experts"][2].headers,
            json={},
        )
        r = client.post(url, headers=world["head"].headers, json={"action": "approve"})
        body = assert_problem(r, 409, "guard_failed")
        assert [b["guard"] for b in body["extra"]["blocked_by"]] == ["no_pending_reviews"]
        client.post(
            f"/api/v1/reviews/{pending['id']}/decline",
            headers=world["experts"][2].headers,
            json={"reason": "Не успеваю"},
        )
        r = client.post(url, headers=world["head"].headers, json={"action": "approve"})
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "approved"

    def test_send_to_expertise_needs_active_criteria(self, client, world, engine):
        from sqlalchemy import text

        with engine.begin() as conn:
            conn.execute(text("UPDATE criteria_set SET is_active = false"))
        other = client.post(
            "/api/v1/initiatives",
            headers=world["author"].headers,
            json={
                "title": "Второй замысел",
                "education_level": "basic",
                "academic_year": "2021-2022",
            },
        ).json()
        url = f"/api/v1/initiatives/{other['id']}/transitions"
        client.post(url, headers=world["author"].headers, json={"action": "submit"})
        r = client.post(url, headers=world["member"].headers, json={"action": "send_to_expertise"})
        body = assert_problem(r, 409, "guard_failed")
        assert body["extra"]["blocked_by"][0]["guard"] == "active_criteria_set"

    def test_leaving_expertise_closes_the_rounds_open_assignments(self, client, world, admin):
        accepted = assign(client, world, world["experts"][0]).json()
        invited = assign(client, world, world["experts"][1]).json()
        expert = world["experts"][0]
        client.post(f"/api/v1/reviews/{accepted['id']}/accept", headers=expert.headers, json={})
        r = client.post(
            f"/api/v1/initiatives/{world['initiative']['id']}/transitions",
            headers=world["member"].headers,
            json={"action": "request_revision", "comment": "Уточните результаты"},
        )
        assert r.status_code == 200, r.text
        for review in (accepted, invited):
            got = client.get(f"/api/v1/reviews/{review['id']}", headers=world["member"].headers)
            assert got.json()["status"] == "cancelled"
        late = client.post(
            f"/api/v1/reviews/{accepted['id']}/submit", headers=expert.headers, json=conclusion()
        )
        assert late.status_code == 409, late.text
        events = client.get(
            "/api/v1/audit",
            headers=admin.headers,
            params={"entity_id": accepted["id"], "action": "review.cancelled"},
        ).json()["items"]
        assert len(events) == 1

    def test_resubmit_opens_a_new_round(self, client, world):
        review_done(client, world, world["experts"][0])
        url = f"/api/v1/initiatives/{world['initiative']['id']}/transitions"
        client.post(
            url,
            headers=world["member"].headers,
            json={"action": "request_revision", "comment": "Уточните результаты"},
        )
        client.post(url, headers=world["author"].headers, json={"action": "resubmit"})
        client.post(url, headers=world["member"].headers, json={"action": "send_to_expertise"})
        r = assign(client, world, world["experts"][0])
        assert r.status_code == 201, r.text
        assert r.json()["review_round"] == 2
        reviews = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/reviews",
            headers=world["member"].headers,
        ).json()
        assert [r["review_round"] for r in reviews] == [1, 2]


class TestReviewList:
    def test_office_filters_and_pages(self, client, world):
        first, second, third = world["experts"]
        review_done(client, world, first)
        accepted = assign(client, world, second).json()
        client.post(f"/api/v1/reviews/{accepted['id']}/accept", headers=second.headers, json={})
        invited = assign(client, world, third).json()
        member = world["member"].headers

        def ids(**params):
            r = client.get("/api/v1/reviews", headers=member, params=params)
            assert r.status_code == 200, r.text
            return {item["id"] for item in r.json()["items"]}

        everything = ids(initiative_id=world["initiative"]["id"])
        assert len(everything) == 3
        assert ids(initiative_id=world["initiative"]["id"], status="invited") == {invited["id"]}
        assert ids(expert_id=str(second.id)) == {accepted["id"]}
        assert ids(initiative_id=world["initiative"]["id"], overdue=True) == set()
        pages, cursor = [], None
        while True:
            params = {"initiative_id": world["initiative"]["id"], "limit": 2}
            if cursor:
                params["cursor"] = cursor
            body = client.get("/api/v1/reviews", headers=member, params=params).json()
            pages.append([item["id"] for item in body["items"]])
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert [len(p) for p in pages] == [2, 1]
        assert {i for p in pages for i in p} == everything
        assert_problem(
            client.get("/api/v1/reviews", params={"status": "lost"}, headers=member), 422
        )

    def test_a_draft_before_accepting_is_409(self, client, world):
        expert = world["experts"][0]
        review = assign(client, world, expert).json()
        r = client.put(
            f"/api/v1/reviews/{review['id']}/conclusion", headers=expert.headers, json=conclusion()
        )
        assert r.status_code == 409, r.text


class TestOfficeAuthor:
    def test_an_office_author_does_not_run_their_own_expertise(
        self, client, world, make_user, make_org
    ):
        own = make_user(Role.office_member, Role.participant, organization_id=make_org())
        initiative = client.post(
            "/api/v1/initiatives",
            headers=own.headers,
            json={"title": "Замысел сотрудника офиса", "education_level": "basic",
                  "academic_year": "2021-2022"},
        ).json()  # fmt: skip
        url = f"/api/v1/initiatives/{initiative['id']}"
        client.post(f"{url}/transitions", headers=own.headers, json={"action": "submit"})
        r = client.post(
            f"{url}/transitions", headers=world["member"].headers,
            json={"action": "send_to_expertise"},
        )  # fmt: skip
        assert r.status_code == 200, r.text
        expert = world["experts"][0]
        body = {"expert_id": str(expert.id), "position": "content_expert", "due_at": due()}
        assert_problem(
            client.post(f"{url}/reviews", headers=own.headers, json=body),
            403,
            "conflict_of_interest",
        )
        review = client.post(f"{url}/reviews", headers=world["member"].headers, json=body).json()
        client.post(f"/api/v1/reviews/{review['id']}/accept", headers=expert.headers, json={})
        submitted = client.post(
            f"/api/v1/reviews/{review['id']}/submit", headers=expert.headers, json=conclusion()
        )
        assert submitted.status_code == 200, submitted.text
        (seen,) = client.get(f"{url}/reviews", headers=own.headers).json()
        assert seen["expert_id"] is None
        assert seen["expert_name"] is None
        assert_problem(
            client.put(
                f"/api/v1/reviews/{review['id']}/quality", headers=own.headers, json={"rating": 1}
            ),
            403,
            "conflict_of_interest",
        )
        rated = client.put(
            f"/api/v1/reviews/{review['id']}/quality",
            headers=world["member"].headers,
            json={"rating": 5},
        )
        assert rated.status_code == 200, rated.text
        # nor through the reviews list and the review itself, which show identities
        listed = client.get(
            "/api/v1/reviews", headers=own.headers, params={"initiative_id": initiative["id"]}
        )
        assert listed.status_code == 200, listed.text
        assert listed.json()["items"] == []
        assert_problem(
            client.get(f"/api/v1/reviews/{review['id']}", headers=own.headers),
            404,
            "review_not_found",
        )
        assert_problem(
            client.get(
                f"{url}/expert-suggestions", headers=own.headers, params={"position": "developer"}
            ),
            403,
            "conflict_of_interest",
        )
        # the rest of the office still sees it all
        full = client.get(f"/api/v1/reviews/{review['id']}", headers=world["member"].headers)
        assert full.json()["expert_id"] == str(expert.id)

    def test_an_office_member_reviewing_reads_as_an_expert(
        self, client, world, make_user, make_org
    ):
        """An office member assigned as an expert sees the others' conclusions only once their
        own is in, as any expert: office roles do not open them earlier."""
        reviewer = make_user(Role.office_member, Role.expert, organization_id=make_org())
        first = world["experts"][0]
        done = review_done(client, world, first)
        mine = assign(client, world, reviewer, who=world["head"]).json()
        url = f"/api/v1/initiatives/{world['initiative']['id']}/reviews"

        def visible() -> set[str]:
            r = client.get(url, headers=reviewer.headers)
            assert r.status_code == 200, r.text
            return {item["id"] for item in r.json()}

        assert visible() == {mine["id"]}
        assert_problem(
            client.get(f"/api/v1/reviews/{done['id']}", headers=reviewer.headers),
            404,
            "review_not_found",
        )
        # assigning the other experts is still theirs (the answer is the new assignment only)
        third = assign(client, world, world["experts"][2], who=reviewer)
        assert third.status_code == 201, third.text
        assert third.json()["expert_id"] == str(world["experts"][2].id)
        summary_url = f"/api/v1/initiatives/{world['initiative']['id']}/expertise-summary"
        # the means of a round with one conclusion in are that conclusion's scores
        early = client.get(summary_url, headers=reviewer.headers)
        assert early.status_code == 200, early.text
        assert early.json()["rounds"] == []
        # nor through the office's own steps, whose answers show the conclusion
        assert_problem(
            client.put(
                f"/api/v1/reviews/{done['id']}/quality",
                headers=reviewer.headers,
                json={"rating": 2},
            ),
            403,
            "conflict_of_interest",
        )
        pending = assign(client, world, world["experts"][1]).json()
        assert_problem(
            client.post(
                f"/api/v1/reviews/{pending['id']}/cancel",
                headers=reviewer.headers,
                json={"reason": "Замена"},
            ),
            403,
            "conflict_of_interest",
        )
        listed = client.get(
            "/api/v1/reviews",
            headers=reviewer.headers,
            params={"initiative_id": world["initiative"]["id"]},
        ).json()["items"]
        assert [item["id"] for item in listed] == [mine["id"]]
        client.post(f"/api/v1/reviews/{mine['id']}/accept", headers=reviewer.headers, json={})
        submitted = client.post(
            f"/api/v1/reviews/{mine['id']}/submit", headers=reviewer.headers, json=conclusion()
        )
        assert submitted.status_code == 200, submitted.text
        # their conclusion in, they are the office again: every assignment, open ones too
        assert visible() == {mine["id"], done["id"], pending["id"], third.json()["id"]}
        (round1,) = client.get(summary_url, headers=reviewer.headers).json()["rounds"]
        assert round1["conclusions"] == 2
        seen = client.get(f"/api/v1/reviews/{done['id']}", headers=reviewer.headers)
        assert seen.status_code == 200, seen.text
        assert seen.json()["expert_id"] == str(first.id)


class TestSummary:
    def test_scores_and_disagreement(self, client, world):
        review_done(client, world, world["experts"][0], relevance=5, feasibility=10)
        review_done(
            client, world, world["experts"][1], relevance=1, feasibility=2, recommendation="reject"
        )
        r = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/expertise-summary",
            headers=world["member"].headers,
        )
        assert r.status_code == 200, r.text
        body = r.json()
        (round1,) = body["rounds"]
        assert round1["conclusions"] == 2
        # (2*100 + 1*100)/3 = 100 and (2*20 + 1*20)/3 = 20
        assert round1["weighted_mean"] == 60.0
        assert round1["spread"] == 80.0
        assert round1["disagreement"] is True
        assert round1["recommendations"] == {"approve": 1, "reject": 1}
        relevance = next(c for c in round1["criteria"] if c["criterion"] == "relevance")
        assert relevance["mean_score"] == 3.0
        assert relevance["mean_normalized"] == 60.0

    def test_author_sees_summary_outsider_does_not(self, client, world):
        review_done(client, world, world["experts"][0])
        url = f"/api/v1/initiatives/{world['initiative']['id']}/expertise-summary"
        assert client.get(url, headers=world["author"].headers).status_code == 200
        assert_problem(client.get(url, headers=world["outsider"].headers), 403)
        assert_problem(client.get(url), 401)

    def test_an_expert_reads_the_summary_only_of_rounds_they_have_concluded(self, client, world):
        first, second = world["experts"][:2]
        review_done(client, world, first, relevance=2, feasibility=3, recommendation="reject")
        pending = assign(client, world, second).json()
        client.post(f"/api/v1/reviews/{pending['id']}/accept", headers=second.headers, json={})
        url = f"/api/v1/initiatives/{world['initiative']['id']}/expertise-summary"
        before = client.get(url, headers=second.headers)
        assert before.status_code == 200, before.text
        assert before.json()["rounds"] == []
        client.post(
            f"/api/v1/reviews/{pending['id']}/submit", headers=second.headers, json=conclusion()
        )
        (round1,) = client.get(url, headers=second.headers).json()["rounds"]
        assert round1["conclusions"] == 2
        assert round1["recommendations"] == {"approve": 1, "reject": 1}

    def test_constant_queries(self, client, world, count_queries):
        url = f"/api/v1/initiatives/{world['initiative']['id']}"
        review_done(client, world, world["experts"][0])
        count_queries.statements.clear()
        client.get(url + "/expertise-summary", headers=world["member"].headers)
        client.get(url + "/reviews", headers=world["member"].headers)
        one = count_queries.count
        review_done(client, world, world["experts"][1])
        review_done(client, world, world["experts"][2])
        count_queries.statements.clear()
        client.get(url + "/expertise-summary", headers=world["member"].headers)
        client.get(url + "/reviews", headers=world["member"].headers)
        assert count_queries.count == one


class TestConclusionEdges:
    def test_unknown_and_duplicate_criteria_are_named(self, client, world):
        expert = world["experts"][0]
        _, url = accepted(client, world, expert)
        body = conclusion()
        body["scores"][1]["criterion"] = "charisma"
        r = client.post(url, headers=expert.headers, json=body)
        assert_problem(r, 422, "unknown_criterion")
        assert "charisma" in r.json()["detail"]
        body = conclusion()
        body["scores"][1] = dict(body["scores"][0])
        r = client.post(url, headers=expert.headers, json=body)
        assert_problem(r, 422, "duplicate_criterion")
        assert r.json()["errors"][0]["loc"] == ["body", "scores", 1]

    def test_a_submitted_conclusion_is_frozen_drafts_too(self, client, world):
        expert = world["experts"][0]
        done = review_done(client, world, expert)
        r = client.put(
            f"/api/v1/reviews/{done['id']}/conclusion",
            headers=expert.headers,
            json=conclusion(relevance=1),
        )
        assert_problem(r, 409, "conclusion_submitted")
        again = client.get(f"/api/v1/reviews/{done['id']}", headers=expert.headers).json()
        assert again["conclusion"]["scores"][0]["score"] == 4

    def test_quality_rating_is_1_to_5(self, client, world):
        done = review_done(client, world, world["experts"][0])
        url = f"/api/v1/reviews/{done['id']}/quality"
        for rating in (0, 6, "хорошо"):
            r = client.put(url, headers=world["head"].headers, json={"rating": rating})
            assert_problem(r, 422, "validation_error")
        review = client.get(f"/api/v1/reviews/{done['id']}", headers=world["head"].headers)
        assert review.json()["conclusion"]["quality_rating"] is None

    def test_agreeing_experts_are_no_disagreement(self, client, world):
        review_done(client, world, world["experts"][0], relevance=4, feasibility=8)
        review_done(client, world, world["experts"][1], relevance=4, feasibility=7)
        (round1,) = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/expertise-summary",
            headers=world["member"].headers,
        ).json()["rounds"]
        # (2*80 + 1*80)/3 = 80 and (2*80 + 1*70)/3 ≈ 76.7
        assert (round1["spread"], round1["disagreement"]) == (3.3, False)


class TestGrowth:
    def test_profile_positions_and_upgrade(self, client, world):
        expert = world["experts"][0]
        done = review_done(client, world, expert)
        client.put(
            f"/api/v1/reviews/{done['id']}/quality",
            headers=world["head"].headers,
            json={"rating": 4},
        )
        profile = client.get(
            f"/api/v1/experts/{expert.id}/profile", headers=world["member"].headers
        ).json()
        assert profile["conclusions_submitted"] == 1
        assert profile["on_time_rate"] == 1.0
        assert profile["average_quality"] == 4.0
        assert [p["position"] for p in profile["positions"]] == ["content_expert"]
        (held,) = profile["positions"]
        assert (held["conclusions"], held["on_time_rate"], held["average_quality"]) == (1, 1.0, 4.0)
        r = client.post(
            f"/api/v1/experts/{expert.id}/positions",
            headers=world["head"].headers,
            json={"position": "methodologist", "reason": "Сильные содержательные заключения"},
        )
        assert r.status_code == 201, r.text
        positions = {p["position"]: p for p in r.json()["positions"]}
        assert positions["methodologist"]["source"] == "granted"
        assert positions["methodologist"]["reason"] == "Сильные содержательные заключения"
        assert_problem(
            client.post(
                f"/api/v1/experts/{expert.id}/positions",
                headers=world["member"].headers,
                json={"position": "developer", "reason": "Хочу"},
            ),
            403,
        )

    def test_profile_visibility(self, client, world):
        expert, other = world["experts"][0], world["experts"][1]
        assert (
            client.get(f"/api/v1/experts/{expert.id}/profile", headers=expert.headers).status_code
            == 200
        )
        assert_problem(
            client.get(f"/api/v1/experts/{expert.id}/profile", headers=other.headers), 404
        )
        assert_problem(client.get("/api/v1/experts", headers=other.headers), 403)
        listed = client.get("/api/v1/experts", headers=world["member"].headers).json()
        assert {str(e.id) for e in world["experts"]} <= {p["user_id"] for p in listed["items"]}

    def test_suggestions_rank_growth_and_exclude_conflicts(self, client, world):
        first, second, third = world["experts"]
        # two strong content conclusions make `first` ready to grow into a methodologist
        for _ in range(2):
            done = review_done(client, world, first)
            client.put(
                f"/api/v1/reviews/{done['id']}/quality",
                headers=world["head"].headers,
                json={"rating": 5},
            )
            url = f"/api/v1/initiatives/{world['initiative']['id']}/transitions"
            client.post(
                url,
                headers=world["member"].headers,
                json={"action": "request_revision", "comment": "Ещё раунд"},
            )
            client.post(url, headers=world["author"].headers, json={"action": "resubmit"})
            client.post(url, headers=world["member"].headers, json={"action": "send_to_expertise"})
        assign(client, world, third)  # busy now
        r = client.get(
            f"/api/v1/initiatives/{world['initiative']['id']}/expert-suggestions"
            "?position=methodologist",
            headers=world["member"].headers,
        )
        assert r.status_code == 200, r.text
        suggested = r.json()
        ids = [s["expert_id"] for s in suggested]
        assert str(world["mate"].id) not in ids  # team member
        assert str(world["colleague"].id) not in ids  # same organization
        assert str(third.id) not in ids  # already assigned this round
        assert ids[0] == str(first.id)
        assert any("рост" in reason for reason in suggested[0]["reasons"])
        assert "заключений по темам инициативы: 2" in suggested[0]["reasons"]
        assert "заключений по этому уровню образования: 2" in suggested[0]["reasons"]
        assert suggested[0]["score"] > suggested[1]["score"]
        busy = next(s for s in suggested if s["expert_id"] == str(second.id))
        assert "свободен(на): открытых экспертиз нет" in busy["reasons"]
        assert str(second.id) in ids
        assert_problem(
            client.get(
                f"/api/v1/initiatives/{world['initiative']['id']}/expert-suggestions"
                "?position=methodologist",
                headers=world["author"].headers,
            ),
            403,
        )


def test_done_when_story(client, world):
    """The issue's story in one piece: two experts assigned, one declines and is replaced, two
    conclusions that disagree, the author reads them blind, the summary flags the
    disagreement, the head approves, and the profiles show where the experts have grown."""
    first, second, third = world["experts"]
    initiative_url = f"/api/v1/initiatives/{world['initiative']['id']}"
    invited = [assign(client, world, expert).json() for expert in (first, second)]
    accepted = client.post(
        f"/api/v1/reviews/{invited[0]['id']}/accept",
        headers=first.headers,
        json={"competing_interests": "Консультировала школу автора в 2019 году"},
    )
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["competing_interests"] == "Консультировала школу автора в 2019 году"
    declined = client.post(
        f"/api/v1/reviews/{invited[1]['id']}/decline",
        headers=second.headers,
        json={"reason": "Нет времени до срока"},
    )
    assert declined.json()["status"] == "declined"
    replacement = assign(client, world, third, position="methodologist").json()
    assert (
        client.post(
            f"/api/v1/reviews/{replacement['id']}/accept", headers=third.headers, json={}
        ).json()["status"]
        == "accepted"
    )

    # approve waits for the conclusions
    blocked = client.get(f"{initiative_url}/actions", headers=world["head"].headers).json()
    approve = next(a for a in blocked if a["action"] == "approve")
    assert approve["allowed"] is False, approve
    assert approve["blocked_by"], approve

    for review, expert, scores in [
        (invited[0], first, {"relevance": 5, "feasibility": 9}),
        (replacement, third, {"relevance": 1, "feasibility": 2, "recommendation": "revise"}),
    ]:
        r = client.post(
            f"/api/v1/reviews/{review['id']}/submit",
            headers=expert.headers,
            json=conclusion(**scores),
        )
        assert r.status_code == 200, r.text

    as_author = client.get(f"{initiative_url}/reviews", headers=world["author"].headers).json()
    assert [r["status"] for r in as_author] == ["submitted", "submitted"]
    assert {(r["expert_id"], r["expert_name"], r["competing_interests"]) for r in as_author} == {
        (None, None, None)
    }
    assert {r["conclusion"]["recommendation"] for r in as_author} == {"approve", "revise"}

    (round1,) = client.get(
        f"{initiative_url}/expertise-summary", headers=world["author"].headers
    ).json()["rounds"]
    # (2*100 + 1*90)/3 ≈ 96.7 and (2*20 + 1*20)/3 = 20
    assert (round1["conclusions"], round1["weighted_mean"], round1["spread"]) == (2, 58.3, 76.7)
    assert round1["disagreement"] is True
    assert round1["recommendations"] == {"approve": 1, "revise": 1}

    approved = client.post(
        f"{initiative_url}/transitions",
        headers=world["head"].headers,
        json={"action": "approve", "comment": "Поддержать, учесть вопросы экспертов"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"

    def positions(expert: Any) -> dict[str, int]:
        profile = client.get(
            f"/api/v1/experts/{expert.id}/profile", headers=world["head"].headers
        ).json()
        return {p["position"]: p["conclusions"] for p in profile["positions"]}

    assert positions(first) == {"content_expert": 1}
    assert positions(third) == {"methodologist": 1}
    assert positions(second) == {}
