"""Checks that what the server sent opens in the programs people and systems read it with."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from openpyxl import load_workbook
from pypdf import PdfReader


def strict_json(body: bytes) -> Any:
    """The JSON value of ``body``, read as a strict reader would: UTF-8 only, no NaN or
    Infinity, and no string holding a lone surrogate (an ``\\ud800`` escape is valid JSON
    syntax, yet Rust's serde, Go's encoding/json and PostgreSQL's jsonb refuse or mangle it)."""

    def refuse(name: str) -> Any:
        raise ValueError(f"non-standard JSON constant {name}")

    value = json.loads(body.decode("utf-8"), parse_constant=refuse)
    _no_surrogates(value)
    return value


def _no_surrogates(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # UnicodeEncodeError on a lone surrogate
    elif isinstance(value, dict):
        for key, item in value.items():
            _no_surrogates(key)
            _no_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _no_surrogates(item)


def xlsx_rows(body: bytes) -> list[tuple[Any, ...]]:
    """Every row of the first sheet (openpyxl raises on a broken file)."""
    sheet = load_workbook(io.BytesIO(body), read_only=True).active
    assert sheet is not None
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def csv_rows(body: bytes) -> list[list[str]]:
    """The rows of a UTF-8 CSV with a byte-order mark."""
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def pdf_text(body: bytes) -> str:
    """The text of every page, whitespace removed (pypdf raises on a broken file)."""
    reader = PdfReader(io.BytesIO(body))
    return "".join("".join(page.extract_text().split()) for page in reader.pages)
