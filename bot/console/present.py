"""A record as reviewers read it: answers in the form's order with labels, flags, differences."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot import clock
from bot.telegram.i18n import N_
from bot.telegram.i18n import gettext as _
from flows import Form, FormError, find_form
from storage.models import AuditEvent, Record

DERIVED_LABELS = {"birth_date": "出生日期", "sex": "性别", "age": "年龄"}
META_LABELS = {"community_worker": "社区经办人", "collection_date": "采集日期"}
FLAG_TEXT = {
    "not_on_roster": "不在花名册上（调查员新增的人员），请核实身份。",
    "id_changed": "填写的公民身份号码与花名册上的不同（两者见“登记内容”），请核实。",
    "id_conflict": (
        "填写的公民身份号码属于名册上的另一位人员，或已用于另一条登记：请核实是否填错或冒用；"
        "系统不会自动合并，请审核后决定确认或退回。"
    ),
}
ACTION_LABELS = {
    "draft_started": N_("开始填写"),
    "draft_saved": N_("保存答案"),
    "submitted": N_("提交"),
    "resubmitted": N_("修改后重新提交"),
    "returned": N_("退回修改"),
    "confirmed": N_("审核确认"),
    "corrected": N_("更正"),
    "enrolled": N_("登记动员后参保"),
    "discarded": N_("作废草稿"),
    "duplicate_attempt": N_("他人用同一身份证号尝试登记"),
    "migrated": N_("迁移到新版表格"),
    "exported": N_("导出"),
    "contact_recorded": N_("记录联系"),
    "invites_sent": N_("发出邀请（导出联系名单）"),
    "identity_verified": N_("核对身份成功"),
    "identity_failed": N_("核对身份失败"),
    "invite_locked": N_("邀请链接已锁定"),
    "invite_unlocked": N_("解锁邀请链接"),
    "person_added": N_("调查员新增人员"),
    "identity_taken_over": N_("另一个 Telegram 账号核对身份后接手登记"),
}


@dataclass(frozen=True, slots=True)
class AnswerLine:
    """One line of the record page: the question's label and the answer as people read it."""

    name: str
    label: str
    display: str
    derived: bool = False


@dataclass(frozen=True, slots=True)
class Change:
    """One answer that differs between two revisions."""

    label: str
    before: str
    after: str


def form_for(default: Form, form_id: str, form_version: int) -> Form:
    """The form version a record was filled with (the default form when it is not on disk)."""
    if (default.id, default.version) == (form_id, form_version):
        return default
    try:
        return find_form(form_id, form_version)
    except FormError:
        return default


def answer_lines(
    form: Form, answers: dict[str, Any], roster_id_number: str | None = None
) -> list[AnswerLine]:
    """Every answer in the form's own order, derived values after the ID, then metadata.

    When the answered 公民身份号码 is not ``roster_id_number`` (the person's on the roster),
    the roster's value is shown beside it.
    """
    lines: list[AnswerLine] = []
    for field in form.fields:
        if field.type == "note" or field.name not in answers:
            continue
        value = answers[field.name]
        shown = form.label_of(field.name, value) if value not in (None, "", []) else "（未填写）"
        if field.name == form.derive_from and roster_id_number and value != roster_id_number:
            shown = f"{shown}（花名册为 {roster_id_number}）"
        lines.append(AnswerLine(field.name, field.label, shown))
        if field.name == form.derive_from:
            for key, label in DERIVED_LABELS.items():
                if answers.get(key) is not None:
                    lines.append(AnswerLine(key, label, form.label_of(key, answers[key]), True))
    for key, label in META_LABELS.items():
        if answers.get(key):
            lines.append(AnswerLine(key, label, form.label_of(key, answers[key]), True))
    return lines


