"""The condition language: parsing, evaluation without eval, errors at load time."""

from __future__ import annotations

from typing import Any

import pytest

from flows import FormError
from flows.expr import compile_expression


class Scope:
    def __init__(self, values: dict[str, Any], current: Any = None) -> None:
        self.values = values
        self._current = current

    @property
    def current(self) -> Any:
        return self._current

    def lookup(self, name: str) -> Any:
        return self.values.get(name)

    def call(self, function: str, args: list[Any]) -> Any:
        if function == "answered":
            return self.values.get(args[0]) is not None
        if function == "length":
            return len(args[0] or "")
        return None


VALUES = {
    "insured_status": "never",
    "age": 15,
    "no_civil_capacity": None,
    "uninsured_reasons": ["employer_uninsured", "unaware"],
    "mode": "investigator",
    "name": "张三",
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("insured_status in ('never','lapsed')", True),
        ("insured_status in ('lapsed', 'elsewhere')", False),
        ("insured_status not in ('lapsed', 'elsewhere')", True),
        ("mode == 'investigator'", True),
        ("age < 16 or no_civil_capacity == 'yes'", True),
        ("age >= 16 and no_civil_capacity == 'yes'", False),
        ("'employer_uninsured' in uninsured_reasons", True),
        ("'school_uninsured' in uninsured_reasons", False),
        ("not answered(no_civil_capacity)", True),
        ("not (age < 16)", False),
        ("no_civil_capacity < 3", False),  # unanswered is never ordered
        ("name > 3", False),  # kinds that do not order are simply false
        ('if(age < 16, "child", "adult") == "child"', True),
        ("length(name) == 2", True),
        ("regex(name, '^张')", True),
        ("regex(age, '1')", False),
        ("true and not false", True),
        ("missing == null", True),
        ("age == 15.0", True),
        ("'it\\'s' == \"it's\"", True),
    ],
)
def test_evaluation(source: str, expected: bool) -> None:
    assert compile_expression(source)(Scope(VALUES)) is expected


def test_current_value() -> None:
    assert compile_expression(". != name")(Scope(VALUES, current="李四")) is True


def test_names_are_collected() -> None:
    expr = compile_expression("age < 16 or answered(no_civil_capacity) and mode == 'x'")
    assert expr.names == {"age", "no_civil_capacity", "mode"}


@pytest.mark.parametrize(
    ("source", "code"),
    [
        ("age <", "E_SYNTAX"),
        ("age = 3", "E_SYNTAX"),
        ("(age < 3", "E_SYNTAX"),
        ("age < 3)", "E_SYNTAX"),
        ("", "E_SYNTAX"),
        ("age in ('a',", "E_SYNTAX"),
        ("regex(name, '[')", "E_SYNTAX"),
        ("eval('1')", "E_UNKNOWN_FUNCTION"),
        ("__import__('os')", "E_UNKNOWN_FUNCTION"),
        ("answered('name')", "E_ARITY"),
        ("length(name, age)", "E_ARITY"),
        ("regex(name, age)", "E_ARITY"),
    ],
)
def test_errors(source: str, code: str) -> None:
    with pytest.raises(FormError) as caught:
        compile_expression(source)
    assert caught.value.code == code
