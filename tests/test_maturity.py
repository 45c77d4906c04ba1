"""Office maturity: the catalogue of functions, the head's self-assessments, the profile on a
day and its history, the facts counted for each function, and the capabilities gated by it."""

import statistics
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import literal, select, union_all
from sqlmodel import Session, col

from app.config import get_settings
from app.db import get_engine
from app.models import OfficeFunction, Role
from app.models.base import UTCDateTime, clock_at
from app.policy import POLICY, Action
from app.schemas.maturity import AssessmentCreate
from app.services.maturity import functions
from app.services.maturity.capabilities import CAPABILITIES, Capability
from app.services.maturity.evidence import PROVIDERS, days_between, median
from app.services.maturity.scale import FunctionCode, office_day
from app.services.office_time import OFFICE_TZ
from app.services.principals import load_principal
from tests.factories import Person, assert_problem
from tests.route_catalog import all_operations, call

API = "/api/v1/office"
OPERATIONS = all_operations()
NEW_FUNCTIONS = {"consulting", "network_development", "reflective_meetings", "expert_positions"}


def today() -> date:
    return office_day(datetime.now(UTC))


def assess(client: Any, head: Person, code: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"{API}/functions/{code}/assessments", json=body, headers=head.headers)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def assess_at(person: Person, code: str, when: datetime, **body: Any) -> None:
    """An assessment recorded at a moment the test chooses: the API stamps it with the
    server's clock, so this goes through the service as the demo loader does."""
    with Session(get_engine()) as session, clock_at(when):
        actor = load_principal(session, str(person.id))
        assert actor is not None
        functions.create_assessment(
            session, actor=actor, code=code, data=AssessmentCreate.model_validate(body)
        )
        session.commit()


def noon(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time().replace(hour=12), tzinfo=OFFICE_TZ)


@pytest.fixture
def enforced(monkeypatch):
    monkeypatch.setattr(get_settings(), "maturity_gating", "enforced")


# --- the catalogue -----------------------------------------------------------------------------


