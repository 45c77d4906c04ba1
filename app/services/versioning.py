from app.errors import Conflict, PreconditionFailed


def check_version(current: int, *, if_match: int | None, body_version: int | None) -> None:
    """Optimistic locking: a stale `If-Match` is 412, a stale `version` in the body is 409."""
    if if_match is not None and if_match != current:
        raise PreconditionFailed(
            f"Ресурс изменён другим пользователем: текущая версия {current}, в If-Match {if_match}",
            extra={"current_version": current},
        )
    if body_version is not None and body_version != current:
        raise Conflict(
            f"Ресурс изменён другим пользователем: текущая версия {current}, "
            f"в запросе {body_version}",
            code="version_conflict",
            extra={"current_version": current},
        )
