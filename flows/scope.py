"""What expressions see while a conversation runs: answers, derived values, mode, functions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from flows import values
from flows.address import is_local, is_mainland
from flows.model import Form


def derived_values(form: Form, answers: Mapping[str, Any], on: dt.date) -> dict[str, Any]:
    """``birth_date`` (ISO), ``sex`` (male/female) and ``age`` (at ``on``) from the ID number;
    empty when the ID has not been answered."""
    number = answers.get(form.derive_from)
    if not isinstance(number, str) or len(number) != 18:
        return {}
    try:
        born = values.birth_date(number)
    except Exception:  # a stored value is always valid; stay total for hand-made states
        return {}
    return {
        "birth_date": born.isoformat(),
        "sex": values.sex(number),
        "age": values.age(number, on),
    }


def _age_of(value: Any, on: dt.date) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return values.age(values.id_number(value, on), on)
    except values.Invalid:
        return None


class AnswerScope:
    """A :class:`flows.expr.Scope` over a conversation's answers."""

    def __init__(
        self,
        form: Form,
        answers: Mapping[str, Any],
        mode: str,
        on: dt.date,
        current: Any = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        self.form = form
        self.answers = answers
        self.mode = mode
        self.on = on
        self._current = current
        self.extra = dict(extra or {})
        self._derived: dict[str, Any] | None = None

    @property
    def current(self) -> Any:
        return self._current

    def lookup(self, name: str) -> Any:
        if name in self.extra:
            return self.extra[name]
        if name == "mode":
            return self.mode
        if name in ("birth_date", "sex", "age"):
            if self._derived is None:
                self._derived = derived_values(self.form, self.answers, self.on)
            return self._derived.get(name)
        return self.answers.get(name)

    def call(self, function: str, args: list[Any]) -> Any:
        if function == "answered":
            value = self.answers.get(str(args[0]))
            return value is not None and value != [] and value != {}
        value = args[0] if args else None
        if function == "in_suzhou":
            return is_local(value, self.form.address)
        if function == "is_mainland":
            return is_mainland(value)
        if function == "age_of":
            return _age_of(value, self.on)
        if function in ("length", "count"):
            return len(value) if isinstance(value, (str, list, tuple, dict)) else 0
        return None
