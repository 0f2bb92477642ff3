"""Personal data in lists and logs: masking of 公民身份号码 and mobile numbers.

Lists shown to staff mask numbers (``3205**********123X``, ``138****5678``); logs never carry a
full number at all. :func:`install_log_masking` masks every log record of the process in three
layers: when the record is made (its message, arguments and traceback, whatever logger and
handler it goes to), in a filter on the root logger and its handlers (fields added through
``extra``, e.g. aiohttp's access log), and in the root handlers' formatters (whatever a
formatter renders, tracebacks with their locals included). Uncaught exceptions and warnings
go through logging too.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import types
from typing import Any

# A digit (full-width ones too, as typed with a Chinese input method), also as the JSON escape
# of a full-width one (``\uff13``: how such a number shows in a logged JSON payload).
_D = r"(?:\d|\\u[fF][fF]1[0-9])"
_X = r"(?:[XxＸｘ]|\\u[fF][fF](?:38|58))"
_ONE = r"(?:[1１]|\\u[fF][fF]11)"
_THREE_TO_NINE = r"(?:[3-9３-９]|\\u[fF][fF]1[3-9])"
# An 18-character ID: 17 digits and a digit or X, whatever surrounds it (letters, other
# digits: ``ID3205…``, ``0320508…``), also written in groups (``320508 19900101 123X``).
_ID_RE = re.compile(rf"{_D}{{17}}(?:{_D}|{_X})|{_D}{{6}}[ -]{_D}{{8}}[ -]{_D}{{3}}(?:{_D}|{_X})")
# An 11-digit mainland mobile, alone or after +86 / 0086, in groups or not; not inside a longer
# run of digits (timestamps, Telegram ids and update ids stay readable).
_MOBILE_RE = re.compile(
    r"(?<!\d)"
    rf"(?:(?:\+|00)?86[\s-]?)?({_ONE}{_THREE_TO_NINE}{_D})[\s-]?({_D}{{4}})[\s-]?"
    rf"({_D}{{4}})(?!{_D})"
)
_TOKEN_RE = re.compile(rf"{_D}|{_X}")


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


def _masked_id(match: re.Match[str]) -> str:
    # By character (a JSON escape counts as one), as mask_id does: the first and last 4 kept.
    chars = _TOKEN_RE.findall(match.group(0))
    return "".join(chars[:4]) + "*" * (len(chars) - 8) + "".join(chars[-4:])


def _masked_mobile(match: re.Match[str]) -> str:
    return f"{match.group(1)}****{match.group(3)}"


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number inside free text."""
    return _MOBILE_RE.sub(_masked_mobile, _ID_RE.sub(_masked_id, text))


def mask_value(value: Any, depth: int = 0) -> Any:
    """``value`` with every string in it masked (containers a few levels deep)."""
    if isinstance(value, str):
        return mask_text(value)
    if depth > 3:
        return value
    if isinstance(value, dict):
        return {k: mask_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(mask_value(v, depth + 1) for v in value)
    return value


class PrivacyFilter(logging.Filter):
    """A logging filter that masks ID and mobile numbers in the message, the traceback and
    every field of the record (``extra`` ones too).

    The record's arguments are merged into the message first, so a number passed as
    ``log.info("id %s", number)`` is masked too.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        for key, value in list(vars(record).items()):
            if key not in _PLAIN_FIELDS and not key.startswith("_"):
                setattr(record, key, mask_value(value))
        return True


# Fields of every record that never carry free text (or are masked by mask_record).
_PLAIN_FIELDS = frozenset(
    {
        "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module",
        "exc_info", "exc_text", "stack_info", "lineno", "funcName", "created", "msecs",
        "relativeCreated", "thread", "threadName", "processName", "process", "taskName",
    }
)  # fmt: skip


class MaskingFormatter(logging.Formatter):
    """Wraps a handler's formatter and masks the text it renders, whatever it renders."""

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        return mask_text(self.inner.format(record))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return self.inner.formatTime(record, datefmt)


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Mask a log record's message, arguments and traceback in place (idempotent)."""
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


def _cover_handlers() -> None:
    """The root logger and each of its handlers get the filter; each handler's formatter is
    wrapped (handlers added later are covered by calling :func:`install_log_masking` again;
    their records are masked at creation anyway)."""
    root = logging.getLogger()
    if not any(isinstance(f, PrivacyFilter) for f in root.filters):
        root.addFilter(PrivacyFilter())
    for handler in root.handlers:
        if not any(isinstance(f, PrivacyFilter) for f in handler.filters):
            handler.addFilter(PrivacyFilter())
        if not isinstance(handler.formatter, MaskingFormatter):
            handler.setFormatter(MaskingFormatter(handler.formatter))


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: types.TracebackType | None
) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, value, tb)
        return
    logging.getLogger("canbao").critical("uncaught exception", exc_info=(kind, value, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is None:
        return
    logging.getLogger("canbao").critical(
        "uncaught exception in thread %s",
        args.thread.name if args.thread else "?",
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback),
    )


_installed = False


def install_log_masking() -> None:
    """Mask every log record of the process, whatever logger or handler it goes through (see
    the module docstring). Safe to call more than once; call it again after adding handlers
    to the root logger."""
    global _installed
    if not _installed:
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            return mask_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        # Tracebacks Python would print itself, and warnings, go through logging instead.
        sys.excepthook = _log_uncaught
        threading.excepthook = _log_uncaught_in_thread
        logging.captureWarnings(True)
        _installed = True
    _cover_handlers()