def changes(form: Form, before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """The answers that differ between two revisions, in the form's order."""
    keys = [f.name for f in form.fields] + [*DERIVED_LABELS, *META_LABELS]
    keys += sorted((set(before) | set(after)) - set(keys))
    out: list[Change] = []
    for key in keys:
        if before.get(key) == after.get(key):
            continue
        label = (
            form.field(key).label
            if form.has_field(key)
            else DERIVED_LABELS.get(key) or META_LABELS.get(key, key)
        )
        out.append(
            Change(label, form.label_of(key, before.get(key)), form.label_of(key, after.get(key)))
        )
    return out


def flag_texts(form: Form, record: Record) -> list[str]:
    """What each of the record's flags means, in words."""
    messages = {check.code: check.message for check in form.checks}
    texts = [messages.get(code) or FLAG_TEXT.get(code) or code for code in record.flags]
    if record.duplicate_attempts:
        texts.append(
            f"有 {record.duplicate_attempts} 次他人用同一公民身份号码尝试登记，请核实是否重复。"
        )
    return texts


def returnable_fields(form: Form, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, label) of the questions a reviewer may ask to fix when returning the record."""
    return [(f.name, f.label) for f in form.main_fields if f.type != "note" and f.name in answers]


def china_time(value: dt.datetime | None) -> str:
    """An instant as a Suzhou wall-clock time, ``2014-11-02 09:30``."""
    return clock.format_time(value)


# What a saved step of a chat did (details["action"] of ``draft_saved``), by its question.
STEP_LABELS = {
    "answer": N_("保存答案：{field}"),
    "keep": N_("确认原内容：{field}"),
    "skip": N_("跳过：{field}"),
    "finish": N_("保存答案：{field}"),
    "toggle": N_("勾选选项：{field}"),
    "back": N_("返回上一题（离开：{field}）"),
    "edit": N_("从汇总修改：{field}"),
    "confirm_warnings": N_("核对提示后保留答案"),
    "proceed": N_("确认汇总"),
    "reopen": N_("退回后打开需修改的项目：{field}"),
}


def question_label(form: Form, state: object) -> str:
    """A question (``name`` or ``name.part`` of an address) as people read it."""
    name, _, part = str(state).partition(".")
    if not form.has_field(name):
        return str(state)
    field = form.field(name)
    for spec in field.parts:
        if spec.name == part:
            return f"{field.label}：{spec.label}"
    return field.label


def field_labels(form: Form, names: object) -> str:
    """Question names (a list, as stored) as their labels, joined with 、."""
    items = names if isinstance(names, list) else []
    return "、".join(question_label(form, name) for name in items)


def event_summary(event: AuditEvent, form: Form | None = None) -> str:
    """The audit event's action in words, with the question it concerns where there is one."""
    label = _(ACTION_LABELS[event.action]) if event.action in ACTION_LABELS else event.action
    details = event.details if isinstance(event.details, dict) else {}
    if form is None:
        return label
    if event.action == "draft_saved":
        step = details.get("action")
        if step == "reopen":
            return _(STEP_LABELS["reopen"]).format(field=field_labels(form, details.get("fields")))
        if step in STEP_LABELS and details.get("field"):
            return _(STEP_LABELS[str(step)]).format(field=question_label(form, details["field"]))
        if step in STEP_LABELS:
            return _(STEP_LABELS[str(step)])
        if details.get("position"):
            # Saved before steps were described: where the chat went next.
            return _("保存答案（下一题：{field}）").format(
                field=question_label(form, details["position"])
            )
    if event.action == "returned" and details.get("fields"):
        return _("{action}（需修改：{fields}）").format(
            action=label, fields=field_labels(form, details["fields"])
        )
    if event.action == "resubmitted" and details.get("unchanged"):
        return _("{action}（核对后保留原内容：{fields}）").format(
            action=label, fields=field_labels(form, details["unchanged"])
        )
    return label


def unchanged_by_revision(events: list[AuditEvent]) -> dict[int, list[str]]:
    """Revision number → the questions marked at a return that the filler kept as they were."""
    found: dict[int, list[str]] = {}
    for event in events:
        details = event.details if isinstance(event.details, dict) else {}
        revision, kept = details.get("revision"), details.get("unchanged")
        if event.action == "resubmitted" and isinstance(revision, int) and isinstance(kept, list):
            found[revision] = [str(k) for k in kept]
    return found
