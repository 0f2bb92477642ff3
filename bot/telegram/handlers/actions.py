"""A pressed button, applied to the conversation: the mapping from :class:`Op` to the form
engine's calls, and what the chat should show afterwards. No Bot API calls here."""

from __future__ import annotations

from dataclasses import dataclass

from bot.telegram.callbacks import Op
from bot.telegram.i18n import gettext as _
from bot.telegram.render import answered_text, shown_current
from flows import Accepted, Conversation, EngineError, Prompt, Rejected


@dataclass(frozen=True)
class Outcome:
    """What a button did.

    ``error``: refused (shown as the button's answer; nothing changed). ``changed``: the
    conversation moved and must be saved. ``answered``: the text the pressed question message
    becomes ("问题：答案"). ``redraw``: the pressed message is drawn again in place (a toggle).
    ``submit``: the form is to be submitted.
    """

    changed: bool = False
    error: str | None = None
    answered: str | None = None
    redraw: bool = False
    submit: bool = False


def _refused(message: str) -> Outcome:
    return Outcome(error=message)


def _after(prompt: Prompt, result: Accepted | Rejected, shown: str) -> Outcome:
    if isinstance(result, Rejected):
        return _refused(result.message)
    return Outcome(changed=True, answered=answered_text(prompt, shown))


def apply(conv: Conversation, op: Op, value: str) -> Outcome:
    """Apply one button to ``conv`` (changed in place)."""
    prompt = conv.prompt
    if op in (Op.choose, Op.keep, Op.skip, Op.note, Op.toggle, Op.finish):
        if prompt is None:
            return _refused(_("这个问题已经回答过了。"))
        return _answer(conv, prompt, op, value)
    if op in (Op.proceed, Op.warned):
        if not conv.at_review:
            return _refused(_("请先回答完当前问题。"))
        if op == Op.warned:
            conv.confirm_warnings()
        result = conv.proceed()
        if isinstance(result, Rejected):
            return _refused(result.message)
        return Outcome(changed=True)
    if op == Op.edit:
        try:
            conv.edit(value)
        except EngineError:
            return _refused(_("这一项现在不能修改。"))
        return Outcome(changed=True)
    if op == Op.submit:
        if not conv.complete:
            return _refused(_("还没有填写完成，请先回答当前问题。"))
        return Outcome(submit=True)
    return _refused(_("这个按钮无效。"))


def _answer(conv: Conversation, prompt: Prompt, op: Op, value: str) -> Outcome:
    if op == Op.choose:
        choice = next((c for c in prompt.choices if c.code == value), None)
        if choice is None:
            return _refused(_("这个选项不属于当前问题。"))
        return _after(prompt, conv.answer(choice.code), choice.label)
    if op == Op.keep:
        return _after(prompt, conv.keep(), shown_current(prompt) or "")
    if op == Op.skip:
        return _after(prompt, conv.skip(), _("（跳过）"))
    if op == Op.note:
        if prompt.kind != "note":
            return _refused(_("这个按钮已过期。"))
        return _after(prompt, conv.answer(""), _("已阅读"))
    if op == Op.toggle:
        if prompt.kind != "select_multiple" or value not in {c.code for c in prompt.choices}:
            return _refused(_("这个选项不属于当前问题。"))
        conv.toggle(value)
        return Outcome(changed=True, redraw=True)
    # Op.finish
    chosen = "、".join(c.label for c in prompt.choices if c.code in prompt.selected)
    return _after(prompt, conv.finish_multi(), chosen or _("（跳过）"))
