"""initiatives: ideas, their team, topics, lifecycle transitions and yearly codes

Revision ID: aa90b66741b3
Revises: 8c7efdec48f0
Create Date: 2026-11-28 04:26:43.234932
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "aa90b66741b3"
down_revision: str | None = "8c7efdec48f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "initiative_code_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_initiative_code_counter")),
    )
    op.create_table(
        "initiative",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("code_year", sa.Integer(), nullable=False),
        sa.Column("code_number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("goal", sa.Text(), nullable=False),
        sa.Column("tasks", sa.JSON(), nullable=False),
        sa.Column("expected_results", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("education_level", sa.String(length=30), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("topics", sa.JSON(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["app_user.id"],
            name=op.f("fk_initiative_author_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_initiative_organization_id_organization"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative")),
        sa.UniqueConstraint("code", name=op.f("uq_initiative_code")),
        sa.UniqueConstraint("code_year", "code_number", name="uq_initiative_code_year_number"),
    )
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_academic_year"), ["academic_year"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_initiative_author_id"), ["author_id"], unique=False)
        batch_op.create_index("ix_initiative_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_initiative_education_level"), ["education_level"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_initiative_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            "ix_initiative_search_text_trgm",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.create_index(batch_op.f("ix_initiative_status"), ["status"], unique=False)
        batch_op.create_index(
            "ix_initiative_status_created_at_id", ["status", "created_at", "id"], unique=False
        )
        batch_op.create_index("ix_initiative_title_id", ["title", "id"], unique=False)
        batch_op.create_index("ix_initiative_updated_at_id", ["updated_at", "id"], unique=False)

    op.create_table(
        "initiative_member",
        sa.Column("initiative_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_member_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_initiative_member_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("initiative_id", "user_id", name=op.f("pk_initiative_member")),
    )
    with op.batch_alter_table("initiative_member", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initiative_member_user_id_initiative_id", ["user_id", "initiative_id"], unique=False
        )

    op.create_table(
        "initiative_topic",
        sa.Column("initiative_id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_topic_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("initiative_id", "topic", name=op.f("pk_initiative_topic")),
    )
    with op.batch_alter_table("initiative_topic", schema=None) as batch_op:
        batch_op.create_index(
            "ix_initiative_topic_topic_initiative_id", ["topic", "initiative_id"], unique=False
        )

    op.create_table(
        "transition",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("initiative_id", sa.Uuid(), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["app_user.id"],
            name=op.f("fk_transition_actor_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_transition_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transition")),
    )
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.create_index(
            "ix_transition_initiative_id_id", ["initiative_id", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("transition", schema=None) as batch_op:
        batch_op.drop_index("ix_transition_initiative_id_id")

    op.drop_table("transition")
    with op.batch_alter_table("initiative_topic", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_topic_topic_initiative_id")

    op.drop_table("initiative_topic")
    with op.batch_alter_table("initiative_member", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_member_user_id_initiative_id")

    op.drop_table("initiative_member")
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_updated_at_id")
        batch_op.drop_index("ix_initiative_title_id")
        batch_op.drop_index("ix_initiative_status_created_at_id")
        batch_op.drop_index(batch_op.f("ix_initiative_status"))
        batch_op.drop_index(
            "ix_initiative_search_text_trgm",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.drop_index(batch_op.f("ix_initiative_organization_id"))
        batch_op.drop_index(batch_op.f("ix_initiative_education_level"))
        batch_op.drop_index("ix_initiative_created_at_id")
        batch_op.drop_index(batch_op.f("ix_initiative_author_id"))
        batch_op.drop_index(batch_op.f("ix_initiative_academic_year"))

    op.drop_table("initiative")
    op.drop_table("initiative_code_counter")
