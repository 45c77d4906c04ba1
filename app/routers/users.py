import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Response, status

from app.deps import (
    CurrentUser,
    Cursor,
    DbDep,
    IfMatch,
    Limit,
    SearchQuery,
    SessionDep,
    require,
    set_etag,
)
from app.errors import problem_responses
from app.models import Role
from app.pagination import DEFAULT_LIMIT, Page
from app.policy import Action
from app.schemas.users import PasswordChange, UserCreate, UserPublic, UserSelfUpdate, UserUpdate
from app.security import Principal
from app.services import users

router = APIRouter(prefix="/users", tags=["users"])

Directory = Annotated[Principal, Depends(require(Action.users_read))]
Admin = Annotated[Principal, Depends(require(Action.users_update))]


@router.get("/me", summary="Кто я", responses=problem_responses(401, 403))
def read_me(session: SessionDep, me: CurrentUser, response: Response) -> UserPublic:
    """The signed-in person with their roles; frontends build their menus from it."""
    user = users.get_user(session, me.id)
    set_etag(response, user.version)
    return user


@router.patch(
    "/me", summary="Изменить свой профиль", responses=problem_responses(401, 403, 409, 412, 422)
)
def update_me(
    session: SessionDep,
    me: CurrentUser,
    data: UserSelfUpdate,
    if_match: IfMatch,
    response: Response,
) -> UserPublic:
    """Name, job title and organization. Roles and the active flag are not yours to change:
    sending them is a 422."""
    user = users.update_me(session, actor=me, data=data, if_match=if_match)
    set_etag(response, user.version)
    return user


@router.post(
    "/me/password",
    summary="Сменить пароль",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 403, 422),
)
def change_password(session: SessionDep, me: CurrentUser, data: PasswordChange) -> None:
    """Needs the current password; every other login of this person ends."""
    users.change_password(session, actor=me, data=data)


@router.get("", summary="Список пользователей", responses=problem_responses(401, 403, 422))
async def list_users(
    db: DbDep,
    _: Directory,
    q: SearchQuery = None,
    role: Role | None = None,
    organization_id: uuid.UUID | None = None,
    is_active: bool | None = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Page[UserPublic]:
    """The directory for office roles, sorted by full name; `q` searches name, email, job."""
    items, next_cursor = await users.list_users(
        db,
        q=q,
        role=role,
        organization_id=organization_id,
        is_active=is_active,
        cursor=cursor,
        limit=limit,
    )
    return Page[UserPublic](items=items, next_cursor=next_cursor)


@router.post(
    "",
    summary="Создать пользователя",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(401, 403, 409, 422),
)
def create_user(
    session: SessionDep,
    actor: Annotated[Principal, Depends(require(Action.users_create))],
    data: UserCreate,
    response: Response,
) -> UserPublic:
    user = users.create_user(session, actor=actor, data=data)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    set_etag(response, user.version)
    return user


@router.get("/{user_id}", summary="Пользователь", responses=problem_responses(401, 403, 404, 422))
def get_user(
    session: SessionDep, me: CurrentUser, user_id: uuid.UUID, response: Response
) -> UserPublic:
    """Office roles see everyone; anyone else sees only themselves (others are a 404)."""
    user = users.get_visible_user(session, actor=me, user_id=user_id)
    set_etag(response, user.version)
    return user


@router.patch(
    "/{user_id}",
    summary="Изменить пользователя (роли, активность)",
    responses=problem_responses(401, 403, 404, 409, 412, 422),
)
def update_user(
    session: SessionDep,
    actor: Admin,
    user_id: uuid.UUID,
    data: UserUpdate,
    if_match: IfMatch,
    response: Response,
) -> UserPublic:
    """Administrators edit profiles, roles and deactivate people; a deactivated person's tokens
    stop working at once. Nobody changes their own roles or active flag (403 `own_roles`):
    another administrator does."""
    user = users.update_user(session, actor=actor, user_id=user_id, data=data, if_match=if_match)
    set_etag(response, user.version)
    return user
