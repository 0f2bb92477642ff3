"""The chat page's actions on a conversation, checked before the engine sees them.

A request that cannot be meant (an option the question does not have, a field the summary does
not show) is refused with 400; an action that does not fit the current step with 409; a wrong
answer is the engine's :class:`~flows.Rejected`, shown to the person with the same question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.telegram.i18n import gettext as _
from bot.webchat.errors import bad_request, out_of_order
from bot.webchat.payload import text_value
from flows import Conversation, EngineError, Rejected

# Action name → the body keys it takes (besides the caller's own, e.g. ``version``).
CONVERSATION_ACTIONS: dict[str, frozenset[str]] = {
    "answer": frozenset({"text"}),
    "keep": frozenset(),
    "skip": frozenset(),
    "toggle": frozenset({"code"}),
    "finish": frozenset(),
    "back": frozenset(),
    "edit": frozenset({"field"}),
    "confirm_warnings": frozenset(),
    "proceed": frozenset(),
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """``changed``: the state moved (save it). ``error``: the engine's refusal, shown as is."""

    changed: bool
    error: str | None = None


def _asking(conv: Conversation) -> None:
    if conv.complete:
        raise out_of_order(_("表格已经填完，请提交；如需修改请先返回汇总。"))
    if conv.prompt is None:
        raise out_of_order(
            _("请先核对汇总信息：确认无误请点“确认无误”，需要修改请点该项的“修改”。")
        )


def _result(before: dict[str, Any], conv: Conversation, result: object) -> Outcome:
    if isinstance(result, Rejected):
        return Outcome(False, result.message)
    return Outcome(conv.state != before)


def apply_action(conv: Conversation, action: str, data: dict[str, Any]) -> Outcome:
    """Run ``action`` with its body ``data`` on ``conv`` (changed in place)."""
    before = conv.state
    if action == "answer":
        _asking(conv)
        return _result(before, conv, conv.answer(text_value(data, "text")))
    if action == "keep":
        _asking(conv)
        return _result(before, conv, conv.keep())
    if action == "skip":
        _asking(conv)
        return _result(before, conv, conv.skip())
    if action in ("toggle", "finish"):
        _asking(conv)
        prompt = conv.prompt
        if prompt is None or prompt.kind != "select_multiple":
            raise out_of_order(_("这一项不是多选题，请直接回答。"))
        if action == "finish":
            return _result(before, conv, conv.finish_multi())
        code = text_value(data, "code")
        if code not in {c.code for c in prompt.choices}:
            raise bad_request(_("请求中的选项不属于当前问题，请刷新页面后重试。"))
        conv.toggle(code)
        return Outcome(conv.state != before)
    if action == "back":
        conv.back()
        return Outcome(conv.state != before)
    if action == "edit":
        name = text_value(data, "field")
        if name not in {item.name for item in conv.summary() if item.editable}:
            raise bad_request(_("没有这一项可以修改，请刷新页面后重试。"))
        try:
            conv.edit(name)
        except EngineError:
            raise bad_request(_("这一项现在不能修改，请刷新页面后重试。")) from None
        return Outcome(conv.state != before)
    if action == "confirm_warnings":
        if not conv.at_review:
            raise out_of_order(_("现在没有需要核对的提示。"))
        conv.confirm_warnings()
        return Outcome(conv.state != before)
    if action == "proceed":
        if not conv.at_review:
            raise out_of_order(_("请先回答完当前问题，再确认汇总信息。"))
        return _result(before, conv, conv.proceed())
    raise bad_request(_("无法识别的操作。"))
