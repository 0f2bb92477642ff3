"""Portable column types shared by the models."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import DateTime, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators
from sqlalchemy.types import TypeDecorator

from storage import crypto

_frozen: dt.datetime | None = None


def utcnow() -> dt.datetime:
    """The current time as an aware UTC datetime (the only kind the store accepts)."""
    return _frozen if _frozen is not None else dt.datetime.now(dt.UTC)


@contextmanager
def frozen_time(instant: dt.datetime) -> Iterator[None]:
    """Tests: every ``utcnow()`` (and so the survey's clock) answers ``instant`` meanwhile."""
    global _frozen
    if instant.tzinfo is None:
        raise ValueError("frozen_time needs an aware datetime")
    previous, _frozen = _frozen, instant.astimezone(dt.UTC)
    try:
        yield
    finally:
        _frozen = previous


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timestamp that is always an aware UTC ``datetime`` in Python.

    PostgreSQL keeps ``timestamptz``; SQLite has no time zones, so the value is stored as naive
    UTC text and made aware again on the way out. Naive input is refused: a naive time is
    ambiguous, and silently guessing a zone is how audit trails end up an hour off.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError(f"expected an aware datetime, got {value!r}")
        utc = value.astimezone(dt.UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


# What SQL may do with a sealed column itself: test for NULL. Everything else would compare
# ciphertexts (each sealed with its own nonce), which silently finds nothing.
_SEALED_OK = frozenset({operators.is_, operators.is_not, operators.is_distinct_from})


class EncryptedText(TypeDecorator[str]):
    """Text sealed with SM4-GCM (:mod:`storage.crypto`); Python sees the plain value.

    ``context`` (``table.column``) is the associated data: a value copied into another column
    does not decrypt. A value still in plain text (a database not yet migrated, see
    ``canbao db check``) is read as it is.

    ``index`` names the blind-index column beside it and the index's kind: ``==``, ``!=`` and
    ``in_`` on the sealed column are turned into the same comparison of the index with the
    value's blind index (the value as stored: normalised by ``flows.values``). Any other
    comparison of a sealed column raises, rather than compare ciphertexts.
    """

    impl = Text
    cache_ok = True

    class comparator_factory(TypeDecorator.Comparator[str]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            index = self.type.index  # type: ignore[attr-defined]
            if op in _SEALED_OK:
                return super().operate(op, *other, **kwargs)
            if index is not None and op in (operators.eq, operators.ne, operators.in_op):
                kind, name = index
                column = self.expr.table.c[name]
                if op is operators.in_op:
                    return column.in_([crypto.blind_index(kind, v) for v in other[0]])
                return op(column, crypto.blind_index(kind, other[0]))
            raise TypeError(
                f"{self.type.context} is sealed: compare it through its blind index"  # type: ignore[attr-defined]
            )

    def __init__(self, context: str, index: tuple[str, str] | None = None) -> None:
        super().__init__()
        self.context = context
        self.index = index

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return crypto.seal(str(value), self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None or not crypto.is_sealed(value):
            return value  # type: ignore[no-any-return]
        return crypto.unseal(value, self.context)


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON value serialised and sealed as a whole (:class:`EncryptedText`'s rules)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return crypto.seal(json.dumps(value), self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):  # a PostgreSQL json column not yet migrated
            return value
        if crypto.is_sealed(value):
            value = crypto.unseal(value, self.context)
        return json.loads(value)
