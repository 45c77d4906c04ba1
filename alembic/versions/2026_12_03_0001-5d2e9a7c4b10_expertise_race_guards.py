"""expertise race guards: one active criteria set, one live assignment per expert and round

Revision ID: 5d2e9a7c4b10
Revises: 3b8f0c2d9e71
Create Date: 2026-12-03 12:00:00.000000

Two partial unique indexes make invariants the services only checked: under concurrent use on
PostgreSQL two activations could leave two active criteria sets, and two office members could
assign the same expert twice in one round. Rows that already break them are repaired first:
the most recently activated set stays active, and of duplicated live assignments a submitted
one (else the earliest) stays while the others are cancelled with a reason; their conclusions,
if any, stay in the database.
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = "5d2e9a7c4b10"
down_revision: str | None = "3b8f0c2d9e71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_REVIEW = "status IN ('invited', 'accepted', 'submitted')"
DUPLICATE_REASON = "Повторное назначение того же эксперта в том же раунде (исправлено миграцией)"

criteria_set = sa.table(
    "criteria_set",
    sa.column("id", sa.Uuid()),
    sa.column("is_active", sa.Boolean()),
    sa.column("activated_at", sa.DateTime(timezone=True)),
    sa.column("number", sa.Integer()),
)
review = sa.table(
    "review_assignment",
    sa.column("id", sa.Uuid()),
    sa.column("initiative_id", sa.Uuid()),
    sa.column("review_round", sa.Integer()),
    sa.column("expert_id", sa.Uuid()),
    sa.column("status", sa.String(length=20)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("cancelled_at", sa.DateTime(timezone=True)),
    sa.column("cancel_reason", sa.Text()),
)


def _repair(conn: sa.Connection) -> None:
    active = (
        conn.execute(
            sa.select(criteria_set.c.id)
            .where(criteria_set.c.is_active.is_(True))
            .order_by(criteria_set.c.activated_at.desc().nulls_last(), criteria_set.c.number.desc())
        )
        .scalars()
        .all()
    )
    if len(active) > 1:
        conn.execute(
            criteria_set.update().where(criteria_set.c.id.in_(active[1:])).values(is_active=False)
        )
    seen: set[tuple[object, int, object]] = set()
    duplicates = []
    for row in conn.execute(
        sa.select(review.c.id, review.c.initiative_id, review.c.review_round, review.c.expert_id)
        .where(sa.text(LIVE_REVIEW))
        .order_by((review.c.status == "submitted").desc(), review.c.created_at, review.c.id)
    ):
        key = (row.initiative_id, row.review_round, row.expert_id)
        if key in seen:
            duplicates.append(row.id)
        seen.add(key)
    if duplicates:
        conn.execute(
            review.update()
            .where(review.c.id.in_(duplicates))
            .values(
                status="cancelled", cancelled_at=datetime.now(UTC), cancel_reason=DUPLICATE_REASON
            )
        )


def upgrade() -> None:
    _repair(op.get_bind())
    with op.batch_alter_table("criteria_set", schema=None) as batch_op:
        batch_op.create_index(
            "uq_criteria_set_one_active",
            ["is_active"],
            unique=True,
            sqlite_where=sa.text("is_active"),
            postgresql_where=sa.text("is_active"),
        )
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.create_index(
            "uq_review_assignment_live_expert",
            ["initiative_id", "review_round", "expert_id"],
            unique=True,
            sqlite_where=sa.text(LIVE_REVIEW),
            postgresql_where=sa.text(LIVE_REVIEW),
        )


def downgrade() -> None:
    with op.batch_alter_table("review_assignment", schema=None) as batch_op:
        batch_op.drop_index("uq_review_assignment_live_expert")
    with op.batch_alter_table("criteria_set", schema=None) as batch_op:
        batch_op.drop_index("uq_criteria_set_one_active")
