"""Investigators' badges (工作牌) that residents verify; districts' notes to the city (五.7).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("investigator_id", sa.Integer(), nullable=False),
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("office_phone", sa.String(length=32), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=128), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["investigator_id"],
            ["investigators.id"],
            name=op.f("fk_badges_investigator_id_investigators"),
        ),
        sa.ForeignKeyConstraint(
            ["community_id"], ["communities.id"], name=op.f("fk_badges_community_id_communities")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("number", name=op.f("uq_badges_number")),
    )
    op.create_index(op.f("ix_badges_investigator_id"), "badges", ["investigator_id"], unique=False)
    op.create_table(
        "city_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("district_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_label", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_by", sa.String(length=128), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(
            ["district_id"], ["districts.id"], name=op.f("fk_city_notes_district_id_districts")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff.id"], name=op.f("fk_city_notes_author_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_city_notes")),
    )
    op.create_index(op.f("ix_city_notes_district_id"), "city_notes", ["district_id"], unique=False)
    op.create_index(op.f("ix_city_notes_created_at"), "city_notes", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_city_notes_created_at"), table_name="city_notes")
    op.drop_index(op.f("ix_city_notes_district_id"), table_name="city_notes")
    op.drop_table("city_notes")
    op.drop_index(op.f("ix_badges_investigator_id"), table_name="badges")
    op.drop_table("badges")
