"""The compiled form: questions, choice lists, checks and notes as immutable data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flows.expr import Expression

if TYPE_CHECKING:
    from transitions import Machine

QUESTION_TYPES = (
    "text",
    "id_number",
    "mobile",
    "select_one",
    "select_multiple",
    "address",
    "note",
    "confirm",
)
DERIVED = ("birth_date", "sex", "age")
SEX_LABELS = {"male": "男", "female": "女"}
# Names an expression may read besides the questions.
RESERVED = (*DERIVED, "mode")


@dataclass(frozen=True)
class Choice:
    """One option: a stable English code and its Chinese label."""

    code: str
    label: str


@dataclass(frozen=True)
class AddressPart:
    """One box of an address (省 / 市 / 区 / 路 / 号)."""

    name: str
    label: str
    hint: str
    required: Expression


@dataclass(frozen=True)
class AddressRules:
    """Where "local" is (说明4/5: 江苏省苏州市) and which parts an address has."""

    parts: tuple[AddressPart, ...]
    local_province: str
    local_city: str
    local_districts: tuple[Choice, ...]


@dataclass(frozen=True)
class Field:
    """A question of the form, as compiled from the file."""

    name: str
    type: str
    label: str
    hint: str = ""
    required: Expression | None = None
    relevant: tuple[Expression, ...] = ()
    constraint: Expression | None = None
    constraint_message: str = ""
    choice_list: str | None = None
    choices: tuple[Choice, ...] = ()
    allow_text: bool = False
    min_length: int | None = None
    max_length: int | None = None
    format: str | None = None
    parts: tuple[AddressPart, ...] = ()
    default: Expression | None = None
    stage: str = "main"  # "main" (before the review) or "final" (the confirmation)
    group: tuple[str, ...] = ()
    export_header: str = ""

    @property
    def states(self) -> tuple[str, ...]:
        """Machine states of this question: one, or one per address part."""
        if self.type == "address":
            return tuple(f"{self.name}.{p.name}" for p in self.parts)
        return (self.name,)

    def choice_label(self, code: str) -> str:
        """The label of a code, or the code itself (typed text) when it is not in the list."""
        return next((c.label for c in self.choices if c.code == code), code)

    def part(self, name: str) -> AddressPart:
        """An address part by name."""
        return next(p for p in self.parts if p.name == name)


@dataclass(frozen=True)
class Check:
    """A soft consistency check: when ``when`` holds, the person is asked to confirm or fix."""

    code: str
    when: Expression
    message: str


@dataclass(frozen=True)
class PolicyNote:
    """A mobilisation text (form-spec §4) shown when ``when`` holds."""

    code: str
    when: Expression
    text: str


START = "start"
REVIEW = "review"
COMPLETE = "complete"


@dataclass(eq=False)
class Form:
    """A loaded, validated and compiled form. Build it with :func:`flows.load_form`."""

    id: str
    version: int
    title: str
    path: Path | None
    fields: tuple[Field, ...]
    choice_lists: dict[str, tuple[Choice, ...]]
    address: AddressRules
    checks: tuple[Check, ...]
    notes: tuple[PolicyNote, ...]
    export: tuple[tuple[str, str], ...]
    derive_from: str
    machine: Machine = field(repr=False)
    states: tuple[str, ...] = ()
    _by_name: dict[str, Field] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_name = {f.name: f for f in self.fields}

    def field(self, name: str) -> Field:
        """A question by name (``KeyError`` when there is none)."""
        return self._by_name[name]

    def has_field(self, name: str) -> bool:
        """True when the form has a question of that name."""
        return name in self._by_name

    @property
    def main_fields(self) -> tuple[Field, ...]:
        """Questions asked before the review."""
        return tuple(f for f in self.fields if f.stage == "main")

    @property
    def final_fields(self) -> tuple[Field, ...]:
        """Questions asked after the review (who confirms, the acknowledgement)."""
        return tuple(f for f in self.fields if f.stage == "final")

    def export_columns(self) -> list[tuple[str, str]]:
        """``(key, 中文表头)`` in the paper form's order, derived values and metadata included."""
        return list(self.export)

    def label_of(self, name: str, value: Any) -> str:
        """A value as people read it: choice labels joined by "、", addresses written out,
        dates ISO, derived sex as 男/女."""
        from flows.address import format_address

        if value is None:
            return ""
        if name == "sex":
            return SEX_LABELS.get(str(value), str(value))
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()[:10]
        if not self.has_field(name):
            return str(value)
        question = self.field(name)
        if question.type == "select_one":
            return question.choice_label(str(value))
        if question.type == "select_multiple" and isinstance(value, list):
            return "、".join(question.choice_label(str(v)) for v in value)
        if question.type == "address" and isinstance(value, dict):
            return format_address(value)
        if question.type == "confirm":
            return "是" if value else "否"
        return str(value)