class TestFunctions:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/functions"), 401)

    @pytest.mark.parametrize("role", [Role.participant, Role.expert])
    def test_wrong_role(self, client, make_user, role):
        person = make_user(role)
        assert_problem(client.get(f"{API}/functions", headers=person.headers), 403)
        assert_problem(client.get(f"{API}/functions/consulting", headers=person.headers), 403)

    @pytest.mark.parametrize(
        "role", [Role.admin, Role.office_head, Role.office_member, Role.observer]
    )
    def test_office_roles_and_observers_read(self, client, make_user, role):
        response = client.get(f"{API}/functions", headers=make_user(role).headers)
        assert response.status_code == 200, response.text

    def test_the_regulations_thirteen_and_the_projects_four(self, client, observer):
        page = client.get(f"{API}/functions", headers=observer.headers).json()
        items = page["items"]
        assert page["next_cursor"] is None
        assert len(items) == 17
        assert [i["position"] for i in items] == list(range(1, 18))
        assert {i["code"] for i in items} == {c.value for c in FunctionCode}
        assert sum(i["origin"] == "regulation" for i in items) == 13
        assert {i["code"] for i in items if i["origin"] == "new"} == NEW_FUNCTIONS
        assert items[0]["code"] == "initiative_review"
        assert items[0]["title_ru"] == "Рассмотрение и согласование проектных инициатив"
        assert all(i["level"] == 0 and i["assessed_at"] is None for i in items)

    def test_filter_by_origin(self, client, observer):
        response = client.get(f"{API}/functions?origin=new", headers=observer.headers)
        assert {i["code"] for i in response.json()["items"]} == NEW_FUNCTIONS

    def test_pages(self, client, observer):
        seen, cursor = [], None
        while True:
            params: dict[str, Any] = {"limit": 5, **({"cursor": cursor} if cursor else {})}
            page = client.get(f"{API}/functions", params=params, headers=observer.headers).json()
            seen += [i["code"] for i in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 17

    def test_invalid_query(self, client, observer):
        response = client.get(f"{API}/functions?origin=old", headers=observer.headers)
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["query", "origin"]

    def test_every_function_describes_levels_one_to_five(self, client, observer):
        for code in FunctionCode:
            body = client.get(f"{API}/functions/{code}", headers=observer.headers).json()
            assert [lv["level"] for lv in body["levels"]] == [1, 2, 3, 4, 5]
            assert [lv["label_ru"] for lv in body["levels"]] == [
                "Начальный",
                "Повторяемый",
                "Определённый",
                "Измеряемый",
                "Оптимизируемый",
            ]
            descriptors = [lv["descriptor"] for lv in body["levels"]]
            assert len(set(descriptors)) == 5, code
            assert all(len(d) > 30 and any("а" <= ch <= "я" for ch in d) for d in descriptors)
            assert body["description"]
            assert body["title_en"]

    def test_the_seeded_catalogue_is_the_code_table(self):
        with Session(get_engine()) as session:
            codes = set(session.scalars(select(col(OfficeFunction.code))).all())
        assert codes == {c.value for c in FunctionCode}

    def test_unknown_function_is_404(self, client, observer):
        body = assert_problem(
            client.get(f"{API}/functions/nonexistent", headers=observer.headers), 404
        )
        assert body["extra"] == {"function": "nonexistent"}

    def test_a_service_account_with_kpi_read_reads(self, client, admin):
        created = client.post(
            "/api/v1/service-accounts",
            json={"name": "Скрипт KPI", "scopes": ["kpi:read"]},
            headers=admin.headers,
        ).json()
        token = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": created["client_id"],
                "client_secret": created["client_secret"],
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get(f"{API}/maturity", headers=headers).status_code == 200
        assert_problem(
            client.post(
                f"{API}/functions/consulting/assessments", json={"level": 1}, headers=headers
            ),
            403,
        )


# --- assessments -------------------------------------------------------------------------------


class TestAssessments:
    def test_happy_path(self, client, office_head, make_user):
        meeting = client.post(
            "/api/v1/meetings",
            headers=office_head.headers,
            json={
                "title": "Рефлексивная сессия сети",
                "scheduled_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
                "format": "reflective_session",
            },
        ).json()
        target = (today() + timedelta(days=200)).isoformat()
        response = client.post(
            f"{API}/functions/reflective_meetings/assessments",
            headers=office_head.headers,
            json={
                "level": 1,
                "target_level": 3,
                "target_date": target,
                "evidence": "  Первая рефлексивная сессия запланирована  ",
                "links": [{"kind": "meeting", "id": meeting["id"].upper()}],
                "comment": "Начинаем",
            },
        )
        assert response.status_code == 201, response.text
        body = response.json()
        assert response.headers["Location"] == (
            f"/api/v1/office/functions/reflective_meetings/assessments/{body['id']}"
        )
        assert body["function"] == "reflective_meetings"
        assert (body["level"], body["target_level"], body["gap"]) == (1, 3, 2)
        assert body["target_date"] == target
        assert body["evidence"] == "Первая рефлексивная сессия запланирована"
        assert body["links"] == [
            {"kind": "meeting", "id": meeting["id"], "title": "Рефлексивная сессия сети"}
        ]
        assert body["assessed_by"]["id"] == str(office_head.id)
        assert body["assessed_on"] == today().isoformat()
        facts = {f["code"]: f for f in body["system_evidence"]["facts"]}
        assert facts["meetings_held"]["value"] == 0  # planned, not held
        assert body["system_evidence"]["period_to"] == today().isoformat()
        found = client.get(response.headers["Location"], headers=office_head.headers)
        assert found.json() == body
        observer = make_user(Role.observer)
        listed = client.get(
            f"{API}/functions/reflective_meetings/assessments", headers=observer.headers
        ).json()
        assert [a["id"] for a in listed["items"]] == [body["id"]]

    def test_history_is_kept_and_the_newest_is_current(self, client, office_head):
        first = assess(client, office_head, "consulting", level=1, target_level=2)
        second = assess(client, office_head, "consulting", level=2)
        page = client.get(
            f"{API}/functions/consulting/assessments", headers=office_head.headers
        ).json()
        assert [a["id"] for a in page["items"]] == [second["id"], first["id"]]
        detail = client.get(f"{API}/functions/consulting", headers=office_head.headers).json()
        assert detail["current"]["id"] == second["id"]
        assert (detail["level"], detail["target_level"], detail["gap"]) == (2, None, None)
        assert detail["capabilities"] == ["consultation_requests"]

    def test_an_event_is_recorded(self, client, office_head, admin):
        created = assess(client, office_head, "consulting", level=1)
        log = client.get(
            "/api/v1/audit", params={"action": "maturity.assessed"}, headers=admin.headers
        ).json()["items"]
        assert len(log) == 1
        assert log[0]["entity_type"] == "office_function"
        assert log[0]["entity_id"] == "consulting"
        assert log[0]["data"]["assessment_id"] == created["id"]
        assert log[0]["actor_id"] == str(office_head.id)

    @pytest.mark.parametrize("level", [6, -1, 10])
    def test_level_outside_the_scale_is_422(self, client, office_head, level):
        response = client.post(
            f"{API}/functions/consulting/assessments",
            json={"level": level},
            headers=office_head.headers,
        )
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "level"]

    def test_a_target_below_the_level_is_422(self, client, office_head):
        response = client.post(
            f"{API}/functions/consulting/assessments",
            json={"level": 3, "target_level": 2},
            headers=office_head.headers,
        )
        body = assert_problem(response, 422, "validation_error")
        assert body["errors"][0]["loc"] == ["body", "target_level"]

    def test_an_unknown_function_code_is_404(self, client, office_head):
        for response in (
            client.post(
                f"{API}/functions/catering/assessments",
                json={"level": 1},
                headers=office_head.headers,
            ),
            client.get(f"{API}/functions/catering/assessments", headers=office_head.headers),
            client.get(
                f"{API}/functions/catering/assessments/{uuid.uuid4()}", headers=office_head.headers
            ),
            client.get(f"{API}/maturity/history?function=catering", headers=office_head.headers),
        ):
            assert_problem(response, 404, "not_found")

    def test_an_assessment_by_a_participant_is_403(self, client, participant):
        response = client.post(
            f"{API}/functions/consulting/assessments",
            json={"level": 1},
            headers=participant.headers,
        )
        assert_problem(response, 403, "forbidden")

    def test_an_anonymous_assessment_is_401(self, client):
        response = client.post(f"{API}/functions/consulting/assessments", json={"level": 1})
        assert_problem(response, 401, "unauthorized")

    @pytest.mark.parametrize("role", [Role.office_member, Role.observer, Role.admin])
    def test_only_the_head_assesses(self, client, make_user, role):
        person = make_user(role)
        response = client.post(
            f"{API}/functions/consulting/assessments", json={"level": 1}, headers=person.headers
        )
        assert_problem(response, 403, "forbidden")

    def test_a_target_date_in_the_past_is_422(self, client, office_head):
        response = client.post(
            f"{API}/functions/consulting/assessments",
            json={
                "level": 1,
                "target_level": 2,
                "target_date": (today() - timedelta(days=1)).isoformat(),
            },
            headers=office_head.headers,
        )
        body = assert_problem(response, 422, "target_date_passed")
        assert body["errors"][0]["loc"] == ["body", "target_date"]

    @pytest.mark.parametrize(
        ("body", "loc"),
        [
            ({"level": 1, "target_date": "2030-01-01"}, ["body", "target_date"]),
            ({"level": 1, "target_level": 2, "target_date": "2200-01-01"}, ["body", "target_date"]),
            ({"level": "высокий"}, ["body", "level"]),
            ({}, ["body", "level"]),
            ({"level": 1, "assessed_by": str(uuid.uuid4())}, ["body", "assessed_by"]),
            ({"level": 1, "links": [{"kind": "meeting", "id": "42"}]}, ["body", "links", 0]),
            (
                {"level": 1, "links": [{"kind": "charter_version", "id": "v1"}]},
                ["body", "links", 0],
            ),
            (
                {"level": 1, "links": [{"kind": "consultation", "id": "1"}]},
                ["body", "links", 0, "kind"],
            ),
            (
                {"level": 1, "links": [{"kind": "charter_version", "id": "1"}] * 2},
                ["body", "links"],
            ),
        ],
    )
    def test_invalid_body(self, client, office_head, body, loc):
        response = client.post(
            f"{API}/functions/consulting/assessments", json=body, headers=office_head.headers
        )
        assert assert_problem(response, 422)["errors"][0]["loc"][: len(loc)] == loc

    @pytest.mark.parametrize("kind", ["initiative", "meeting", "network_event", "charter_version"])
    def test_a_link_to_nothing_is_422_and_nothing_is_written(self, client, office_head, kind):
        missing = "7" if kind == "charter_version" else str(uuid.uuid4())
        response = client.post(
            f"{API}/functions/consulting/assessments",
            json={"level": 1, "links": [{"kind": kind, "id": missing}]},
            headers=office_head.headers,
        )
        body = assert_problem(response, 422, "unknown_link")
        assert body["errors"][0]["loc"] == ["body", "links", 0, "id"]
        assert body["extra"] == {"kind": kind, "id": missing}
        page = client.get(f"{API}/functions/consulting/assessments", headers=office_head.headers)
        assert page.json()["items"] == []

    def test_a_private_draft_is_no_evidence(self, client, office_head, make_user, make_org):
        participant = make_user(Role.participant, organization_id=make_org())
        draft = client.post(
            "/api/v1/initiatives",
            headers=participant.headers,
            json={
                "title": "Черновик замысла",
                "education_level": "basic",
                "academic_year": "2026-2027",
            },
        ).json()
        link = {"kind": "initiative", "id": draft["id"]}
        response = client.post(
            f"{API}/functions/consulting/assessments",
            json={"level": 1, "links": [link]},
            headers=office_head.headers,
        )
        assert_problem(response, 422, "unknown_link")
        client.post(
            f"/api/v1/initiatives/{draft['id']}/transitions",
            headers=participant.headers,
            json={"action": "submit"},
        )
        created = assess(client, office_head, "consulting", level=1, links=[link])
        assert created["links"][0]["title"].endswith("«Черновик замысла»")

    def test_someone_elses_assessment_path_is_404(self, client, office_head):
        created = assess(client, office_head, "consulting", level=1)
        response = client.get(
            f"{API}/functions/network_development/assessments/{created['id']}",
            headers=office_head.headers,
        )
        assert_problem(response, 404)

    def test_the_list_costs_the_same_whatever_its_length(self, client, office_head, count_queries):
        """Names and link titles in one query each, whatever the page holds."""
        event = client.post(
            "/api/v1/network/events",
            headers=office_head.headers,
            json={
                "title": "Семинар сети",
                "kind": "seminar",
                "held_at": datetime.now(UTC).isoformat(),
            },
        ).json()
        link = [{"kind": "network_event", "id": event["id"]}]

        def queries() -> int:
            before = count_queries.count
            response = client.get(
                f"{API}/functions/network_development/assessments", headers=office_head.headers
            )
            assert response.status_code == 200
            return count_queries.count - before

        assess(client, office_head, "network_development", level=1, links=link)
        few = queries()
        for level in (1, 2, 2, 3, 3):
            assess(client, office_head, "network_development", level=level, links=link)
        assert queries() == few


