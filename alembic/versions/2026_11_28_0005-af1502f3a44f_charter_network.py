"""charter and network: versions, amendments with votes and comments, acknowledgements;
network events with their people and organizations

Revision ID: af1502f3a44f
Revises: e4c1a0b2d3f4
Create Date: 2026-11-28 04:41:10.687426
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "af1502f3a44f"
down_revision: str | None = "e4c1a0b2d3f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "charter_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("adopted_by_id", sa.Uuid(), nullable=False),
        sa.Column("amendment_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["adopted_by_id"],
            ["app_user.id"],
            name=op.f("fk_charter_version_adopted_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_version")),
        sa.UniqueConstraint("number", name=op.f("uq_charter_version_number")),
    )
    with op.batch_alter_table("charter_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_version_adopted_by_id"), ["adopted_by_id"], unique=False
        )
        batch_op.create_index(
            "ix_charter_version_effective_from_number", ["effective_from", "number"], unique=False
        )

    op.create_table(
        "charter_acknowledgement",
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_charter_acknowledgement_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_number"],
            ["charter_version.number"],
            name=op.f("fk_charter_acknowledgement_version_number_charter_version"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "version_number", "user_id", name=op.f("pk_charter_acknowledgement")
        ),
    )
    with op.batch_alter_table("charter_acknowledgement", schema=None) as batch_op:
        batch_op.create_index("ix_charter_acknowledgement_user_id", ["user_id"], unique=False)

    op.create_table(
        "charter_amendment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("proposer_id", sa.Uuid(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("discussion_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("voting_closes_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("adopted_in_version", sa.Integer(), nullable=True),
        sa.Column("superseded_by_version", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_version"],
            ["charter_version.number"],
            name=op.f("fk_charter_amendment_base_version_charter_version"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["proposer_id"],
            ["app_user.id"],
            name=op.f("fk_charter_amendment_proposer_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_amendment")),
    )
    with op.batch_alter_table("charter_amendment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charter_amendment_adopted_in_version"),
            ["adopted_in_version"],
            unique=False,
        )
        batch_op.create_index(
            "ix_charter_amendment_base_version_created_at_id",
            ["base_version", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_charter_amendment_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_charter_amendment_proposer_id_created_at_id",
            ["proposer_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_charter_amendment_search_text_trgm",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.create_index(
            "ix_charter_amendment_status_created_at_id",
            ["status", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "network_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organizer_id", sa.Uuid(), nullable=False),
        sa.Column("organizer_organization_id", sa.Uuid(), nullable=True),
        sa.Column("initiative_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_network_event_created_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_network_event_initiative_id_initiative"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organizer_id"],
            ["app_user.id"],
            name=op.f("fk_network_event_organizer_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organizer_organization_id"],
            ["organization.id"],
            name=op.f("fk_network_event_organizer_organization_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_network_event")),
    )
    with op.batch_alter_table("network_event", schema=None) as batch_op:
        batch_op.create_index("ix_network_event_held_at_id", ["held_at", "id"], unique=False)
        batch_op.create_index(
            "ix_network_event_initiative_id_held_at_id",
            ["initiative_id", "held_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_network_event_kind_held_at_id", ["kind", "held_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_network_event_organizer_id"), ["organizer_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_network_event_organizer_organization_id"),
            ["organizer_organization_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_network_event_search_text_trgm",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )

    op.create_table(
        "charter_comment",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amendment_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("section_key", sa.String(length=64), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["charter_amendment.id"],
            name=op.f("fk_charter_comment_amendment_id_charter_amendment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["app_user.id"],
            name=op.f("fk_charter_comment_author_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charter_comment")),
    )
    with op.batch_alter_table("charter_comment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_charter_comment_amendment_id_id", ["amendment_id", "id"], unique=False
        )
        batch_op.create_index(
            "ix_charter_comment_amendment_id_section_key_id",
            ["amendment_id", "section_key", "id"],
            unique=False,
        )
        batch_op.create_index("ix_charter_comment_author_id", ["author_id"], unique=False)

    op.create_table(
        "charter_vote",
        sa.Column("amendment_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("vote", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cast_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["amendment_id"],
            ["charter_amendment.id"],
            name=op.f("fk_charter_vote_amendment_id_charter_amendment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_charter_vote_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("amendment_id", "user_id", name=op.f("pk_charter_vote")),
    )
    with op.batch_alter_table("charter_vote", schema=None) as batch_op:
        batch_op.create_index(
            "ix_charter_vote_amendment_id_cast_at_user_id",
            ["amendment_id", "cast_at", "user_id"],
            unique=False,
        )
        batch_op.create_index("ix_charter_vote_user_id", ["user_id"], unique=False)

    op.create_table(
        "network_event_organization",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["network_event.id"],
            name=op.f("fk_network_event_organization_event_id_network_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_network_event_organization_organization_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "event_id", "organization_id", name=op.f("pk_network_event_organization")
        ),
    )
    with op.batch_alter_table("network_event_organization", schema=None) as batch_op:
        batch_op.create_index(
            "ix_network_event_organization_organization_id_event_id",
            ["organization_id", "event_id"],
            unique=False,
        )

    op.create_table(
        "network_event_participant",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["network_event.id"],
            name=op.f("fk_network_event_participant_event_id_network_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_network_event_participant_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("event_id", "user_id", name=op.f("pk_network_event_participant")),
    )
    with op.batch_alter_table("network_event_participant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_network_event_participant_user_id_event_id", ["user_id", "event_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("network_event_participant", schema=None) as batch_op:
        batch_op.drop_index("ix_network_event_participant_user_id_event_id")

    op.drop_table("network_event_participant")
    with op.batch_alter_table("network_event_organization", schema=None) as batch_op:
        batch_op.drop_index("ix_network_event_organization_organization_id_event_id")

    op.drop_table("network_event_organization")
    with op.batch_alter_table("charter_vote", schema=None) as batch_op:
        batch_op.drop_index("ix_charter_vote_user_id")
        batch_op.drop_index("ix_charter_vote_amendment_id_cast_at_user_id")

    op.drop_table("charter_vote")
    with op.batch_alter_table("charter_comment", schema=None) as batch_op:
        batch_op.drop_index("ix_charter_comment_author_id")
        batch_op.drop_index("ix_charter_comment_amendment_id_section_key_id")
        batch_op.drop_index("ix_charter_comment_amendment_id_id")

    op.drop_table("charter_comment")
    with op.batch_alter_table("network_event", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_network_event_search_text_trgm",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.drop_index(batch_op.f("ix_network_event_organizer_organization_id"))
        batch_op.drop_index(batch_op.f("ix_network_event_organizer_id"))
        batch_op.drop_index("ix_network_event_kind_held_at_id")
        batch_op.drop_index("ix_network_event_initiative_id_held_at_id")
        batch_op.drop_index("ix_network_event_held_at_id")

    op.drop_table("network_event")
    with op.batch_alter_table("charter_amendment", schema=None) as batch_op:
        batch_op.drop_index("ix_charter_amendment_status_created_at_id")
        batch_op.drop_index(
            "ix_charter_amendment_search_text_trgm",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.drop_index("ix_charter_amendment_proposer_id_created_at_id")
        batch_op.drop_index("ix_charter_amendment_created_at_id")
        batch_op.drop_index("ix_charter_amendment_base_version_created_at_id")
        batch_op.drop_index(batch_op.f("ix_charter_amendment_adopted_in_version"))

    op.drop_table("charter_amendment")
    with op.batch_alter_table("charter_acknowledgement", schema=None) as batch_op:
        batch_op.drop_index("ix_charter_acknowledgement_user_id")

    op.drop_table("charter_acknowledgement")
    with op.batch_alter_table("charter_version", schema=None) as batch_op:
        batch_op.drop_index("ix_charter_version_effective_from_number")
        batch_op.drop_index(batch_op.f("ix_charter_version_adopted_by_id"))

    op.drop_table("charter_version")
