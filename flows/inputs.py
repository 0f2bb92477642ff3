"""Read one typed or chosen answer for a question: normalise it or refuse it in Chinese."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from flows import values
from flows.address import read_part
from flows.matching import match_choice, split_multi
from flows.model import AddressRules, Choice, Field
from flows.values import Invalid

YES_WORDS = {
    "yes",
    "y",
    "ok",
    "是",
    "是的",
    "确认",
    "确定",
    "同意",
    "好",
    "知悉",
    "已知悉",
    "1",
    "true",
}


def read_answer(
    question: Field,
    part: str | None,
    text: str,
    *,
    today: dt.date,
    address_so_far: dict[str, Any] | None,
    rules: AddressRules,
) -> Any:
    """The normalised value of ``text`` for ``question`` (an address ``part``), or :class:`Invalid`.

    Empty input is refused here; the caller decides whether an empty answer means "skip".
    """
    raw = values.one_line(text)
    kind = question.type
    if kind == "note":
        return None
    if part is not None:
        return read_part(part, raw, address_so_far, rules)
    if not raw:
        verb = "选择" if kind.startswith("select") else "填写"
        raise Invalid(f"请{verb}“{question.label}”。")
    if kind == "id_number":
        return values.id_number(raw, today)
    if kind == "mobile":
        return values.mobile(raw)
    if kind == "select_one":
        return _select_one(question, raw)
    if kind == "select_multiple":
        return read_codes(question.choices, split_multi(raw))
    if kind == "confirm":
        if raw.casefold() in YES_WORDS:
            return True
        raise Invalid(f"这一项请点“确认”（或回答“确认”）：{question.label}")
    return _text(question, raw)


def _select_one(question: Field, raw: str) -> str:
    found = match_choice(question.choices, raw)
    if found is not None:
        return found.code
    if question.allow_text:
        return raw
    options = "、".join(c.label for c in question.choices)
    raise Invalid(f"没有“{raw}”这个选项，请从以下选项中选择：{options}。")


def read_codes(choices: Sequence[Choice], items: Sequence[str]) -> list[str]:
    """Codes (in the list's order, without repeats) for chosen or typed items."""
    chosen: set[str] = set()
    for item in items:
        found = match_choice(choices, item)
        if found is None:
            options = "、".join(c.label for c in choices)
            raise Invalid(f"没有“{item}”这个选项，请从以下选项中选择（可多选）：{options}。")
        chosen.add(found.code)
    if not chosen:
        raise Invalid("请至少选择一项。")
    return [c.code for c in choices if c.code in chosen]


def _text(question: Field, raw: str) -> str:
    value = values.person_name(raw) if question.format == "name" else raw
    if question.min_length is not None and len(value) < question.min_length:
        raise Invalid(f"“{question.label}”至少{question.min_length}个字，请补充完整。")
    if question.max_length is not None and len(value) > question.max_length:
        raise Invalid(
            f"“{question.label}”最多{question.max_length}个字，您输入了{len(value)}个字，请精简。"
        )
    return value