# --- profile and history -------------------------------------------------------------------------


class TestProfile:
    def test_anonymous(self, client):
        assert_problem(client.get(f"{API}/maturity"), 401)
        assert_problem(client.get(f"{API}/maturity/history"), 401)

    def test_participant(self, client, participant):
        assert_problem(client.get(f"{API}/maturity", headers=participant.headers), 403)
        assert_problem(client.get(f"{API}/maturity/history", headers=participant.headers), 403)

    @pytest.mark.parametrize("as_of", ["2021-13-01", "1999-12-31", "2101-01-01", "0"])
    def test_invalid_as_of(self, client, observer, as_of):
        response = client.get(f"{API}/maturity", params={"as_of": as_of}, headers=observer.headers)
        assert assert_problem(response, 422)["errors"][0]["loc"] == ["query", "as_of"]

    def test_as_of_before_any_assessment_is_all_zero(self, client, office_head, observer):
        assess_at(office_head, "consulting", noon(date(2021, 3, 1)), level=2)
        response = client.get(f"{API}/maturity?as_of=2021-02-28", headers=observer.headers)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["as_of"] == "2021-02-28"
        assert body["index"] == 0
        assert len(body["functions"]) == 17
        assert all(f["level"] == 0 and f["assessed_at"] is None for f in body["functions"])
        assert all(not f["stale"] and not f["overdue"] for f in body["functions"])
        assert (body["assessed_count"], body["stale_count"], body["overdue_count"]) == (0, 0, 0)

    def test_the_profile_as_it_stood_on_a_day(self, client, office_head, observer):
        assess_at(office_head, "consulting", noon(date(2021, 1, 10)), level=1, target_level=3)
        assess_at(office_head, "consulting", noon(date(2021, 6, 10)), level=2, target_level=3)
        assess_at(office_head, "network_development", noon(date(2021, 6, 10)), level=3)

        def profile(day: str) -> dict[str, Any]:
            body: dict[str, Any] = client.get(
                f"{API}/maturity", params={"as_of": day}, headers=observer.headers
            ).json()
            return body

        def levels(body: dict[str, Any]) -> dict[str, int]:
            return {f["code"]: f["level"] for f in body["functions"] if f["level"]}

        assert levels(profile("2021-01-09")) == {}
        january = profile("2021-01-10")
        assert levels(january) == {"consulting": 1}
        consulting = next(f for f in january["functions"] if f["code"] == "consulting")
        assert (consulting["target_level"], consulting["gap"]) == (3, 2)
        assert january["index"] == round(1 / 17, 2)
        june = profile("2021-06-10")
        assert levels(june) == {"consulting": 2, "network_development": 3}
        assert june["index"] == round(5 / 17, 2)
        assert june["assessed_count"] == 2

    def test_stale_after_the_setting(self, client, office_head, observer, monkeypatch):
        assess_at(office_head, "consulting", noon(date(2021, 1, 10)), level=1)

        def stale(day: str) -> bool:
            body = client.get(f"{API}/maturity?as_of={day}", headers=observer.headers).json()
            return next(f["stale"] for f in body["functions"] if f["code"] == "consulting")

        assert not stale("2022-01-10")
        assert stale("2022-01-11")
        monkeypatch.setattr(get_settings(), "maturity_stale_months", 24)
        assert not stale("2022-01-11")
        detail = client.get(
            f"{API}/functions/consulting?as_of=2023-01-11", headers=observer.headers
        ).json()
        assert detail["stale"] is True

    def test_an_overdue_target_is_flagged(self, client, office_head, observer):
        assess_at(
            office_head,
            "consulting",
            noon(date(2021, 1, 10)),
            level=1,
            target_level=2,
            target_date="2021-05-31",
        )
        assess_at(
            office_head,
            "expert_positions",
            noon(date(2021, 1, 10)),
            level=2,
            target_level=2,
            target_date="2021-05-31",
        )

        def flags(day: str) -> dict[str, bool]:
            body = client.get(f"{API}/maturity?as_of={day}", headers=observer.headers).json()
            assert body["overdue_count"] == sum(f["overdue"] for f in body["functions"])
            return {f["code"]: f["overdue"] for f in body["functions"] if f["assessed_at"]}

        assert flags("2021-05-31") == {"consulting": False, "expert_positions": False}
        # The target reached is not overdue.
        assert flags("2021-06-01") == {"consulting": True, "expert_positions": False}
        assess_at(office_head, "consulting", noon(date(2021, 6, 5)), level=2)
        assert flags("2021-06-05") == {"consulting": False, "expert_positions": False}

    def test_history_of_a_function_and_of_the_index(self, client, office_head, observer):
        assess_at(office_head, "consulting", noon(date(2021, 1, 10)), level=0, target_level=2)
        # Two on one day: the later one is that day's point.
        assess_at(office_head, "consulting", noon(date(2021, 3, 1)), level=3)
        assess_at(
            office_head,
            "consulting",
            noon(date(2021, 3, 1)) + timedelta(hours=1),
            level=1,
            target_level=2,
        )
        assess_at(office_head, "network_development", noon(date(2021, 4, 1)), level=2)
        assess_at(office_head, "consulting", noon(date(2021, 6, 1)), level=2)

        history = client.get(
            f"{API}/maturity/history?function=consulting", headers=observer.headers
        ).json()
        assert history["function"] == "consulting"
        assert [(p["as_of"], p["level"], p["target_level"]) for p in history["points"]] == [
            ("2021-01-10", 0, 2),
            ("2021-03-01", 1, 2),
            ("2021-06-01", 2, None),
        ]
        assert all(p["index"] is None for p in history["points"])

        index = client.get(f"{API}/maturity/history", headers=observer.headers).json()
        assert index["function"] is None
        assert [(p["as_of"], p["index"]) for p in index["points"]] == [
            ("2021-01-10", 0.0),
            ("2021-03-01", round(1 / 17, 2)),
            ("2021-04-01", round(3 / 17, 2)),
            ("2021-06-01", round(4 / 17, 2)),
        ]
        # Each point is the profile of its day.
        for point in index["points"]:
            day = client.get(
                f"{API}/maturity?as_of={point['as_of']}", headers=observer.headers
            ).json()
            assert day["index"] == point["index"]

    def test_history_without_assessments_is_empty(self, client, observer):
        assert client.get(f"{API}/maturity/history", headers=observer.headers).json() == {
            "function": None,
            "points": [],
        }

    def test_the_profile_costs_the_same_whatever_was_assessed(
        self, client, office_head, observer, count_queries
    ):
        def queries() -> int:
            before = count_queries.count
            assert client.get(f"{API}/maturity", headers=observer.headers).status_code == 200
            return count_queries.count - before

        none = queries()
        for code in FunctionCode:
            assess(client, office_head, code.value, level=1)
            assess(client, office_head, code.value, level=2)
        assert queries() == none


