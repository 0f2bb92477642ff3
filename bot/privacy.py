"""Personal data in lists and logs: masking of 公民身份号码 and mobile numbers.

Lists shown to staff mask numbers (``3205**********123X``, ``138****5678``); logs never carry a
full number at all: :func:`install_log_masking` rewrites every log record before any handler
sees it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# An 18-character ID (17 digits + digit/X) or an 11-digit mainland mobile, not inside a longer
# run of digits (order numbers, timestamps and Telegram ids must stay readable).
_ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{8})(\d{3}[\dXx])(?![0-9A-Za-z])")
_MOBILE_RE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?(\d{4})[\s-]?(\d{4})(?!\d)")


# 复姓: surnames of two characters (the common ones); any other name's surname is its first.
COMPOUND_SURNAMES = frozenset(
    (
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "淳于",
        "太史",
        "申屠",
        "公冶",
        "澹台",
        "闻人",
        "万俟",
        "赫连",
        "钟离",
        "宗政",
        "濮阳",
        "单于",
        "第五",
    )
)


def surname_of(name: str | None) -> str:
    """``张三丰`` → ``张``, ``欧阳修`` → ``欧阳``."""
    name = (name or "").strip()
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def before_identity(name: str | None, community: str | None) -> dict[str, str]:
    """What a link shows before its identity check, on every channel: enough for the person to
    know it is theirs (the surname and the community), nothing of the number, which would
    narrow a guess (its last digit is the check digit), nor the given name."""
    return {"surname": surname_of(name), "community": (community or "").strip()}


def mask_id(id_number: str | None) -> str:
    """``320508199001011234`` → ``3205**********1234`` (first 4 and last 4 kept)."""
    if not id_number:
        return ""
    value = "".join(id_number.split())
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(phone: str | None) -> str:
    """``13856785678`` → ``138****5678`` (first 3 and last 4 kept)."""
    if not phone:
        return ""
    value = "".join(phone.split())
    if len(value) <= 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number inside free text."""
    text = _ID_RE.sub(lambda m: mask_id(m.group(0)), text)
    return _MOBILE_RE.sub(lambda m: f"{m.group(1)}****{m.group(3)}", text)


class PrivacyFilter(logging.Filter):
    """A logging filter that masks ID and mobile numbers in the message and traceback.

    The record's arguments are merged into the message first, so a number passed as
    ``log.info("id %s", number)`` is masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a log record in place (idempotent) and return it."""
    if getattr(record, "_canbao_masked", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a broken format string must not lose the record
        message = str(record.msg)
    record.msg = mask_text(message)
    record.args = None
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)
    record._canbao_masked = True
    return record


_installed = False


def install_log_masking() -> None:
    """Mask every log record of the process, whatever logger or handler it goes through.

    Done at record creation (a log record factory), because a filter on the root logger does
    not see records that propagate from child loggers. Safe to call more than once.
    """
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
            handler.addFilter(PrivacyFilter())
    _installed = True
