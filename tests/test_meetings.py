"""Meetings of the project office: agenda, attendance, decisions moving initiatives, minutes."""

import html
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import ClassVar
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col

from app import demo
from app.db import get_engine
from app.models import Meeting, Role
from tests.factories import assert_problem

API = "/api/v1/meetings"
CRITERIA = [
    {"code": "relevance", "title_ru": "Актуальность", "title_en": "Relevance", "max_score": 5,
     "weight": 1},
]  # fmt: skip


def when(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def transition(client, person, initiative_id, action, comment=None):
    response = client.post(
        f"/api/v1/initiatives/{initiative_id}/transitions",
        headers=person.headers,
        json={"action": action, "comment": comment},
    )
    assert response.status_code == 200, response.text
    return response.json()


def make_initiative(client, author, title="Открытая лаборатория читательской грамотности"):
    response = client.post(
        "/api/v1/initiatives",
        headers=author.headers,
        json={"title": title, "education_level": "basic", "academic_year": "2026-2027"},
    )
    assert response.status_code == 201, response.text
    return transition(client, author, response.json()["id"], "submit")


def create_meeting(client, person, **body):
    payload = {
        "title": "Рефлексивная сессия по проектным замыслам",
        "scheduled_at": when(hours=-1),
        "format": "reflective_session",
        "place": "МБУ ЦРО, актовый зал",
        **body,
    }
    response = client.post(API, headers=person.headers, json=payload)
    assert response.status_code == 201, response.text
    return response.json()


def hold(client, person, meeting, **extra):
    response = client.patch(
        f"{API}/{meeting['id']}", headers=person.headers, json={"status": "held", **extra}
    )
    assert response.status_code == 200, response.text
    return response.json()


def add_item(client, person, meeting, **body):
    response = client.post(
        f"{API}/{meeting['id']}/agenda-items",
        headers=person.headers,
        json={"kind": "discussion", "title": None if "initiative_id" in body else "Разное", **body},
    )
    assert response.status_code == 201, response.text
    return response.json()


def decide(client, person, meeting, item, **body):
    return client.post(
        f"{API}/{meeting['id']}/decisions",
        headers=person.headers,
        json={"agenda_item_id": item["id"], "text": "Принять к сведению", **body},
    )


def activate_criteria(client, head):
    response = client.post(
        "/api/v1/criteria-sets",
        headers=head.headers,
        json={"title": "Критерии 2026", "criteria": CRITERIA, "activate": True},
    )
    assert response.status_code == 201, response.text


@pytest.fixture
def head(make_user, make_org):
    return make_user(Role.office_head, Role.office_member, organization_id=make_org())


@pytest.fixture
def author(make_user, make_org):
    return make_user(Role.participant, organization_id=make_org())


@pytest.fixture
def initiative(client, author):
    return make_initiative(client, author)


@pytest.fixture
def meeting(client, office_member):
    return create_meeting(client, office_member)


@pytest.fixture
def held(client, office_member, meeting):
    return hold(client, office_member, meeting)


def audit_actions(client, admin, meeting_id):
    page = client.get(
        f"/api/v1/audit?entity_type=meeting&entity_id={meeting_id}&limit=200",
        headers=admin.headers,
    ).json()
    return [e["action"] for e in page["items"]]


class TestCreate:
    def test_anonymous(self, client):
        assert_problem(client.post(API, json={"scheduled_at": when()}), 401)

    def test_participant_may_not_plan(self, client, participant):
        assert_problem(
            client.post(API, headers=participant.headers, json={"scheduled_at": when()}), 403
        )

    def test_invalid_body(self, client, office_member):
        h = office_member.headers
        naive = datetime.now().replace(microsecond=0).isoformat()
        assert_problem(client.post(API, headers=h, json={"scheduled_at": naive}), 422)
        assert_problem(client.post(API, headers=h, json={"scheduled_at": when(), "number": 5}), 422)
        assert_problem(
            client.post(API, headers=h, json={"scheduled_at": when(), "format": "party"}), 422
        )
        assert_problem(
            client.post(API, headers=h, json={"scheduled_at": when(), "online_url": "ftp://x.org"}),
            422,
        )
        assert_problem(
            client.post(
                API, headers=h, json={"scheduled_at": when(), "facilitator_id": str(uuid.uuid4())}
            ),
            422,
            "unknown_user",
        )
        marked = [{"user_id": str(office_member.id), "attended": True}]
        assert_problem(
            client.post(API, headers=h, json={"scheduled_at": when(), "attendees": marked}),
            422,
            "meeting_not_held",
        )

    @pytest.mark.parametrize(
        "link",
        [
            "https://x.org/><script>alert(1)</script>",
            'https://x.org/" onclick="alert(1)',
            "https://x.org/a b",
            "https://x.org/\ttab",
            "https://x.org/\u202egnp.exe",  # a right-to-left override hides the real ending
            "https://x.org/a\\b",
            "https://",
            "https:x.org",
            "https://[x",
            "https://x.org:99999/",
            "https://-x.org/",
            "https://office.example.ru@evil.example/",
            "javascript:alert(1)//https://x.org",
        ],
    )
    def test_a_link_that_is_no_web_link_is_422(self, client, meeting, office_member, link):
        h = office_member.headers
        created = client.post(API, headers=h, json={"scheduled_at": when(), "online_url": link})
        problem = assert_problem(created, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["body", "online_url"]
        edited = client.patch(f"{API}/{meeting['id']}", headers=h, json={"online_url": link})
        problem = assert_problem(edited, 422, "validation_error")
        assert problem["errors"][0]["loc"] == ["body", "online_url"]
        after = client.get(f"{API}/{meeting['id']}", headers=h).json()
        assert (after["online_url"], after["version"]) == (None, meeting["version"])

    @pytest.mark.parametrize(
        "scheduled_at",
        [
            "9999-12-31T22:00:00Z",  # no local time: 500
            "2101-09-01T10:00:00+05:00",  # academic year 2101-2102
            "1999-06-01T10:00:00Z",  # academic year 1998-1999
            "0001-01-01T06:00:00+05:00",  # was stored as academic year "0-1"
        ],
    )
    def test_a_date_outside_the_academic_years_is_422(
        self, client, meeting, office_member, scheduled_at
    ):
        h = office_member.headers
        created = client.post(API, headers=h, json={"scheduled_at": scheduled_at})
        assert assert_problem(created, 422)["errors"][0]["loc"] == ["body", "scheduled_at"]
        edited = client.patch(
            f"{API}/{meeting['id']}", headers=h, json={"scheduled_at": scheduled_at}
        )
        assert assert_problem(edited, 422)["errors"][0]["loc"] == ["body", "scheduled_at"]
        first = create_meeting(client, office_member, scheduled_at="2000-09-01T10:00:00+05:00")
        last = create_meeting(client, office_member, scheduled_at="2101-08-31T10:00:00+05:00")
        assert (first["academic_year"], last["academic_year"]) == ("2000-2001", "2100-2101")

    def test_numbers_are_sequential_per_academic_year(self, client, office_member, admin):
        first = create_meeting(client, office_member)
        second = create_meeting(client, office_member, scheduled_at=when(days=7))
        # 31 August 2025 at 20:00 UTC is already 1 September in Chaikovsky (UTC+5).
        older = create_meeting(client, office_member, scheduled_at="2025-08-31T20:00:00Z")
        assert (first["number"], second["number"]) == (1, 2)
        assert first["academic_year"] == second["academic_year"]
        assert (older["number"], older["academic_year"]) == (1, "2025-2026")

    def test_happy_path(self, client, office_member, participant, admin):
        response = client.post(
            API,
            headers=office_member.headers,
            json={
                "scheduled_at": when(days=3),
                "format": "open_space",
                "online_url": "https://meet.example.org/po",
                "facilitator_id": str(office_member.id),
                "attendees": [{"user_id": str(participant.id)}],
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["status"] == "planned"
        assert body["format"] == "open_space"
        assert body["facilitator"]["id"] == str(office_member.id)
        assert body["attendees"][0]["attended"] is None
        assert body["agenda_items"] == []
        assert body["decisions"] == []
        assert body["reflection"] == {"what_worked": "", "insights": "", "to_change": ""}
        assert response.headers["Location"] == f"{API}/{body['id']}"
        assert response.headers["ETag"] == '"1"'
        assert audit_actions(client, admin, body["id"]) == ["meeting.created"]


class TestListAndGet:
    def test_anonymous(self, client, meeting):
        assert_problem(client.get(API), 401)
        assert_problem(client.get(f"{API}/{meeting['id']}"), 401)

    def test_participants_see_held_meetings_and_their_invitations(
        self, client, office_member, participant, observer, make_user
    ):
        planned = create_meeting(client, office_member, scheduled_at=when(days=5))
        held = hold(client, office_member, create_meeting(client, office_member))
        invited = create_meeting(
            client,
            office_member,
            scheduled_at=when(days=6),
            attendees=[{"user_id": str(participant.id)}],
        )
        cancelled = create_meeting(client, office_member, scheduled_at=when(days=8))
        client.patch(
            f"{API}/{cancelled['id']}",
            headers=office_member.headers,
            json={"status": "cancelled", "cancellation_reason": "Карантин"},
        )

        def ids(person):
            return {m["id"] for m in client.get(API, headers=person.headers).json()["items"]}

        everything = {m["id"] for m in (planned, held, invited, cancelled)}
        assert ids(office_member) == ids(observer) == everything
        assert ids(participant) == {held["id"], invited["id"]}
        assert ids(make_user(Role.expert)) == {held["id"]}
        assert_problem(
            client.get(f"{API}/{planned['id']}", headers=participant.headers),
            404,
            "meeting_not_found",
        )
        assert client.get(f"{API}/{invited['id']}", headers=participant.headers).status_code == 200

    def test_filters_and_pagination(self, client, office_member, initiative):
        a = create_meeting(
            client, office_member, title="Питч-сессия замыслов", format="pitch_session"
        )
        b = create_meeting(client, office_member, scheduled_at=when(days=10), title="Стратегия")
        c = create_meeting(client, office_member, scheduled_at="2025-10-15T10:00:00Z")
        add_item(client, office_member, b, kind="initiative_review", initiative_id=initiative["id"])
        hold(client, office_member, a)

        def ids(query):
            response = client.get(f"{API}?{query}", headers=office_member.headers)
            assert response.status_code == 200, response.text
            return [m["id"] for m in response.json()["items"]]

        assert ids("") == [b["id"], a["id"], c["id"]]
        assert ids("sort=scheduled_at") == [c["id"], a["id"], b["id"]]
        assert ids("academic_year=2025-2026") == [c["id"]]
        assert ids("status=held") == [a["id"]]
        assert set(ids("status=held&status=planned")) == {a["id"], b["id"], c["id"]}
        assert ids("format=pitch_session") == [a["id"]]
        assert ids(f"initiative_id={initiative['id']}") == [b["id"]]
        assert ids("date_from=2025-10-15&date_to=2025-10-15") == [c["id"]]
        assert ids("q=ПИТЧ") == [a["id"]]
        page = client.get(f"{API}?limit=2", headers=office_member.headers).json()
        rest = client.get(
            f"{API}?limit=2&cursor={page['next_cursor']}", headers=office_member.headers
        ).json()
        assert [m["id"] for m in page["items"] + rest["items"]] == [b["id"], a["id"], c["id"]]
        assert rest["next_cursor"] is None

    def test_invalid_query(self, client, office_member):
        h = office_member.headers
        assert_problem(client.get(f"{API}?academic_year=2021-2023", headers=h), 422)
        assert_problem(client.get(f"{API}?status=done", headers=h), 422)
        assert_problem(client.get(f"{API}?limit=500", headers=h), 422)
        assert_problem(client.get(f"{API}/123", headers=h), 422)
        assert_problem(client.get(f"{API}/{uuid.uuid4()}", headers=h), 404)

    def test_dates_at_the_ends_of_the_calendar(self, client, meeting, office_member):
        # 0001-01-01 local starts before the first UTC moment, 9999-12-31 has no next day: 500.
        h = office_member.headers
        for query in ("date_from=0001-01-01", "date_to=9999-12-31", "date_to=9999-12-30"):
            response = client.get(f"{API}?{query}", headers=h)
            assert response.status_code == 200, (query, response.text)
            assert [m["id"] for m in response.json()["items"]] == [meeting["id"]], query
        for query in ("date_to=0001-01-01", "date_from=9999-12-31"):
            response = client.get(f"{API}?{query}", headers=h)
            assert response.status_code == 200, (query, response.text)
            assert response.json()["items"] == [], query

    @pytest.mark.parametrize(
        "query",
        [
            "date_from=0",
            "date_to=1700000000",
            "date_from=1.5",
            "date_to=15.10.2025",
            "date_from=2025-13-01",
        ],
    )
    def test_dates_are_iso_only(self, client, office_member, query):
        # A number used to be read as a Unix timestamp (`date_to=0` was 1970-01-01).
        problem = assert_problem(client.get(f"{API}?{query}", headers=office_member.headers), 422)
        assert problem["errors"][0]["loc"][0] == "query"

    def test_timestamps_are_no_dates_in_bodies(self, client, meeting, office_member):
        h = office_member.headers
        assert_problem(client.post(API, headers=h, json={"scheduled_at": 1761130800}), 422)
        assert_problem(
            client.patch(f"{API}/{meeting['id']}", headers=h, json={"scheduled_at": 0}), 422
        )
        assert_problem(client.get(f"{API}/decisions?review_due_by=0", headers=h), 422)
        beyond_utc = "9999-12-31T23:59:59-05:00"
        problem = assert_problem(
            client.patch(f"{API}/{meeting['id']}", headers=h, json={"scheduled_at": beyond_utc}),
            422,
        )
        assert problem["errors"][0]["loc"] == ["body", "scheduled_at"]

    def test_detail_queries_do_not_grow(
        self, client, office_member, head, author, make_user, count_queries
    ):
        activate_criteria(client, head)
        counts = []
        for size in (1, 4):
            meeting = create_meeting(
                client,
                office_member,
                attendees=[{"user_id": str(make_user().id)} for _ in range(size)],
            )
            hold(client, office_member, meeting)
            for n in range(size):
                initiative = make_initiative(client, author, title=f"Замысел номер {n + 1}")
                item = add_item(
                    client,
                    office_member,
                    meeting,
                    kind="initiative_review",
                    initiative_id=initiative["id"],
                    presenter_id=str(author.id),
                )
                r = decide(client, office_member, meeting, item, action="send_to_expertise")
                assert r.status_code == 201, r.text
            count_queries.statements.clear()
            body = client.get(f"{API}/{meeting['id']}", headers=author.headers).json()
            assert len(body["decisions"]) == size
            counts.append(count_queries.count)
        assert counts[0] == counts[1] <= 7


class TestUpdate:
    def test_anonymous(self, client, meeting):
        assert_problem(client.patch(f"{API}/{meeting['id']}", json={"status": "held"}), 401)

    def test_participant_may_not_edit(self, client, meeting, participant):
        r = client.patch(
            f"{API}/{meeting['id']}", headers=participant.headers, json={"status": "held"}
        )
        assert_problem(r, 403)

    def test_invalid_body(self, client, meeting, office_member):
        url = f"{API}/{meeting['id']}"
        h = office_member.headers
        assert_problem(client.patch(url, headers=h, json={"status": "done"}), 422)
        assert_problem(client.patch(url, headers=h, json={"status": None}), 422)
        assert_problem(client.patch(url, headers=h, json={"number": 7}), 422)
        assert_problem(
            client.patch(url, headers=h, json={"scheduled_at": "2019-10-01T10:00:00Z"}),
            422,
            "academic_year_changed",
        )
        assert_problem(
            client.patch(url, headers=h, json={"cancellation_reason": "Без статуса"}), 422
        )

    @pytest.mark.parametrize(
        "field", ["scheduled_at", "format", "attendees", "status", "reflection"]
    )
    def test_explicit_null_is_422(self, client, meeting, office_member, field):
        response = client.patch(
            f"{API}/{meeting['id']}", headers=office_member.headers, json={field: None}
        )
        problem = assert_problem(response, 422, "null_not_allowed")
        assert problem["errors"][0]["loc"] == ["body", field]

    def test_null_clears_the_optional_fields(self, client, meeting, office_member):
        response = client.patch(
            f"{API}/{meeting['id']}",
            headers=office_member.headers,
            json={"title": None, "place": None, "online_url": None, "facilitator_id": None},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["title"], body["place"]) == ("", None)

    def test_mark_held_with_attendance(self, client, meeting, office_member, participant, admin):
        response = client.patch(
            f"{API}/{meeting['id']}",
            headers={**office_member.headers, "If-Match": '"1"'},
            json={
                "status": "held",
                "attendees": [
                    {"user_id": str(office_member.id), "attended": True},
                    {"user_id": str(participant.id), "attended": False},
                ],
            },
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "held"
        assert body["version"] == 2
        assert {a["user_id"]: a["attended"] for a in body["attendees"]} == {
            str(office_member.id): True,
            str(participant.id): False,
        }
        assert "meeting.held" in audit_actions(client, admin, meeting["id"])
        back = client.patch(
            f"{API}/{meeting['id']}", headers=office_member.headers, json={"status": "planned"}
        )
        assert_problem(back, 409, "invalid_meeting_status")
        assert_problem(
            client.patch(
                f"{API}/{meeting['id']}",
                headers=office_member.headers,
                json={"status": "cancelled", "cancellation_reason": "Поздно"},
            ),
            409,
            "invalid_meeting_status",
        )

    def test_future_meeting_cannot_be_held(self, client, office_member):
        future = create_meeting(client, office_member, scheduled_at=when(days=3))
        r = client.patch(
            f"{API}/{future['id']}", headers=office_member.headers, json={"status": "held"}
        )
        assert_problem(r, 409, "meeting_in_future")

    def test_stale_versions(self, client, meeting, office_member):
        url = f"{API}/{meeting['id']}"
        assert_problem(
            client.patch(
                url, headers={**office_member.headers, "If-Match": '"5"'}, json={"title": "Новое"}
            ),
            412,
        )
        assert_problem(
            client.patch(url, headers=office_member.headers, json={"title": "Новое", "version": 5}),
            409,
            "version_conflict",
        )

    def test_cancel_needs_a_reason_and_freezes(self, client, meeting, office_member):
        url = f"{API}/{meeting['id']}"
        h = office_member.headers
        assert_problem(
            client.patch(url, headers=h, json={"status": "cancelled"}), 422, "reason_required"
        )
        response = client.patch(
            url, headers=h, json={"status": "cancelled", "cancellation_reason": "Карантин в школах"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["cancellation_reason"] == "Карантин в школах"
        assert_problem(
            client.patch(url, headers=h, json={"title": "Новое"}), 409, "meeting_cancelled"
        )

    def test_reflection_after_the_meeting(self, client, meeting, office_member):
        url = f"{API}/{meeting['id']}"
        h = office_member.headers
        reflection = {
            "what_worked": "Работа в малых группах",
            "insights": "Авторам важнее вопросы, чем оценки",
            "to_change": "Давать докладчикам 5 минут",
        }
        assert_problem(
            client.patch(url, headers=h, json={"reflection": reflection}), 409, "meeting_not_held"
        )
        body = client.patch(
            url, headers=h, json={"status": "held", "reflection": reflection}
        ).json()
        assert body["reflection"] == reflection

    def test_no_change_keeps_the_version(self, client, meeting, office_member):
        same = client.patch(
            f"{API}/{meeting['id']}",
            headers=office_member.headers,
            json={"title": meeting["title"]},
        ).json()
        assert same["version"] == meeting["version"]


class TestAgenda:
    def test_anonymous(self, client, meeting):
        url = f"{API}/{meeting['id']}/agenda-items"
        assert_problem(client.get(url), 401)
        assert_problem(client.post(url, json={"kind": "discussion", "title": "Разное"}), 401)

    def test_participant_reads_held_only_and_never_writes(
        self, client, meeting, participant, office_member
    ):
        url = f"{API}/{meeting['id']}/agenda-items"
        assert_problem(client.get(url, headers=participant.headers), 404)
        assert_problem(
            client.post(
                url, headers=participant.headers, json={"kind": "discussion", "title": "Разное"}
            ),
            403,
        )
        hold(client, office_member, meeting)
        assert client.get(url, headers=participant.headers).status_code == 200

    def test_invalid(self, client, meeting, office_member, make_user, make_org):
        url = f"{API}/{meeting['id']}/agenda-items"
        h = office_member.headers
        assert_problem(client.post(url, headers=h, json={"kind": "talk", "title": "Разное"}), 422)
        assert_problem(
            client.post(url, headers=h, json={"kind": "initiative_review"}),
            422,
            "initiative_required",
        )
        assert_problem(client.post(url, headers=h, json={"kind": "discussion"}), 422)
        assert_problem(
            client.post(
                url, headers=h, json={"kind": "discussion", "title": "Время", "time_box_minutes": 0}
            ),
            422,
        )
        # Someone's draft is invisible to the office: an unknown initiative.
        drafter = make_user(Role.participant, organization_id=make_org())
        draft = client.post(
            "/api/v1/initiatives",
            headers=drafter.headers,
            json={
                "title": "Черновик замысла",
                "education_level": "basic",
                "academic_year": "2026-2027",
            },
        ).json()
        assert_problem(
            client.post(
                url, headers=h, json={"kind": "initiative_review", "initiative_id": draft["id"]}
            ),
            422,
            "unknown_initiative",
        )
        assert_problem(
            client.post(
                f"{API}/{uuid.uuid4()}/agenda-items",
                headers=h,
                json={"kind": "discussion", "title": "Разное"},
            ),
            404,
        )

    @pytest.mark.parametrize("field", ["kind", "title", "description", "position"])
    def test_explicit_null_in_an_edit_is_422(self, client, meeting, office_member, field):
        # `description` reached its NOT NULL column and answered 500.
        item = add_item(client, office_member, meeting, description="Обсудить итоги")
        url = f"{API}/{meeting['id']}/agenda-items/{item['id']}"
        response = client.patch(url, headers=office_member.headers, json={field: None})
        problem = assert_problem(response, 422, "null_not_allowed")
        assert problem["errors"][0]["loc"] == ["body", field]
        cleared = client.patch(
            url,
            headers=office_member.headers,
            json={"presenter_id": None, "time_box_minutes": None, "initiative_id": None},
        )
        assert cleared.status_code == 200, cleared.text
        assert cleared.json()["description"] == "Обсудить итоги"

    def test_ordering(self, client, meeting, office_member, initiative, author, admin):
        review = add_item(
            client,
            office_member,
            meeting,
            kind="initiative_review",
            title=None,
            initiative_id=initiative["id"],
            presenter_id=str(author.id),
            time_box_minutes=20,
        )
        assert review["title"] == initiative["title"]
        assert review["initiative"]["code"] == initiative["code"]
        assert review["presenter"]["id"] == str(author.id)
        closing = add_item(client, office_member, meeting, kind="reflection", title="Рефлексия")
        opening = add_item(client, office_member, meeting, title="Открытие", position=1)
        url = f"{API}/{meeting['id']}/agenda-items"

        def order():
            items = client.get(url, headers=office_member.headers).json()["items"]
            return [(i["position"], i["id"]) for i in items]

        assert order() == [(1, opening["id"]), (2, review["id"]), (3, closing["id"])]
        moved = client.patch(
            f"{url}/{closing['id']}", headers=office_member.headers, json={"position": 1}
        )
        assert moved.status_code == 200, moved.text
        assert order() == [(1, closing["id"]), (2, opening["id"]), (3, review["id"])]
        client.patch(f"{url}/{closing['id']}", headers=office_member.headers, json={"position": 99})
        assert order() == [(1, opening["id"]), (2, review["id"]), (3, closing["id"])]
        deleted = client.delete(f"{url}/{opening['id']}", headers=office_member.headers)
        assert deleted.status_code == 204
        assert order() == [(1, review["id"]), (2, closing["id"])]
        assert_problem(client.delete(f"{url}/{opening['id']}", headers=office_member.headers), 404)
        assert_problem(
            client.patch(
                f"{url}/{review['id']}", headers=office_member.headers, json={"initiative_id": None}
            ),
            422,
            "initiative_required",
        )
        actions = audit_actions(client, admin, meeting["id"])
        assert {
            "meeting.agenda_item_added",
            "meeting.agenda_item_updated",
            "meeting.agenda_item_removed",
        } <= set(actions)
        assert (
            client.get(f"{API}/{meeting['id']}", headers=office_member.headers).json()["version"]
            > 1
        )

    def test_cancelled_meeting_agenda_is_frozen(self, client, meeting, office_member):
        client.patch(
            f"{API}/{meeting['id']}",
            headers=office_member.headers,
            json={"status": "cancelled", "cancellation_reason": "Перенос"},
        )
        r = client.post(
            f"{API}/{meeting['id']}/agenda-items",
            headers=office_member.headers,
            json={"kind": "discussion", "title": "Разное"},
        )
        assert_problem(r, 409, "meeting_cancelled")

    def test_item_with_decisions_stays(self, client, held, office_member):
        item = add_item(client, office_member, held)
        assert decide(client, office_member, held, item).status_code == 201
        url = f"{API}/{held['id']}/agenda-items/{item['id']}"
        assert_problem(
            client.delete(url, headers=office_member.headers), 409, "agenda_item_has_decisions"
        )


class TestDecisions:
    def test_anonymous(self, client, held):
        url = f"{API}/{held['id']}/decisions"
        assert_problem(client.get(url), 401)
        assert_problem(client.post(url, json={}), 401)

    def test_participant_may_not_decide(self, client, held, participant, office_member):
        item = add_item(client, office_member, held)
        assert_problem(decide(client, participant, held, item), 403)

    def test_invalid_body(self, client, held, office_member):
        item = add_item(client, office_member, held)
        assert_problem(decide(client, office_member, held, item, text=""), 422)
        assert_problem(decide(client, office_member, held, item, action="bless"), 422)
        assert_problem(decide(client, office_member, held, item, votes_for=5), 422)
        assert_problem(
            decide(
                client, office_member, held, item, votes_for=-1, votes_against=0, votes_abstain=0
            ),
            422,
        )
        assert_problem(decide(client, office_member, held, item, review_on="2000-01-01"), 422)
        assert_problem(decide(client, office_member, held, item, review_on=1893456000), 422)

    def test_planned_meeting(self, client, meeting, office_member):
        item = add_item(client, office_member, meeting)
        assert_problem(decide(client, office_member, meeting, item), 409, "meeting_not_held")

    def test_cancelled_meeting(self, client, meeting, office_member):
        item = add_item(client, office_member, meeting)
        client.patch(
            f"{API}/{meeting['id']}",
            headers=office_member.headers,
            json={"status": "cancelled", "cancellation_reason": "Перенос"},
        )
        assert_problem(decide(client, office_member, meeting, item), 409, "meeting_cancelled")

    def test_initiative_not_on_the_agenda(self, client, held, office_member, initiative, head):
        activate_criteria(client, head)
        other = create_meeting(client, office_member)
        elsewhere = add_item(
            client, office_member, other, kind="initiative_review", initiative_id=initiative["id"]
        )
        r = decide(client, office_member, held, elsewhere, action="send_to_expertise")
        body = assert_problem(r, 422, "not_on_agenda")
        assert body["errors"][0]["loc"] == ["body", "agenda_item_id"]
        plain = add_item(client, office_member, held, title="Разное")
        assert_problem(
            decide(client, office_member, held, plain, action="send_to_expertise"),
            422,
            "initiative_not_on_agenda",
        )
        got = client.get(f"/api/v1/initiatives/{initiative['id']}", headers=head.headers).json()
        assert got["status"] == "submitted"

    def test_note_with_tally_and_review_date(self, client, held, office_member, participant, admin):
        item = add_item(client, office_member, held, title="Итоги ресурсных центров")
        review_on = (date.today() + timedelta(days=90)).isoformat()
        response = decide(
            client,
            office_member,
            held,
            item,
            text="Опыт ресурсных центров представить на августовской конференции",
            votes_for=7,
            votes_against=0,
            votes_abstain=1,
            review_on=review_on,
        )
        assert response.status_code == 201, response.text
        decision = response.json()
        assert decision["action"] is None
        assert decision["transition_id"] is None
        assert (decision["votes_for"], decision["votes_abstain"]) == (7, 1)
        listed = client.get(f"{API}/{held['id']}/decisions", headers=participant.headers).json()
        assert [d["id"] for d in listed["items"]] == [decision["id"]]
        due = client.get(
            f"{API}/decisions?review_due_by={review_on}", headers=participant.headers
        ).json()["items"]
        assert [d["id"] for d in due] == [decision["id"]]
        not_yet = client.get(
            f"{API}/decisions?review_due_by={date.today().isoformat()}", headers=participant.headers
        ).json()["items"]
        assert not_yet == []
        assert "meeting.decision_recorded" in audit_actions(client, admin, held["id"])

    def test_lifecycle_decision_moves_the_initiative(
        self, client, held, office_member, initiative, head, author
    ):
        activate_criteria(client, head)
        item = add_item(
            client, office_member, held, kind="initiative_review", initiative_id=initiative["id"]
        )
        response = decide(
            client,
            office_member,
            held,
            item,
            action="send_to_expertise",
            text="Направить замысел на экспертизу",
            votes_for=5,
            votes_against=1,
            votes_abstain=0,
            initiative_version=initiative["version"],
        )
        assert response.status_code == 201, response.text
        decision = response.json()
        assert (decision["from_status"], decision["to_status"]) == ("submitted", "expertise")
        assert decision["initiative"]["status"] == "expertise"
        history = client.get(
            f"/api/v1/initiatives/{initiative['id']}/transitions", headers=author.headers
        ).json()["items"]
        assert history[-1]["id"] == decision["transition_id"]
        assert history[-1]["action"] == "send_to_expertise"
        assert f"№ {held['number']}" in history[-1]["comment"]
        assert "Направить замысел на экспертизу" in history[-1]["comment"]
        by_initiative = client.get(
            f"{API}/decisions?initiative_id={initiative['id']}&action=send_to_expertise",
            headers=author.headers,
        ).json()["items"]
        assert [d["id"] for d in by_initiative] == [decision["id"]]

    def test_refused_transition_records_nothing(
        self, client, held, office_member, initiative, admin
    ):
        # No active criteria set: the lifecycle guard of send_to_expertise refuses the step.
        item = add_item(
            client, office_member, held, kind="initiative_review", initiative_id=initiative["id"]
        )
        before = audit_actions(client, admin, held["id"])
        meeting_version = client.get(f"{API}/{held['id']}", headers=admin.headers).json()["version"]
        r = decide(client, office_member, held, item, action="send_to_expertise")
        body = assert_problem(r, 409, "guard_failed")
        assert body["extra"]["blocked_by"][0]["guard"] == "active_criteria_set"
        assert (
            client.get(f"{API}/{held['id']}/decisions", headers=admin.headers).json()["items"] == []
        )
        assert audit_actions(client, admin, held["id"]) == before
        after = client.get(f"{API}/{held['id']}", headers=admin.headers).json()
        assert after["version"] == meeting_version
        assert after["decisions"] == []
        got = client.get(f"/api/v1/initiatives/{initiative['id']}", headers=admin.headers).json()
        assert got["status"] == "submitted"

    def test_no_decision_on_ones_own_initiative(
        self, client, held, office_member, head, make_user, make_org, admin
    ):
        # The head could approve, through a meeting, an initiative of their own team.
        org = make_org()
        insider = make_user(Role.office_member, organization_id=org)
        author_head = make_user(Role.office_head, organization_id=org)
        response = client.post(
            "/api/v1/initiatives",
            headers=author_head.headers,
            json={
                "title": "Замысел руководителя офиса",
                "education_level": "basic",
                "academic_year": "2026-2027",
                "team": [{"user_id": str(insider.id)}],
            },
        )
        assert response.status_code == 201, response.text
        own = transition(client, author_head, response.json()["id"], "submit")
        item = add_item(
            client, office_member, held, kind="initiative_review", initiative_id=own["id"]
        )
        for person, action in ((insider, "start_consultation"), (author_head, "reject")):
            body = assert_problem(
                decide(client, person, held, item, action=action, text="Решили сами"),
                403,
                "conflict_of_interest",
            )
            assert body["extra"]["action"] == action
        assert client.get(f"{API}/{held['id']}", headers=admin.headers).json()["decisions"] == []
        # Someone independent records it.
        taken = decide(client, head, held, item, action="reject", text="Отклонить замысел")
        assert taken.status_code == 201, taken.text
        assert taken.json()["to_status"] == "rejected"

    def test_step_not_allowed_from_the_state(self, client, held, office_member, initiative, head):
        item = add_item(
            client, office_member, held, kind="initiative_review", initiative_id=initiative["id"]
        )
        r = decide(client, head, held, item, action="approve")
        body = assert_problem(r, 409, "invalid_transition")
        assert "start_consultation" in body["extra"]["allowed_actions"]
        assert (
            client.get(f"{API}/{held['id']}/decisions", headers=head.headers).json()["items"] == []
        )

    def test_who_may_take_the_step(self, client, held, office_member, initiative):
        item = add_item(
            client, office_member, held, kind="initiative_review", initiative_id=initiative["id"]
        )
        r = decide(client, office_member, held, item, action="reject", text="Отклонить замысел")
        assert_problem(r, 403, "action_forbidden")

    def test_stale_initiative_version(self, client, held, office_member, initiative):
        item = add_item(
            client, office_member, held, kind="initiative_review", initiative_id=initiative["id"]
        )
        r = decide(
            client, office_member, held, item, action="start_consultation", initiative_version=99
        )
        assert_problem(r, 409, "version_conflict")


class TestMinutes:
    def test_anonymous(self, client, held):
        assert_problem(client.get(f"{API}/{held['id']}/minutes"), 401)

    def test_minutes_of_a_meeting_that_does_not_exist(self, client, office_member):
        assert_problem(
            client.get(f"{API}/{uuid.uuid4()}/minutes", headers=office_member.headers),
            404,
            "meeting_not_found",
        )

    def test_planned_meeting_minutes_are_hidden_from_participants(
        self, client, meeting, participant
    ):
        assert_problem(
            client.get(f"{API}/{meeting['id']}/minutes", headers=participant.headers), 404
        )

    def test_user_text_cannot_break_the_markup(self, client, meeting, office_member, participant):
        add_item(
            client, office_member, meeting, title="**Срочно** <script>alert(1)</script> [ссылка](x)"
        )
        held = client.patch(
            f"{API}/{meeting['id']}",
            headers=office_member.headers,
            json={"status": "held", "reflection": {"insights": "<img src=x onerror=alert(1)>"}},
        ).json()
        text = client.get(f"{API}/{held['id']}/minutes", headers=participant.headers).text
        assert "<script>" not in text
        assert "<img" not in text
        assert r"\*\*Срочно\*\*" in text
        assert r"\[ссылка\]" in text

    LINK = "https://встреча.рф/комната_1?id=42&name=проект*офис&lang=ru#начало"

    @staticmethod
    def rendered(text):
        from markdown_it import MarkdownIt

        # CommonMark lets raw HTML through: what a careless Markdown viewer would show.
        return MarkdownIt("commonmark").render(text)

    def test_a_link_renders_as_the_link_it_is(self, client, meeting, office_member, participant):
        url = f"{API}/{meeting['id']}"
        edited = client.patch(url, headers=office_member.headers, json={"online_url": self.LINK})
        assert edited.status_code == 200, edited.text
        assert edited.json()["online_url"] == self.LINK
        hold(client, office_member, meeting)
        text = client.get(f"{url}/minutes", headers=participant.headers).text
        assert f"- **Ссылка:** <{self.LINK}>\n" in text
        anchors = re.findall(r'<a href="([^"]*)">([^<]*)</a>', self.rendered(text))
        assert len(anchors) == 1, anchors
        href, shown = anchors[0]
        assert html.unescape(shown) == self.LINK
        host = "встреча.рф".encode("idna").decode()
        assert unquote(html.unescape(href)) == self.LINK.replace("встреча.рф", host)

    def test_a_link_stored_before_the_rule_stays_text(
        self, client, meeting, office_member, participant
    ):
        hostile = "https://x.org/><script>alert(1)</script>"
        with Session(get_engine()) as session:
            session.execute(
                update(Meeting)
                .where(col(Meeting.id) == uuid.UUID(meeting["id"]))
                .values(online_url=hostile)
            )
            session.commit()
        hold(client, office_member, meeting)
        text = client.get(f"{API}/{meeting['id']}/minutes", headers=participant.headers).text
        rendered = self.rendered(text)
        assert "<script" not in rendered
        assert "<a " not in rendered
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered


class TestConcurrency:
    """Real threads: SQLite serialises the writers, PostgreSQL races them on the counter row."""

    def test_numbers_stay_gap_free_under_concurrent_creation(self, app, client, office_member):
        threads = 6
        barrier = threading.Barrier(threads)
        # All in the academic year 2024-2025, whose counter row does not exist yet.
        moments = [f"2024-10-{day:02d}T10:00:00+05:00" for day in range(1, threads + 1)]

        def create(moment):
            with TestClient(app) as own_client:
                barrier.wait(timeout=30)
                return own_client.post(
                    API, headers=office_member.headers, json={"scheduled_at": moment}
                )

        with ThreadPoolExecutor(threads) as pool:
            responses = list(pool.map(create, moments))
        assert [r.status_code for r in responses] == [201] * threads, [r.text for r in responses]
        assert {r.json()["academic_year"] for r in responses} == {"2024-2025"}
        assert sorted(r.json()["number"] for r in responses) == list(range(1, threads + 1))
        after = create_meeting(client, office_member, scheduled_at="2025-05-20T10:00:00+05:00")
        assert after["number"] == threads + 1
        listed = client.get(
            f"{API}?academic_year=2024-2025&limit=200", headers=office_member.headers
        ).json()["items"]
        assert sorted(m["number"] for m in listed) == list(range(1, threads + 2))


def test_consultation_to_decision_story(client, make_user, make_org, office_member, admin):
    """The issue's 'Done when', through the API: a participant asks for consultation on an idea,
    an office member takes it and records two sessions, the idea becomes an initiative, which
    goes on the agenda of a reflective session, the decision there approves it, and the minutes
    read well."""
    school, gymnasium, centre = make_org(), make_org(), make_org()
    teacher = make_user(
        Role.participant, full_name="Орлова Наталья Дмитриевна", organization_id=school
    )
    head = make_user(
        Role.office_head,
        Role.office_member,
        full_name="Воронцова Марина Игоревна",
        organization_id=centre,
    )
    experts = [make_user(Role.expert, organization_id=gymnasium) for _ in range(2)]
    h = office_member.headers

    # 1. A participant asks for accompaniment of an idea without an initiative yet.
    track = client.post(
        "/api/v1/consultations",
        headers=teacher.headers,
        json={
            "topic": "Сетевая лаборатория читательской грамотности",
            "description": "Хочу объединить учителей трёх школ вокруг читательской грамотности",
            "preferred_format": "individual",
        },
    ).json()
    assert track["status"] == "requested"

    # 2. An office member takes it on as the consultant.
    track = client.patch(
        f"/api/v1/consultations/{track['id']}",
        headers=h,
        json={"consultant_ids": [str(office_member.id)]},
    ).json()
    assert track["status"] == "active"

    # 3. Two sessions, just after the request (not before it).
    requested_at = datetime.fromisoformat(track["created_at"])
    for n, (fmt, notes) in enumerate(
        [("individual", "Уточнили проблему"), ("online", "Сформулировали цель и задачи")]
    ):
        r = client.post(
            f"/api/v1/consultations/{track['id']}/sessions",
            headers=h,
            json={
                "held_at": (requested_at + timedelta(seconds=1 + n)).isoformat(),
                "format": fmt,
                "duration_minutes": 60,
                "notes": notes,
                "attendee_ids": [str(teacher.id)],
            },
        )
        assert r.status_code == 201, r.text

    # 4. The idea becomes an initiative; the track is closed with its outcome and linked.
    initiative = make_initiative(
        client, teacher, title="Сетевая лаборатория читательской грамотности"
    )
    closed = client.post(
        f"/api/v1/consultations/{track['id']}/close",
        headers=h,
        json={
            "outcome": "initiative_submitted",
            "comment": "Замысел оформлен и подан",
            "initiative_id": initiative["id"],
        },
    )
    assert closed.status_code == 200, closed.text
    closed = closed.json()
    assert closed["initiative"]["id"] == initiative["id"]
    assert closed["session_count"] == 2
    assert closed["hours_to_first_session"] == 0.0

    # Expertise before the meeting: criteria, two experts' conclusions (approve's guards).
    r = client.post(
        "/api/v1/criteria-sets",
        headers=head.headers,
        json={"title": "Критерии", "criteria": CRITERIA, "activate": True},
    )
    assert r.status_code == 201, r.text
    transition(client, office_member, initiative["id"], "send_to_expertise")
    for expert in experts:
        review = client.post(
            f"/api/v1/initiatives/{initiative['id']}/reviews",
            headers=h,
            json={
                "expert_id": str(expert.id),
                "position": "content_expert",
                "due_at": when(days=14),
            },
        )
        assert review.status_code == 201, review.text
        review_id = review.json()["id"]
        assert (
            client.post(
                f"/api/v1/reviews/{review_id}/accept", headers=expert.headers, json={}
            ).status_code
            == 200
        )
        submitted = client.post(
            f"/api/v1/reviews/{review_id}/submit",
            headers=expert.headers,
            json={
                "scores": [{"criterion": "relevance", "score": 5, "comment": "Проблема реальна"}],
                "recommendation": "approve",
                "summary": "Замысел стоит поддержать",
                "developmental_feedback": "Что изменится для ученика через год?",
            },
        )
        assert submitted.status_code == 200, submitted.text

    # 5. On the agenda of a reflective session.
    meeting = create_meeting(
        client,
        office_member,
        title="Рефлексивная сессия: замыслы сети",
        facilitator_id=str(head.id),
        attendees=[{"user_id": str(head.id)}, {"user_id": str(teacher.id)}],
    )
    assert meeting["format"] == "reflective_session"
    item = add_item(
        client,
        office_member,
        meeting,
        kind="initiative_review",
        initiative_id=initiative["id"],
        presenter_id=str(teacher.id),
        time_box_minutes=20,
    )

    # 6. Marked held with attendance; the decision approves the initiative.
    hold(
        client,
        office_member,
        meeting,
        attendees=[
            {"user_id": str(head.id), "attended": True},
            {"user_id": str(teacher.id), "attended": True},
            {"user_id": str(office_member.id), "attended": False},
        ],
        reflection={
            "what_worked": "Автор услышал вопросы экспертов, а не только оценки",
            "insights": "Сопровождение до подачи сокращает доработки",
            "to_change": "Приглашать консультанта трека на заседание",
        },
    )
    decision = decide(
        client,
        head,
        meeting,
        item,
        action="approve",
        text="Одобрить проект и рекомендовать к реализации в сети",
        votes_for=6,
        votes_against=0,
        votes_abstain=1,
    )
    assert decision.status_code == 201, decision.text
    assert decision.json()["to_status"] == "approved"
    got = client.get(f"/api/v1/initiatives/{initiative['id']}", headers=teacher.headers).json()
    assert got["status"] == "approved"

    # 7. The minutes read well, for the participant too.
    response = client.get(f"{API}/{meeting['id']}/minutes", headers=teacher.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/markdown")
    text = response.text
    assert text.startswith(f"# Протокол заседания проектного офиса № {meeting['number']}\n")
    for fragment in (
        "**Рефлексивная сессия: замыслы сети**",
        "- **Формат:** Рефлексивная сессия",
        "- **Ведущий:** Воронцова Марина Игоревна",
        "- **Статус:** Проведено",
        "## Присутствовали (2)",
        "Орлова Наталья Дмитриевна",
        "## Отсутствовали (1)",
        "## Повестка",
        f"1. **Сетевая лаборатория читательской грамотности** (Рассмотрение инициативы; "
        f"{initiative['code']}; докладчик: Орлова Наталья Дмитриевна; 20 мин)",
        "## Решения",
        "### 1. По пункту 1: Сетевая лаборатория читательской грамотности",
        "**Решили:** Одобрить проект и рекомендовать к реализации в сети",
        f"- **Действие:** «Одобрить» — инициатива {initiative['code']}",
        "«Экспертиза» → «Одобрена»",
        "- **Голосовали:** за — 6, против — 0, воздержались — 1",
        "## Рефлексия",
        "### Что получилось",
        "### Инсайты",
        "### Что изменить в следующий раз",
        "Приглашать консультанта трека на заседание",
    ):
        assert fragment in text, fragment


def test_demo_has_the_six_meetings_of_2020_2021(client, admin):
    with Session(get_engine()) as session:
        demo.load_demo_data(session)
        session.commit()
    page = client.get(f"{API}?academic_year=2020-2021&sort=scheduled_at", headers=admin.headers)
    meetings = page.json()["items"]
    assert [m["number"] for m in meetings] == [1, 2, 3, 4, 5, 6]
    assert {m["status"] for m in meetings} == {"held"}
    minutes = client.get(f"{API}/{meetings[0]['id']}/minutes", headers=admin.headers).text
    assert "Чайковское метро" in minutes
    assert "## Решения" in minutes
    last = client.get(f"{API}/{meetings[-1]['id']}", headers=admin.headers).json()
    assert last["reflection"]["to_change"]
    tracks = client.get("/api/v1/consultations", headers=admin.headers).json()["items"]
    assert {t["status"] for t in tracks} >= {"closed", "active", "requested", "declined"}
    # Every session of the demo comes after its track's request.
    waits = [t["hours_to_first_session"] for t in tracks if t["session_count"]]
    assert waits
    assert all(hours > 0 for hours in waits), waits


def test_enums_and_policy_name_the_new_things(client, admin):
    groups = {g["name"]: g["values"] for g in client.get("/api/v1/meta/enums").json()}
    formats = {v["code"]: v["ru"] for v in groups["meeting_format"]}
    assert formats["reflective_session"] == "Рефлексивная сессия"
    assert formats["world_cafe"] == "Мировое кафе"
    outcomes = {v["code"]: v["ru"] for v in groups["consultation_outcome"]}
    assert outcomes["initiative_submitted"] == "Подана инициатива"
    assert outcomes["abandoned"] == "Замысел оставлен"
    for name in (
        "consultation_status",
        "consultation_format",
        "meeting_status",
        "agenda_item_kind",
    ):
        assert all(v["ru"] and v["en"] for v in groups[name])
    rows = {
        r["action"]: r
        for r in client.get("/api/v1/meta/policy", headers=admin.headers).json()["rows"]
    }
    assert rows["meetings.write"]["allowed"] == {
        "admin": False,
        "office_head": True,
        "office_member": True,
        "expert": False,
        "participant": False,
        "observer": False,
    }
    assert rows["consultations.request"]["allowed"]["participant"] is True


class TestEveryEndpoint:
    WRITES: ClassVar = [
        ("POST", "", {"scheduled_at": "2026-10-01T10:00:00Z"}),
        ("PATCH", "/{m}", {"title": "Новое название"}),
        ("POST", "/{m}/agenda-items", {"kind": "discussion", "title": "Разное"}),
        ("PATCH", "/{m}/agenda-items/{i}", {"title": "Другое"}),
        ("DELETE", "/{m}/agenda-items/{i}", None),
        ("POST", "/{m}/decisions", {"agenda_item_id": "{i}", "text": "Принять к сведению"}),
    ]
    READS: ClassVar = [
        "",
        "/decisions",
        "/{m}",
        "/{m}/agenda-items",
        "/{m}/decisions",
        "/{m}/minutes",
    ]

    @pytest.fixture
    def ids(self, client, held, office_member):
        return {"m": held["id"], "i": add_item(client, office_member, held)["id"]}

    def call(self, client, method, path, body, ids, headers=None):
        fill = lambda text: text.format(**ids)  # noqa: E731
        json = {k: fill(v) if isinstance(v, str) else v for k, v in (body or {}).items()}
        return client.request(
            method, API + fill(path), json=json if body else None, headers=headers or {}
        )

    def test_anonymous(self, client, ids):
        for path in self.READS:
            assert_problem(self.call(client, "GET", path, None, ids), 401)
        for method, path, body in self.WRITES:
            assert_problem(self.call(client, method, path, body, ids), 401)

    def test_wrong_roles_may_not_write(self, client, ids, participant, observer, admin):
        for person in (participant, observer, admin):
            for method, path, body in self.WRITES:
                response = self.call(client, method, path, body, ids, person.headers)
                assert_problem(response, 403, "forbidden")

    def test_everyone_reads_a_held_meeting(self, client, ids, participant, observer):
        for person in (participant, observer):
            for path in self.READS:
                response = self.call(client, "GET", path, None, ids, person.headers)
                assert response.status_code == 200, (path, response.text)

    def test_malformed_ids(self, client, office_member):
        bad = {"m": "nope", "i": "nope"}
        for path in self.READS[2:]:
            response = self.call(client, "GET", path, None, bad, office_member.headers)
            assert_problem(response, 422)
        for method, path, body in self.WRITES[1:]:
            response = self.call(client, method, path, body, bad, office_member.headers)
            assert_problem(response, 422)
        assert_problem(
            client.get(f"{API}/decisions?review_due_by=soon", headers=office_member.headers), 422
        )


class TestMethodNotAllowed:
    """405 names, in `Allow`, exactly the documented methods of the resource the path names."""

    PATHS: ClassVar = {
        "": "/api/v1/meetings",
        "/decisions": "/api/v1/meetings/decisions",
        "/{m}": "/api/v1/meetings/{meeting_id}",
        "/{m}/agenda-items": "/api/v1/meetings/{meeting_id}/agenda-items",
        "/{m}/agenda-items/{i}": "/api/v1/meetings/{meeting_id}/agenda-items/{item_id}",
        "/{m}/decisions": "/api/v1/meetings/{meeting_id}/decisions",
        "/{m}/minutes": "/api/v1/meetings/{meeting_id}/minutes",
    }
    METHODS: ClassVar = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]

    @pytest.mark.parametrize("path", list(PATHS))
    def test_allow_lists_the_documented_methods(self, app, client, held, office_member, path):
        item = add_item(client, office_member, held)
        url = API + path.format(m=held["id"], i=item["id"])
        documented = {m.upper() for m in app.openapi()["paths"][self.PATHS[path]]}
        for method in sorted(set(self.METHODS) - documented):
            response = client.request(method, url, headers=office_member.headers)
            assert_problem(response, 405, "method_not_allowed")
            assert set(response.headers["allow"].split(", ")) == documented, (method, url)

    def test_decisions_is_not_a_meeting_id(self, client, office_member):
        # PATCH /meetings/decisions was routed to /meetings/{meeting_id} and answered 422 about
        # the id, while OPTIONS named PATCH among the methods of /meetings/decisions.
        url = f"{API}/decisions"
        for method in ("OPTIONS", "PATCH", "DELETE"):
            response = client.request(method, url, headers=office_member.headers, json={})
            assert_problem(response, 405, "method_not_allowed")
            assert response.headers["allow"] == "GET"
        # A malformed meeting id is still a 422 where the method exists.
        assert_problem(client.patch(f"{API}/nope", headers=office_member.headers, json={}), 422)
