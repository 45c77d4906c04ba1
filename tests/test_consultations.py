"""Consultation tracks: requesting accompaniment, consultants, sessions, closing with an outcome."""

import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import Session

from app.db import get_engine
from app.models import Role
from app.models.base import clock_at
from app.schemas.consultations import ConsultationCreate, ConsultationUpdate
from app.services import consultations
from app.services.office_time import OFFICE_TZ, local
from app.services.principals import load_principal
from tests.factories import assert_problem

API = "/api/v1/consultations"


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def yesterday_noon() -> datetime:
    """Noon of yesterday, office time: hours either side of it stay on that local day."""
    day = local(datetime.now(UTC)).date() - timedelta(days=1)
    return datetime.combine(day, time(12, 0), tzinfo=OFFICE_TZ).astimezone(UTC)


def backdated_track(requester, consultant, office_member, *, requested_at, topic="Замысел"):
    """A track requested at a moment the test chooses and taken on an hour later: the API
    stamps a request with the server's clock, so this goes through the service as the demo
    loader does."""
    with Session(get_engine()) as session:

        def principal(person):
            found = load_principal(session, str(person.id))
            assert found is not None
            return found

        with clock_at(requested_at):
            track = consultations.request_consultation(
                session, actor=principal(requester), data=ConsultationCreate(topic=topic)
            )
        with clock_at(requested_at + timedelta(hours=1)):
            consultations.update_track(
                session,
                actor=principal(office_member),
                track_id=track.id,
                data=ConsultationUpdate(consultant_ids=[consultant.id]),
                if_match=None,
            )
        session.commit()
    return str(track.id)


def make_initiative(client, author, *, submit=True, title="Сетевой читательский клуб трёх школ"):
    response = client.post(
        "/api/v1/initiatives",
        headers=author.headers,
        json={"title": title, "education_level": "basic", "academic_year": "2026-2027"},
    )
    assert response.status_code == 201, response.text
    initiative = response.json()
    if submit:
        moved = client.post(
            f"/api/v1/initiatives/{initiative['id']}/transitions",
            headers=author.headers,
            json={"action": "submit"},
        )
        assert moved.status_code == 200, moved.text
        initiative = moved.json()
    return initiative


def withdraw(client, author, initiative_id):
    response = client.post(
        f"/api/v1/initiatives/{initiative_id}/transitions",
        headers=author.headers,
        json={"action": "withdraw"},
    )
    assert response.status_code == 200, response.text


def withdrawn(client, author):
    """The id of the author's initiative, submitted and then withdrawn: finished."""
    initiative = make_initiative(client, author)
    withdraw(client, author, initiative["id"])
    return initiative["id"]


