"""Investigators in a browser: one-time sign-in links, server-side sessions, applied actions.

Revision ID: 0008
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "investigator_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("investigator_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["investigator_id"],
            ["investigators.id"],
            name=op.f("fk_investigator_links_investigator_id_investigators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigator_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_investigator_links_token_hash")),
    )
    op.create_index(
        op.f("ix_investigator_links_investigator_id"),
        "investigator_links",
        ["investigator_id"],
        unique=False,
    )
    op.create_table(
        "investigator_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("investigator_id", sa.Integer(), nullable=False),
        sa.Column("device_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["investigator_id"],
            ["investigators.id"],
            name=op.f("fk_investigator_sessions_investigator_id_investigators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigator_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_investigator_sessions_token_hash")),
    )
    op.create_index(
        op.f("ix_investigator_sessions_investigator_id"),
        "investigator_sessions",
        ["investigator_id"],
        unique=False,
    )
    op.create_table(
        "investigator_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("investigator_id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.String(length=64), nullable=False),
        sa.Column("op", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("result_version", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigator_id"],
            ["investigators.id"],
            name=op.f("fk_investigator_actions_investigator_id_investigators"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"], ["records.id"], name=op.f("fk_investigator_actions_record_id_records")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_investigator_actions_person_id_persons")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_investigator_actions")),
        sa.UniqueConstraint(
            "investigator_id",
            "action_id",
            name=op.f("uq_investigator_actions_investigator_id_action_id"),
        ),
    )
    op.create_index(
        op.f("ix_investigator_actions_created_at"),
        "investigator_actions",
        ["created_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_investigator_actions_created_at"), table_name="investigator_actions")
    op.drop_table("investigator_actions")
    op.drop_index(
        op.f("ix_investigator_sessions_investigator_id"), table_name="investigator_sessions"
    )
    op.drop_table("investigator_sessions")
    op.drop_index(op.f("ix_investigator_links_investigator_id"), table_name="investigator_links")
    op.drop_table("investigator_links")
