"""Dates typed by people (参保日期, a command line's ``--date``): one reading for all.

Accepted: ``2014-11-20``, ``2014/11/20``, ``2014.11.20``, ``2014年11月20日``, ``20141120``,
with or without leading zeros, full-width digits too. The survey's own dates (采集日期, today)
come from ``bot.clock``; flows never reads a clock, it is given the dates.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from flows.values.invalid import Invalid

# Before this no date of the survey (a birth date, an enrolment) can be meant.
EARLIEST = dt.date(1890, 1, 1)
_SPLIT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
MESSAGES = {
    "date.format": "日期格式不对，请按 2014-11-20 的格式填写。",
    "date.invalid": "没有这一天，请核对日期。",
    "date.too_early": "日期不能早于 {earliest}。",
    "date.too_late": "日期不能晚于 {latest}。",
}


def parse_date(
    text: str, *, earliest: dt.date = EARLIEST, latest: dt.date | None = None
) -> dt.date:
    """The date ``text`` names, within ``earliest``..``latest``; :class:`Invalid` otherwise."""
    raw = unicodedata.normalize("NFKC", text).strip()
    match = _SPLIT.fullmatch(raw) or _COMPACT.fullmatch(raw)
    if match is None:
        raise Invalid(MESSAGES["date.format"], "date.format")
    try:
        day = dt.date(*(int(part) for part in match.groups()))
    except ValueError:
        raise Invalid(MESSAGES["date.invalid"], "date.invalid") from None
    if day < earliest:
        raise Invalid(
            MESSAGES["date.too_early"].format(earliest=earliest.isoformat()), "date.too_early"
        )
    if latest is not None and day > latest:
        raise Invalid(MESSAGES["date.too_late"].format(latest=latest.isoformat()), "date.too_late")
    return day
