from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.schemas.meta import HealthStatus
from app.services import health

router = APIRouter(prefix="/health", tags=["health"])


@router.get("/live", summary="Процесс жив", response_model=HealthStatus)
def live() -> HealthStatus:
    """Answers as long as the process serves HTTP; it does not touch the database."""
    return HealthStatus(status="ok", database=None)


@router.get(
    "/ready",
    summary="Готов обслуживать запросы",
    response_model=HealthStatus,
    responses={
        503: {
            "model": HealthStatus,
            "description": "База данных недоступна (`unreachable`) или её схема не обновлена "
            "миграциями (`not_migrated`: выполните `projoffice migrate`)",
        }
    },
)
def ready() -> HealthStatus | JSONResponse:
    """200 when the database answers and its schema is at the migrations' head, 503 otherwise:
    for load balancers and orchestrators."""
    state = health.database_state()
    if state == "ok":
        return HealthStatus(status="ok", database="ok")
    return JSONResponse(
        HealthStatus(status="unavailable", database=state).model_dump(), status_code=503
    )
