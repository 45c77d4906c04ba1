"""expertise: criteria sets, review assignments, conclusions and expert positions

Revision ID: e4c1a0b2d3f4
Revises: aa90b66741b3
Create Date: 2026-11-28 04:31:05.499115
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "e4c1a0b2d3f4"
down_revision: str | None = "aa90b66741b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "criteria_set",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_criteria_set_created_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria_set")),
        sa.UniqueConstraint("number", name=op.f("uq_criteria_set_number")),
    )
    with op.batch_alter_table("criteria_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_criteria_set_is_active"), ["is_active"], unique=False)

    op.create_table(
        "expert_position_grant",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by_id", sa.Uuid(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["granted_by_id"],
            ["app_user.id"],
            name=op.f("fk_expert_position_grant_granted_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_expert_position_grant_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_expert_position_grant")),
    )
    with op.batch_alter_table("expert_position_grant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_expert_position_grant_user_id_granted_at", ["user_id", "granted_at"], unique=False
        )

    op.create_table(
        "criterion",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title_ru", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("max_score", sa.Integer(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_set.id"],
            name=op.f("fk_criterion_criteria_set_id_criteria_set"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criterion")),
        sa.UniqueConstraint("criteria_set_id", "code", name="uq_criterion_set_code"),
    )
    with op.batch_alter_table("criterion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_criterion_criteria_set_id"), ["criteria_set_id"], unique=False
        )

    op.create_table(
        "review_assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("initiative_id", sa.Uuid(), nullable=False),
        sa.Column("review_round", sa.Integer(), nullable=False),
        sa.Column("expert_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("criteria_set_id", sa.Uuid(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assigned_by_id", sa.Uuid(), nullable=False),
        sa.Column("conflict_override_reason", sa.Text(), nullable=True),
        sa.Column("competing_interests", sa.Text(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assigned_by_id"],
            ["app_user.id"],
            name=op.f("fk_review_assignment_assigned_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["criteria_set_id"],
            ["criteria_set.id"],
            name=op.f("fk_review_assignment_criteria_set_id_criteria_set"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["expert_id"],
            ["app_user.id"],
            name=op.f("fk_review_assignment_expert_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_review_assignment_initiative_id_initiative"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignment")),
    )
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_review_assignment_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_review_assignment_expert_status", ["expert_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_review_assignment_initiative_round", ["initiative_id", "review_round"], unique=False
        )
        batch_op.create_index(
            "ix_review_assignment_status_due_at", ["status", "due_at"], unique=False
        )

    op.create_table(
        "conclusion",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("recommendation", sa.String(length=30), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("developmental_feedback", sa.Text(), nullable=False),
        sa.Column("quality_rating", sa.Integer(), nullable=True),
        sa.Column("quality_rated_by_id", sa.Uuid(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["review_assignment.id"],
            name=op.f("fk_conclusion_assignment_id_review_assignment"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quality_rated_by_id"],
            ["app_user.id"],
            name=op.f("fk_conclusion_quality_rated_by_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("assignment_id", name=op.f("pk_conclusion")),
    )
    op.create_table(
        "conclusion_score",
        sa.Column("assignment_id", sa.Uuid(), nullable=False),
        sa.Column("criterion_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["conclusion.assignment_id"],
            name=op.f("fk_conclusion_score_assignment_id_conclusion"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["criterion_id"],
            ["criterion.id"],
            name=op.f("fk_conclusion_score_criterion_id_criterion"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("assignment_id", "criterion_id", name=op.f("pk_conclusion_score")),
    )
    with op.batch_alter_table("conclusion_score", schema=None) as batch_op:
        batch_op.create_index("ix_conclusion_score_criterion_id", ["criterion_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conclusion_score", schema=None) as batch_op:
        batch_op.drop_index("ix_conclusion_score_criterion_id")

    op.drop_table("conclusion_score")
    op.drop_table("conclusion")
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_review_assignment_status_due_at")
        batch_op.drop_index("ix_review_assignment_initiative_round")
        batch_op.drop_index("ix_review_assignment_expert_status")
        batch_op.drop_index("ix_review_assignment_created_at_id")

    op.drop_table("review_assignment")
    with op.batch_alter_table("criterion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criterion_criteria_set_id"))

    op.drop_table("criterion")
    with op.batch_alter_table("expert_position_grant", schema=None) as batch_op:
        batch_op.drop_index("ix_expert_position_grant_user_id_granted_at")

    op.drop_table("expert_position_grant")
    with op.batch_alter_table("criteria_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_criteria_set_is_active"))

    op.drop_table("criteria_set")
