"""Network life: its events and the graph of who works with whom."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import demo
from app.config import get_settings
from app.db import get_engine
from app.models import (
    ConsultationConsultant,
    ConsultationFormat,
    ConsultationSession,
    ConsultationStatus,
    ConsultationTrack,
    CriteriaSet,
    ExpertPosition,
    ReviewAssignment,
    ReviewStatus,
    Role,
)
from tests.factories import assert_problem

API = "/api/v1/network"
TODAY = datetime.now(UTC).date()
# The demo's and most tests' events are in the 2021/22 academic year; the graph's default is
# the year up to today, so those tests ask for this period.
SCHOOL_YEAR = {"from": "2021-09-01", "to": "2022-08-31"}


def days_ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat()


def event_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Семинар «Смысловое чтение на уроках математики»",
        "kind": "seminar",
        "description": "Обмен приёмами работы с текстом задачи",
        "location": "МАОУ Гимназия",
        "held_at": "2021-11-18T10:00:00+05:00",
    }
    body.update(overrides)
    return body


def record(client: TestClient, person: Any, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"{API}/events", json=event_body(**overrides), headers=person.headers)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def initiative(client: TestClient, author: Any, *, submit: bool, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/api/v1/initiatives",
        json={
            "title": "Сетевая лаборатория читательской грамотности",
            "education_level": "basic",
            "academic_year": "2021-2022",
            **extra,
        },
        headers=author.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    if submit:
        moved = client.post(
            f"/api/v1/initiatives/{created['id']}/transitions",
            json={"action": "submit"},
            headers=author.headers,
        )
        assert moved.status_code == 200, moved.text
    return created


@pytest.fixture
def gymnasium(make_org):
    return make_org(name="МАОУ «Гимназия»", short_name="МАОУ Гимназия")


@pytest.fixture
def school(make_org):
    return make_org(name="МБОУ СОШ № 7 (тест)", short_name="СОШ № 7")


@pytest.fixture
def teacher(make_user, gymnasium):
    return make_user(Role.participant, organization_id=gymnasium, full_name="Кузнецова Анна")


@pytest.fixture
def colleague(make_user, school):
    return make_user(Role.participant, organization_id=school, full_name="Орлова Наталья")


class TestCreateEvent:
    def test_anonymous(self, client):
        assert_problem(client.post(f"{API}/events", json=event_body()), 401)

    def test_wrong_roles(self, client, observer, admin):
        for person in (observer, admin):
            response = client.post(f"{API}/events", json=event_body(), headers=person.headers)
            assert_problem(response, 403)

    def test_invalid(self, client, teacher, subtests):
        cases = {
            "unknown kind": event_body(kind="party"),
            "naive time": event_body(held_at="2021-11-18T10:00:00"),
            "timestamp": event_body(held_at=1637218800),
            "short title": event_body(title="Ок"),
            "extra field": event_body(created_by_id=str(uuid.uuid4())),
            "duplicate people": event_body(participant_ids=[str(teacher.id)] * 2),
            "bad uuid": event_body(organization_ids=["школа"]),
        }
        for name, body in cases.items():
            with subtests.test(name):
                response = client.post(f"{API}/events", json=body, headers=teacher.headers)
                assert_problem(response, 422)

    def test_unknown_references(self, client, teacher, make_user, school, subtests):
        other = make_user(Role.participant, organization_id=school)
        draft = initiative(client, other, submit=False)
        cases = {
            "participant": (event_body(participant_ids=[str(uuid.uuid4())]), "unknown_user"),
            "organizer": (event_body(organizer_id=str(uuid.uuid4())), "unknown_user"),
            "organization": (
                event_body(organization_ids=[str(uuid.uuid4())]),
                "unknown_organization",
            ),
            "organizer organization": (
                event_body(organizer_organization_id=str(uuid.uuid4())),
                "unknown_organization",
            ),
            "initiative": (event_body(initiative_id=str(uuid.uuid4())), "unknown_initiative"),
            "someone else's draft": (
                event_body(initiative_id=draft["id"]),
                "unknown_initiative",
            ),
        }
        for name, (body, code) in cases.items():
            with subtests.test(name):
                response = client.post(f"{API}/events", json=body, headers=teacher.headers)
                assert_problem(response, 422, code)

    def test_happy_with_defaults(self, client, teacher, colleague, gymnasium, school, admin):
        project = initiative(client, teacher, submit=True)
        response = client.post(
            f"{API}/events",
            json=event_body(
                participant_ids=[str(colleague.id)],
                organization_ids=[str(school)],
                initiative_id=project["id"],
            ),
            headers=teacher.headers,
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"] == f"{API}/events/{body['id']}"
        assert response.headers["ETag"] == '"1"'
        assert body["organizer"] == {"id": str(teacher.id), "full_name": "Кузнецова Анна"}
        assert body["organizer_organization"] == {
            "id": str(gymnasium),
            "short_name": "МАОУ Гимназия",
        }
        assert body["participants"] == [{"id": str(colleague.id), "full_name": "Орлова Наталья"}]
        assert body["organizations"] == [{"id": str(school), "short_name": "СОШ № 7"}]
        assert body["held_at"] == "2021-11-18T05:00:00Z"
        assert (body["participants_count"], body["organizations_count"]) == (1, 1)
        assert body["initiative_id"] == project["id"]
        assert body["created_by_id"] == str(teacher.id)
        events = client.get(
            "/api/v1/audit",
            params={"entity_type": "network_event", "entity_id": body["id"]},
            headers=admin.headers,
        ).json()["items"]
        assert [e["action"] for e in events] == ["network_event.created"]

    def test_someone_else_organizes(self, client, teacher, colleague, school):
        body = record(client, teacher, organizer_id=str(colleague.id))
        assert body["organizer"]["id"] == str(colleague.id)
        assert body["organizer_organization"]["id"] == str(school)
        assert body["created_by_id"] == str(teacher.id)


class TestReadEvents:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/events"), 401)
        assert_problem(client.get(f"{API}/events/{uuid.uuid4()}"), 401)

    def test_unknown_and_invalid(self, client, observer):
        assert_problem(
            client.get(f"{API}/events/{uuid.uuid4()}", headers=observer.headers),
            404,
            "network_event_not_found",
        )
        assert_problem(client.get(f"{API}/events/nope", headers=observer.headers), 422)
        assert_problem(client.get(f"{API}/events?kind=party", headers=observer.headers), 422)
        assert_problem(client.get(f"{API}/events?from=2021-13-01", headers=observer.headers), 422)
        assert_problem(client.get(f"{API}/events?to=0", headers=observer.headers), 422)

    def test_get(self, client, observer, teacher):
        created = record(client, teacher)
        response = client.get(f"{API}/events/{created['id']}", headers=observer.headers)
        assert response.status_code == 200
        assert response.json() == created
        assert response.headers["ETag"] == '"1"'

    def test_filters_and_pages(
        self, client, observer, teacher, colleague, gymnasium, school, subtests
    ):
        project = initiative(client, teacher, submit=True)
        seminar = record(client, teacher, participant_ids=[str(colleague.id)])
        lab = record(
            client,
            colleague,
            title="Лаборатория «ЧИТАЕМ вместе»",
            kind="lab",
            held_at="2022-02-10T09:00:00+05:00",
            organization_ids=[str(gymnasium)],
            initiative_id=project["id"],
        )
        lesson = record(
            client,
            teacher,
            title="Открытый урок 50% и _ знаки",
            kind="open_lesson",
            held_at="2022-04-01T09:00:00+05:00",
        )
        cases = {
            "all, latest first": ({}, [lesson, lab, seminar]),
            "kind": ({"kind": "lab"}, [lab]),
            "from": ({"from": "2022-02-10"}, [lesson, lab]),
            "to inclusive": ({"to": "2022-02-10"}, [lab, seminar]),
            "period": ({"from": "2022-01-01", "to": "2022-03-01"}, [lab]),
            "organization as participant": (
                {"organization_id": str(gymnasium)},
                [lesson, lab, seminar],
            ),
            "organization as organizer": ({"organization_id": str(school)}, [lab]),
            "participant": ({"participant_id": str(colleague.id)}, [lab, seminar]),
            "initiative": ({"initiative_id": project["id"]}, [lab]),
            "q cyrillic": ({"q": "читаем"}, [lab]),
            "q literal percent": ({"q": "50%"}, [lesson]),
            "q literal underscore": ({"q": "_ зн"}, [lesson]),
        }
        for name, (params, expected) in cases.items():
            with subtests.test(name):
                response = client.get(f"{API}/events", params=params, headers=observer.headers)
                assert response.status_code == 200, response.text
                assert [e["id"] for e in response.json()["items"]] == [e["id"] for e in expected]
        page = client.get(f"{API}/events", params={"limit": 2}, headers=observer.headers).json()
        assert [e["id"] for e in page["items"]] == [lesson["id"], lab["id"]]
        assert page["items"][1]["organizations_count"] == 1
        rest = client.get(
            f"{API}/events", params={"cursor": page["next_cursor"]}, headers=observer.headers
        ).json()
        assert [e["id"] for e in rest["items"]] == [seminar["id"]]
        assert rest["items"][0]["participants_count"] == 1

    def test_list_has_no_n_plus_one(self, client, observer, teacher, colleague, count_queries):
        record(client, teacher, participant_ids=[str(colleague.id)])
        count_queries.statements.clear()
        client.get(f"{API}/events", headers=observer.headers)
        one = count_queries.count
        for _ in range(5):
            record(client, colleague, participant_ids=[str(teacher.id)])
        count_queries.statements.clear()
        client.get(f"{API}/events", headers=observer.headers)
        assert count_queries.count == one


class TestUpdateEvent:
    def test_anonymous(self, client):
        assert_problem(client.patch(f"{API}/events/{uuid.uuid4()}", json={}), 401)

    def test_wrong_people(self, client, teacher, colleague, observer, make_user):
        url = f"{API}/events/{record(client, teacher)['id']}"
        assert_problem(client.patch(url, json={"title": "Чужое"}, headers=observer.headers), 403)
        stranger = make_user(Role.participant)
        assert_problem(
            client.patch(url, json={"title": "Чужое"}, headers=stranger.headers),
            403,
            "not_event_organizer",
        )

    def test_unknown_and_invalid(self, client, teacher, subtests):
        assert_problem(
            client.patch(
                f"{API}/events/{uuid.uuid4()}", json={"title": "Новое"}, headers=teacher.headers
            ),
            404,
        )
        url = f"{API}/events/{record(client, teacher)['id']}"
        cases = {
            "extra": {"created_by_id": str(teacher.id)},
            "null title": {"title": None},
            "null kind": {"kind": None},
            "null participants": {"participant_ids": None},
            "null organizations": {"organization_ids": None},
            "unknown participant": {"participant_ids": [str(uuid.uuid4())]},
            "unknown organization": {"organization_ids": [str(uuid.uuid4())]},
            "unknown initiative": {"initiative_id": str(uuid.uuid4())},
        }
        for name, body in cases.items():
            with subtests.test(name):
                assert_problem(client.patch(url, json=body, headers=teacher.headers), 422)

    def test_organizer_office_and_concurrency(
        self, client, teacher, colleague, office_member, admin, make_user
    ):
        created = record(client, teacher, organizer_id=str(colleague.id))
        url = f"{API}/events/{created['id']}"
        # The organizer (not the recorder) may correct it.
        response = client.patch(
            url,
            json={"participant_ids": [str(teacher.id)], "kind": "master_class"},
            headers={**colleague.headers, "If-Match": '"1"'},
        )
        assert response.status_code == 200, response.text
        assert response.json()["kind"] == "master_class"
        assert [p["id"] for p in response.json()["participants"]] == [str(teacher.id)]
        assert response.headers["ETag"] == '"2"'
        # The office corrects any event.
        response = client.patch(url, json={"location": "ЦРО"}, headers=office_member.headers)
        assert response.status_code == 200
        assert response.json()["version"] == 3
        # No change, no new version.
        same = client.patch(
            url, json={"participant_ids": [str(teacher.id)]}, headers=teacher.headers
        )
        assert same.json()["version"] == 3
        assert_problem(
            client.patch(
                url, json={"location": "x"}, headers={**teacher.headers, "If-Match": '"1"'}
            ),
            412,
        )
        assert_problem(
            client.patch(url, json={"location": "x", "version": 2}, headers=teacher.headers), 409
        )
        events = client.get(
            "/api/v1/audit",
            params={"entity_type": "network_event", "action": "network_event.updated"},
            headers=admin.headers,
        ).json()["items"]
        assert len(events) == 2
        assert events[1]["data"]["changes"]["kind"] == ["seminar", "master_class"]


class TestGraph:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/graph"), 401)

    def test_invalid(self, client, observer):
        assert_problem(client.get(f"{API}/graph?from=вчера", headers=observer.headers), 422)
        assert_problem(client.get(f"{API}/graph?to=0", headers=observer.headers), 422)
        assert_problem(
            client.get(f"{API}/graph?from=2022-01-02&to=2022-01-01", headers=observer.headers),
            422,
            "invalid_period",
        )

    def test_empty(self, client, observer):
        body = client.get(f"{API}/graph", headers=observer.headers).json()
        assert body["nodes"] == []
        assert body["edges"] == []
        assert (body["truncated"], body["total_nodes"], body["total_edges"]) == (False, 0, 0)

    def test_bounded_to_the_strongest_edges(self, client, observer, make_user):
        # It used to return every person and organization linked in the period, whatever
        # their number: tens of megabytes on a city's network.
        a, b, c, d = (make_user(Role.participant, full_name=f"Участник {n}") for n in "АБВГ")
        record(client, a, participant_ids=[str(b.id), str(c.id), str(d.id)])
        record(client, a, participant_ids=[str(b.id)])
        record(client, c, participant_ids=[str(d.id)], held_at="2021-12-01T10:00:00+05:00")
        url = f"{API}/graph"
        full = client.get(url, params=SCHOOL_YEAR, headers=observer.headers).json()
        assert (full["truncated"], full["total_nodes"], full["total_edges"]) == (False, 4, 6)
        assert len(full["edges"]) == 6

        cut = client.get(
            url, params={**SCHOOL_YEAR, "max_edges": 2}, headers=observer.headers
        ).json()
        assert cut["truncated"] is True
        assert (cut["total_nodes"], cut["total_edges"]) == (4, 6)
        pairs = {frozenset((e["source"], e["target"])): e["weight"] for e in cut["edges"]}
        # The two heaviest links (weight 2 each), and only the people at their ends.
        assert pairs == {
            frozenset((str(a.id), str(b.id))): 2,
            frozenset((str(c.id), str(d.id))): 2,
        }
        assert {n["id"] for n in cut["nodes"]} == {str(p.id) for p in (a, b, c, d)}
        # Degrees count every link, not only the ones returned.
        assert {n["degree"] for n in cut["nodes"]} == {3}

        params = {**SCHOOL_YEAR, "max_edges": 1}
        one = client.get(url, params=params, headers=observer.headers).json()
        assert len(one["edges"]) == 1
        assert len(one["nodes"]) == 2
        assert one["edges"][0]["weight"] == 2
        # The same cut every time (ties by ids).
        assert client.get(url, params=params, headers=observer.headers).json() == one

    def test_period_defaults_to_90_days_and_is_at_most_366(
        self, client, observer, teacher, colleague, make_user
    ):
        # Without a period the graph merged the whole history in Python: minutes on a city's
        # network. Now it is the last 90 days, and a period is at most 366 days.
        third = make_user(Role.participant, full_name="Смирнова Елена")
        record(client, teacher, participant_ids=[str(colleague.id)], held_at=days_ago(400))
        record(client, teacher, participant_ids=[str(third.id)], held_at=days_ago(10))

        def graph(**params: str) -> dict[str, Any]:
            response = client.get(f"{API}/graph", params=params, headers=observer.headers)
            assert response.status_code == 200, response.text
            result: dict[str, Any] = response.json()
            return result

        def partners(body: dict[str, Any]) -> set[str]:
            return {
                ({e["source"], e["target"]} - {str(teacher.id)}).pop()
                for e in body["edges"]
                if str(teacher.id) in (e["source"], e["target"]) and "joint_event" in e["by_kind"]
            }

        default = graph()
        assert (default["period_from"], default["period_to"]) == (
            (TODAY - timedelta(days=89)).isoformat(),
            TODAY.isoformat(),
        )
        assert partners(default) == {str(third.id)}
        old_day = TODAY - timedelta(days=400)
        since = graph(**{"from": old_day.isoformat()})
        assert since["period_to"] == (old_day + timedelta(days=89)).isoformat()
        assert partners(since) == {str(colleague.id)}
        until = graph(to=(TODAY - timedelta(days=350)).isoformat())
        assert until["period_from"] == (TODAY - timedelta(days=439)).isoformat()
        assert partners(until) == {str(colleague.id)}
        longest = graph(
            **{"from": old_day.isoformat(), "to": (old_day + timedelta(days=365)).isoformat()}
        )
        assert partners(longest) == {str(colleague.id)}
        body = assert_problem(
            client.get(
                f"{API}/graph",
                params={"from": old_day.isoformat(), "to": TODAY.isoformat()},
                headers=observer.headers,
            ),
            422,
            "period_too_long",
        )
        assert body["extra"] == {"max_days": 366, "days": 401}
        # a period running off the calendar is refused, not a 500
        for edge in ({"from": "9999-12-31"}, {"to": "0001-01-01"},
                     {"from": "9999-12-30", "to": "9999-12-31"}):  # fmt: skip
            r = client.get(f"{API}/graph", params=edge, headers=observer.headers)
            assert_problem(r, 422, "invalid_period")

    def test_a_lone_organizer_shows_with_their_organization(
        self, client, observer, teacher, gymnasium, make_user
    ):
        # An event recorded with its organizer alone left no trace on the graph.
        record(client, teacher, held_at=days_ago(3))
        body = client.get(f"{API}/graph", headers=observer.headers).json()
        assert [(e["source"], e["target"]) for e in body["edges"]] == [
            tuple(sorted((str(teacher.id), str(gymnasium))))
        ]
        assert body["edges"][0]["by_kind"] == {"affiliation": 1}
        nodes = {n["id"]: (n["kind"], n["degree"], n["strength"]) for n in body["nodes"]}
        assert nodes == {
            str(teacher.id): ("person", 1, 1),
            str(gymnasium): ("organization", 1, 1),
        }
        assert (body["total_nodes"], body["total_edges"]) == (2, 1)

    def test_cap_is_validated_and_documented(self, app, client, observer):
        for bad in ("0", "5001", "-1", "все"):
            assert_problem(
                client.get(f"{API}/graph", params={"max_edges": bad}, headers=observer.headers),
                422,
            )
        (param,) = [
            p
            for p in app.openapi()["paths"]["/api/v1/network/graph"]["get"]["parameters"]
            if p["name"] == "max_edges"
        ]
        assert (param["schema"]["default"], param["schema"]["maximum"]) == (1000, 5000)

    def test_events_teams_and_affiliation(
        self, client, observer, teacher, colleague, make_user, gymnasium, school, make_org
    ):
        third_org = make_org(name="МБОУ ООШ № 12 (тест)", short_name="ООШ № 12")
        third = make_user(Role.participant, organization_id=third_org, full_name="Смирнова Елена")
        loner = make_user(Role.participant, organization_id=school, full_name="Без связей")
        # Two joint events for teacher and colleague, one with the third person too.
        record(
            client,
            teacher,
            participant_ids=[str(colleague.id)],
            organization_ids=[str(school)],
            held_at=days_ago(80),
        )
        record(
            client,
            colleague,
            # The organizer and their school listed again count once.
            participant_ids=[str(teacher.id), str(third.id), str(colleague.id)],
            organization_ids=[str(gymnasium), str(third_org), str(school)],
            held_at=days_ago(20),
        )
        # A submitted initiative joins its author and team; a draft does not show.
        initiative(
            client,
            teacher,
            submit=True,
            team=[{"user_id": str(colleague.id), "role": "member"}],
        )
        initiative(client, third, submit=False, team=[{"user_id": str(loner.id), "role": "member"}])

        body = client.get(f"{API}/graph", headers=observer.headers).json()
        assert body["edge_kinds"] == ["joint_event", "team", "consultation", "affiliation"]
        nodes = {n["id"]: n for n in body["nodes"]}
        assert str(loner.id) not in nodes
        assert nodes[str(teacher.id)]["kind"] == "person"
        assert nodes[str(teacher.id)]["label"] == "Кузнецова Анна"
        assert nodes[str(teacher.id)]["organization_id"] == str(gymnasium)
        assert nodes[str(school)]["kind"] == "organization"
        assert nodes[str(school)]["label"] == "СОШ № 7"

        def edge(a: Any, b: Any) -> dict[str, Any]:
            pair = {str(a), str(b)}
            (found,) = [e for e in body["edges"] if {e["source"], e["target"]} == pair]
            return found

        people = edge(teacher.id, colleague.id)
        assert people["by_kind"] == {"joint_event": 2, "team": 1}
        assert people["weight"] == 3
        assert edge(teacher.id, third.id)["by_kind"] == {"joint_event": 1}
        assert edge(gymnasium, school)["by_kind"] == {"joint_event": 2}
        assert edge(school, third_org)["by_kind"] == {"joint_event": 1}
        assert edge(teacher.id, gymnasium)["by_kind"] == {"affiliation": 1}
        assert nodes[str(teacher.id)]["degree"] == 3
        assert nodes[str(teacher.id)]["strength"] == 5

        # The period keeps the later event only; teams alive then stay.
        since = (TODAY - timedelta(days=50)).isoformat()
        later = client.get(f"{API}/graph", params={"from": since}, headers=observer.headers).json()
        later_pairs = {frozenset((e["source"], e["target"])): e["by_kind"] for e in later["edges"]}
        assert later_pairs[frozenset((str(teacher.id), str(colleague.id)))] == {
            "joint_event": 1,
            "team": 1,
        }
        assert later["period_from"] == since
        early = client.get(f"{API}/graph", params={"to": since}, headers=observer.headers).json()
        early_pairs = {frozenset((e["source"], e["target"])): e["by_kind"] for e in early["edges"]}
        assert frozenset((str(teacher.id), str(third.id))) not in early_pairs
        # The initiative was created today: not alive before 50 days ago.
        assert early_pairs[frozenset((str(teacher.id), str(colleague.id)))] == {"joint_event": 1}

    def test_constant_number_of_queries(
        self, client, observer, teacher, colleague, make_user, count_queries
    ):
        record(client, teacher, participant_ids=[str(colleague.id)])
        count_queries.statements.clear()
        client.get(f"{API}/graph", params=SCHOOL_YEAR, headers=observer.headers)
        small = count_queries.count
        for _ in range(5):
            others = [make_user(Role.participant) for _ in range(3)]
            record(client, teacher, participant_ids=[str(p.id) for p in others])
        count_queries.statements.clear()
        response = client.get(f"{API}/graph", params=SCHOOL_YEAR, headers=observer.headers)
        assert len(response.json()["nodes"]) > 10
        assert count_queries.count == small


def submitted_review(expert: Any, author_initiative: dict[str, Any], head: Any) -> None:
    """A submitted conclusion, straight into the tables: the expertise flow has its own tests."""
    now = datetime.now(UTC)
    with Session(get_engine()) as session:
        criteria = CriteriaSet(number=1, title="Критерии", is_active=True)
        session.add(criteria)
        session.flush()
        session.add(
            ReviewAssignment(
                initiative_id=uuid.UUID(author_initiative["id"]),
                review_round=1,
                expert_id=expert.id,
                position=ExpertPosition.content_expert,
                criteria_set_id=criteria.id,
                due_at=now + timedelta(days=7),
                status=ReviewStatus.submitted,
                assigned_by_id=head.id,
                submitted_at=now,
            )
        )
        session.commit()


def test_review_edges_respect_blind_reviews(
    client, teacher, make_user, school, office_member, monkeypatch
):
    expert = make_user(Role.expert, organization_id=school, full_name="Михайлов Игорь")
    project = initiative(client, teacher, submit=True)
    submitted_review(expert, project, office_member)
    pair = {str(expert.id), str(teacher.id)}

    def review_edges(person: Any) -> tuple[list[str], list[dict[str, Any]]]:
        body = client.get(f"{API}/graph", headers=person.headers).json()
        edges = [e for e in body["edges"] if {e["source"], e["target"]} == pair]
        return body["edge_kinds"], edges

    kinds, edges = review_edges(office_member)
    assert "review" in kinds
    assert [e["by_kind"] for e in edges] == [{"review": 1}]
    kinds, edges = review_edges(teacher)
    assert "review" not in kinds
    assert edges == []
    monkeypatch.setattr(get_settings(), "blind_reviews", False)
    kinds, edges = review_edges(teacher)
    assert [e["by_kind"] for e in edges] == [{"review": 1}]
    past = client.get(
        f"{API}/graph", params={"to": "2020-01-01"}, headers=office_member.headers
    ).json()
    assert past["edges"] == []


def consultation_sessions(consultant: Any, requester: Any, held: list[datetime]) -> None:
    """A track with its sessions, straight into the tables: consultations have their own tests."""
    now = datetime.now(UTC)
    with Session(get_engine()) as session:
        track = ConsultationTrack(
            topic="Как оформить замысел",
            requester_id=requester.id,
            status=ConsultationStatus.active,
            search_text="",
            updated_at=now,
        )
        session.add(track)
        session.flush()
        session.add(ConsultationConsultant(track_id=track.id, user_id=consultant.id))
        session.add_all(
            ConsultationSession(
                track_id=track.id,
                held_at=at,
                format=ConsultationFormat.individual,
                duration_minutes=60,
                recorded_by_id=consultant.id,
                updated_at=now,
            )
            for at in held
        )
        session.commit()


def test_consultation_edges(client, teacher, office_member, observer, make_user, school):
    consultant = make_user(Role.office_member, organization_id=school, full_name="Лебедева Ольга")
    consultation_sessions(
        consultant,
        teacher,
        [datetime(2021, 10, 5, 10, tzinfo=UTC), datetime(2021, 11, 9, 10, tzinfo=UTC)],
    )
    pair = {str(consultant.id), str(teacher.id)}

    def weights(person: Any, **params: str) -> list[dict[str, int]]:
        body = client.get(f"{API}/graph", params=params, headers=person.headers).json()
        return [e["by_kind"] for e in body["edges"] if {e["source"], e["target"]} == pair]

    assert weights(observer, **SCHOOL_YEAR) == [{"consultation": 2}]
    assert weights(office_member, **{"from": "2021-11-01"}) == [{"consultation": 1}]
    # A participant sees only their own consultations, so none on the whole graph.
    assert weights(teacher, **SCHOOL_YEAR) == []


def test_consultation_edges_follow_the_sessions(
    client, teacher, colleague, office_member, observer, make_user
):
    """Through the API: a consultant who held a session and was then replaced keeps it, the
    new one gains only the sessions they held, and the attendees are linked too. The edges
    used to follow the track's consultants of today and ignore the attendees."""
    first = make_user(Role.expert, full_name="Первый Консультант")
    second = make_user(Role.expert, full_name="Второй Консультант")
    track = client.post(
        "/api/v1/consultations",
        json={"topic": "Как оформить замысел сетевого клуба"},
        headers=teacher.headers,
    )
    assert track.status_code == 201, track.text
    url = f"/api/v1/consultations/{track.json()['id']}"

    def assign(consultant: Any) -> None:
        response = client.patch(
            url, json={"consultant_ids": [str(consultant.id)]}, headers=office_member.headers
        )
        assert response.status_code == 200, response.text

    def held(consultant: Any, *attendees: Any) -> None:
        response = client.post(
            f"{url}/sessions",
            json={
                "held_at": datetime.now(UTC).isoformat(),
                "format": "individual",
                "duration_minutes": 60,
                "attendee_ids": [str(p.id) for p in attendees],
            },
            headers=consultant.headers,
        )
        assert response.status_code == 201, response.text

    assign(first)
    held(first, teacher)
    assign(second)
    held(second, teacher, colleague)

    body = client.get(f"{API}/graph", headers=observer.headers).json()
    edges = {
        frozenset((e["source"], e["target"])): e["by_kind"]
        for e in body["edges"]
        if "consultation" in e["by_kind"]
    }
    assert edges == {
        frozenset((str(first.id), str(teacher.id))): {"consultation": 1},
        frozenset((str(second.id), str(teacher.id))): {"consultation": 1},
        frozenset((str(second.id), str(colleague.id))): {"consultation": 1},
        frozenset((str(teacher.id), str(colleague.id))): {"consultation": 1},
    }


