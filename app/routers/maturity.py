import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.deps import Cursor, Limit, SessionDep, SettingsDep, require
from app.errors import problem_responses
from app.models import FunctionOrigin
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.maturity import (
    AssessmentCreate,
    AssessmentPublic,
    CalendarDay,
    CapabilityList,
    FunctionPublic,
    FunctionSummary,
    MaturityHistory,
    MaturityProfile,
)
from app.security import Principal
from app.services.maturity import functions, gating, profile

router = APIRouter(prefix="/office", tags=["maturity"])

Reader = Annotated[Principal, Depends(require(Action.maturity_read))]
Assessor = Annotated[Principal, Depends(require(Action.maturity_assess))]
CapabilityReader = Annotated[Principal, Depends(require(Action.capabilities_read))]
FunctionCode = Annotated[
    str,
    Path(
        max_length=200,
        pattern=r"^[^\x00]*$",
        description="Код функции из каталога",
        examples=["consulting"],
    ),
]
AsOf = Annotated[
    CalendarDay | None,
    Query(description="На какой день (ГГГГ-ММ-ДД, время офиса); по умолчанию сегодня"),
]


@router.get(
    "/functions",
    summary="Функции проектного офиса",
    responses=problem_responses(401, 403, 422),
)
def list_functions(
    session: SessionDep,
    actor: Reader,
    origin: Annotated[
        FunctionOrigin | None,
        Query(description="`regulation` — по Положению, `new` — добавленные проектом"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[FunctionSummary]:
    """The 13 functions of the office's Regulation and the 4 the project adds, in the
    catalogue's order, each with its current level (0 until assessed) and target."""
    items, next_cursor = functions.list_functions(
        session, origin=origin, cursor=cursor, limit=limit
    )
    return Page[FunctionSummary](items=items, next_cursor=next_cursor)


@router.get(
    "/functions/{code}",
    summary="Функция: уровни, текущая оценка и факты",
    responses=problem_responses(401, 403, 404, 422),
)
def get_function(
    session: SessionDep, actor: Reader, code: FunctionCode, as_of: AsOf = None
) -> FunctionPublic:
    """What levels 1–5 look like for the function, the assessment in force on `as_of`, whether
    it is stale or its target overdue, the capabilities it governs, and `system_evidence`: the
    facts the system counted over the 12 months up to `as_of`, to check the claimed level
    against (null for a function the system records nothing about yet)."""
    return functions.get_function(session, code=code, as_of=as_of)


@router.post(
    "/functions/{code}/assessments",
    summary="Оценить зрелость функции",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 404, 422),
)
def create_assessment(
    session: SessionDep,
    actor: Assessor,
    code: FunctionCode,
    data: AssessmentCreate,
    response: Response,
) -> AssessmentPublic:
    """The office head records the level (0–5), optionally a target level not below it with a
    date not in the past, what the level rests on and links to initiatives, meetings, network
    events or charter versions (422 `unknown_link` for what does not exist). The facts the
    system counted for the function over the last 12 months are kept with it. Assessments are
    never edited: the newest is the current one."""
    assessment = functions.create_assessment(session, actor=actor, code=code, data=data)
    response.headers["Location"] = f"/api/v1/office/functions/{code}/assessments/{assessment.id}"
    return assessment


@router.get(
    "/functions/{code}/assessments",
    summary="История оценок функции",
    responses=problem_responses(401, 403, 404, 422),
)
def list_assessments(
    session: SessionDep,
    actor: Reader,
    code: FunctionCode,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[AssessmentPublic]:
    """Newest first; the first is the one in force. Each with the facts counted when it was
    recorded."""
    items, next_cursor = functions.list_assessments(session, code=code, cursor=cursor, limit=limit)
    return Page[AssessmentPublic](items=items, next_cursor=next_cursor)


@router.get(
    "/functions/{code}/assessments/{assessment_id}",
    summary="Оценка функции",
    responses=problem_responses(401, 403, 404, 422),
)
def get_assessment(
    session: SessionDep, actor: Reader, code: FunctionCode, assessment_id: uuid.UUID
) -> AssessmentPublic:
    return functions.get_assessment(session, code=code, assessment_id=assessment_id)


@router.get(
    "/maturity",
    summary="Профиль зрелости офиса",
    responses=problem_responses(401, 403, 422),
)
def get_profile(session: SessionDep, actor: Reader, as_of: AsOf = None) -> MaturityProfile:
    """Every function as it stood at the end of `as_of` (today by default): level, target,
    `gap`, `stale` (assessed longer ago than PROJOFFICE_MATURITY_STALE_MONTHS), `overdue`
    (the target's date passed below the target), and `index`, the mean level of all
    functions (never assessed counts 0). Before the first assessment every level is 0."""
    return profile.profile(session, as_of=as_of)


@router.get(
    "/maturity/history",
    summary="Рост зрелости во времени",
    responses=problem_responses(401, 403, 404, 422),
)
def get_history(
    session: SessionDep,
    actor: Reader,
    function: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[^\x00]*$",
            description="Код функции; без него — ряд индекса зрелости",
        ),
    ] = None,
) -> MaturityHistory:
    """One point per day an assessment was recorded, oldest first: the function's level and
    target that day, or without `function` the index of the whole profile that day."""
    return profile.history(session, function=function)


@router.get(
    "/capabilities",
    summary="Возможности API и зрелость офиса",
    responses=problem_responses(401, 403),
)
def list_capabilities(
    session: SessionDep, actor: CapabilityReader, settings: SettingsDep
) -> CapabilityList:
    """Each capability the office's maturity governs: its function, the level it needs
    (PROJOFFICE_MATURITY_REQUIRED_LEVELS, default 1), the current level and whether it is
    `mastered`. Under `gating: enforced` the `operations` of a capability not mastered answer
    409 `capability_not_mastered`; under `advisory` nothing is blocked and this list shows
    what runs ahead of the office's maturity."""
    return gating.list_capabilities(session, settings=settings)
