"""Fill a database with the bench dataset: ~300 organizations and 100 000 people.

The rows obey the services' rules (lowercase email, `search_text` from `app.text.search_text`,
roles as `user_role` rows in enum order, version 1, UTC timestamps) but go in with bulk Core
inserts: through the services 100 000 people would take an hour of argon2 and ORM flushes.
Everybody shares one argon2 hash of BENCH_PASSWORD. One extra office head, BENCH_EMAIL, is
the person the bench signs in as.

    python -m bench.seed_users --database-url sqlite:///var/bench/bench.db
    python -m bench.seed_users --database-url postgresql://postgres@127.0.0.1:5432/projoffice_bench

The schema is built by Alembic (`projoffice migrate`) first; the database must hold no people.
"""

import argparse
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

BENCH_EMAIL = "bench-head@example.org"
BENCH_PASSWORD = "bench-password-2026"
SEED = 20261128

SURNAMES = [
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
]  # fmt: skip
MALE_NAMES = [
    "Александр", "Алексей", "Андрей", "Антон", "Артём", "Борис", "Вадим", "Виктор", "Владимир",
    "Дмитрий", "Денис", "Евгений", "Игорь", "Илья", "Кирилл", "Максим", "Михаил", "Никита",
    "Николай", "Олег", "Павел", "Роман", "Сергей", "Степан", "Юрий",
]  # fmt: skip
FEMALE_NAMES = [
    "Анастасия", "Анна", "Валентина", "Вера", "Галина", "Дарья", "Екатерина", "Елена",
    "Ирина", "Ксения", "Людмила", "Марина", "Мария", "Наталья", "Надежда", "Ольга",
    "Светлана", "Софья", "Татьяна", "Юлия", "Алёна", "Полина", "Любовь", "Лариса", "Жанна",
]  # fmt: skip
PATRONYMIC_ROOTS = [
    "Александров", "Алексеев", "Андреев", "Борисов", "Викторов", "Владимиров", "Дмитриев",
    "Евгеньев", "Игорев", "Михайлов", "Николаев", "Олегов", "Павлов", "Петров", "Сергеев",
    "Юрьев", "Иванов", "Фёдоров", "Степанов", "Романов",
]  # fmt: skip
JOB_TITLES = [
    "Учитель начальных классов", "Учитель математики", "Учитель русского языка и литературы",
    "Учитель физики", "Учитель информатики", "Учитель истории", "Учитель биологии",
    "Учитель английского языка", "Педагог-психолог", "Социальный педагог", "Учитель-логопед",
    "Воспитатель", "Старший воспитатель", "Педагог дополнительного образования",
    "Заместитель директора по УВР", "Заместитель директора по ВР", "Директор", "Методист",
    "Заведующий", "Педагог-организатор",
]  # fmt: skip
ORG_KINDS = [
    ("school", "МБОУ «Средняя общеобразовательная школа № {n}»", "МБОУ СОШ № {n}"),
    ("school", "МБОУ «Основная общеобразовательная школа № {n}»", "МБОУ ООШ № {n}"),
    ("gymnasium", "МАОУ «Гимназия № {n}»", "МАОУ Гимназия № {n}"),
    ("kindergarten", "МБДОУ «Детский сад № {n}»", "МБДОУ ДС № {n}"),
    ("kindergarten", "МАДОУ «Детский сад общеразвивающего вида № {n}»", "МАДОУ ДС № {n}"),
    ("additional_education", "МБУ ДО «Дом детского творчества № {n}»", "ДДТ № {n}"),
    ("methodological_centre", "МБУ «Центр развития образования № {n}»", "ЦРО № {n}"),
]


def _surname(base: str, female: bool) -> str:
    return base + "а" if female else base


def _full_name(rng: random.Random) -> str:
    female = rng.random() < 0.7  # the teaching profession is mostly women
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    patronymic = rng.choice(PATRONYMIC_ROOTS) + ("на" if female else "ич")
    return f"{_surname(rng.choice(SURNAMES), female)} {first} {patronymic}"


def _roles(rng: random.Random) -> list[str]:
    """Mostly participants; experts and observers, a few office people and admins."""
    x = rng.random()
    if x < 0.70:
        roles = ["participant"]
    elif x < 0.82:
        roles = ["participant", "expert"]
    elif x < 0.90:
        roles = ["expert"]
    elif x < 0.97:
        roles = ["observer"]
    elif x < 0.995:
        roles = ["office_member"]
    elif x < 0.999:
        roles = ["office_head"]
    else:
        roles = ["admin"]
    return roles


