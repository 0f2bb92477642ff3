"""Records: the answered 公民身份号码 (identity checks) and the Telegram question pointer.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("answered_id_number", sa.String(length=18), nullable=True))
    op.add_column("records", sa.Column("asked_version", sa.Integer(), nullable=True))
    op.add_column("records", sa.Column("asked_message_id", sa.BigInteger(), nullable=True))
    op.create_index(
        "ix_records_answered_id_number", "records", ["answered_id_number"], unique=False
    )
    # Existing records: the number their answers already give.
    if op.get_bind().dialect.name == "postgresql":
        answered = "(state -> 'answers' ->> 'id_number')"
    else:
        answered = "json_extract(state, '$.answers.id_number')"
    op.execute(
        f"UPDATE records SET answered_id_number = {answered} "
        f"WHERE length({answered}) = 18"
    )


def downgrade() -> None:
    op.drop_index("ix_records_answered_id_number", table_name="records")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35): a batch copy of ``records`` would have
    # to drop a table other tables' foreign keys point at.
    op.drop_column("records", "asked_message_id")
    op.drop_column("records", "asked_version")
    op.drop_column("records", "answered_id_number")
