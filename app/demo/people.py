"""The organizations of the source document and fictional people in every role."""

from sqlalchemy import select
from sqlmodel import Session, col

from app.models import Organization, OrganizationKind, Role, User
from app.schemas.organizations import OrganizationCreate
from app.schemas.users import UserCreate
from app.security import SYSTEM, hash_password
from app.services import organizations, users

DEMO_PASSWORD = "demo-password"

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


def already_loaded(session: Session) -> bool:
    return (
        session.execute(select(col(User.id)).where(col(User.email) == PEOPLE[0][0])).first()
        is not None
    )


def load(session: Session) -> None:
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
