"""The projects of the source document as initiatives, replayed through the lifecycle at the
dates they happened (2020-2021 and 2021-2022 academic years)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.demo.base import HEAD, MEMBER, Cast
from app.models import (
    EducationLevel,
    ExpertPosition,
    Initiative,
    InitiativeKind,
    Organization,
    Recommendation,
)
from app.models.base import clock_at
from app.schemas.expertise import (
    ConclusionSubmit,
    CriteriaSetCreate,
    CriterionIn,
    PositionGrantIn,
    QualityRating,
    ReviewAccept,
    ReviewAssign,
    ScoreIn,
)
from app.schemas.initiatives import InitiativeCreate, TeamMemberIn, TransitionCreate
from app.security import Principal
from app.services import initiatives
from app.services.expertise import assignments, conclusions, criteria, experts
from app.services.lifecycle import LifecycleAction as A

AUTHOR = "author"


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, 10, 0, tzinfo=UTC)


# Each step: (action, who — the author or an office email, when, comment).
DEMO: list[dict[str, Any]] = [
    {
        "title": "«Чайковское метро»: сетевое взаимодействие образовательных организаций "
        "Чайковского городского округа по достижению метапредметного результата "
        "«смысловое чтение»",
        "summary": "Сеть школ округа вырабатывает общие приёмы работы с текстом на всех "
        "предметах и проводит межшкольные события по смысловому чтению.",
        "kind": InitiativeKind.project,
        "level": EducationLevel.cross_level,
        "year": "2020-2021",
        "org": "МАОУ Гимназия",
        "author": "expert@example.org",
        "team": ["teacher@example.org"],
        "topics": ["смысловое чтение", "сетевое взаимодействие"],
        "created": at(2020, 9, 14),
        "steps": [
            (A.submit, AUTHOR, at(2020, 9, 21), None),
            (A.send_to_expertise, MEMBER, at(2020, 10, 1), None),
            (A.approve, HEAD, at(2020, 10, 22), "Поддержано на заседании № 1"),
            (A.start, MEMBER, at(2020, 11, 2), None),
            (A.complete, MEMBER, at(2021, 5, 25), None),
            (A.close, HEAD, at(2021, 6, 10), "Итоги представлены на заседании № 6"),
        ],
    },
    {
        "title": "Смысловое чтение как основа умения работать с информацией в начальной "
        "школе. Создание методического кластера",
        "summary": "Методический кластер учителей начальных классов: банк заданий, открытые "
        "уроки и взаимные посещения.",
        "kind": InitiativeKind.project,
        "level": EducationLevel.primary,
        "year": "2020-2021",
        "org": "МБОУ СОШ № 7",
        "author": "teacher@example.org",
        "team": [],
        "topics": ["смысловое чтение", "начальная школа"],
        "created": at(2020, 10, 5),
        "steps": [
            (A.submit, AUTHOR, at(2020, 10, 12), None),
            (A.start_consultation, MEMBER, at(2020, 10, 19), None),
            (A.send_to_expertise, MEMBER, at(2020, 11, 16), None),
            (A.approve, HEAD, at(2020, 12, 17), None),
            (A.start, MEMBER, at(2021, 1, 11), None),
            (A.complete, MEMBER, at(2022, 5, 20), None),
        ],
    },
    {
        "title": "«УникУм»: муниципальная программа службы сопровождения одарённых детей",
        "summary": "Служба сопровождения одарённых детей: индивидуальные маршруты, "
        "наставничество, сетевые интенсивы.",
        "kind": InitiativeKind.program,
        "level": EducationLevel.additional,
        "year": "2020-2021",
        "org": "МБУ ЦРО",
        "author": "member2@example.org",
        "team": [],
        "topics": ["одарённые дети"],
        "created": at(2020, 11, 9),
        "steps": [
            (A.submit, AUTHOR, at(2020, 11, 16), None),
            (A.send_to_expertise, MEMBER, at(2020, 11, 23), None),
            (A.approve, HEAD, at(2021, 2, 18), "Рассмотрена и прошла экспертизу"),
            (A.start, MEMBER, at(2021, 9, 1), None),
        ],
    },
    {
        "title": "«PROкачество+» или совершенствование качества дошкольного образования",
        "summary": "Муниципальный проект повышения качества дошкольного образования.",
        "kind": InitiativeKind.project,
        "level": EducationLevel.preschool,
        "year": "2021-2022",
        "org": "МБУ ЦРО",
        "author": "member2@example.org",
        "team": [],
        "topics": ["качество образования", "дошкольное образование"],
        "created": at(2021, 2, 1),
        "steps": [
            (A.submit, AUTHOR, at(2021, 2, 8), None),
            (A.send_to_expertise, MEMBER, at(2021, 2, 15), None),
            (A.approve, HEAD, at(2021, 4, 22), None),
            (A.start, MEMBER, at(2021, 9, 1), None),
        ],
    },
    {
        "title": "От инициативы ФГОС 4.0 к «4К» компетенциям",
        "summary": "Развитие компетенций 4К (критическое мышление, креативность, коммуникация, "
        "кооперация) в начальной школе.",
        "kind": InitiativeKind.project,
        "level": EducationLevel.primary,
        "year": "2021-2022",
        "org": "МБОУ СОШ № 10",
        "author": "expert2@example.org",
        "team": ["teacher3@example.org"],
        "topics": ["качество образования", "4К компетенции"],
        "created": at(2021, 2, 3),
        "steps": [
            (A.submit, AUTHOR, at(2021, 2, 10), None),
            (A.send_to_expertise, MEMBER, at(2021, 2, 17), None),
            (A.request_revision, MEMBER, at(2021, 3, 3), "Уточните измеримые результаты"),
            (A.resubmit, AUTHOR, at(2021, 3, 24), None),
            (A.send_to_expertise, MEMBER, at(2021, 3, 29), None),
            (A.approve, HEAD, at(2021, 4, 22), None),
            (A.start, MEMBER, at(2021, 9, 1), None),
        ],
    },
    {
        "title": "Миссия выполнима: как повысить качество образования в основной и старшей "
        "школе?.!",
        "summary": "Проект повышения качества образования на уровнях основного и среднего "
        "общего образования.",
        "kind": InitiativeKind.project,
        "level": EducationLevel.cross_level,
        "year": "2021-2022",
        "org": "МБОУ «Фокинская СОШ»",
        "author": "teacher2@example.org",
        "team": [],
        "topics": ["качество образования"],
        "created": at(2021, 2, 5),
        "steps": [
            (A.submit, AUTHOR, at(2021, 2, 12), None),
            (A.send_to_expertise, MEMBER, at(2021, 2, 19), None),
            (A.approve, HEAD, at(2021, 4, 22), None),
            (A.start, MEMBER, at(2021, 9, 1), None),
        ],
    },
    {
        "title": "Проектный офис+. Неформальный подход",
        "summary": "Проектный офис становится местом рефлексивных встреч, экспертного "
        "наращивания участников и развития инновационно-методической сети.",
        "kind": InitiativeKind.project,
        "level": EducationLevel.cross_level,
        "year": "2021-2022",
        "org": "МБУ ЦРО",
        "author": "member@example.org",
        "team": ["member2@example.org"],
        "topics": ["инновационно-методическая сеть", "проектный офис"],
        "created": at(2021, 6, 1),
        "steps": [
            (A.submit, AUTHOR, at(2021, 6, 7), None),
            (A.start_consultation, HEAD, at(2021, 6, 14), None),
        ],
    },
    {
        "title": "Сетевая лаборатория читательской грамотности",
        "summary": "Замысел сетевой лаборатории учителей основной школы.",
        "kind": InitiativeKind.practice,
        "level": EducationLevel.basic,
        "year": "2021-2022",
        "org": "МБОУ СОШ № 7",
        "author": "teacher@example.org",
        "team": [],
        "topics": ["смысловое чтение"],
        "created": at(2021, 10, 4),
        "steps": [],
    },
]

LIFT_SCHOOLS = [
    ("МБОУ СОШ № 7", "teacher@example.org"),
    ("МБОУ СОШ № 1", "teacher2@example.org"),
    ("МБОУ ООШ № 12", "teacher3@example.org"),
    ("МБОУ «Фокинская СОШ»", "teacher2@example.org"),
    ("МБОУ СОШ п. Прикамский", "teacher3@example.org"),
]
for school, author in LIFT_SCHOOLS:
    DEMO.append(
        {
            "title": f"«Образовательный лифт»: программа перехода в эффективный режим "
            f"функционирования и повышения качества образовательных результатов ({school})",
            "summary": "Программа перехода школы в эффективный режим работы в рамках проекта "
            "«Образовательный лифт»; промежуточные итоги представлены на заседании офиса.",
            "kind": InitiativeKind.program,
            "level": EducationLevel.cross_level,
            "year": "2020-2021",
            "org": school,
            "author": author,
            "team": [],
            "topics": ["образовательный лифт", "качество образования"],
            "created": at(2020, 9, 28),
            "steps": [
                (A.submit, AUTHOR, at(2020, 10, 5), None),
                (A.send_to_expertise, MEMBER, at(2020, 10, 12), None),
                (A.approve, HEAD, at(2020, 10, 22), None),
                (A.start, MEMBER, at(2020, 11, 2), None),
            ],
        }
    )


CRITERIA = [
    ("relevance", "Актуальность", "Relevance", 5, 1.5,
     "Замысел отвечает на реальную проблему школы или сети, подтверждённую анализом"),
    ("strategy_alignment", "Соответствие стратегии развития системы образования",
     "Alignment with the education development strategy", 5, 1.5,
     "Цели согласуются с муниципальной стратегией и национальным проектом «Образование»"),
    ("feasibility", "Реализуемость", "Feasibility", 5, 1.0,
     "План, сроки и команда позволяют выполнить задачи в учебном году"),
    ("novelty", "Новизна", "Novelty", 5, 1.0,
     "Замысел предлагает то, чего в сети ещё нет, или переосмысливает известную практику"),
    ("resources", "Ресурсная обеспеченность", "Resource provision", 5, 1.0,
     "Кадровые, методические и материальные ресурсы названы и доступны"),
    ("measurability", "Измеримость результатов", "Measurability of results", 5, 1.0,
     "Результаты описаны так, что их достижение можно проверить показателями"),
    ("network_potential", "Тиражируемость (сетевой потенциал)", "Network potential", 5, 1.0,
     "Опыт можно передать другим организациям сети и продолжить после проекта"),
]  # fmt: skip
REVIEWERS = [
    ("expert@example.org", ExpertPosition.content_expert),
    ("expert2@example.org", ExpertPosition.content_expert),
    ("member@example.org", ExpertPosition.methodologist),
]


def criteria_in(rows: list[tuple[str, str, str, int, float, str]]) -> list[CriterionIn]:
    return [
        CriterionIn(code=code, title_ru=ru, title_en=en, description=about, max_score=top, weight=w)
        for code, ru, en, top, w, about in rows
    ]


def _criteria(session: Session, head: Principal) -> None:
    with clock_at(at(2020, 9, 1)):
        criteria.create_criteria_set(
            session,
            actor=head,
            data=CriteriaSetCreate(
                title="Критерии экспертизы проектных замыслов",
                activate=True,
                criteria=criteria_in(CRITERIA),
            ),
        )


def _review(
    session: Session,
    principal: Callable[[str], Principal],
    initiative_id: uuid.UUID,
    decided_at: datetime,
    team: set[str],
) -> None:
    """Two experts without a conflict of interest write conclusions before the decision."""
    initiative = session.get(Initiative, initiative_id)
    assert initiative is not None
    chosen = [
        (principal(email), position)
        for email, position in REVIEWERS
        if email not in team and principal(email).organization_id != initiative.organization_id
    ][:2]
    for n, (expert, position) in enumerate(chosen):
        with clock_at(decided_at - timedelta(days=9)):
            review = assignments.assign_review(
                session,
                actor=principal(MEMBER),
                initiative_id=initiative_id,
                data=ReviewAssign(
                    expert_id=expert.id, position=position, due_at=decided_at - timedelta(days=1)
                ),
            )
        with clock_at(decided_at - timedelta(days=7)):
            assignments.accept_review(
                session, actor=expert, review_id=review.id, data=ReviewAccept()
            )
        with clock_at(decided_at - timedelta(days=3 - n)):
            conclusions.submit_conclusion(
                session,
                actor=expert,
                review_id=review.id,
                data=ConclusionSubmit(
                    scores=[
                        ScoreIn(
                            criterion=code,
                            score=4 + (i + n) % 2,
                            comment=f"Критерий «{title}» раскрыт в замысле",
                        )
                        for i, (code, title, *_) in enumerate(CRITERIA)
                    ],
                    recommendation=Recommendation.approve
                    if n == 0
                    else Recommendation.approve_with_changes,
                    summary="Замысел актуален и реализуем; результаты описаны измеримо.",
                    developmental_feedback="Как сеть продолжит работу, когда проект завершится?",
                ),
                if_match=None,
            )
        with clock_at(decided_at - timedelta(days=1)):
            conclusions.rate_quality(
                session,
                actor=principal(HEAD),
                review_id=review.id,
                data=QualityRating(rating=5 if n == 0 else 4),
            )


def load(session: Session) -> int:
    principal = Cast(session)

    orgs = dict(session.execute(select(col(Organization.short_name), col(Organization.id))).all())
    _criteria(session, principal(HEAD))
    for item in DEMO:
        author = principal(item["author"])
        with clock_at(item["created"]):
            created = initiatives.create_initiative(
                session,
                actor=author,
                data=InitiativeCreate(
                    title=item["title"],
                    summary=item["summary"],
                    kind=item["kind"],
                    education_level=item["level"],
                    academic_year=item["year"],
                    organization_id=orgs[item["org"]],
                    topics=item["topics"],
                    team=[TeamMemberIn(user_id=principal(e).id) for e in item["team"]],
                ),
            )
        for action, who, when, comment in item["steps"]:
            actor = author if who == AUTHOR else principal(who)
            if action == A.approve:
                _review(session, principal, created.id, when, {item["author"], *item["team"]})
            with clock_at(when):
                initiatives.transition(
                    session,
                    actor=actor,
                    initiative_id=created.id,
                    data=TransitionCreate(action=action, comment=comment),
                    if_match=None,
                )
    with clock_at(at(2021, 6, 15)):
        experts.grant_position(
            session,
            actor=principal(HEAD),
            user_id=principal("expert2@example.org").id,
            data=PositionGrantIn(
                position=ExpertPosition.methodologist,
                reason="Заключения 2020-2021 учебного года отмечены офисом как образцовые",
            ),
        )
    return len(DEMO)
