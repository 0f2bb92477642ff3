"""The store's side of the data keys: which columns are sealed, the start-up key check,
sealing plain values in batches (the 0009 migration), re-sealing under a new key
(``canbao keys rotate``) and finding values left in plain text (``canbao db check``).

Everything here works on a synchronous :class:`~sqlalchemy.engine.Connection` (Alembic's, or
an async connection's ``run_sync``) with lightweight tables, so the migration does not depend
on the models as they will be later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import crypto
from storage.types import UTCDateTime, utcnow

# Every sealed column, by table: "text" or "json" (a JSON value sealed as a whole).
SEALED: dict[str, dict[str, str]] = {
    "persons": {
        "name": "text",
        "id_number": "text",
        "mobile": "text",
        "residence_address": "text",
        "hukou_address": "text",
        "insured_members": "json",
        "insured_members_raw": "text",
        "extra": "json",
    },
    "records": {"state": "json"},
    "record_revisions": {"answers": "json"},
    "inbox": {"payload": "json"},
    "outbox": {"payload": "json"},
}
BATCH = 500
_PROBE = "canbao-data-key-probe"


def _table(name: str, *columns: str) -> sa.TableClause:
    return sa.table(name, sa.column("id", sa.Integer), *(sa.column(c, sa.Text) for c in columns))


# ------------------------------------------------------------------------ start-up check


def verify_keys(conn: Connection, *, register: bool = True) -> None:
    """Stop (:class:`~storage.crypto.DataKeyError`) unless the process's keys are the ones
    the data was sealed with: each key that sealed data here left a probe in ``data_keys``.
    With ``register``, the active key's probe is added when missing (a first start, a
    rotation). A database without the table (not yet migrated) is not checked."""
    keys = crypto.keyring()
    if not sa.inspect(conn).has_table("data_keys"):
        return
    table = sa.table(
        "data_keys",
        sa.column("key_id", sa.String),
        sa.column("probe", sa.Text),
        sa.column("index_probe", sa.String),
        sa.column("created_at", UTCDateTime()),
    )
    rows = conn.execute(sa.select(table.c.key_id, table.c.probe, table.c.index_probe)).all()
    if rows and rows[0].index_probe != keys.blind_index("probe", _PROBE):
        raise crypto.DataKeyError(
            "数据密钥文件与数据库不符（索引密钥不同）：请使用写入这些数据时的密钥文件"
        )
    for row in rows:
        if row.key_id not in keys.keys:
            raise crypto.DataKeyError(
                f"数据库中有用密钥 {row.key_id} 加密的数据，但密钥文件中没有这个密钥"
            )
        try:
            ok = keys.decrypt(row.probe, "data_keys.probe") == _PROBE
        except crypto.DataKeyError:
            ok = False
        if not ok:
            raise crypto.DataKeyError(
                f"数据密钥文件中的密钥 {row.key_id} 不是加密这些数据时用的密钥"
            )
    if register and keys.active not in {row.key_id for row in rows}:
        # Several workers may start at once: the first one's probe wins.
        dialect_insert = sqlite_insert if conn.dialect.name == "sqlite" else pg_insert
        conn.execute(
            dialect_insert(table)
            .values(
                key_id=keys.active,
                probe=keys.encrypt(_PROBE, "data_keys.probe"),
                index_probe=keys.blind_index("probe", _PROBE),
                created_at=utcnow(),
            )
            .on_conflict_do_nothing()
        )


async def check_keys(engine: AsyncEngine, *, register: bool = True) -> None:
    """:func:`verify_keys` on its own transaction (read-only unless ``register``)."""
    crypto.keyring()  # no key file at all: stop before connecting
    async with engine.connect() as conn:
        await conn.run_sync(verify_keys, register=register)
        await conn.commit()


# ------------------------------------------------------------------ sealing in batches

Derive = Callable[[dict[str, Any]], dict[str, Any]]


def _plain_text(value: Any, kind: str) -> str:
    if kind == "json" and not isinstance(value, str):
        return json.dumps(value)
    return str(value)


def reseal_batch(
    conn: Connection,
    table_name: str,
    *,
    after: int = 0,
    batch: int = BATCH,
    rotate: bool = False,
    unseal: bool = False,
    derive: Derive | None = None,
) -> tuple[int | None, int]:
    """Seal the plain values of up to ``batch`` rows with ids above ``after``; with
    ``rotate``, also re-seal values sealed under another key than the active one.

    ``unseal`` does the opposite: every sealed value is written back in plain text (the
    0009 migration's downgrade). ``derive(plain_row)`` gives extra columns to set from the
    plain values (the blind indexes during the migration). Returns the last id seen (None: no
    rows left) and how many rows changed. Idempotent: a row already sealed under the active
    key is left as it is.
    """
    keys = crypto.keyring()
    columns = SEALED[table_name]
    table = _table(table_name, *columns)
    rows = conn.execute(
        sa.select(table.c.id, *(table.c[c] for c in columns))
        .where(table.c.id > after)
        .order_by(table.c.id)
        .limit(batch)
    ).all()
    if not rows:
        return None, 0
    changes: list[dict[str, Any]] = []
    for row in rows:
        values = row._mapping
        plain: dict[str, Any] = {}
        update: dict[str, Any] = {}
        for column, kind in columns.items():
            value = values[column]
            context = f"{table_name}.{column}"
            if value is None:
                plain[column] = None
                continue
            stale = rotate and crypto.is_sealed(value) and crypto.key_id_of(value) != keys.active
            if unseal:
                if not crypto.is_sealed(value):
                    continue
                text = keys.decrypt(value, context)
                update[column] = text
            elif crypto.is_sealed(value):
                if not stale and derive is None:
                    continue
                text = keys.decrypt(value, context)
                if stale:
                    update[column] = keys.encrypt(text, context)
            else:
                text = _plain_text(value, kind)
                update[column] = keys.encrypt(text, context)
            plain[column] = json.loads(text) if kind == "json" else text
        if derive is not None and update:
            update.update(derive(plain))
        if update:
            changes.append({"_id": row.id, **update})
    by_shape: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        by_shape.setdefault(tuple(sorted(change)), []).append(change)
    for shape, items in by_shape.items():
        target = sa.table(table_name, sa.column("id"), *(sa.column(c) for c in shape if c != "_id"))
        stmt = (
            sa.update(target)
            .where(target.c.id == sa.bindparam("_id"))
            .values({c: sa.bindparam(c) for c in shape if c != "_id"})
        )
        conn.execute(stmt, items)
    return rows[-1].id, len(changes)


def reseal_all(
    conn: Connection,
    *,
    rotate: bool = False,
    unseal: bool = False,
    derive: dict[str, Derive] | None = None,
    batch: int = BATCH,
    commit: Callable[[], None] | None = None,
) -> dict[str, int]:
    """:func:`reseal_batch` over every sealed table; ``commit()`` after each batch (a
    rotation on a running service: a kill loses at most one batch, and running it again
    carries on). Returns the rows changed per table."""
    changed: dict[str, int] = {}
    for table_name in SEALED:
        after: int | None = 0
        changed[table_name] = 0
        while after is not None:
            after, n = reseal_batch(
                conn,
                table_name,
                after=after,
                batch=batch,
                rotate=rotate,
                unseal=unseal,
                derive=(derive or {}).get(table_name),
            )
            changed[table_name] += n
            if commit is not None:
                commit()
    return changed


# ---------------------------------------------------------------------------- db check


@dataclass(frozen=True, slots=True)
class SealReport:
    """Values of one column: left in plain text, and sealed under a key that is not the
    active one (a rotation not finished)."""

    table: str
    column: str
    plain: int
    old_key: int


def seal_report(conn: Connection) -> list[SealReport]:
    """Count, per sealed column, the values in plain text and those under an old key."""
    keys = crypto.keyring()
    active = f"{crypto.PREFIX}{keys.active}:%"
    found = []
    for table_name, columns in SEALED.items():
        table = _table(table_name, *columns)
        for column in columns:
            col = sa.cast(table.c[column], sa.Text)
            plain, old = conn.execute(
                sa.select(
                    sa.func.count().filter(~col.like(f"{crypto.PREFIX}%")),
                    sa.func.count().filter(col.like(f"{crypto.PREFIX}%"), ~col.like(active)),
                ).where(table.c[column].is_not(None))
            ).one()
            if plain or old:
                found.append(SealReport(table_name, column, plain, old))
    return found
