from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine


def database_ready() -> bool:
    try:
        with get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True
