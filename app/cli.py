"""`projoffice`: run, migrate, seed and document the service with the same settings as the API."""

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from sqlmodel import Session

from alembic import command
from app.config import get_settings
from app.db import get_engine
from app.migrations import alembic_config

cli = typer.Typer(help="Проектный офис+: управление сервисом", no_args_is_help=True)


@cli.command()
def migrate(revision: str = "head") -> None:
    """Bring the database schema up to REVISION (Alembic)."""
    command.upgrade(alembic_config(), revision)
    typer.echo(f"База данных обновлена до {revision}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Адрес")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Порт")] = 8000,
    workers: Annotated[int, typer.Option(help="Процессов")] = 1,
    reload: Annotated[bool, typer.Option(help="Перезапуск при правке кода")] = False,
) -> None:
    """Serve the API with uvicorn."""
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=get_settings().log_level.lower(),
        proxy_headers=True,
    )


@cli.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="Email администратора")],
    password: Annotated[
        str | None, typer.Option(help="Пароль; если не указан, будет запрошен")
    ] = None,
    full_name: Annotated[str, typer.Option(help="ФИО")] = "Администратор",
) -> None:
    """Create an administrator. A person with that email already there gets the admin role, is
    reactivated and takes the password given; their other logins end."""
    from app.errors import DomainError
    from app.schemas.users import UserCreate
    from app.services import users

    if password is None:
        password = getpass.getpass("Пароль: ")
        if password != getpass.getpass("Повторите пароль: "):
            raise typer.BadParameter("Пароли не совпадают", param_hint="--password")
    try:
        data = UserCreate(email=email, full_name=full_name, password=password)
    except ValidationError as exc:
        # One line per field in the operator's words, not a traceback.
        reasons = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise typer.BadParameter(reasons) from None
    with Session(get_engine()) as session:
        try:
            created = users.ensure_admin(session, data=data)
        except DomainError as exc:
            raise typer.BadParameter(exc.detail) from None
        session.commit()
    typer.echo(
        ("Создан администратор " if created else "Роль администратора выдана, пароль задан: ")
        + users.normalize_email(data.email)
    )


@cli.command("demo-data")
def demo_data() -> None:
    """Fill an empty database with the demo organizations, people and their logins."""
    from app import demo

    with Session(get_engine()) as session:
        logins = demo.load_demo_data(session)
        session.commit()
    if logins is None:
        typer.echo("Демо-данные уже загружены.")
        logins = demo.DEMO_LOGINS
    typer.echo(f"\nДемо-входы (пароль у всех: {demo.DEMO_PASSWORD}):")
    for role, email in logins:
        typer.echo(f"  {role:<14} {email}")


@cli.command("export-openapi")
def export_openapi(
    output: Annotated[Path | None, typer.Option(help="Файл; по умолчанию stdout")] = None,
) -> None:
    """Write the OpenAPI document the app serves (CI compares it with openapi/openapi.json)."""
    from app.main import create_app

    text = json.dumps(create_app().openapi(), ensure_ascii=False, indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")


def main() -> None:
    cli()
