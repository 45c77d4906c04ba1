"""The network charter: immutable adopted versions, amendments, their votes and comments, and
members' acknowledgements."""

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Text
from sqlmodel import Field, SQLModel

from app.models.base import StrEnumType, UTCDateTime, created_field, id_field, version_column


class AmendmentStatus(StrEnum):
    draft = "draft"
    discussion = "discussion"
    voting = "voting"
    accepted = "accepted"
    rejected = "rejected"
    withdrawn = "withdrawn"
    superseded = "superseded"


class ChangeOp(StrEnum):
    add = "add"
    modify = "modify"
    remove = "remove"


class VoteChoice(StrEnum):
    agree = "agree"
    abstain = "abstain"
    disagree = "disagree"
    block = "block"


class CharterVersion(SQLModel, table=True):
    """One adopted version of the network rules; never updated once written."""

    __tablename__ = "charter_version"
    __table_args__ = (
        # `as_of`: the latest version whose effective date has come.
        Index("ix_charter_version_effective_from_number", "effective_from", "number"),
    )

    id: uuid.UUID = id_field()
    number: int = Field(unique=True)
    # [{key, title, text}] in reading order; a section's number is its position.
    sections: list[dict[str, str]] = Field(sa_type=JSON)
    summary: str = Field(sa_type=Text)
    effective_from: date
    adopted_at: datetime = created_field()
    adopted_by_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT", index=True)
    amendment_ids: list[str] = Field(default_factory=list, sa_type=JSON)


_VERSION = version_column()


class Amendment(SQLModel, table=True):
    """A proposed change to the charter against one base version."""

    __tablename__ = "charter_amendment"
    __table_args__ = (
        Index("ix_charter_amendment_created_at_id", "created_at", "id"),
        Index("ix_charter_amendment_status_created_at_id", "status", "created_at", "id"),
        Index("ix_charter_amendment_proposer_id_created_at_id", "proposer_id", "created_at", "id"),
        Index(
            "ix_charter_amendment_base_version_created_at_id", "base_version", "created_at", "id"
        ),
        Index(
            "ix_charter_amendment_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )
    __mapper_args__ = {"version_id_col": _VERSION}

    id: uuid.UUID = id_field()
    title: str = Field(max_length=300)
    base_version: int = Field(foreign_key="charter_version.number", ondelete="RESTRICT")
    # [{op, key, title?, text?, after?}]
    changes: list[dict[str, Any]] = Field(sa_type=JSON)
    rationale: str = Field(sa_type=Text)
    status: AmendmentStatus = Field(
        default=AmendmentStatus.draft, sa_type=StrEnumType(AmendmentStatus, 20)
    )
    proposer_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    search_text: str = Field(sa_type=Text)
    # Public from the moment its discussion opened; before that only the proposer and the office.
    discussion_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voting_opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    voting_closes_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The tally and the rule applied when the vote closed.
    result: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    adopted_in_version: int | None = Field(default=None, index=True)
    superseded_by_version: int | None = Field(default=None)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AmendmentVote(SQLModel, table=True):
    """One member's current vote on an amendment; changed in place until voting closes."""

    __tablename__ = "charter_vote"
    __table_args__ = (
        Index("ix_charter_vote_user_id", "user_id"),
        Index("ix_charter_vote_amendment_id_cast_at_user_id", "amendment_id", "cast_at", "user_id"),
    )

    amendment_id: uuid.UUID = Field(
        foreign_key="charter_amendment.id", primary_key=True, ondelete="CASCADE"
    )
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="RESTRICT")
    vote: VoteChoice = Field(sa_type=StrEnumType(VoteChoice, 20))
    reason: str | None = Field(default=None, sa_type=Text)
    cast_at: datetime = created_field()
    updated_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class AmendmentComment(SQLModel, table=True):
    __tablename__ = "charter_comment"
    __table_args__ = (
        Index("ix_charter_comment_amendment_id_id", "amendment_id", "id"),
        Index(
            "ix_charter_comment_amendment_id_section_key_id", "amendment_id", "section_key", "id"
        ),
        Index("ix_charter_comment_author_id", "author_id"),
    )

    # An integer key orders a thread exactly as it was written.
    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    amendment_id: uuid.UUID = Field(foreign_key="charter_amendment.id", ondelete="CASCADE")
    author_id: uuid.UUID = Field(foreign_key="app_user.id", ondelete="RESTRICT")
    section_key: str | None = Field(default=None, max_length=64)
    text: str = Field(sa_type=Text)
    created_at: datetime = created_field()


class CharterAcknowledgement(SQLModel, table=True):
    """A member's confirmation that they agree to a charter version."""

    __tablename__ = "charter_acknowledgement"
    __table_args__ = (Index("ix_charter_acknowledgement_user_id", "user_id"),)

    version_number: int = Field(
        foreign_key="charter_version.number", primary_key=True, ondelete="RESTRICT"
    )
    user_id: uuid.UUID = Field(foreign_key="app_user.id", primary_key=True, ondelete="CASCADE")
    at: datetime = created_field()