# --- evidence -----------------------------------------------------------------------------------


def test_median_and_days_between_read_the_same_on_both_databases(engine):
    def med(values: list[int]) -> Any:
        if not values:
            rows = select(literal(1).label("v")).where(literal(1) == 0)
        else:
            rows = union_all(*(select(literal(v).label("v")) for v in values))
        inner = rows.subquery()
        with Session(engine) as session:
            return session.execute(median(select(inner.c.v))).scalar()

    assert med([5, 1, 3]) == 3
    assert float(med([5, 1, 3, 10])) == 4.0
    assert float(med([7])) == 7
    assert med([]) is None
    start = datetime(2021, 9, 1, 8, 0, tzinfo=UTC)
    with Session(engine) as session:
        days = session.execute(
            select(
                days_between(
                    literal(start, UTCDateTime()),
                    literal(start + timedelta(days=1, hours=12), UTCDateTime()),
                )
            )
        ).scalar()
    assert round(float(days), 6) == 1.5


def test_consulting_evidence_counts_what_happened(client, office_head, make_user, observer):
    """Tracks requested and accompanied at chosen moments through the services, then the
    function's facts for the 12 months up to a day, exactly."""
    from tests.test_consultations import backdated_track

    teacher = make_user(Role.participant)
    consultant = make_user(Role.office_member)
    base = datetime(2021, 3, 1, 6, 0, tzinfo=UTC)
    for offset, first_session_after in ((0, 2), (10, 5), (20, 9), (400, 1)):
        track_id = backdated_track(
            teacher, consultant, office_head, requested_at=base + timedelta(days=offset)
        )
        response = client.post(
            f"/api/v1/consultations/{track_id}/sessions",
            headers=consultant.headers,
            json={
                "held_at": (base + timedelta(days=offset + first_session_after)).isoformat(),
                "format": "individual",
                "duration_minutes": 60,
                "notes": "Обсудили замысел",
            },
        )
        assert response.status_code == 201, response.text
    detail = client.get(
        f"{API}/functions/consulting?as_of=2021-12-31", headers=observer.headers
    ).json()
    evidence = detail["system_evidence"]
    assert (evidence["period_from"], evidence["period_to"]) == ("2021-01-01", "2021-12-31")
    facts = {f["code"]: f["value"] for f in evidence["facts"]}
    assert facts["tracks_opened"] == 3  # the fourth is in 2022
    assert facts["tracks_closed"] == 0
    assert facts["median_days_to_first_session"] == 5.0


