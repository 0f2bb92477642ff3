"""Portable SQL building blocks shared by the repositories."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def dialect_name(session: AsyncSession) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


async def insert_ignore(
    session: AsyncSession, table: Table, values: dict[str, Any], conflict: Sequence[str]
) -> bool:
    """INSERT a row unless one with the same ``conflict`` columns exists; True when inserted."""
    module: Any = postgresql if dialect_name(session) == "postgresql" else sqlite
    stmt = module.insert(table).values(**values).on_conflict_do_nothing(index_elements=conflict)
    result = await session.execute(stmt)
    return bool(getattr(result, "rowcount", 0))
