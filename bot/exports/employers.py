"""Employers reported as not insuring their staff (单位未参保), for labour inspection."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from bot.reference import reference
from flows.address import format_address
from storage.reporting import EmployerLine

HEADERS = ("序号", "单位名称", "单位地址", "涉及人数", "所在区", "记录编号")


def employer_rows(lines: Sequence[EmployerLine]) -> list[list[Any]]:
    """One row per employer: name, addresses given, number of people, districts, record ids."""
    rows = []
    for n, line in enumerate(lines, start=1):
        rows.append(
            [
                n,
                line.name,
                "；".join(format_address(a) for a in line.addresses),
                line.people,
                "、".join(sorted(line.districts)),
                "、".join(reference(i) for i in line.record_ids),
            ]
        )
    return rows


async def aiter_rows(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Any]]:
    """The rows as an async iterable (what the XLSX writer reads)."""
    for row in rows:
        yield row