def test_the_office_functions_without_system_records_have_no_evidence(client, observer):
    detail = client.get(f"{API}/functions/risks_and_changes", headers=observer.headers).json()
    assert detail["system_evidence"] is None
    assert "risks_and_changes" not in PROVIDERS


def test_every_provider_is_of_a_function_of_the_catalogue():
    assert set(PROVIDERS) <= {c.value for c in FunctionCode}


# --- capabilities -------------------------------------------------------------------------------


def gate_caller(make_user: Any) -> Person:
    """Someone every gated route's policy lets through."""
    return make_user(Role.office_head, Role.office_member, Role.participant, Role.expert)


def gated_request(client: Any, op_key: str, capability: Capability, who: Person) -> Any:
    op = next(o for o in OPERATIONS if o.key == op_key)
    condition = CAPABILITIES[capability].when
    body = {condition.field: sorted(condition.values)[0]} if condition else {}
    return call(client, op, headers=who.headers, body=body)


class TestCapabilities:
    URL = f"{API}/capabilities"

    def test_anonymous(self, client):
        assert_problem(client.get(self.URL), 401)

    @pytest.mark.parametrize("role", list(Role))
    def test_every_role_reads(self, client, make_user, role):
        assert client.get(self.URL, headers=make_user(role).headers).status_code == 200

    def test_the_table_with_current_levels(self, client, office_head, participant):
        body = client.get(self.URL, headers=participant.headers).json()
        assert body["gating"] == "advisory"
        items = {c["code"]: c for c in body["capabilities"]}
        assert set(items) == {c.value for c in Capability}
        consultations = items["consultation_requests"]
        assert consultations["function"] == "consulting"
        assert consultations["function_title_ru"] == (
            "Консультирование и сопровождение проектных замыслов"
        )
        assert (consultations["required_level"], consultations["current_level"]) == (1, 0)
        assert consultations["mastered"] is False
        assert consultations["operations"] == ["POST /api/v1/consultations"]
        assert items["informal_meeting_formats"]["condition"]
        assess(client, office_head, "consulting", level=1)
        after = {
            c["code"]: c
            for c in client.get(self.URL, headers=participant.headers).json()["capabilities"]
        }
        assert (
            after["consultation_requests"]["current_level"],
            after["consultation_requests"]["mastered"],
        ) == (1, True)

    def test_required_levels_come_from_the_setting(self, client, office_head, monkeypatch):
        monkeypatch.setattr(
            get_settings(), "maturity_required_levels", {"consultation_requests": 2}
        )
        assess(client, office_head, "consulting", level=1)
        items = {
            c["code"]: c
            for c in client.get(self.URL, headers=office_head.headers).json()["capabilities"]
        }
        assert items["consultation_requests"]["required_level"] == 2
        assert items["consultation_requests"]["mastered"] is False
        assert items["network_events"]["required_level"] == 1

    def test_every_capability_is_governed_by_a_function_of_the_catalogue(self):
        assert {spec.function for spec in CAPABILITIES.values()} <= set(FunctionCode)

    def test_every_operation_of_the_table_carries_its_gate_and_no_other_does(self):
        declared = {(c, key) for c, spec in CAPABILITIES.items() for key in spec.operations}
        carried = {(c, op.key) for op in OPERATIONS for c in op.capabilities}
        assert carried == declared
        assert all(op.gated_after_policy for op in OPERATIONS), [
            op.key for op in OPERATIONS if not op.gated_after_policy
        ]

    def test_advisory_blocks_nothing(self, client, make_user):
        teacher = make_user(Role.participant)
        response = client.post(
            "/api/v1/consultations", json={"topic": "Замысел"}, headers=teacher.headers
        )
        assert response.status_code == 201, response.text

    @pytest.mark.parametrize(
        ("capability", "op_key"),
        [(c, key) for c, spec in CAPABILITIES.items() for key in spec.operations],
    )
    def test_enforced_gates_every_operation_until_the_level(
        self, client, make_user, office_head, enforced, capability, op_key
    ):
        spec = CAPABILITIES[capability]
        who = gate_caller(make_user)
        response = gated_request(client, op_key, capability, who)
        body = assert_problem(response, 409, "capability_not_mastered")
        assert body["extra"] == {
            "capability": capability.value,
            "function": spec.function.value,
            "required_level": 1,
            "current_level": 0,
        }
        assess(client, office_head, spec.function.value, level=1)
        again = gated_request(client, op_key, capability, who)
        assert again.status_code < 500
        assert again.json().get("code") != "capability_not_mastered", again.text

    def test_who_may_not_act_hears_403_before_the_gate(self, client, observer, enforced):
        response = client.post(
            "/api/v1/consultations", json={"topic": "Замысел"}, headers=observer.headers
        )
        assert_problem(response, 403, "forbidden")

    def test_a_formal_meeting_needs_no_informal_formats(self, client, office_head, enforced):
        scheduled = (datetime.now(UTC) + timedelta(days=3)).isoformat()
        formal = client.post(
            "/api/v1/meetings",
            headers=office_head.headers,
            json={"scheduled_at": scheduled, "format": "formal_session"},
        )
        assert formal.status_code == 201, formal.text
        informal = client.post(
            "/api/v1/meetings",
            headers=office_head.headers,
            json={"scheduled_at": scheduled, "format": "open_space"},
        )
        assert_problem(informal, 409, "capability_not_mastered")
        change = client.patch(
            f"/api/v1/meetings/{formal.json()['id']}",
            headers=office_head.headers,
            json={"format": "world_cafe"},
        )
        assert_problem(change, 409, "capability_not_mastered")
        rename = client.patch(
            f"/api/v1/meetings/{formal.json()['id']}",
            headers=office_head.headers,
            json={"title": "Заседание № 1"},
        )
        assert rename.status_code == 200, rename.text

    def test_reads_of_existing_data_still_work(self, client, make_user, office_head, monkeypatch):
        teacher = make_user(Role.participant)
        created = client.post(
            "/api/v1/consultations", json={"topic": "Замысел"}, headers=teacher.headers
        ).json()
        monkeypatch.setattr(get_settings(), "maturity_gating", "enforced")
        assert client.get("/api/v1/consultations", headers=teacher.headers).status_code == 200
        response = client.get(f"/api/v1/consultations/{created['id']}", headers=teacher.headers)
        assert response.status_code == 200
        assert client.get("/api/v1/network/events", headers=teacher.headers).status_code == 200

    def test_under_enforced_a_consultation_request_waits_for_level_1(
        self, client, make_user, office_head, enforced
    ):
        teacher = make_user(Role.participant)
        request = {"topic": "Сетевой читательский клуб"}
        refused = client.post("/api/v1/consultations", json=request, headers=teacher.headers)
        body = assert_problem(refused, 409, "capability_not_mastered")
        assert body["extra"]["function"] == "consulting"
        assert (body["extra"]["required_level"], body["extra"]["current_level"]) == (1, 0)
        assert "Консультирование и сопровождение проектных замыслов" in body["detail"]
        assess(client, office_head, "consulting", level=1)
        accepted = client.post("/api/v1/consultations", json=request, headers=teacher.headers)
        assert accepted.status_code == 201, accepted.text

    def test_a_higher_required_level_from_the_setting(
        self, client, make_user, office_head, enforced, monkeypatch
    ):
        monkeypatch.setattr(get_settings(), "maturity_required_levels", {"network_events": 2})
        assess(client, office_head, "network_development", level=1)
        event = {
            "title": "Семинар сети",
            "kind": "seminar",
            "held_at": datetime.now(UTC).isoformat(),
        }
        refused = client.post("/api/v1/network/events", json=event, headers=office_head.headers)
        body = assert_problem(refused, 409, "capability_not_mastered")
        assert (body["extra"]["required_level"], body["extra"]["current_level"]) == (2, 1)
        assess(client, office_head, "network_development", level=2)
        created = client.post("/api/v1/network/events", json=event, headers=office_head.headers)
        assert created.status_code == 201, created.text


