"""Index for the review queue (status, submitted_at).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_records_status_submitted_at", "records", ["status", "submitted_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_records_status_submitted_at", table_name="records")
