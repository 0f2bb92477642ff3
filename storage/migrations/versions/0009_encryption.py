"""Personal data sealed with SM4 (storage.crypto): sealed columns become text, blind-index
columns for every lookup, the key probes; existing plain values are sealed in batches.

The data pass needs the data keys (CANBAO_DATA_KEY_FILE) when there is anything to seal; it
is idempotent (values already sealed are left alone), so a second run, or a run after a
failure, finishes the job. It runs in the upgrade's one transaction: a failure leaves the
database as it was before.

Revision ID: 0009
Revises: 0006
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from storage import crypto, keys

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_JSON_COLUMNS = {
    "persons": ("insured_members", "extra"),
    "records": ("state",),
    "record_revisions": ("answers",),
    "inbox": ("payload",),
    "outbox": ("payload",),
}
_TEXT_COLUMNS = ("name", "id_number", "mobile")


def _persons_indexes(plain: dict[str, Any]) -> dict[str, Any]:
    return {
        "id_number_index": crypto.blind_index("id_number", plain["id_number"]),
        "mobile_index": crypto.blind_index("mobile", plain["mobile"]),
    }


def _records_index(plain: dict[str, Any]) -> dict[str, Any]:
    number = _records_number(plain)["answered_id_number"]
    return {"answered_id_index": crypto.blind_index("id_number", number)}


def _retype(table: str, columns: tuple[str, ...], *, from_json: bool) -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.alter_column(
                column,
                type_=sa.Text(),
                existing_type=sa.JSON() if from_json else sa.String(),
                postgresql_using=f"{column}::text" if postgres else None,
            )


def upgrade() -> None:
    bind = op.get_bind()
    op.create_table(
        "data_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("probe", sa.Text(), nullable=False),
        sa.Column("index_probe", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_data_keys")),
    )
    # A downgraded SQLite database has the old uniqueness as an index (see downgrade).
    inspector = sa.inspect(bind)
    as_index = bind.dialect.name == "sqlite" and "uq_persons_id_number" in {
        i["name"] for i in inspector.get_indexes("persons")
    }
    if as_index:
        op.drop_index("uq_persons_id_number", table_name="persons")
    with op.batch_alter_table("persons") as batch:
        if not as_index:
            batch.drop_constraint("uq_persons_id_number", type_="unique")
        batch.add_column(sa.Column("id_number_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("mobile_index", sa.String(length=64), nullable=True))
        for column in _TEXT_COLUMNS:
            batch.alter_column(column, type_=sa.Text(), existing_type=sa.String())
    for table, columns in _JSON_COLUMNS.items():
        _retype(table, columns, from_json=True)
    op.drop_index("ix_records_answered_id_number", table_name="records")
    with op.batch_alter_table("records") as batch:
        batch.add_column(sa.Column("answered_id_index", sa.String(length=64), nullable=True))

    if any(bind.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first() for t in keys.SEALED):
        keys.reseal_all(bind, derive={"persons": _persons_indexes, "records": _records_index})
        keys.verify_keys(bind)

    with op.batch_alter_table("records") as batch:
        batch.drop_column("answered_id_number")
    op.create_index(
        op.f("ix_records_answered_id_index"), "records", ["answered_id_index"], unique=False
    )
    with op.batch_alter_table("persons") as batch:
        batch.alter_column("id_number_index", existing_type=sa.String(length=64), nullable=False)
    op.create_index(op.f("ix_persons_id_number_index"), "persons", ["id_number_index"], unique=True)
    op.create_index(op.f("ix_persons_mobile_index"), "persons", ["mobile_index"], unique=False)


def downgrade() -> None:
    # Back to plain values: needs the keys, like the upgrade. On SQLite only what its ALTER
    # TABLE does in place (a copy of persons or records cannot be dropped while other rows
    # point at it and foreign keys are on); its column types are only affinities anyway.
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    op.drop_index(op.f("ix_persons_mobile_index"), table_name="persons")
    op.drop_index(op.f("ix_persons_id_number_index"), table_name="persons")
    op.drop_index(op.f("ix_records_answered_id_index"), table_name="records")
    op.add_column("records", sa.Column("answered_id_number", sa.String(length=18), nullable=True))
    if any(bind.execute(sa.text(f"SELECT 1 FROM {t} LIMIT 1")).first() for t in keys.SEALED):
        keys.reseal_all(bind, unseal=True, derive={"records": _records_number})
    op.create_index(
        "ix_records_answered_id_number", "records", ["answered_id_number"], unique=False
    )
    for table, column in (
        ("records", "answered_id_index"),
        ("persons", "mobile_index"),
        ("persons", "id_number_index"),
    ):
        if sqlite:
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        else:
            op.drop_column(table, column)
    if sqlite:
        op.create_index("uq_persons_id_number", "persons", ["id_number"], unique=True)
    else:
        for table, columns in _JSON_COLUMNS.items():
            for column in columns:
                op.alter_column(
                    table,
                    column,
                    type_=sa.JSON(),
                    existing_type=sa.Text(),
                    postgresql_using=f"{column}::json",
                )
        for column, length in zip(_TEXT_COLUMNS, (64, 18, 20), strict=True):
            op.alter_column(
                "persons", column, type_=sa.String(length=length), existing_type=sa.Text()
            )
        op.create_unique_constraint("uq_persons_id_number", "persons", ["id_number"])
    op.drop_table("data_keys")


def _records_number(plain: dict[str, Any]) -> dict[str, Any]:
    state = plain["state"] if isinstance(plain["state"], dict) else {}
    answers = state.get("answers")
    value = answers.get("id_number") if isinstance(answers, dict) else None
    return {"answered_id_number": value if isinstance(value, str) and len(value) == 18 else None}
