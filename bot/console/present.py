"""A record as reviewers read it: answers in the form's order with labels, flags, differences."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flows import Form, FormError, find_form
from storage.models import AuditEvent, Record
from storage.reporting import CHINA_TZ

DERIVED_LABELS = {"birth_date": "出生日期", "sex": "性别", "age": "年龄"}
META_LABELS = {"community_worker": "社区经办人", "collection_date": "采集日期"}
FLAG_TEXT = {"not_on_roster": "不在花名册上（调查员新增的人员），请核实身份。"}
ACTION_LABELS = {
    "draft_started": "开始填写",
    "draft_saved": "保存答案",
    "submitted": "提交",
    "resubmitted": "修改后重新提交",
    "returned": "退回修改",
    "confirmed": "审核确认",
    "corrected": "更正",
    "enrolled": "登记动员后参保",
    "discarded": "作废草稿",
    "duplicate_attempt": "他人用同一身份证号尝试登记",
    "migrated": "迁移到新版表格",
    "exported": "导出",
    "text_repaired": "修复无法显示的字符",
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


def answer_lines(form: Form, answers: dict[str, Any]) -> list[AnswerLine]:
    """Every answer in the form's own order, derived values after the ID, then metadata."""
    lines: list[AnswerLine] = []
    for field in form.fields:
        if field.type == "note" or field.name not in answers:
            continue
        value = answers[field.name]
        shown = form.label_of(field.name, value) if value not in (None, "", []) else "（未填写）"
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
    if value is None:
        return ""
    return value.astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


def event_summary(event: AuditEvent) -> str:
    """The audit event's action in words."""
    return ACTION_LABELS.get(event.action, event.action)