def test_an_unknown_capability_in_the_setting_stops_the_service(monkeypatch):
    from pydantic import ValidationError

    from app.config import Settings

    monkeypatch.setenv("PROJOFFICE_MATURITY_REQUIRED_LEVELS", '{"consultation_request": 2}')
    with pytest.raises(ValidationError, match="consultation_request"):
        Settings()
    monkeypatch.setenv("PROJOFFICE_MATURITY_REQUIRED_LEVELS", '{"consultation_requests": 6}')
    with pytest.raises(ValidationError):
        Settings()


def test_the_policy_of_maturity():
    assert POLICY[Action.maturity_assess].roles == frozenset({Role.office_head})
    assert Role.participant not in POLICY[Action.maturity_read].roles
    assert Role.observer in POLICY[Action.maturity_read].roles


def test_maturity_levels_are_labelled_as_the_glossary(client):
    groups = {g["name"]: g["values"] for g in client.get("/api/v1/meta/enums").json()}
    assert [(v["code"], v["ru"]) for v in groups["maturity_level"]] == [
        ("0", "Не выполняется"),
        ("1", "Начальный"),
        ("2", "Повторяемый"),
        ("3", "Определённый"),
        ("4", "Измеряемый"),
        ("5", "Оптимизируемый"),
    ]
    assert {v["code"] for v in groups["capability"]} == {c.value for c in Capability}


