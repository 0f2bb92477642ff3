"""What the conversation engine hands to a channel: prompts, results of answers, summaries."""

from __future__ import annotations

from dataclasses import dataclass, field

from flows.model import Choice


@dataclass(frozen=True)
class Prompt:
    """The question to show now.

    ``kind`` is one of ``text, id_number, mobile, select_one, select_multiple, address_part,
    note, confirm``. ``current`` is the value to confirm (an earlier answer, a roster prefill or
    a default) as display text; ``prefilled`` says it came from the roster or a default.
    ``step``/``total`` number the question among those that apply now; ``remaining`` counts the
    questions still ahead (this one included) as the answers stand now, which is what a
    progress line should say: the total grows as answers open branches.
    """

    name: str
    part: str | None
    kind: str
    label: str
    hint: str
    choices: list[Choice] = field(default_factory=list)
    allow_text: bool = True
    optional: bool = False
    current: str | None = None
    selected: frozenset[str] = frozenset()
    step: int = 0
    total: int = 0
    prefilled: bool = False
    remaining: int = 0

    @property
    def state(self) -> str:
        """The machine state: ``name`` or ``name.part``."""
        return f"{self.name}.{self.part}" if self.part else self.name


@dataclass(frozen=True)
class Accepted:
    """The answer was taken; ``prompt`` is the next question (``None`` at review / complete)."""

    value: object
    prompt: Prompt | None


@dataclass(frozen=True)
class Rejected:
    """The answer was refused: ``message`` says what is wrong and what is expected;
    ``prompt`` is the same question again."""

    message: str
    prompt: Prompt | None


@dataclass(frozen=True)
class SummaryItem:
    """One line of the review: ``display`` in full, ``masked`` with ID/phone numbers hidden."""

    name: str
    label: str
    display: str
    editable: bool
    masked: str = ""


@dataclass(frozen=True)
class ConsistencyWarning:
    """A soft consistency finding the person confirms or fixes."""

    code: str
    message: str


# The contract's name; kept distinct from the built-in ``Warning`` inside this package.
Warning = ConsistencyWarning