def request_track(client, person, **body):
    payload = {
        "topic": "Читательский клуб как сетевой проект",
        "description": "Хочу превратить школьный клуб в сетевой проект трёх школ",
        "preferred_format": "individual",
        **body,
    }
    response = client.post(API, headers=person.headers, json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def session_body(**extra):
    return {
        # Now: after the track's request, which the fixtures made a moment ago.
        "held_at": ago(seconds=0),
        "format": "individual",
        "duration_minutes": 60,
        "notes": "Обсудили проблему и целевую группу",
        "next_steps": "Сформулировать цель и три задачи",
        **extra,
    }


@pytest.fixture
def teacher(make_user, make_org):
    return make_user(Role.participant, organization_id=make_org())


@pytest.fixture
def consultant(make_user, make_org):
    return make_user(Role.expert, organization_id=make_org())


@pytest.fixture
def track(client, teacher):
    return request_track(client, teacher)


@pytest.fixture
def active_track(client, track, office_member, consultant):
    response = client.patch(
        f"{API}/{track['id']}",
        headers=office_member.headers,
        json={"consultant_ids": [str(consultant.id)]},
    )
    assert response.status_code == 200, response.text
    return response.json()


def events_of(client, admin, track_id):
    page = client.get(
        f"/api/v1/audit?entity_type=consultation&entity_id={track_id}&limit=200",
        headers=admin.headers,
    ).json()
    return {e["action"]: e["data"] for e in page["items"]}


class TestRequest:
    def test_anonymous(self, client):
        assert_problem(client.post(API, json={"topic": "Замысел"}), 401)

    def test_observer_may_not_request(self, client, observer):
        assert_problem(client.post(API, headers=observer.headers, json={"topic": "Замысел"}), 403)

    def test_invalid_body(self, client, teacher):
        assert_problem(client.post(API, headers=teacher.headers, json={}), 422)
        assert_problem(
            client.post(API, headers=teacher.headers, json={"topic": "ok topic", "status": "x"}),
            422,
        )
        assert_problem(
            client.post(
                API, headers=teacher.headers, json={"topic": "Тема", "preferred_format": "chat"}
            ),
            422,
        )

    def test_for_an_idea(self, client, teacher, admin):
        response = client.post(
            API, headers=teacher.headers, json={"topic": "  Замысел сетевого клуба  "}
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "requested"
        assert body["topic"] == "Замысел сетевого клуба"
        assert body["requester_id"] == str(teacher.id)
        assert body["initiative"] is None
        assert body["consultants"] == []
        assert body["session_count"] == 0
        assert body["hours_to_first_session"] is None
        assert response.headers["Location"] == f"{API}/{body['id']}"
        assert response.headers["ETag"] == f'"{body["version"]}"'
        assert "consultation.requested" in events_of(client, admin, body["id"])

    def test_for_own_submitted_initiative(self, client, teacher):
        initiative = make_initiative(client, teacher)
        body = request_track(client, teacher, initiative_id=initiative["id"])
        assert body["initiative"]["code"] == initiative["code"]
        assert body["initiative"]["status"] == "submitted"

    def test_for_someone_elses_initiative(self, client, teacher, make_user, make_org):
        other = make_user(Role.participant, organization_id=make_org())
        initiative = make_initiative(client, other)
        r = client.post(
            API, headers=teacher.headers, json={"topic": "Чужое", "initiative_id": initiative["id"]}
        )
        body = assert_problem(r, 422, "initiative_not_requesters")
        assert body["errors"][0]["loc"] == ["body", "initiative_id"]

    def test_for_own_draft(self, client, teacher):
        draft = make_initiative(client, teacher, submit=False)
        r = client.post(
            API, headers=teacher.headers, json={"topic": "Черновик", "initiative_id": draft["id"]}
        )
        assert_problem(r, 422, "initiative_is_draft")

    def test_for_unknown_initiative(self, client, teacher):
        r = client.post(
            API,
            headers=teacher.headers,
            json={"topic": "Неизвестная", "initiative_id": str(uuid.uuid4())},
        )
        assert_problem(r, 422, "unknown_initiative")

    def test_for_withdrawn_initiative(self, client, teacher):
        initiative = make_initiative(client, teacher)
        client.post(
            f"/api/v1/initiatives/{initiative['id']}/transitions",
            headers=teacher.headers,
            json={"action": "withdraw"},
        )
        r = client.post(
            API,
            headers=teacher.headers,
            json={"topic": "Поздно", "initiative_id": initiative["id"]},
        )
        assert_problem(r, 409, "initiative_finished")


class TestList:
    def test_anonymous(self, client):
        assert_problem(client.get(API), 401)

    def test_invalid_query(self, client, teacher):
        assert_problem(client.get(f"{API}?limit=0", headers=teacher.headers), 422)
        assert_problem(client.get(f"{API}?status=open", headers=teacher.headers), 422)
        assert_problem(client.get(f"{API}?cursor=garbage", headers=teacher.headers), 422)

    def test_who_sees_what(
        self, client, teacher, make_user, make_org, office_member, observer, consultant
    ):
        other = make_user(Role.participant, organization_id=make_org())
        mine = request_track(client, teacher)
        theirs = request_track(client, other, topic="Чужой замысел")
        client.patch(
            f"{API}/{theirs['id']}",
            headers=office_member.headers,
            json={"consultant_ids": [str(consultant.id)]},
        )

        def ids(person, query=""):
            page = client.get(f"{API}{query}", headers=person.headers).json()
            return {item["id"] for item in page["items"]}

        assert ids(teacher) == {mine["id"]}
        assert ids(consultant) == {theirs["id"]}
        assert ids(office_member) == ids(observer) == {mine["id"], theirs["id"]}
        assert_problem(client.get(f"{API}/{theirs['id']}", headers=teacher.headers), 404)

    def test_filters_and_pagination(self, client, teacher, office_member, consultant):
        initiative = make_initiative(client, teacher)
        first = request_track(client, teacher, topic="Смысловое ЧТЕНИЕ в пятых классах")
        second = request_track(client, teacher, initiative_id=initiative["id"])
        third = request_track(client, teacher, topic="Проект 100%_готов")
        client.patch(
            f"{API}/{first['id']}",
            headers=office_member.headers,
            json={"consultant_ids": [str(consultant.id)]},
        )
        h = office_member.headers

        def ids(query):
            response = client.get(f"{API}?{query}", headers=h)
            assert response.status_code == 200, response.text
            return [item["id"] for item in response.json()["items"]]

        assert ids("status=active") == [first["id"]]
        assert set(ids("status=active&status=requested")) == {
            i["id"] for i in (first, second, third)
        }
        assert ids(f"consultant_id={consultant.id}") == [first["id"]]
        assert ids(f"initiative_id={initiative['id']}") == [second["id"]]
        assert len(ids(f"requester_id={teacher.id}")) == 3
        assert ids("q=смысловое чтение") == [first["id"]]
        assert ids("q=100%25_") == [third["id"]]
        assert ids("q=%25%25") == []
        assert ids("sort=created_at")[0] == first["id"]
        mine = client.get(f"{API}?mine=true", headers=consultant.headers).json()["items"]
        assert [item["id"] for item in mine] == [first["id"]]
        page = client.get(f"{API}?limit=2", headers=h).json()
        assert len(page["items"]) == 2
        assert page["next_cursor"]
        rest = client.get(f"{API}?limit=2&cursor={page['next_cursor']}", headers=h).json()
        assert [item["id"] for item in rest["items"]] == [first["id"]]
        assert rest["next_cursor"] is None
        assert page["items"][0]["requester_name"]

    def test_mine_from_the_requesters_side(
        self, client, teacher, make_user, make_org, office_member, consultant
    ):
        # An office member sees every track; `mine` keeps the ones they asked for themselves
        # and the ones they accompany.
        others = make_user(Role.participant, organization_id=make_org())
        own = request_track(client, office_member, topic="Замысел методиста о наставничестве")
        accompanied = request_track(client, teacher)
        not_mine = request_track(client, others, topic="Чужой замысел")
        for track, person in ((accompanied, office_member), (not_mine, consultant)):
            r = client.patch(
                f"{API}/{track['id']}",
                headers=office_member.headers,
                json={"consultant_ids": [str(person.id)]},
            )
            assert r.status_code == 200, r.text

        def ids(person, query=""):
            response = client.get(f"{API}{query}", headers=person.headers)
            assert response.status_code == 200, response.text
            return {item["id"] for item in response.json()["items"]}

        everything = {own["id"], accompanied["id"], not_mine["id"]}
        assert ids(office_member) == everything
        assert ids(office_member, "?mine=true") == {own["id"], accompanied["id"]}
        assert ids(office_member, "?mine=true&status=requested") == {own["id"]}
        assert ids(teacher, "?mine=true") == {accompanied["id"]}
        assert ids(others, "?mine=true") == {not_mine["id"]}
        assert ids(consultant, "?mine=true") == {not_mine["id"]}

    def test_items_carry_the_response_time(
        self, client, teacher, consultant, office_member, count_queries
    ):
        noon = yesterday_noon()
        waits = {"quick": 2.0, "slow": 26.5}
        ids = {}
        for name, hours in waits.items():
            requested_at = noon - timedelta(days=2)
            ids[name] = backdated_track(
                teacher, consultant, office_member, requested_at=requested_at, topic=name
            )
            r = client.post(
                f"{API}/{ids[name]}/sessions",
                headers=consultant.headers,
                json=session_body(held_at=(requested_at + timedelta(hours=hours)).isoformat()),
            )
            assert r.status_code == 201, r.text
        ids["waiting"] = request_track(client, teacher)["id"]
        waits["waiting"] = None

        count_queries.statements.clear()
        one = client.get(f"{API}?limit=1", headers=office_member.headers)
        queries_for_one = count_queries.count
        count_queries.statements.clear()
        items = client.get(API, headers=office_member.headers).json()["items"]
        assert count_queries.count == queries_for_one
        assert len(one.json()["items"]) == 1
        assert {i["id"]: i["hours_to_first_session"] for i in items} == {
            ids[name]: hours for name, hours in waits.items()
        }
        for item in items:
            track = client.get(f"{API}/{item['id']}", headers=office_member.headers).json()
            assert item["hours_to_first_session"] == track["hours_to_first_session"]
            assert item["session_count"] == track["session_count"]


class TestGet:
    def test_anonymous(self, client, track):
        assert_problem(client.get(f"{API}/{track['id']}"), 401)

    def test_someone_elses_is_hidden(self, client, track, participant):
        assert_problem(
            client.get(f"{API}/{track['id']}", headers=participant.headers),
            404,
            "consultation_not_found",
        )

    def test_malformed_id(self, client, teacher):
        assert_problem(client.get(f"{API}/not-a-uuid", headers=teacher.headers), 422)

    def test_requester_reads_with_etag(self, client, teacher, active_track, consultant):
        response = client.get(f"{API}/{active_track['id']}", headers=teacher.headers)
        assert response.status_code == 200
        body = response.json()
        assert body["consultants"] == [
            {"id": str(consultant.id), "full_name": body["consultants"][0]["full_name"]}
        ]
        assert response.headers["ETag"] == f'"{body["version"]}"'

    def test_constant_queries(self, client, teacher, office_member, make_user, count_queries):
        experts = [make_user(Role.expert) for _ in range(4)]
        counts = []
        for size in (1, 4):
            track = request_track(client, teacher)
            client.patch(
                f"{API}/{track['id']}",
                headers=office_member.headers,
                json={"consultant_ids": [str(e.id) for e in experts[:size]]},
            )
            count_queries.statements.clear()
            assert client.get(f"{API}/{track['id']}", headers=teacher.headers).status_code == 200
            counts.append(count_queries.count)
        assert counts[0] == counts[1] <= 5


class TestAssignAndEdit:
    def test_anonymous(self, client, track):
        assert_problem(client.patch(f"{API}/{track['id']}", json={"topic": "Новая тема"}), 401)

    def test_requester_may_not_assign(self, client, track, teacher, consultant):
        r = client.patch(
            f"{API}/{track['id']}",
            headers=teacher.headers,
            json={"consultant_ids": [str(consultant.id)]},
        )
        assert_problem(r, 403)

    def test_observer_may_not_edit(self, client, track, observer):
        r = client.patch(f"{API}/{track['id']}", headers=observer.headers, json={"topic": "Тема"})
        assert_problem(r, 403, "not_track_party")

    def test_someone_elses_track_is_hidden(self, client, track, participant):
        r = client.patch(
            f"{API}/{track['id']}", headers=participant.headers, json={"topic": "Чужая тема"}
        )
        assert_problem(r, 404)

    def test_consultant_must_be_office_member_or_expert(
        self, client, track, office_member, make_user
    ):
        outsider = make_user(Role.participant)
        r = client.patch(
            f"{API}/{track['id']}",
            headers=office_member.headers,
            json={"consultant_ids": [str(outsider.id)]},
        )
        body = assert_problem(r, 422, "invalid_consultant")
        assert body["extra"]["user_ids"] == [str(outsider.id)]
        assert (
            client.get(f"{API}/{track['id']}", headers=office_member.headers).json()["status"]
            == "requested"
        )

    def test_invalid_consultants(self, client, track, office_member, teacher, make_user):
        h = office_member.headers
        url = f"{API}/{track['id']}"
        assert_problem(client.patch(url, headers=h, json={"consultant_ids": []}), 422)
        assert_problem(
            client.patch(url, headers=h, json={"consultant_ids": [str(uuid.uuid4())]}),
            422,
            "unknown_user",
        )
        expert = make_user(Role.expert)
        twice = [str(expert.id), str(expert.id)]
        assert_problem(client.patch(url, headers=h, json={"consultant_ids": twice}), 422)
        assert_problem(client.patch(url, headers=h, json={"consultant_ids": None}), 422)
        assert_problem(client.patch(url, headers=h, json={"status": "active"}), 422)

    def test_requester_cannot_consult_themselves(self, client, make_user, make_org, office_head):
        expert_teacher = make_user(Role.participant, Role.expert, organization_id=make_org())
        track = request_track(client, expert_teacher)
        r = client.patch(
            f"{API}/{track['id']}",
            headers=office_head.headers,
            json={"consultant_ids": [str(expert_teacher.id)]},
        )
        assert_problem(r, 422, "invalid_consultant")

    def test_assigning_makes_the_track_active(
        self, client, track, office_member, consultant, make_user, admin
    ):
        colleague = make_user(Role.office_member)
        response = client.patch(
            f"{API}/{track['id']}",
            headers=office_member.headers,
            json={"consultant_ids": [str(consultant.id), str(colleague.id)]},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "active"
        assert body["accepted_at"] is not None
        assert {c["id"] for c in body["consultants"]} == {str(consultant.id), str(colleague.id)}
        assert body["version"] == track["version"] + 1
        event = events_of(client, admin, track["id"])["consultation.accepted"]
        assert event["changes"]["status"] == ["requested", "active"]
        # Replacing the team keeps it active.
        again = client.patch(
            f"{API}/{track['id']}",
            headers=office_member.headers,
            json={"consultant_ids": [str(colleague.id)]},
        ).json()
        assert again["status"] == "active"
        assert len(again["consultants"]) == 1

    def test_requester_edits_topic_and_versions(self, client, track, teacher):
        url = f"{API}/{track['id']}"
        stale = client.patch(
            url, headers={**teacher.headers, "If-Match": '"99"'}, json={"topic": "Новая тема"}
        )
        assert_problem(stale, 412)
        assert_problem(
            client.patch(url, headers=teacher.headers, json={"topic": "Тема", "version": 99}),
            409,
            "version_conflict",
        )
        response = client.patch(
            url,
            headers={**teacher.headers, "If-Match": f'"{track["version"]}"'},
            json={"topic": "Клуб как сетевой проект трёх школ"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["topic"] == "Клуб как сетевой проект трёх школ"

    def test_requester_links_the_initiative_born_from_the_idea(self, client, track, teacher):
        initiative = make_initiative(client, teacher)
        response = client.patch(
            f"{API}/{track['id']}",
            headers=teacher.headers,
            json={"initiative_id": initiative["id"]},
        )
        assert response.status_code == 200, response.text
        assert response.json()["initiative"]["id"] == initiative["id"]

    def test_a_finished_initiative_is_refused_as_on_request(self, client, track, teacher, admin):
        initiative = withdrawn(client, teacher)
        on_request = client.post(
            API, headers=teacher.headers, json={"topic": "Поздно", "initiative_id": initiative}
        )
        on_edit = client.patch(
            f"{API}/{track['id']}", headers=teacher.headers, json={"initiative_id": initiative}
        )
        first = assert_problem(on_request, 409, "initiative_finished")
        second = assert_problem(on_edit, 409, "initiative_finished")
        assert first["detail"] == second["detail"]
        assert first["extra"] == second["extra"] == {"status": "withdrawn"}
        after = client.get(f"{API}/{track['id']}", headers=teacher.headers).json()
        assert (after["initiative"], after["version"]) == (None, track["version"])
        assert "consultation.updated" not in events_of(client, admin, track["id"])

    def test_a_link_made_before_the_initiative_finished_stays(self, client, track, teacher):
        initiative = make_initiative(client, teacher)
        url = f"{API}/{track['id']}"
        linked = client.patch(
            url, headers=teacher.headers, json={"initiative_id": initiative["id"]}
        )
        assert linked.status_code == 200, linked.text
        withdraw(client, teacher, initiative["id"])
        # A form sent back whole carries the link it read: that is no new link to judge.
        again = client.patch(
            url,
            headers=teacher.headers,
            json={"initiative_id": initiative["id"], "topic": "Клуб после отзыва инициативы"},
        )
        assert again.status_code == 200, again.text
        assert again.json()["initiative"]["status"] == "withdrawn"
        assert again.json()["topic"] == "Клуб после отзыва инициативы"

    @pytest.mark.parametrize("field", ["topic", "description", "consultant_ids"])
    def test_explicit_null_is_422_and_changes_nothing(
        self, client, active_track, office_member, field
    ):
        # `description` reached its NOT NULL column and answered 500 (found by fuzzing).
        url = f"{API}/{active_track['id']}"
        response = client.patch(url, headers=office_member.headers, json={field: None})
        problem = assert_problem(response, 422, "null_not_allowed")
        assert problem["errors"][0]["loc"] == ["body", field]
        after = client.get(url, headers=office_member.headers).json()
        assert after["version"] == active_track["version"]
        assert after["description"] == active_track["description"]

    def test_empty_values(self, client, active_track, consultant, office_member):
        url = f"{API}/{active_track['id']}"
        h = consultant.headers
        assert_problem(client.patch(url, headers=h, json={"topic": ""}), 422)
        assert_problem(
            client.patch(url, headers=office_member.headers, json={"consultant_ids": []}), 422
        )
        # An empty description is a value; nullable fields clear with null.
        response = client.patch(
            url,
            headers=h,
            json={"description": "", "preferred_format": None, "initiative_id": None},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["description"], body["preferred_format"]) == ("", None)

    def test_closed_track_is_not_edited(self, client, active_track, consultant):
        client.post(
            f"{API}/{active_track['id']}/close",
            headers=consultant.headers,
            json={"outcome": "abandoned"},
        )
        r = client.patch(
            f"{API}/{active_track['id']}", headers=consultant.headers, json={"topic": "Поздно"}
        )
        assert_problem(r, 409, "consultation_closed")


class TestDecline:
    def test_anonymous(self, client, track):
        assert_problem(client.post(f"{API}/{track['id']}/decline", json={"reason": "Нет"}), 401)

    def test_requester_may_not_decline(self, client, track, teacher):
        r = client.post(
            f"{API}/{track['id']}/decline", headers=teacher.headers, json={"reason": "Передумал"}
        )
        assert_problem(r, 403)

    def test_unknown_track(self, client, office_head):
        r = client.post(
            f"{API}/{uuid.uuid4()}/decline", headers=office_head.headers, json={"reason": "Нет"}
        )
        assert_problem(r, 404)

    def test_reason_required(self, client, track, office_head):
        assert_problem(
            client.post(f"{API}/{track['id']}/decline", headers=office_head.headers, json={}),
            422,
        )

    def test_declines_with_reason(self, client, track, office_head, teacher):
        response = client.post(
            f"{API}/{track['id']}/decline",
            headers=office_head.headers,
            json={"reason": "Запрос относится к ведению методического центра"},
        )
        assert response.status_code == 200, response.text
        body = client.get(f"{API}/{track['id']}", headers=teacher.headers).json()
        assert body["status"] == "declined"
        assert body["decline_reason"] == "Запрос относится к ведению методического центра"
        assert body["closed_at"] is not None

    def test_active_track_is_closed_not_declined(self, client, active_track, office_head):
        r = client.post(
            f"{API}/{active_track['id']}/decline",
            headers=office_head.headers,
            json={"reason": "Нет"},
        )
        assert_problem(r, 409, "consultation_already_active")


class TestClose:
    def test_anonymous(self, client, active_track):
        r = client.post(f"{API}/{active_track['id']}/close", json={"outcome": "abandoned"})
        assert_problem(r, 401)

    def test_requester_may_not_close(self, client, active_track, teacher):
        r = client.post(
            f"{API}/{active_track['id']}/close",
            headers=teacher.headers,
            json={"outcome": "abandoned"},
        )
        assert_problem(r, 403, "not_track_consultant")

    def test_someone_elses_track(self, client, active_track, participant):
        r = client.post(
            f"{API}/{active_track['id']}/close",
            headers=participant.headers,
            json={"outcome": "abandoned"},
        )
        assert_problem(r, 404)

    def test_invalid_outcome(self, client, active_track, consultant):
        r = client.post(
            f"{API}/{active_track['id']}/close",
            headers=consultant.headers,
            json={"outcome": "done"},
        )
        assert_problem(r, 422)

    def test_initiative_submitted_needs_the_initiative(self, client, active_track, consultant):
        r = client.post(
            f"{API}/{active_track['id']}/close",
            headers=consultant.headers,
            json={"outcome": "initiative_submitted"},
        )
        assert_problem(r, 422, "initiative_required")

    def test_requested_track_cannot_be_closed(self, client, track, office_head):
        r = client.post(
            f"{API}/{track['id']}/close",
            headers=office_head.headers,
            json={"outcome": "redirected"},
        )
        assert_problem(r, 409, "consultation_not_active")

    def test_consultant_closes_with_outcome(self, client, active_track, consultant, admin):
        response = client.post(
            f"{API}/{active_track['id']}/close",
            headers=consultant.headers,
            json={"outcome": "idea_developed_further", "comment": "Замысел готов к оформлению"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "closed"
        assert body["outcome"] == "idea_developed_further"
        assert body["close_comment"] == "Замысел готов к оформлению"
        event = events_of(client, admin, active_track["id"])["consultation.closed"]
        assert event["outcome"] == "idea_developed_further"
        again = client.post(
            f"{API}/{active_track['id']}/close",
            headers=consultant.headers,
            json={"outcome": "abandoned"},
        )
        assert_problem(again, 409, "consultation_closed")


class TestSessions:
    def test_anonymous(self, client, active_track):
        url = f"{API}/{active_track['id']}/sessions"
        assert_problem(client.get(url), 401)
        assert_problem(client.post(url, json=session_body()), 401)

    def test_requester_reads_but_does_not_write(self, client, active_track, teacher):
        url = f"{API}/{active_track['id']}/sessions"
        assert client.get(url, headers=teacher.headers).status_code == 200
        assert_problem(client.post(url, headers=teacher.headers, json=session_body()), 403)

    def test_someone_elses_track(self, client, active_track, participant, office_member):
        url = f"{API}/{active_track['id']}/sessions"
        assert_problem(client.get(url, headers=participant.headers), 404)
        other_expert_track = f"{API}/{uuid.uuid4()}/sessions"
        assert_problem(
            client.post(other_expert_track, headers=office_member.headers, json=session_body()), 404
        )

    def test_other_expert_may_not_write(self, client, active_track, make_user):
        stranger = make_user(Role.expert)
        r = client.post(
            f"{API}/{active_track['id']}/sessions", headers=stranger.headers, json=session_body()
        )
        assert_problem(r, 404)

    def test_invalid_body(self, client, active_track, consultant):
        url = f"{API}/{active_track['id']}/sessions"
        h = consultant.headers
        assert_problem(client.post(url, headers=h, json=session_body(duration_minutes=0)), 422)
        assert_problem(client.post(url, headers=h, json=session_body(format="chat")), 422)
        naive = datetime.now().replace(microsecond=0).isoformat()
        assert_problem(client.post(url, headers=h, json=session_body(held_at=naive)), 422)
        # A number is no date (it was read as a Unix timestamp).
        stamp = int(datetime.now(UTC).timestamp()) - 60
        assert_problem(client.post(url, headers=h, json=session_body(held_at=stamp)), 422)
        assert_problem(client.post(url, headers=h, json=session_body(extra=1)), 422)
        assert_problem(
            client.post(url, headers=h, json=session_body(attendee_ids=[str(uuid.uuid4())])),
            422,
            "unknown_user",
        )

    def test_not_in_the_future_nor_before_the_request(self, client, active_track, consultant):
        url = f"{API}/{active_track['id']}/sessions"
        future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        assert_problem(
            client.post(url, headers=consultant.headers, json=session_body(held_at=future)),
            422,
            "session_in_future",
        )
        assert_problem(
            client.post(url, headers=consultant.headers, json=session_body(held_at=ago(days=3))),
            422,
            "session_before_request",
        )

    def test_not_earlier_on_the_day_of_the_request(
        self, client, teacher, consultant, office_member, admin
    ):
        # Only local dates were compared: an hour before the request, on its day, passed and
        # the response time read 0.
        requested_at = yesterday_noon()
        track_id = backdated_track(teacher, consultant, office_member, requested_at=requested_at)
        url = f"{API}/{track_id}/sessions"
        h = consultant.headers
        early = (requested_at - timedelta(hours=1)).isoformat()
        problem = assert_problem(
            client.post(url, headers=h, json=session_body(held_at=early)),
            422,
            "session_before_request",
        )
        assert problem["errors"][0]["loc"] == ["body", "held_at"]
        assert "раньше, чем запрошено сопровождение" in problem["detail"]
        assert datetime.fromisoformat(problem["extra"]["requested_at"]) == requested_at
        second_early = (requested_at - timedelta(seconds=1)).isoformat()
        assert_problem(
            client.post(url, headers=h, json=session_body(held_at=second_early)),
            422,
            "session_before_request",
        )
        # At the very moment of the request is not before it.
        on_time = client.post(url, headers=h, json=session_body(held_at=requested_at.isoformat()))
        assert on_time.status_code == 201, on_time.text
        # A correction cannot move it before the request either.
        moved = client.patch(f"{url}/{on_time.json()['id']}", headers=h, json={"held_at": early})
        assert_problem(moved, 422, "session_before_request")
        track = client.get(f"{API}/{track_id}", headers=h).json()
        assert track["session_count"] == 1
        assert track["hours_to_first_session"] == 0.0
        recorded = events_of(client, admin, track_id)
        assert "consultation.session_updated" not in recorded

    def test_session_for_a_closed_track(self, client, active_track, consultant):
        client.post(
            f"{API}/{active_track['id']}/close",
            headers=consultant.headers,
            json={"outcome": "redirected"},
        )
        r = client.post(
            f"{API}/{active_track['id']}/sessions", headers=consultant.headers, json=session_body()
        )
        assert_problem(r, 409, "consultation_closed")

    def test_session_for_a_requested_track(self, client, track, office_member):
        r = client.post(
            f"{API}/{track['id']}/sessions", headers=office_member.headers, json=session_body()
        )
        assert_problem(r, 409, "consultation_not_active")

    def test_sessions_feed_the_response_time_facts(
        self, client, teacher, consultant, office_member, admin
    ):
        requested_at = yesterday_noon()
        track_id = backdated_track(teacher, consultant, office_member, requested_at=requested_at)
        url = f"{API}/{track_id}/sessions"
        first = client.post(
            url,
            headers=consultant.headers,
            json=session_body(
                held_at=(requested_at + timedelta(hours=2)).isoformat(),
                attendee_ids=[str(teacher.id)],
            ),
        )
        assert first.status_code == 201, first.text
        body = first.json()
        assert body["attendees"][0]["id"] == str(teacher.id)
        assert body["recorded_by"]["id"] == str(consultant.id)
        assert first.headers["Location"] == f"{url}/{body['id']}"
        second = client.post(
            url,
            headers=consultant.headers,
            json=session_body(
                held_at=(requested_at + timedelta(hours=3, minutes=30)).isoformat(),
                format="online",
                duration_minutes=45,
            ),
        )
        assert second.status_code == 201, second.text
        listed = client.get(url, headers=teacher.headers).json()["items"]
        assert [s["id"] for s in listed] == [body["id"], second.json()["id"]]
        track = client.get(f"{API}/{track_id}", headers=teacher.headers).json()
        assert track["session_count"] == 2
        assert track["first_session_at"] == body["held_at"]
        assert track["hours_to_first_session"] == 2.0
        page = client.get(API, headers=teacher.headers).json()["items"]
        assert [(i["id"], i["hours_to_first_session"]) for i in page] == [(track_id, 2.0)]
        recorded = client.get(
            f"/api/v1/audit?entity_id={track_id}&action=consultation.session_recorded",
            headers=admin.headers,
        ).json()["items"]
        assert sorted((e["data"]["session_count"], e["data"]["hours_since_request"])
                      for e in recorded) == [(1, 2.0), (2, 3.5)]  # fmt: skip
        # Moving the first session later makes the other one the first.
        moved = client.patch(
            f"{url}/{body['id']}",
            headers=consultant.headers,
            json={"held_at": (requested_at + timedelta(hours=5)).isoformat()},
        )
        assert moved.status_code == 200, moved.text
        track = client.get(f"{API}/{track_id}", headers=teacher.headers).json()
        assert (track["session_count"], track["hours_to_first_session"]) == (2, 3.5)

    def test_list_queries_do_not_grow(
        self, client, active_track, consultant, make_user, count_queries
    ):
        url = f"{API}/{active_track['id']}/sessions"
        people = [str(make_user(Role.participant).id) for _ in range(3)]
        client.post(url, headers=consultant.headers, json=session_body(attendee_ids=people[:1]))
        count_queries.statements.clear()
        client.get(url, headers=consultant.headers)
        one = count_queries.count
        for _ in range(3):
            client.post(url, headers=consultant.headers, json=session_body(attendee_ids=people))
        count_queries.statements.clear()
        assert len(client.get(url, headers=consultant.headers).json()["items"]) == 4
        assert count_queries.count == one

    @pytest.mark.parametrize(
        "field", ["held_at", "format", "duration_minutes", "notes", "next_steps", "attendee_ids"]
    )
    def test_explicit_null_in_a_correction_is_422(self, client, active_track, consultant, field):
        # `notes` and `next_steps` reached their NOT NULL columns and answered 500.
        url = f"{API}/{active_track['id']}/sessions"
        created = client.post(url, headers=consultant.headers, json=session_body()).json()
        response = client.patch(
            f"{url}/{created['id']}", headers=consultant.headers, json={field: None}
        )
        problem = assert_problem(response, 422, "null_not_allowed")
        assert problem["errors"][0]["loc"] == ["body", field]
        again = client.get(f"{url}/{created['id']}", headers=consultant.headers).json()
        assert again == created

    def test_get_and_correct_a_session(self, client, active_track, consultant, teacher, admin):
        url = f"{API}/{active_track['id']}/sessions"
        created = client.post(url, headers=consultant.headers, json=session_body()).json()
        one = client.get(f"{url}/{created['id']}", headers=teacher.headers)
        assert one.status_code == 200
        assert one.headers["ETag"] == '"1"'
        assert_problem(client.get(f"{url}/{uuid.uuid4()}", headers=teacher.headers), 404)
        assert_problem(
            client.patch(f"{url}/{created['id']}", headers=teacher.headers, json={"notes": "x"}),
            403,
        )
        assert_problem(
            client.patch(
                f"{url}/{created['id']}",
                headers={**consultant.headers, "If-Match": '"7"'},
                json={"notes": "x"},
            ),
            412,
        )
        assert_problem(
            client.patch(
                f"{url}/{created['id']}",
                headers=consultant.headers,
                json={"duration_minutes": None},
            ),
            422,
        )
        response = client.patch(
            f"{url}/{created['id']}",
            headers={**consultant.headers, "If-Match": '"1"'},
            json={
                "next_steps": "Показать черновик цели методисту",
                "attendee_ids": [str(teacher.id)],
            },
        )
        assert response.status_code == 200, response.text
        assert response.json()["version"] == 2
        assert response.json()["attendees"][0]["id"] == str(teacher.id)
        event = events_of(client, admin, active_track["id"])["consultation.session_updated"]
        assert set(event["changes"]) == {"next_steps", "attendee_ids"}


class TestEveryEndpoint:
    @pytest.fixture
    def ids(self, client, active_track, consultant):
        url = f"{API}/{active_track['id']}/sessions"
        record = client.post(url, headers=consultant.headers, json=session_body()).json()
        return {"t": active_track["id"], "s": record["id"]}

    @staticmethod
    def routes():
        return [
            ("GET", "", None),
            ("POST", "", {"topic": "Новый замысел"}),
            ("GET", "/{t}", None),
            ("PATCH", "/{t}", {"topic": "Новая тема"}),
            ("POST", "/{t}/decline", {"reason": "Не наш профиль"}),
            ("POST", "/{t}/close", {"outcome": "abandoned"}),
            ("GET", "/{t}/sessions", None),
            ("POST", "/{t}/sessions", session_body()),
            ("GET", "/{t}/sessions/{s}", None),
            ("PATCH", "/{t}/sessions/{s}", {"notes": "Дополнение"}),
        ]

    def call(self, client, method, path, body, ids, headers=None):
        return client.request(method, API + path.format(**ids), json=body, headers=headers or {})

    def test_anonymous(self, client, ids):
        for method, path, body in self.routes():
            assert_problem(self.call(client, method, path, body, ids), 401)

    def test_observer_reads_everything_and_writes_nothing(self, client, ids, observer):
        for method, path, body in self.routes():
            response = self.call(client, method, path, body, ids, observer.headers)
            if method == "GET":
                assert response.status_code == 200, (path, response.text)
            else:
                assert_problem(response, 403)

    def test_someone_elses_track_is_a_404_everywhere(self, client, ids, participant):
        for method, path, body in self.routes()[2:]:
            if path == "/{t}/decline":
                continue  # office staff only: a 403 before the track is looked at
            response = self.call(client, method, path, body, ids, participant.headers)
            assert_problem(response, 404)

    def test_malformed_ids(self, client, office_member):
        for method, path, body in self.routes()[2:]:
            response = self.call(
                client, method, path, body, {"t": "nope", "s": "nope"}, office_member.headers
            )
            assert_problem(response, 422)
