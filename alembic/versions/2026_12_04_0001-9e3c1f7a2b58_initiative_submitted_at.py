"""initiative.submitted_at: the first submission, on the row the visibility rule reads

Revision ID: 9e3c1f7a2b58
Revises: 5d2e9a7c4b10
Create Date: 2026-12-04 06:00:00.000000

Who may read an initiative depended on its transitions: past the draft, except a draft
withdrawn before it was ever submitted. Every list page asked the transition table for the
drafts withdrawn unsent (on PostgreSQL a scan of it per page once such a row was near: 38 ms
against 4 ms for a page that met none, at 455 000 transitions). The first submission's moment
now stands on the initiative; the rows of earlier versions take it from their first `submit`.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "9e3c1f7a2b58"
down_revision: str | None = "5d2e9a7c4b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

initiative = sa.table("initiative", sa.column("id", sa.Uuid()), sa.column("submitted_at"))
transition = sa.table(
    "transition",
    sa.column("initiative_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("at"),
)


def upgrade() -> None:
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.add_column(sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True))
    first_submit = (
        sa.select(sa.func.min(transition.c.at))
        .where(transition.c.initiative_id == initiative.c.id, transition.c.action == "submit")
        .scalar_subquery()
    )
    op.execute(initiative.update().values(submitted_at=first_submit))


def downgrade() -> None:
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_column("submitted_at")
