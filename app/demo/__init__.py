"""Demo data for trying the API out: the organizations and projects of the source document, with
fictional people, replayed through the services at the dates they happened.

Only the CLI (`projoffice demo-data`, `make run`) and the bench seeder call this package;
services never import it. Each module loads one domain; `load_demo_data` runs them in order.
"""

from sqlmodel import Session

from app.demo import charter, consultations, initiatives, maturity, meetings, network, people
from app.demo.people import DEMO_PASSWORD

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "load_demo_data"]

DEMO_LOGINS: list[tuple[str, str]] = [
    ("admin", "admin@example.org"),
    ("office_head", "head@example.org"),
    ("office_member", "member@example.org"),
    ("expert", "expert@example.org"),
    ("participant", "teacher@example.org"),
    ("observer", "observer@example.org"),
]


def load_demo_data(session: Session) -> list[tuple[str, str]] | None:
    """Idempotent: returns None when the demo people are already there."""
    if people.already_loaded(session):
        return None
    people.load(session)
    initiatives.load(session)
    consultations.load(session)
    meetings.load(session)
    charter.load(session)
    network.load(session)
    # Last: each assessment keeps the facts the rest of the demo has recorded by its date.
    maturity.load(session)
    return DEMO_LOGINS