# --- the story ---------------------------------------------------------------------------


def test_done_when_the_office_grows_and_the_system_follows(client, make_user, monkeypatch):
    """The head records assessments, the profile and its history show growth, the evidence
    sits next to each claimed level, and under `enforced` raising consulting from 0 to 1 opens
    consultation requests."""
    head = make_user(Role.office_head, Role.office_member)
    teacher = make_user(Role.participant)
    monkeypatch.setattr(get_settings(), "maturity_gating", "enforced")
    two_months_ago = datetime.now(UTC) - timedelta(days=60)
    assess_at(
        head,
        "consulting",
        two_months_ago,
        level=0,
        target_level=1,
        evidence="Консультирование замыслов офис пока не выполняет",
    )
    capabilities = client.get(f"{API}/capabilities", headers=teacher.headers).json()
    consulting = next(c for c in capabilities["capabilities"] if c["function"] == "consulting")
    assert (capabilities["gating"], consulting["mastered"]) == ("enforced", False)

    request = {"topic": "Как превратить читательский клуб в сетевой проект"}
    refused = client.post("/api/v1/consultations", json=request, headers=teacher.headers)
    assert_problem(refused, 409, "capability_not_mastered")

    first = assess(
        client,
        head,
        "consulting",
        level=1,
        target_level=2,
        target_date=(today() + timedelta(days=120)).isoformat(),
        evidence="Консультант закреплён, запросы принимаются",
    )
    assert first["system_evidence"]["facts"][0] == {
        "code": "tracks_opened",
        "title_ru": "Открыто треков сопровождения",
        "title_en": "Tracks opened",
        "value": 0,
        "unit": "number",
        "breakdown": None,
    }
    opened = client.post("/api/v1/consultations", json=request, headers=teacher.headers)
    assert opened.status_code == 201, opened.text

    # The next claim carries the request it rests on.
    second = assess(client, head, "consulting", level=2, evidence="Первый трек принят")
    facts = {f["code"]: f["value"] for f in second["system_evidence"]["facts"]}
    assert facts["tracks_opened"] == 1
    detail = client.get(f"{API}/functions/consulting", headers=head.headers).json()
    assert detail["current"]["id"] == second["id"]
    assert {f["code"]: f["value"] for f in detail["system_evidence"]["facts"]} == facts

    before = client.get(
        f"{API}/maturity",
        params={"as_of": office_day(two_months_ago).isoformat()},
        headers=head.headers,
    ).json()
    now = client.get(f"{API}/maturity", headers=head.headers).json()
    level = {p["as_of"]: p for p in (before, now)}
    assert next(f["level"] for f in before["functions"] if f["code"] == "consulting") == 0
    assert next(f["level"] for f in now["functions"] if f["code"] == "consulting") == 2
    assert now["index"] > before["index"]
    assert len(level) == 2
    history = client.get(
        f"{API}/maturity/history", params={"function": "consulting"}, headers=head.headers
    ).json()
    assert [p["level"] for p in history["points"]] == [0, 2]
    index = client.get(f"{API}/maturity/history", headers=head.headers).json()["points"]
    assert [p["index"] for p in index] == [0.0, round(2 / 17, 2)]
    listed = client.get(f"{API}/functions/consulting/assessments", headers=head.headers).json()
    assert [a["level"] for a in listed["items"]] == [2, 1, 0]
    assert all(a["system_evidence"] for a in listed["items"])
    # Swagger UI shows it all.
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/office/functions/{code}/assessments", "/api/v1/office/maturity"} <= set(paths)


# --- the demo ------------------------------------------------------------------------------------


def load_demo() -> None:
    from app.demo import load_demo_data

    with Session(get_engine()) as session:
        assert load_demo_data(session) is not None
        session.commit()


def test_the_demo_tells_the_story_of_two_academic_years(client, observer):
    load_demo()

    def profile(day: str) -> dict[str, int]:
        body = client.get(f"{API}/maturity?as_of={day}", headers=observer.headers).json()
        return {f["code"]: f["level"] for f in body["functions"]}

    start, end = profile("2020-09-30"), profile("2022-06-30")
    for code in ("consulting", "network_development"):
        assert start[code] in (0, 1), code
        assert end[code] in (2, 3), code
        points = client.get(
            f"{API}/maturity/history?function={code}", headers=observer.headers
        ).json()["points"]
        levels = [p["level"] for p in points]
        assert levels == sorted(levels)
        assert len(points) >= 4
    assert sum(end.values()) > sum(start.values())
    index = client.get(f"{API}/maturity/history", headers=observer.headers).json()["points"]
    assert index[0]["as_of"] == "2020-09-15"
    assert index[-1]["as_of"] == "2022-05-30"
    assert [p["index"] for p in index] == sorted(p["index"] for p in index)
    final = client.get(f"{API}/maturity?as_of=2022-06-30", headers=observer.headers).json()
    assert final["assessed_count"] == 17
    assert {f["assessed_at"][:4] for f in final["functions"]} <= {"2021", "2022"}
    consulting = client.get(
        f"{API}/functions/consulting/assessments", headers=observer.headers
    ).json()["items"]
    assert {a["assessed_by"]["full_name"] for a in consulting} == {"Воронцова Марина Игоревна"}
    assert all(a["system_evidence"]["facts"] for a in consulting)
    linked = [link for a in consulting for link in a["links"]]
    assert linked
    assert all(link["title"] for link in linked)


