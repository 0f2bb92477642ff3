"""Correcting one answer of a confirmed record through the form engine (so it is validated
exactly as when it was first given), producing the new answers and state for a new revision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows import Conversation, EngineError, Form, Rejected
from flows.values import clean_text

# Questions answered by several boxes in turn: corrected by returning the record instead.
_NOT_CORRECTABLE = ("address", "note", "confirm")


class CorrectionError(ValueError):
    """The correction cannot be made; the message says why and what to do (Chinese)."""


@dataclass(frozen=True, slots=True)
class Corrected:
    """The record after the correction."""

    answers: dict[str, Any]
    state: dict[str, Any]
    flags: list[str]


def correctable_fields(form: Form, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, label) of the answers a reviewer may correct on a confirmed record."""
    return [
        (f.name, f.label)
        for f in form.main_fields
        if f.type not in _NOT_CORRECTABLE and f.name in answers
    ]


def correct_answer(form: Form, state: dict[str, Any], field: str, text: str) -> Corrected:
    """Give ``field`` the answer ``text`` (typed as a person would, or a choice's label).

    Refused when the answer is invalid (the form's own message), or when it would make other
    questions necessary: a change of path needs the person, so the record must be returned.
    """
    text = clean_text(text)
    if field not in dict(correctable_fields(form, state.get("answers", {}))):
        raise CorrectionError("这一项不能在这里更正。")
    conv = Conversation.restore(form, state)
    try:
        conv.reopen([field])
    except EngineError:
        raise CorrectionError("这一项不适用于该登记对象。") from None
    result = conv.answer(text)
    if isinstance(result, Rejected):
        raise CorrectionError(result.message)
    if conv.prompt is not None and conv.prompt.kind == "select_multiple":
        result = conv.finish_multi()
        if isinstance(result, Rejected):
            raise CorrectionError(result.message)
    if not conv.at_review or conv.missing():
        following = conv.prompt.label if conv.prompt is not None else "其他项目"
        raise CorrectionError(
            f"这项更正需要补充新的内容（{following}），不能直接更正；请联系登记人重新填报。"
        )
    # The reviewer has seen the consistency warnings on the record page; they stay as flags.
    flags = [w.code for w in conv.warnings()]
    conv.confirm_warnings()
    proceeded = conv.proceed()
    if isinstance(proceeded, Rejected):
        raise CorrectionError(proceeded.message)
    # The confirmation questions keep what the person gave on paper.
    while conv.prompt is not None:
        answered = conv.keep() if conv.prompt.current is not None else conv.answer("确认")
        if isinstance(answered, Rejected):
            raise CorrectionError(answered.message)
    if not conv.complete:
        raise CorrectionError("更正后表格不完整，请联系登记人重新填报。")
    return Corrected(conv.record(), conv.state, flags)
