"""The contact log: every attempt to reach a roster person, and the newest one on the person.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTCOMES = (
    "notified",
    "no_answer",
    "wrong_number",
    "refused",
    "insured_elsewhere",
    "invited",
)


def _outcome() -> sa.Enum:
    return sa.Enum(*_OUTCOMES, name="contactoutcome", native_enum=False, length=20)


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("contacted_on", sa.Date(), nullable=False),
        sa.Column("outcome", _outcome(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_label", sa.String(length=128), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("investigator_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_contacts_person_id_persons")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_contacts_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["investigator_id"],
            ["investigators.id"],
            name=op.f("fk_contacts_investigator_id_investigators"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(
        "ix_contacts_person_id_contacted_on", "contacts", ["person_id", "contacted_on"], unique=False
    )
    with op.batch_alter_table("persons") as batch:
        batch.add_column(sa.Column("last_contact_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("last_contact_outcome", _outcome(), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_contacts_person_id_contacted_on", table_name="contacts")
    op.drop_table("contacts")
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+): recreating ``persons`` would fail its
    # foreign keys while records and invites point at it.
    with op.batch_alter_table("persons", recreate="never") as batch:
        batch.drop_column("last_contact_outcome")
        batch.drop_column("last_contact_on")
