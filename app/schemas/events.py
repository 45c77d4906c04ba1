import uuid
from datetime import datetime
from typing import Any

from app.schemas.common import OutputModel


class EventPublic(OutputModel):
    id: int
    at: datetime
    actor_id: uuid.UUID | None
    actor_kind: str
    action: str
    entity_type: str
    entity_id: str
    data: dict[str, Any]
