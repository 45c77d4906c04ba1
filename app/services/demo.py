"""Demo data: the organizations of the source document and fictional people in every role."""

import uuid

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Organization, OrganizationKind, Role, User
from app.schemas.organizations import OrganizationCreate
from app.schemas.users import UserCreate, UserUpdate
from app.security import Principal, hash_password
from app.services import (
    demo_consultations,
    demo_initiatives,
    demo_meetings,
    demo_network,
    organizations,
    users,
)

DEMO_PASSWORD = "demo-password"
SYSTEM = Principal(id=uuid.UUID(int=0), kind="system", name="system")

ORGANIZATIONS: list[tuple[str, str, OrganizationKind, bool]] = [
    (
        "Управление образования администрации Чайковского городского округа",
        "Управление образования",
        OrganizationKind.education_department,
        False,
    ),
    (
        "Муниципальное бюджетное учреждение «Центр развития образования города Чайковский»",
        "МБУ ЦРО",
        OrganizationKind.methodological_centre,
        False,
    ),
    (
        "Муниципальное автономное общеобразовательное учреждение «Гимназия»",
        "МАОУ Гимназия",
        OrganizationKind.gymnasium,
        True,
    ),
    (
        "МБОУ «Средняя общеобразовательная школа № 1»",
        "МБОУ СОШ № 1",
        OrganizationKind.school,
        False,
    ),
    (
        "МБОУ «Средняя общеобразовательная школа № 7» (с. Уральское)",
        "МБОУ СОШ № 7",
        OrganizationKind.school,
        True,
    ),
    (
        "МБОУ «Средняя общеобразовательная школа № 10»",
        "МБОУ СОШ № 10",
        OrganizationKind.school,
        True,
    ),
    (
        "МБОУ «Основная общеобразовательная школа № 12»",
        "МБОУ ООШ № 12",
        OrganizationKind.school,
        False,
    ),
    (
        "МБОУ «Фокинская средняя общеобразовательная школа»",
        "МБОУ «Фокинская СОШ»",
        OrganizationKind.school,
        False,
    ),
    (
        "МБОУ «Средняя общеобразовательная школа п. Прикамский»",
        "МБОУ СОШ п. Прикамский",
        OrganizationKind.school,
        False,
    ),
]

# (email, full name, job title, organization short name, roles)
PEOPLE: list[tuple[str, str, str, str, list[Role]]] = [
    (
        "admin@example.org",
        "Соколов Денис Андреевич",
        "Системный администратор",
        "МБУ ЦРО",
        [Role.admin],
    ),
    (
        "head@example.org",
        "Воронцова Марина Игоревна",
        "Руководитель проектного офиса",
        "Управление образования",
        [Role.office_head, Role.office_member],
    ),
    (
        "member@example.org",
        "Лебедева Ольга Викторовна",
        "Методист",
        "МБУ ЦРО",
        [Role.office_member, Role.expert],
    ),
    (
        "member2@example.org",
        "Гаврилов Павел Сергеевич",
        "Заместитель директора",
        "МБУ ЦРО",
        [Role.office_member],
    ),
    (
        "expert@example.org",
        "Кузнецова Анна Романовна",
        "Учитель русского языка и литературы",
        "МАОУ Гимназия",
        [Role.expert, Role.participant],
    ),
    (
        "expert2@example.org",
        "Михайлов Игорь Петрович",
        "Заместитель директора по УВР",
        "МБОУ СОШ № 10",
        [Role.expert, Role.participant],
    ),
    (
        "teacher@example.org",
        "Орлова Наталья Дмитриевна",
        "Учитель начальных классов",
        "МБОУ СОШ № 7",
        [Role.participant],
    ),
    (
        "teacher2@example.org",
        "Белов Артём Константинович",
        "Учитель математики",
        "МБОУ «Фокинская СОШ»",
        [Role.participant],
    ),
    (
        "teacher3@example.org",
        "Смирнова Елена Алексеевна",
        "Педагог-психолог",
        "МБОУ ООШ № 12",
        [Role.participant],
    ),
    (
        "observer@example.org",
        "Фёдоров Константин Львович",
        "Специалист управления образования",
        "Управление образования",
        [Role.observer],
    ),
]

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
    if session.execute(select(col(User.id)).where(col(User.email) == PEOPLE[0][0])).first():
        return None
    by_short_name: dict[str, Organization] = {}
    for name, short_name, kind, centre in ORGANIZATIONS:
        existing = session.scalars(
            select(Organization).where(col(Organization.name) == name)
        ).first()
        by_short_name[short_name] = existing or organizations.create_organization(
            session,
            actor=SYSTEM,
            data=OrganizationCreate(
                name=name, short_name=short_name, kind=kind, is_innovation_centre=centre
            ),
        )
    # One hash for everyone: argon2 is deliberately slow.
    hashed = hash_password(DEMO_PASSWORD)
    for email, full_name, job_title, org_short, roles in PEOPLE:
        users.create_user(
            session,
            actor=SYSTEM,
            data=UserCreate(
                email=email,
                full_name=full_name,
                job_title=job_title,
                organization_id=by_short_name[org_short].id,
                roles=roles,
                password=DEMO_PASSWORD,
            ),
            hashed_password=hashed,
        )
    session.flush()
    demo_initiatives.load(session)
    demo_consultations.load(session)
    demo_meetings.load(session)
    demo_network.load(session)
    return DEMO_LOGINS


def ensure_admin(session: Session, *, data: UserCreate) -> bool:
    """Create the administrator; a person with that email already there gets the role, is
    reactivated and takes the password given (the way back in for a locked-out office)."""
    email = users.normalize_email(data.email)
    existing = session.scalars(select(User).where(col(User.email) == email)).first()
    if existing is None:
        users.create_user(
            session, actor=SYSTEM, data=data.model_copy(update={"roles": [Role.admin]})
        )
        return True
    current = users.get_user(session, existing.id)
    users.update_user(
        session,
        actor=SYSTEM,
        user_id=existing.id,
        data=UserUpdate(roles=sorted({*current.roles, Role.admin}), is_active=True),
        if_match=None,
    )
    users.reset_password(session, actor=SYSTEM, user_id=existing.id, password=data.password)
    return False