def _recount(session: Session, code: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The facts of a function counted again, row by row in Python: what the SQL of the
    providers must agree with."""
    from app.models import (
        Amendment,
        AmendmentVote,
        CharterVersion,
        ConsultationTrack,
        ExpertPositionGrant,
        Initiative,
        Meeting,
        NetworkEvent,
        NetworkEventOrganization,
        ReviewAssignment,
        Transition,
        UserRole,
    )

    def inside(moment: datetime | None) -> bool:
        return moment is not None and start <= moment < end

    def days(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds() / 86400

    def med(values: list[float]) -> float | None:
        return round(statistics.median(values), 1) if values else None

    def rows(model: Any) -> list[Any]:
        return list(session.scalars(select(model)).all())

    if code == "consulting":
        tracks = rows(ConsultationTrack)
        closed = [t for t in tracks if inside(t.closed_at)]
        return {
            "tracks_opened": sum(inside(t.created_at) for t in tracks),
            "tracks_closed": len(closed),
            "ideas_became_initiatives": sum(t.outcome == "initiative_submitted" for t in closed),
            "median_days_to_first_session": med(
                [
                    days(t.created_at, t.first_session_at)
                    for t in tracks
                    if inside(t.first_session_at)
                ]
            ),
        }
    if code == "network_development":
        events = [e for e in rows(NetworkEvent) if inside(e.held_at)]
        office = {r.user_id for r in rows(UserRole) if r.role in ("office_head", "office_member")}
        ids = {e.id for e in events}
        orgs = {e.organizer_organization_id for e in events if e.organizer_organization_id}
        orgs |= {o.organization_id for o in rows(NetworkEventOrganization) if o.event_id in ids}
        outside = sum(e.organizer_id not in office for e in events)
        return {
            "events_held": len(events),
            "distinct_organizers": len({e.organizer_id for e in events}),
            "organized_outside_office_share": round(outside / len(events), 3) if events else None,
            "organizations_involved": len(orgs),
        }
    if code == "reflective_meetings":
        held = [m for m in rows(Meeting) if m.status == "held" and inside(m.scheduled_at)]
        formats = {f: sum(m.format == f for m in held) for f in {m.format.value for m in held}}
        informal = sum(m.format != "formal_session" for m in held)
        return {
            "meetings_held": (len(held), formats),
            "informal_share": round(informal / len(held), 3) if held else None,
            "reflections_recorded": sum(
                bool(m.reflection_worked or m.reflection_insights or m.reflection_changes)
                for m in held
            ),
        }
    if code == "expert_positions":
        done = [
            r for r in rows(ReviewAssignment) if r.status == "submitted" and inside(r.submitted_at)
        ]
        grants = [g for g in rows(ExpertPositionGrant) if inside(g.granted_at)]
        positions = {r.position.value for r in done}
        return {
            "experts_at_work": (
                len({r.expert_id for r in done}),
                {p: len({r.expert_id for r in done if r.position == p}) for p in positions},
            ),
            "moves_up": (
                len(grants),
                {
                    p: sum(g.position == p for g in grants)
                    for p in {g.position.value for g in grants}
                },
            ),
            "conclusions_submitted": len(done),
        }
    steps = [t for t in rows(Transition) if inside(t.at)]
    if code == "initiative_review":
        decisions = [t for t in steps if t.action in ("approve", "reject")]
        submitted = {i.id: i.submitted_at for i in rows(Initiative)}
        return {
            "initiatives_decided": (
                len(decisions),
                {a: sum(t.action == a for t in decisions) for a in ("approve", "reject")},
            ),
            "median_days_to_decision": med(
                [days(submitted[t.initiative_id], t.at) for t in decisions]
            ),
            "revisions_requested": sum(t.action == "request_revision" for t in steps),
        }
    if code == "central_planning":
        names = {
            "start": "started",
            "complete": "completed",
            "close": "closed",
            "cancel": "cancelled",
        }
        return {f"projects_{n}": sum(t.action == a for t in steps) for a, n in names.items()}
    assert code == "interaction_and_conflicts"
    votes = [v for v in rows(AmendmentVote) if inside(v.cast_at)]
    return {
        "amendments_proposed": sum(inside(a.created_at) for a in rows(Amendment)),
        "votes_cast": (
            len(votes),
            {c: sum(v.vote == c for v in votes) for c in {v.vote.value for v in votes}},
        ),
        "charter_versions_adopted": sum(inside(v.adopted_at) for v in rows(CharterVersion)),
    }


@pytest.mark.parametrize("as_of", ["2021-06-30", "2022-05-31"])
def test_the_evidence_of_the_demo_is_what_its_rows_say(client, observer, as_of):
    load_demo()
    day = date.fromisoformat(as_of)
    start = noon(day.replace(year=day.year - 1) + timedelta(days=1)).replace(hour=0)
    end = noon(day + timedelta(days=1)).replace(hour=0)
    for code in PROVIDERS:
        detail = client.get(
            f"{API}/functions/{code}?as_of={as_of}", headers=observer.headers
        ).json()
        got = {
            f["code"]: (f["value"], f["breakdown"]) if f["breakdown"] is not None else f["value"]
            for f in detail["system_evidence"]["facts"]
        }
        with Session(get_engine()) as session:
            expected = _recount(session, code, start, end)
        assert got == expected, code
