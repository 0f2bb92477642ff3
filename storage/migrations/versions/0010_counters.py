"""Per-community counters for the progress pages, kept by triggers (storage.counters).

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage import counters

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "summary_persons",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "status", name=op.f("pk_summary_persons")),
    )
    op.create_table(
        "summary_records",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("investigator_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("collection_status", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "community_id",
            "investigator_id",
            "status",
            "collection_status",
            "reason",
            name=op.f("pk_summary_records"),
        ),
    )
    op.create_table(
        "summary_households",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("household_id", sa.Integer(), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("visited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "household_id", name=op.f("pk_summary_households")),
    )
    op.create_table(
        "summary_hours",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", "kind", "hour", name=op.f("pk_summary_hours")),
    )
    op.create_table(
        "summary_communities",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("visited", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_summary_communities")),
    )
    connection = op.get_bind()
    # Counted once from what is stored, then kept by the triggers in the same transaction.
    counters.install_triggers(connection)
    counters.rebuild_on(connection)


def downgrade() -> None:
    connection = op.get_bind()
    for statement in counters.drop_ddl(connection.dialect.name):
        connection.exec_driver_sql(statement)
    for table in (
        "summary_communities",
        "summary_hours",
        "summary_households",
        "summary_records",
        "summary_persons",
    ):
        op.drop_table(table)