def _timestamp(rng: random.Random, now: datetime) -> datetime:
    moment = now - timedelta(seconds=rng.randrange(365 * 24 * 3600))
    # A non-zero microsecond keeps every timestamp's JSON form the same length.
    return moment.replace(microsecond=rng.randrange(1, 1_000_000))


def _batches(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(database_url: str, *, users: int, organizations: int, batch_size: int) -> None:
    # Settings are read once and cached: the URL must be in the environment before app imports.
    os.environ["PROJOFFICE_DATABASE_URL"] = database_url
    from sqlalchemy import func, select, text

    from alembic import command
    from app.db import get_engine
    from app.migrations import alembic_config
    from app.models import metadata
    from app.security import hash_password
    from app.text import search_text

    started = time.perf_counter()
    command.upgrade(alembic_config(), "head")
    engine = get_engine()
    org_table = metadata.tables["organization"]
    user_table = metadata.tables["app_user"]
    role_table = metadata.tables["user_role"]
    with engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(user_table)).scalar_one():
            sys.exit(f"{engine.url.render_as_string()}: already has people; use an empty database")

    rng = random.Random(SEED)
    now = datetime.now(UTC)
    hashed = hash_password(BENCH_PASSWORD)

    org_rows: list[dict[str, Any]] = []
    for i in range(organizations):
        kind, name_tpl, short_tpl = ORG_KINDS[i % len(ORG_KINDS)]
        n = i // len(ORG_KINDS) + 1
        name, short_name = name_tpl.format(n=n), short_tpl.format(n=n)
        created = _timestamp(rng, now)
        org_rows.append(
            {
                "id": uuid.UUID(int=rng.getrandbits(128), version=4),
                "name": name,
                "short_name": short_name,
                "kind": kind,
                "is_innovation_centre": rng.random() < 0.1,
                "search_text": search_text(name, short_name),
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
    org_ids = [row["id"] for row in org_rows]

    role_rows: list[dict[str, Any]] = []

    def people() -> Iterator[dict[str, Any]]:
        for i in range(users):
            user_id = uuid.UUID(int=rng.getrandbits(128), version=4)
            full_name = _full_name(rng)
            email = f"user{i:06d}@bench.example.org"
            job_title = rng.choice(JOB_TITLES) if rng.random() < 0.85 else None
            created = _timestamp(rng, now)
            role_rows.extend({"user_id": user_id, "role": r} for r in _roles(rng))
            yield {
                "id": user_id,
                "email": email,
                "full_name": full_name,
                "job_title": job_title,
                "organization_id": rng.choice(org_ids) if rng.random() < 0.95 else None,
                "hashed_password": hashed,
                "is_active": rng.random() < 0.97,
                "search_text": search_text(full_name, email, job_title),
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
        head_id = uuid.UUID(int=rng.getrandbits(128), version=4)
        head_name = "Бенчмарков Руководитель Офиса"
        head_job = "Руководитель проектного офиса"
        role_rows.append({"user_id": head_id, "role": "office_head"})
        yield {
            "id": head_id,
            "email": BENCH_EMAIL,
            "full_name": head_name,
            "job_title": head_job,
            "organization_id": org_ids[0] if org_ids else None,
            "hashed_password": hashed,
            "is_active": True,
            "search_text": search_text(head_name, BENCH_EMAIL, head_job),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }

    with engine.begin() as conn:
        conn.execute(org_table.insert(), org_rows)
        for batch in _batches(people(), batch_size):
            conn.execute(user_table.insert(), batch)
            conn.execute(role_table.insert(), role_rows)
            role_rows.clear()
    # Fresh statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would leave.
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    engine.dispose()
    print(
        f"seeded {organizations} organizations and {users + 1} people "
        f"in {time.perf_counter() - started:.1f} s; sign in as {BENCH_EMAIL} / {BENCH_PASSWORD}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="sqlite:///FILE or postgresql://…")
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--organizations", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=5_000)
    args = parser.parse_args()
    seed(
        args.database_url,
        users=args.users,
        organizations=args.organizations,
        batch_size=args.batch_size,
    )


if __name__ == "__main__":
    main()
