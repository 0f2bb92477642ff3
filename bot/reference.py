"""The reference number a person quotes when calling about a record, the same in every channel."""

from __future__ import annotations

import re

_PATTERN = re.compile(r"^\s*CB(\d{8,})\s*$", re.IGNORECASE)


def reference(record_id: int) -> str:
    """``CB`` and the record id in eight digits, e.g. ``CB00000042``."""
    return f"CB{record_id:08d}"


def parse_reference(text: str) -> int | None:
    """The record id in a reference number (or a plain id), ``None`` if it is neither."""
    text = text.strip()
    if text.isdigit():
        return int(text)
    match = _PATTERN.match(text)
    return int(match.group(1)) if match else None