def test_enums_have_labels(client):
    groups = {g["name"]: g["values"] for g in client.get("/api/v1/meta/enums").json()}
    kinds = {v["code"]: v["ru"] for v in groups["network_event_kind"]}
    assert kinds["master_class"] == "Мастер-класс"
    assert set(kinds) == {
        "seminar",
        "master_class",
        "lab",
        "network_project_meeting",
        "open_lesson",
        "conference",
    }
    assert {v["code"] for v in groups["network_edge_kind"]} >= {"joint_event", "team"}


def test_done_when_events_show_up_on_the_graph(client, teacher, colleague, observer):
    before = client.get(f"{API}/graph", headers=observer.headers).json()
    assert before["edges"] == []
    record(
        client,
        teacher,
        kind="network_project_meeting",
        participant_ids=[str(colleague.id)],
        held_at=days_ago(1),
    )
    after = client.get(f"{API}/graph", headers=observer.headers).json()
    assert {str(teacher.id), str(colleague.id)} <= {n["id"] for n in after["nodes"]}
    assert any(
        {e["source"], e["target"]} == {str(teacher.id), str(colleague.id)}
        and e["by_kind"] == {"joint_event": 1}
        for e in after["edges"]
    )


def test_demo_events_and_graph(client, observer):
    with Session(get_engine()) as session:
        assert demo.load_demo_data(session) is not None
        session.commit()
    events = client.get(f"{API}/events", headers=observer.headers).json()["items"]
    assert len(events) == 6
    assert {e["kind"] for e in events} == {
        "seminar",
        "master_class",
        "lab",
        "network_project_meeting",
        "open_lesson",
        "conference",
    }
    assert sum(e["initiative_id"] is not None for e in events) == 5
    graph = client.get(f"{API}/graph", params=SCHOOL_YEAR, headers=observer.headers).json()
    labels = {n["label"] for n in graph["nodes"]}
    assert {"МАОУ Гимназия", "МБОУ СОШ № 7", "Кузнецова Анна Романовна"} <= labels
    assert any(e["by_kind"].get("joint_event", 0) >= 3 for e in graph["edges"])
    assert any("team" in e["by_kind"] for e in graph["edges"])
    before = client.get(f"{API}/graph", params={"to": "2021-08-31"}, headers=observer.headers)
    assert 0 < len(before.json()["edges"]) < len(graph["edges"])
