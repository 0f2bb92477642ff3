"""What the form engine hands over, drawn as Telegram messages: text + inline keyboard.

Pure functions of the conversation and the record's id/version (the buttons' nonce); no Bot
API calls here. Texts go through the i18n ``gettext``, so they must be called while an update
is being handled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.reference import reference
from bot.telegram.callbacks import Op, StepCb
from bot.telegram.i18n import gettext as _
from flows import Choice, Conversation, Prompt, SummaryItem, mask_id
from flows.values import mask_id_numbers

CHECK = "✓"


@dataclass(frozen=True)
class Screen:
    """One message: its text and (optional) inline keyboard.

    ``asks`` is set on a question of a record: ``(record id, version)`` of the conversation
    step it asks, so that what is typed can be matched to the question it answers.
    """

    text: str
    markup: InlineKeyboardMarkup | None = None
    asks: tuple[int, int] | None = None

    def prefixed(self, line: str) -> Screen:
        """The same screen with ``line`` (an error or a notice) above it."""
        return Screen(f"{line}\n\n{self.text}", self.markup, self.asks)


class _Keyboard:
    """Rows of inline buttons. aiogram's ``InlineKeyboardBuilder`` deep-copies every button
    (pydantic models) when it builds the markup; drawn on every step, that copy was ~7 % of
    the bot's CPU profile."""

    def __init__(self) -> None:
        self.rows: list[list[InlineKeyboardButton]] = []

    def row(self, *buttons: InlineKeyboardButton) -> None:
        self.rows.append(list(buttons))

    def markup(self) -> InlineKeyboardMarkup | None:
        return InlineKeyboardMarkup(inline_keyboard=self.rows) if self.rows else None


def _columns(labels: Sequence[str]) -> int:
    longest = max((len(label) for label in labels), default=0)
    if longest <= 4:
        return 3
    return 2 if longest <= 8 else 1


def shown_current(prompt: Prompt) -> str | None:
    """The current value as it may appear in the chat (ID numbers masked, in free text too)."""
    if prompt.current is None:
        return None
    if prompt.kind == "id_number":
        return mask_id(prompt.current)
    return mask_id_numbers(prompt.current)


def prompt_screen(prompt: Prompt, record_id: int, version: int) -> Screen:
    """The question: progress, label, hint, the value to confirm, and its buttons."""

    def cb(op: Op, value: str = "") -> str:
        return StepCb(r=record_id, v=version, o=op, x=value).pack()

    lines = [
        _("第 {step}/{total} 题　{label}").format(
            step=prompt.step, total=prompt.total, label=prompt.label
        )
    ]
    if prompt.hint:
        lines.append(prompt.hint)
    builder = _Keyboard()
    current = shown_current(prompt)
    if prompt.kind == "note":
        builder.row(InlineKeyboardButton(text=_("知道了，继续"), callback_data=cb(Op.note)))
        return Screen("\n".join(lines), builder.markup())
    if prompt.kind == "select_multiple":
        chosen = [c.label for c in prompt.choices if c.code in prompt.selected]
        lines.append(_("可以多选：点选项打勾，选好后点“完成”。"))
        lines.append(_("已选：{items}").format(items="、".join(chosen) if chosen else _("（无）")))
        _choice_rows(builder, prompt.choices, lambda c: cb(Op.toggle, c.code), prompt.selected)
        builder.row(InlineKeyboardButton(text=_("完成"), callback_data=cb(Op.finish)))
    else:
        if current is not None and prompt.kind != "confirm":
            label = _("预填信息") if prompt.prefilled else _("已填写")
            lines.append(_("{label}：{value}").format(label=label, value=current))
            lines.append(_("无误请点“确认”，有误请直接输入正确内容。"))
        elif prompt.choices and prompt.allow_text:
            lines.append(_("请点选，或直接输入。"))
        elif prompt.choices:
            lines.append(_("请点选下面的一项。"))
        else:
            lines.append(_("请直接输入。"))
        _choice_rows(builder, prompt.choices, lambda c: cb(Op.choose, c.code), frozenset())
        extra: list[InlineKeyboardButton] = []
        if current is not None and prompt.kind != "confirm":
            extra.append(InlineKeyboardButton(text=_("确认"), callback_data=cb(Op.keep)))
        if prompt.optional:
            extra.append(InlineKeyboardButton(text=_("跳过"), callback_data=cb(Op.skip)))
        if extra:
            builder.row(*extra)
    if prompt.optional and prompt.kind == "select_multiple":
        builder.row(InlineKeyboardButton(text=_("跳过"), callback_data=cb(Op.skip)))
    return Screen("\n".join(lines), builder.markup())


