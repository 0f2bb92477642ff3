"""Reference numbers: one format in every channel, read back from what a caller quotes."""

from __future__ import annotations

import pytest

from bot.reference import parse_reference, reference


def test_reference_is_cb_and_eight_digits() -> None:
    assert reference(42) == "CB00000042"
    assert reference(123456789) == "CB123456789"


@pytest.mark.parametrize(
    ("text", "expected"),
    [("CB00000042", 42), (" cb00000042 ", 42), ("42", 42), ("CB42", None), ("张三", None)],
)
def test_parse_reference(text: str, expected: int | None) -> None:
    assert parse_reference(text) == expected
