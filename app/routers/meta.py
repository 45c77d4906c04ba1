from typing import Annotated

from fastapi import APIRouter, Depends

from app.deps import require
from app.errors import problem_responses
from app.policy import Action
from app.schemas.initiatives import Lifecycle
from app.schemas.meta import EnumGroup, PolicyMatrix
from app.security import Principal
from app.services import meta

router = APIRouter(prefix="/meta", tags=["meta"])


@router.get("/enums", summary="Справочники с русскими и английскими подписями")
def list_enums() -> list[EnumGroup]:
    """Every enum of the API with `ru` and `en` labels. Public: a frontend needs it before login."""
    return meta.list_enums()


@router.get("/lifecycle", summary="Жизненный цикл инициативы")
def lifecycle() -> Lifecycle:
    """The state machine the API enforces: states, actions, who may take them, required
    comments, guards and side effects, with Russian and English labels. Public."""
    return meta.lifecycle()


@router.get(
    "/policy",
    summary="Матрица прав: роль × действие",
    responses=problem_responses(401, 403),
)
def policy_matrix(
    _: Annotated[Principal, Depends(require(Action.policy_read))],
) -> PolicyMatrix:
    """The whole permission table the API enforces, as data (administrators only)."""
    return meta.policy_matrix()