def _choice_rows(
    builder: _Keyboard,
    choices: Sequence[Choice],
    pack: Callable[[Choice], str],
    selected: frozenset[str],
) -> None:
    if not choices:
        return
    width = _columns([c.label for c in choices])
    row: list[InlineKeyboardButton] = []
    for choice in choices:
        text = f"{CHECK} {choice.label}" if choice.code in selected else choice.label
        row.append(InlineKeyboardButton(text=text, callback_data=pack(choice)))
        if len(row) == width:
            builder.row(*row)
            row = []
    if row:
        builder.row(*row)


def answered_text(prompt: Prompt, shown: str) -> str:
    """A question message after its answer: "问题：答案"."""
    return _("{label}：{answer}").format(label=prompt.label, answer=shown)


def open_warnings(conv: Conversation) -> list[str]:
    """Consistency hints not yet confirmed by the person."""
    confirmed = set(conv.state.get("confirmed_warnings") or [])
    return [w.message for w in conv.warnings() if w.code not in confirmed]


def summary_lines(items: Sequence[SummaryItem]) -> list[str]:
    """One line per answer, ID and phone numbers masked."""
    return [f"{n}. {item.label}：{item.masked or item.display}" for n, item in enumerate(items, 1)]


def _edit_buttons(
    builder: _Keyboard, items: Sequence[SummaryItem], record_id: int, version: int
) -> None:
    row: list[InlineKeyboardButton] = []
    for item in items:
        if not item.editable:
            continue
        data = StepCb(r=record_id, v=version, o=Op.edit, x=item.name).pack()
        row.append(
            InlineKeyboardButton(text=_("改：{label}").format(label=item.label), callback_data=data)
        )
        if len(row) == 2:
            builder.row(*row)
            row = []
    if row:
        builder.row(*row)


def review_screen(conv: Conversation, record_id: int, version: int) -> Screen:
    """The summary before confirming: every answer, open hints, edit buttons, 确认无误."""
    items = conv.summary()
    lines = [_("请核对您填写的信息："), *summary_lines(items)]
    warnings = open_warnings(conv)
    builder = _Keyboard()
    _edit_buttons(builder, items, record_id, version)
    if warnings:
        lines.append("")
        lines.extend(f"⚠ {w}" for w in warnings)
        lines.append(_("如内容无误请点“核对无误，继续”，否则请点要修改的项目。"))
        op, label = Op.warned, _("核对无误，继续")
    else:
        lines.append("")
        lines.append(_("无误请点“确认无误”；需要修改请点对应的项目。"))
        op, label = Op.proceed, _("确认无误")
    builder.row(
        InlineKeyboardButton(text=label, callback_data=StepCb(r=record_id, v=version, o=op).pack())
    )
    return Screen("\n".join(lines), builder.markup())


def summary_screen(conv: Conversation, record_id: int, version: int) -> Screen:
    """``/summary`` in the middle of the form: the answers so far, each with an edit button."""
    items = conv.summary()
    if not items:
        return Screen(_("还没有填写任何内容。"))
    builder = _Keyboard()
    _edit_buttons(builder, items, record_id, version)
    lines = [_("已填写的内容："), *summary_lines(items), "", _("需要修改请点对应的项目。")]
    return Screen("\n".join(lines), builder.markup())


def submit_screen(record_id: int, version: int) -> Screen:
    """Everything is answered and acknowledged: the 提交 button."""
    data = StepCb(r=record_id, v=version, o=Op.submit).pack()
    markup = InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=_("提交"), callback_data=data)]]
    )
    return Screen(_("全部填写完成。请点击“提交”，交社保经办机构审核。"), markup)


def current_screen(conv: Conversation, record_id: int, version: int) -> Screen:
    """Whatever the conversation asks for now: a question, the review, or the submit button."""
    prompt = conv.prompt
    if prompt is not None:
        return replace(prompt_screen(prompt, record_id, version), asks=(record_id, version))
    if conv.at_review:
        return review_screen(conv, record_id, version)
    return submit_screen(record_id, version)


def submitted_text(record_id: int, notes: Sequence[str], extra: Sequence[str] = ()) -> str:
    """The answer to 提交: the reference number and the policy notes that apply."""
    lines = [
        _("提交成功！登记编号：{ref}。").format(ref=reference(record_id)),
        _("社保经办机构审核后会通知您；可随时发送 /status 查看进度。"),
    ]
    for note in notes:
        lines.extend(["", f"📌 {note}"])
    if extra:
        lines.extend(["", *extra])
    return "\n".join(lines)
