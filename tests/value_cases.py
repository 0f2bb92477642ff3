"""The table of typed values every entry point is tested with (docs/data.md lists the same).

Each case is a spelling as someone might type or paste it and what must come of it: the value
kept, or the refusal's code (its message is ``MESSAGES[code]`` of the value's module). The
roster import, both identity steps, the form's questions and the console's corrections run
the same cases (``tests/*/test_value_table_*.py``). Numbers are synthetic (bot.synthetic).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.synthetic import check_digit, make_id_number
from flows.values import idnumber
from flows.values.dates import MESSAGES as DATE_MESSAGES
from flows.values.mobile import MESSAGES as MOBILE_MESSAGES
from flows.values.name import MESSAGES as NAME_MESSAGES


@dataclass(frozen=True)
class Case:
    """``typed`` gives ``kept``, or is refused with ``code``."""

    id: str
    typed: str
    kept: str | None = None
    code: str | None = None

    @property
    def accepted(self) -> bool:
        return self.kept is not None

    @property
    def message(self) -> str:
        """The refusal's message as every channel shows it."""
        assert self.code is not None
        for messages in (idnumber.MESSAGES, MOBILE_MESSAGES, NAME_MESSAGES, DATE_MESSAGES):
            if self.code in messages:
                return messages[self.code].format(n=len(idnumber.compact(self.typed)))
        raise KeyError(self.code)


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _with(body17: str) -> str:
    return body17 + check_digit(body17)


# An adult of 沧浪区 (320503), and one whose number ends in X.
ID = make_id_number(dt.date(1990, 5, 17), "F", "320503", 7)
ID_X = next(
    n for s in range(500) if (n := make_id_number(dt.date(1988, 3, 9), "M", "320503", s))[-1] == "X"
)
# 姑苏区 (320508) exists since 2012: someone born in 1950 carries it after a late registration or
# the district merger. python-stdnum refuses it (not in force in 1950); the survey accepts it.
ID_LATE_REGION = _with("32050819500517014")

ID_CASES = [
    Case("plain", ID, ID),
    Case("lower-x", ID_X.lower(), ID_X),
    Case("full-width", _full_width(ID), ID),
    Case("full-width-x", _full_width(ID_X.lower()), ID_X),
    Case("spaces", f"{ID[:6]} {ID[6:14]} {ID[14:]}", ID),
    Case("dashes", f"{ID[:6]}-{ID[6:14]}-{ID[14:]}", ID),
    Case("full-width-dashes", f"{ID[:6]}－{ID[6:14]}－{ID[14:]}", ID),
    Case("em-dashes", f"{ID[:6]}—{ID[6:14]}—{ID[14:]}", ID),
    Case("ideographic-spaces", f"\u3000{ID[:6]}\u3000{ID[6:]} ", ID),
    Case("zero-width-space", f"{ID[:9]}\u200b{ID[9:]}", ID),
    Case("region-issued-later", ID_LATE_REGION, ID_LATE_REGION),
    Case("greeting", "你好", code="id.no_digits"),
    Case("too-few-digits", ID[:-1], code="id.length"),
    Case("too-many-digits", ID + "1", code="id.length"),
    Case("old-15-digits", "320503900517014", code="id.old15"),
    Case("letter-inside", ID[:8] + "A" + ID[9:], code="id.chars"),
    Case("check-digit", ID[:-1] + ("0" if ID[-1] != "0" else "1"), code="id.check_digit"),
    Case("no-such-day", _with("32050319900230007"), code="id.birth_date"),
    Case("born-in-future", _with("32050320990101007"), code="id.future"),
    Case("born-before-1890", _with("32050318800101007"), code="id.birth_year"),
    Case("no-such-region", _with("99000019900517007"), code="id.region"),
]

MOBILE_CASES = [
    Case("plain", "13800001234", "13800001234"),
    Case("spaces", "138 0000 1234", "13800001234"),
    Case("dashes", "138-0000-1234", "13800001234"),
    Case("plus-86", "+86 138 0000 1234", "13800001234"),
    Case("0086", "0086 13800001234", "13800001234"),
    Case("full-width", "１３８００００１２３４", "13800001234"),
    Case("landline", "0512-65223344", code="mobile.landline"),
    Case("ten-digits", "1380000123", code="mobile.invalid"),
    Case("bad-prefix", "12345678901", code="mobile.invalid"),
    Case("foreign", "+1 650 253 0000", code="mobile.foreign"),
    Case("letters", "手机号", code="mobile.chars"),
]

NAME_CASES = [
    Case("plain", "林晓", "林晓"),
    Case("spaced", " 林  晓 ", "林 晓"),
    Case("minority-dot", "阿依古丽•买买提", "阿依古丽·买买提"),
    Case("katakana-dot", "阿依古丽・买买提", "阿依古丽·买买提"),
    Case("full-width-latin", "Ｍａｒｙ Ｓｍｉｔｈ", "Mary Smith"),
    Case("extension-b", "𠀋一", "𠀋一"),
    Case("one-character", "林", code="name.invalid"),
    Case("digits", "林晓1", code="name.invalid"),
    Case("too-long", "林" * 31, code="name.invalid"),
]


def ids(cases: list[Case]) -> list[str]:
    """pytest ids of the cases."""
    return [case.id for case in cases]
