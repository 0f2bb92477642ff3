"""``canbao db check``: stored text that cannot be shown as it is, found and repaired.

Every text and JSON column of the survey's tables is read in batches; a value that
:func:`bot.display.display_text` would change (a control character, a lone surrogate, a bidi
override, anywhere in a JSON document, keys included) is reported by table, column and row,
never by its content (it is personal data). ``repair`` writes the displayed value back, one
audit event per row, in one transaction per batch, so what is shown and what is stored agree
again. The transport queues (inbox, outbox) are left alone: they hold Telegram's messages as
they came and go, and nothing shows them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.display import display_text, display_value, is_display_safe
from storage.models import Base
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.types import EncryptedJSON, EncryptedText

SKIPPED_TABLES = frozenset({"inbox", "outbox"})
BATCH = 500


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row holding text that is not display-safe: where, never what."""

    table: str
    row: tuple[Any, ...]  # its primary key
    columns: tuple[str, ...]
    record_id: int | None

    def describe(self) -> str:
        """``records #12: state, return_comment``."""
        key = ",".join(str(v) for v in self.row)
        return f"{self.table} #{key}: {', '.join(self.columns)}"


def is_safe_value(value: Any) -> bool:
    """Whether every string in ``value`` (a JSON-like value) is display-safe."""
    if isinstance(value, str):
        return is_display_safe(value)
    if isinstance(value, dict):
        return all(is_safe_value(k) and is_safe_value(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(is_safe_value(v) for v in value)
    return True


def text_tables() -> Iterator[tuple[Table, list[Column[Any]]]]:
    """Each table checked, with its text and JSON columns."""
    for table in Base.metadata.sorted_tables:
        if table.name in SKIPPED_TABLES or not table.primary_key.columns:
            continue
        # Sealed columns are checked as what they hold once opened.
        kinds = String | Text | JSON | EncryptedText | EncryptedJSON
        columns = [c for c in table.columns if isinstance(c.type, kinds)]
        if columns:
            yield table, columns


def _record_id(table: Table, row: Any) -> int | None:
    if table.name == "records":
        return int(row.id)
    if "record_id" in table.c and row.record_id is not None:
        return int(row.record_id)
    return None


async def check_stored_text(
    sessions: async_sessionmaker[AsyncSession], *, repair: bool = False, batch: int = BATCH
) -> list[BadRow]:
    """Every row with text that is not display-safe; with ``repair``, also fixed (audited)."""
    found: list[BadRow] = []
    for table, columns in text_tables():
        keys = list(table.primary_key.columns)
        extra = [table.c.record_id] if "record_id" in table.c else []
        after: tuple[Any, ...] | None = None
        while True:
            stmt = select(*keys, *extra, *columns).order_by(*keys).limit(batch)
            if after is not None:
                stmt = stmt.where(tuple_(*keys) > tuple_(*after))
            async with sessions() as session, session.begin():
                rows = (await session.execute(stmt)).all()
                for row in rows:
                    bad = [c.name for c in columns if not is_safe_value(row._mapping[c.name])]
                    if not bad:
                        continue
                    key = tuple(row._mapping[k.name] for k in keys)
                    item = BadRow(table.name, key, tuple(bad), _record_id(table, row))
                    found.append(item)
                    if repair:
                        await _repair(session, table, keys, row, item)
            if len(rows) < batch:
                break
            last = rows[-1]
            after = tuple(last._mapping[k.name] for k in keys)
    return found


async def _repair(
    session: AsyncSession, table: Table, keys: list[Column[Any]], row: Any, item: BadRow
) -> None:
    values = {}
    for name in item.columns:
        value = row._mapping[name]
        values[name] = display_text(value) if isinstance(value, str) else display_value(value)
    where = [k == row._mapping[k.name] for k in keys]
    await session.execute(update(table).where(*where).values(**values))
    add_event(
        session,
        Actor.system("数据检查"),
        "text_repaired",
        record_id=item.record_id,
        channel="cli",
        details={"table": item.table, "row": list(item.row), "columns": list(item.columns)},
    )
