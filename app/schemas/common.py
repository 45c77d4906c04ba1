import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LongName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=8, max_length=128)]

_ISO_DATE_START = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    # Pydantic also reads a number as a Unix timestamp (`?to=0` is 1970-01-01), which the
    # documented `format: date` / `date-time` does not allow.
    if isinstance(value, int | float) or (
        isinstance(value, str) and not _ISO_DATE_START.match(value)
    ):
        raise ValueError("Ожидается дата в формате ISO 8601: ГГГГ-ММ-ДД")
    return value


def _in_utc(value: datetime) -> datetime:
    # Stored in UTC: 9999-12-31T23:59:59-05:00 is a valid ISO string but no UTC datetime.
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("Дата и время вне допустимого диапазона") from None


IsoDate = Annotated[date, BeforeValidator(_iso_only)]
IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


def _omit_null(schema: dict[str, Any]) -> None:
    if schema.get("default", ...) is None:
        del schema["default"]
    variants = [v for v in schema.pop("anyOf", []) if v != {"type": "null"}]
    if len(variants) == 1:
        schema.update(variants[0])
    elif variants:
        schema["anyOf"] = variants


NotNull = Field(json_schema_extra=_omit_null)
"""For `X | None = None` fields of an update: they may be omitted, but an explicit null is
refused (422), so the documented schema does not offer null."""


def _refuse_nul(value: Any) -> Any:
    if isinstance(value, str):
        if "\x00" in value:
            raise ValueError("Текст не может содержать символ NUL (\\u0000)")
    elif isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_nul(key)
            _refuse_nul(item)
    return value


class InputModel(BaseModel):
    """Request bodies refuse unknown fields: a stray `roles` or `id` is a 422, never applied.
    Nor do they take a NUL character anywhere in their text: PostgreSQL cannot store one and
    SQLite would keep it, so both databases refuse it alike, naming the field."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return _refuse_nul(value)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)
