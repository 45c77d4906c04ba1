"""The office's functions and the dated self-assessments of how maturely it performs each."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Index, Text
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, id_field

MIN_LEVEL = 0
MAX_LEVEL = 5


class FunctionOrigin(StrEnum):
    """Where a function comes from: the office's Regulation (Положение) or the project."""

    regulation = "regulation"
    new = "new"


class EvidenceLinkKind(StrEnum):
    """What an assessment may point to as its support."""

    initiative = "initiative"
    meeting = "meeting"
    network_event = "network_event"
    charter_version = "charter_version"


class OfficeFunction(SQLModel, table=True):
    """A function of the office. Reference data: the migration seeds the catalogue."""

    __tablename__ = "office_function"

    code: str = Field(primary_key=True, max_length=60)
    position: int = Field(unique=True)
    origin: FunctionOrigin = Field(sa_type=StrEnumType(FunctionOrigin, 20))
    title_ru: str = Field(max_length=300)
    title_en: str = Field(max_length=300)
    description: str = Field(sa_type=Text)
    # What levels 1..5 look like for this function, in Russian (level 0 is "not performed").
    level_descriptors: list[str] = Field(sa_type=JSON)


class MaturityAssessment(SQLModel, table=True):
    """One dated self-assessment of a function. Never edited: the newest is the current one."""

    __tablename__ = "maturity_assessment"
    __table_args__ = (
        Index(
            "ix_maturity_assessment_function_code_assessed_at_id",
            "function_code",
            "assessed_at",
            "id",
        ),
        Index("ix_maturity_assessment_assessed_on", "assessed_on"),
        CheckConstraint(f"level BETWEEN {MIN_LEVEL} AND {MAX_LEVEL}", name="level_range"),
        CheckConstraint(
            f"target_level IS NULL OR (target_level BETWEEN {MIN_LEVEL} AND {MAX_LEVEL} "
            "AND target_level >= level)",
            name="target_level_range",
        ),
    )

    id: uuid.UUID = id_field()
    function_code: str = Field(
        foreign_key="office_function.code", ondelete="RESTRICT", max_length=60
    )
    level: int
    target_level: int | None = None
    target_date: date | None = None
    evidence: str = Field(default="", sa_type=Text)
    comment: str = Field(default="", sa_type=Text)
    # [{"kind": "meeting", "id": "…"}]: what the head points to; checked when recorded.
    links: list[dict[str, str]] = Field(default_factory=list, sa_type=JSON)
    # The facts the system counted for the function over the 12 months before the assessment,
    # frozen with it so a claim can be read next to what had happened by then.
    system_evidence: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    assessed_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT", index=True)
    assessed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    # The office's calendar day of `assessed_at`: profiles `?as_of=DATE` and the history's
    # points are by day, compared in SQL without time zone arithmetic.
    assessed_on: date
