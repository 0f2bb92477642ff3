"""One record as a row of the 采集表 layout: Chinese headers in the form's order, labels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot import clock
from bot.reference import reference
from flows import Form
from storage.person_status import person_status, status_text
from storage.reporting import RecordRow

AREA_HEADERS = ("区", "街道", "社区", "户号")
STATUS_HEADERS = (
    "审核状态",
    "填报方式",
    "提交时间",
    "确认时间",
    "动员后参保日期",
    "动员后参保险种",
    "标记",
    "记录编号",
    "人员状态",
)
STATUS_TEXT = {"submitted": "待审核", "returned": "已退回", "confirmed": "已确认", "draft": "草稿"}
FILLED_TEXT = {"resident": "本人填报", "investigator": "调查员采集"}
# Columns holding long digit strings that spreadsheet programs would turn into numbers.
NUMBER_TEXT_KEYS = frozenset({"id_number", "guardian_id_number", "mobile", "guardian_mobile"})


def headers(form: Form) -> list[str]:
    """The header row."""
    return [*AREA_HEADERS, *(h for _, h in form.export_columns()), *STATUS_HEADERS]


def text_columns(form: Form) -> set[int]:
    """Indexes of the columns that must stay text (ID and phone numbers)."""
    keys = [key for key, _ in form.export_columns()]
    return {len(AREA_HEADERS) + i for i, key in enumerate(keys) if key in NUMBER_TEXT_KEYS}


def _when(value: dt.datetime | None) -> str:
    return clock.format_time(value)


def values(form: Form, row: RecordRow) -> list[Any]:
    """The row's cells: choices as their labels, addresses written out, ages as numbers."""
    answers = row.answers
    cells: list[Any] = [row.district, row.street, row.community, row.household]
    for key, _ in form.export_columns():
        value = answers.get(key)
        if key == "collection_status" and value is None:
            # A resident's own form has no 采集状态 question: they were collected.
            value = "collected"
        if key == "age" and isinstance(value, int):
            cells.append(value)
        else:
            cells.append(form.label_of(key, value) if value not in (None, []) else "")
    cells += [
        STATUS_TEXT.get(str(row.status), str(row.status)),
        FILLED_TEXT.get(str(row.filled_by), str(row.filled_by)),
        _when(row.submitted_at),
        _when(row.confirmed_at),
        row.enrolled_at.isoformat() if row.enrolled_at else "",
        row.enrolled_insurance or "",
        "；".join(_flag_names(form, row)),
        reference(row.id),
        person_status_text(form, row),
    ]
    return cells


def person_status_text(form: Form, row: RecordRow) -> str:
    """The person's status (storage.person_status) as this record makes it: 待审核, 已退回,
    已确认, or 未采集 with the reason."""
    status = person_status(row.status, row.answers.get("collection_status"))
    reason = row.answers.get("not_collected_reason")
    label = form.label_of("not_collected_reason", reason) if reason else None
    return status_text(status, reason_label=label)


def _flag_names(form: Form, row: RecordRow) -> list[str]:
    messages = {check.code: check.message for check in form.checks}
    messages["not_on_roster"] = "不在花名册"
    names = [messages.get(f, f) for f in row.flags]
    if row.duplicate_attempts:
        names.append(f"重复身份证号尝试×{row.duplicate_attempts}")
    return names
