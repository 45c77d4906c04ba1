"""consultations and meetings: tracks, sessions, meetings, agenda, decisions

Revision ID: 542d5766f500
Revises: af1502f3a44f
Create Date: 2026-11-28 04:42:54.491792
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "542d5766f500"
down_revision: str | None = "af1502f3a44f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_counter",
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("academic_year", name=op.f("pk_meeting_counter")),
    )
    op.create_table(
        "meeting",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("academic_year", sa.String(length=9), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("format", sa.String(length=30), nullable=False),
        sa.Column("place", sa.String(length=300), nullable=True),
        sa.Column("online_url", sa.String(length=500), nullable=True),
        sa.Column("facilitator_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("reflection_worked", sa.Text(), nullable=False),
        sa.Column("reflection_insights", sa.Text(), nullable=False),
        sa.Column("reflection_changes", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Uuid(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_created_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_facilitator_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting")),
        sa.UniqueConstraint("academic_year", "number", name="uq_meeting_academic_year_number"),
    )
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_meeting_format"), ["format"], unique=False)
        batch_op.create_index("ix_meeting_scheduled_at_id", ["scheduled_at", "id"], unique=False)
        batch_op.create_index(
            "ix_meeting_search_text_trgm",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.create_index(
            "ix_meeting_status_scheduled_at_id", ["status", "scheduled_at", "id"], unique=False
        )

    op.create_table(
        "consultation_track",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("preferred_format", sa.String(length=20), nullable=True),
        sa.Column("initiative_id", sa.Uuid(), nullable=True),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=30), nullable=True),
        sa.Column("close_comment", sa.Text(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_session_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("session_count", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_consultation_track_initiative_id_initiative"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["app_user.id"],
            name=op.f("fk_consultation_track_requester_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_track")),
    )
    with op.batch_alter_table("consultation_track", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_track_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_track_initiative_id"), ["initiative_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_consultation_track_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(
            "ix_consultation_track_search_text_trgm",
            ["search_text"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.create_index(
            "ix_consultation_track_status_created_at_id",
            ["status", "created_at", "id"],
            unique=False,
        )

    op.create_table(
        "meeting_agenda_item",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("initiative_id", sa.Uuid(), nullable=True),
        sa.Column("presenter_id", sa.Uuid(), nullable=True),
        sa.Column("time_box_minutes", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_meeting_agenda_item_initiative_id_initiative"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_agenda_item_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["presenter_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_agenda_item_presenter_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_agenda_item")),
    )
    with op.batch_alter_table("meeting_agenda_item", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_agenda_item_initiative_id_meeting_id",
            ["initiative_id", "meeting_id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_meeting_agenda_item_meeting_id_position_id",
            ["meeting_id", "position", "id"],
            unique=False,
        )

    op.create_table(
        "meeting_attendee",
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_attendee_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_attendee_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("meeting_id", "user_id", name=op.f("pk_meeting_attendee")),
    )
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.create_index(
            "ix_meeting_attendee_user_id_meeting_id", ["user_id", "meeting_id"], unique=False
        )

    op.create_table(
        "consultation_consultant",
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["consultation_track.id"],
            name=op.f("fk_consultation_consultant_track_id_consultation_track"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_consultation_consultant_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("track_id", "user_id", name=op.f("pk_consultation_consultant")),
    )
    with op.batch_alter_table("consultation_consultant", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_consultant_user_id_track_id", ["user_id", "track_id"], unique=False
        )

    op.create_table(
        "consultation_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("track_id", sa.Uuid(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("next_steps", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_consultation_session_recorded_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["track_id"],
            ["consultation_track.id"],
            name=op.f("fk_consultation_session_track_id_consultation_track"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_session")),
    )
    with op.batch_alter_table("consultation_session", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consultation_session_track_id_held_at_id",
            ["track_id", "held_at", "id"],
            unique=False,
        )

    op.create_table(
        "meeting_decision",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("agenda_item_id", sa.Uuid(), nullable=False),
        sa.Column("initiative_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=True),
        sa.Column(
            "transition_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=True),
        sa.Column("votes_against", sa.Integer(), nullable=True),
        sa.Column("votes_abstain", sa.Integer(), nullable=True),
        sa.Column("review_on", sa.Date(), nullable=True),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agenda_item_id"],
            ["meeting_agenda_item.id"],
            name=op.f("fk_meeting_decision_agenda_item_id_meeting_agenda_item"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_meeting_decision_initiative_id_initiative"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
            name=op.f("fk_meeting_decision_meeting_id_meeting"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["app_user.id"],
            name=op.f("fk_meeting_decision_recorded_by_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["transition_id"],
            ["transition.id"],
            name=op.f("fk_meeting_decision_transition_id_transition"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meeting_decision")),
    )
    with op.batch_alter_table("meeting_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_meeting_decision_agenda_item_id"), ["agenda_item_id"], unique=False
        )
        batch_op.create_index(
            "ix_meeting_decision_created_at_id", ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            "ix_meeting_decision_initiative_id_created_at_id",
            ["initiative_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_meeting_decision_meeting_id_created_at_id",
            ["meeting_id", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_meeting_decision_review_on"), ["review_on"], unique=False
        )

    op.create_table(
        "consultation_session_attendee",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["consultation_session.id"],
            name=op.f("fk_consultation_session_attendee_session_id_consultation_session"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_consultation_session_attendee_user_id_app_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "session_id", "user_id", name=op.f("pk_consultation_session_attendee")
        ),
    )


def downgrade() -> None:
    op.drop_table("consultation_session_attendee")
    with op.batch_alter_table("meeting_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_meeting_decision_review_on"))
        batch_op.drop_index("ix_meeting_decision_meeting_id_created_at_id")
        batch_op.drop_index("ix_meeting_decision_initiative_id_created_at_id")
        batch_op.drop_index("ix_meeting_decision_created_at_id")
        batch_op.drop_index(batch_op.f("ix_meeting_decision_agenda_item_id"))

    op.drop_table("meeting_decision")
    with op.batch_alter_table("consultation_session", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_session_track_id_held_at_id")

    op.drop_table("consultation_session")
    with op.batch_alter_table("consultation_consultant", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_consultant_user_id_track_id")

    op.drop_table("consultation_consultant")
    with op.batch_alter_table("meeting_attendee", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_attendee_user_id_meeting_id")

    op.drop_table("meeting_attendee")
    with op.batch_alter_table("meeting_agenda_item", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_agenda_item_meeting_id_position_id")
        batch_op.drop_index("ix_meeting_agenda_item_initiative_id_meeting_id")

    op.drop_table("meeting_agenda_item")
    with op.batch_alter_table("consultation_track", schema=None) as batch_op:
        batch_op.drop_index("ix_consultation_track_status_created_at_id")
        batch_op.drop_index(
            "ix_consultation_track_search_text_trgm",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.drop_index(batch_op.f("ix_consultation_track_requester_id"))
        batch_op.drop_index(batch_op.f("ix_consultation_track_initiative_id"))
        batch_op.drop_index("ix_consultation_track_created_at_id")

    op.drop_table("consultation_track")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_index("ix_meeting_status_scheduled_at_id")
        batch_op.drop_index(
            "ix_meeting_search_text_trgm",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        )
        batch_op.drop_index("ix_meeting_scheduled_at_id")
        batch_op.drop_index(batch_op.f("ix_meeting_format"))

    op.drop_table("meeting")
    op.drop_table("meeting_counter")
