"""What every demo module shares: the demo people's emails, the people as principals, dates."""

from datetime import UTC, datetime

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import User
from app.security import Principal
from app.services.principals import load_principal

ADMIN = "admin@example.org"
HEAD, MEMBER, MEMBER2 = "head@example.org", "member@example.org", "member2@example.org"
EXPERT, EXPERT2 = "expert@example.org", "expert2@example.org"
TEACHER, TEACHER2, TEACHER3 = "teacher@example.org", "teacher2@example.org", "teacher3@example.org"
OBSERVER = "observer@example.org"


def utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, 0, tzinfo=UTC)


class Cast:
    """The demo people as principals, each looked up once: `cast(HEAD)` acts as the head."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._people: dict[str, Principal] = {}

    def __call__(self, email: str) -> Principal:
        if email not in self._people:
            user_id = self._session.scalars(
                select(col(User.id)).where(col(User.email) == email)
            ).one()
            found = load_principal(self._session, str(user_id))
            assert found is not None
            self._people[email] = found
        return self._people[email]
