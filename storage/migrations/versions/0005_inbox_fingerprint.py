"""Inbox rows known by bot, update id and a fingerprint of the update's content.

Telegram may start the update-id sequence again after a quiet week; with (bot id, update id)
unique, a new update reusing a stored id was taken for a duplicate. Rows already stored get
the fingerprint of their payload, so a redelivery right after the upgrade is still recognised.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.repositories.inbox import fingerprint

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_INBOX = sa.table(
    "inbox",
    sa.column("id", sa.Integer()),
    sa.column("payload", sa.JSON()),
    sa.column("fingerprint", sa.BigInteger()),
)
_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(
            sa.Column("fingerprint", sa.BigInteger(), server_default="0", nullable=False)
        )
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(_INBOX.c.id, _INBOX.c.payload)
            .where(_INBOX.c.id > last)
            .order_by(_INBOX.c.id)
            .limit(_BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            _INBOX.update().where(_INBOX.c.id == sa.bindparam("b_id")),
            [{"b_id": row.id, "fingerprint": fingerprint(row.payload or {})} for row in rows],
        )
        last = rows[-1].id
    with op.batch_alter_table("inbox") as batch:
        batch.drop_constraint("uq_inbox_bot_id_update_id", type_="unique")
        batch.create_unique_constraint(
            "uq_inbox_bot_id_update_id_fingerprint", ["bot_id", "update_id", "fingerprint"]
        )


def downgrade() -> None:
    # Rows that share an update id cannot all stay: keep the first of each.
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "DELETE FROM inbox WHERE id NOT IN "
            "(SELECT MIN(id) FROM inbox GROUP BY bot_id, update_id)"
        )
    )
    with op.batch_alter_table("inbox") as batch:
        batch.drop_constraint("uq_inbox_bot_id_update_id_fingerprint", type_="unique")
        batch.create_unique_constraint("uq_inbox_bot_id_update_id", ["bot_id", "update_id"])
        batch.drop_column("fingerprint")
