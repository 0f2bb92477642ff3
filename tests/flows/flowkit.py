"""Building blocks of the form-engine tests: synthetic ID numbers and scripted walks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from flows import Accepted, Conversation, Prompt, Rejected

# GB 11643-1999: weights of the first 17 digits; the sum mod 11 indexes the check character.
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"

COLLECTION_DATE = dt.date(2014, 11, 1)


def check_digit(first17: str) -> str:
    """The GB 11643 check character of the first 17 digits (written from the standard)."""
    return CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def make_id(region: str = "320508", born: dt.date | str = "19800101", seq: int = 123) -> str:
    """A synthetic, valid 18-character ID: region + birth date + sequence + check digit.

    An odd sequence number is a man, an even one a woman.
    """
    when = born.strftime("%Y%m%d") if isinstance(born, dt.date) else born
    body = f"{region}{when}{seq:03d}"
    return body + check_digit(body)


def born_years_before(years: int, extra_days: int = 0) -> str:
    """A birth date that makes the person ``years`` old on the collection date."""
    day = COLLECTION_DATE.replace(year=COLLECTION_DATE.year - years) - dt.timedelta(days=extra_days)
    return day.strftime("%Y%m%d")


# Step vocabulary of scripted walks: a plain string is typed; tuples are commands.
KEEP = ("keep",)
SKIP = ("skip",)
FINISH = ("finish",)
PROCEED = ("proceed",)
CONFIRM_WARNINGS = ("confirm_warnings",)


def step(conv: Conversation, action: str | tuple[str, ...]) -> Accepted | Rejected | Prompt | None:
    """Run one scripted action."""
    if isinstance(action, str):
        return conv.answer(action)
    command, *args = action
    if command == "keep":
        return conv.keep()
    if command == "skip":
        return conv.skip()
    if command == "toggle":
        return conv.toggle(args[0])
    if command == "finish":
        return conv.finish_multi()
    if command == "proceed":
        return conv.proceed()
    if command == "confirm_warnings":
        conv.confirm_warnings()
        return None
    if command == "back":
        return conv.back()
    if command == "edit":
        return conv.edit(args[0])
    raise ValueError(command)


def walk(conv: Conversation, actions: Iterable[str | tuple[str, ...]]) -> list[str]:
    """Run actions, asserting none is rejected; returns the positions visited (asked states)."""
    visited = [conv.position]
    for action in actions:
        result = step(conv, action)
        assert not isinstance(result, Rejected), (
            f"{action!r} rejected at {visited[-1]}: {result.message}"
        )
        visited.append(conv.position)
    return visited


def start(
    mode: str = "resident", prefill: dict[str, Any] | None = None, **context: Any
) -> Conversation:
    """A conversation on the shipped form, dated 2014-11-01."""
    from flows import load_default_form

    ctx: dict[str, Any] = {"collection_date": COLLECTION_DATE, **context}
    return Conversation.start(load_default_form(), mode=mode, prefill=prefill, context=ctx)


def positions(states: Sequence[str]) -> list[str]:
    """Field names of visited states, without repeats or parts (for path assertions)."""
    out: list[str] = []
    for state in states:
        name = state.split(".")[0]
        if not out or out[-1] != name:
            out.append(name)
    return out
