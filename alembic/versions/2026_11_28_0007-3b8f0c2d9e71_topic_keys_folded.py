"""topic keys folded like search: NFKC, casefold, ё → е, so `?topic=` matches as `q` does

Revision ID: 3b8f0c2d9e71
Revises: 1719fcf76b7a
Create Date: 2026-11-28 12:00:00.000000

Data only: the `initiative_topic` rows of every initiative are rebuilt from its `topics` with
the new key. The downgrade keeps the rows (a folded key cannot tell «ё» from «е» again).
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "3b8f0c2d9e71"
down_revision: str | None = "1719fcf76b7a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The keys as app.text.topic_key makes them at this revision (a copy: migrations never import
# the application, which moves on).
KEY_MAX = 100


def _key(topic: str) -> str:
    return unicodedata.normalize("NFKC", topic.strip()).casefold().replace("ё", "е")[:KEY_MAX]


initiative = sa.table("initiative", sa.column("id", sa.Uuid()), sa.column("topics", sa.JSON()))
initiative_topic = sa.table(
    "initiative_topic",
    sa.column("initiative_id", sa.Uuid()),
    sa.column("topic", sa.String(length=KEY_MAX)),
)


def upgrade() -> None:
    conn = op.get_bind()
    stored: dict[object, set[str]] = {}
    for initiative_id, topic in conn.execute(
        sa.select(initiative_topic.c.initiative_id, initiative_topic.c.topic)
    ):
        stored.setdefault(initiative_id, set()).add(topic)
    for initiative_id, topics in conn.execute(sa.select(initiative.c.id, initiative.c.topics)):
        keys = {_key(t) for t in topics or [] if t and t.strip()}
        if keys == stored.get(initiative_id, set()):
            continue
        conn.execute(
            initiative_topic.delete().where(initiative_topic.c.initiative_id == initiative_id)
        )
        if keys:
            conn.execute(
                initiative_topic.insert(),
                [{"initiative_id": initiative_id, "topic": k} for k in sorted(keys)],
            )


def downgrade() -> None:
    pass
