"""公民身份号码 (GB 11643-1999): the one definition of what an ID number may be.

Every channel calls :func:`id_number`: the roster import, both identity steps, the form's
questions, the console's corrections. A number may be typed with full-width digits, a
lower-case ``x`` and spaces or dashes between groups; what is kept is the 18-character form with
an upper-case ``X``. The region code counts when it was ever issued (python-stdnum's table):
numbers are given at first registration and kept through district mergers, so an elderly
resident of the old 平江区 or someone registered late in 姑苏区 carries a code that was not yet,
or is no longer, in force in their birth year.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

from stdnum import numdb
from stdnum.cn import ric

from flows.values.invalid import Invalid

# Spaces, dashes of every kind, underscores and dots between groups (after NFKC), and the
# zero-width characters a copy from a web page or a chat app can carry.
_SEPARATORS = re.compile(r"[\s\-_.·‐‑‒–—―−\u200b-\u200d\u2060\ufeff]+")
# A full number inside free text: 17 digits and a digit or X (ASCII or full-width), spaces or
# dashes allowed between them, not inside a longer run of digits and not followed by a letter.
_DIGIT = "[0-9０-９]"
_GAP = r"[\s\-－‐‑‒–—―−]*"
_IN_TEXT = re.compile(
    rf"(?<![0-9０-９])(?:{_DIGIT}{_GAP}){{17}}[0-9Xx０-９Ｘｘ](?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])"
)
EARLIEST_BIRTH_YEAR = 1890

MESSAGES = {
    "id.no_digits": "这不是公民身份号码：请输入18位号码（前17位是数字，最后一位是数字或X）。",
    "id.old15": "这是旧的15位号码，请填写现行的18位公民身份号码。",
    "id.length": "公民身份号码应为18位（最后一位可以是X），您输入了{n}位。",
    "id.chars": "公民身份号码前17位应全是数字，最后一位是数字或X。",
    "id.check_digit": "公民身份号码的校验位（最后一位）不对，请逐位核对后重新输入。",
    "id.birth_date": "公民身份号码第7–14位的出生日期不是有效日期，请核对。",
    "id.future": "公民身份号码中的出生日期晚于今天，请核对。",
    "id.birth_year": "公民身份号码中的出生年份不正确，请核对。",
    "id.region": "公民身份号码前6位不是有效的行政区划代码，请核对。",
}


def _refuse(code: str, **values: object) -> Invalid:
    return Invalid(MESSAGES[code].format(**values), code)


def compact(text: str) -> str:
    """``text`` without separators, full-width characters folded, ``x`` upper-cased."""
    if text.isascii() and text.isalnum():
        return text.upper()
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


@lru_cache(maxsize=8192)
def region_known(code: str) -> bool:
    """Whether a 6-digit region code was ever issued (any code ever in force counts)."""
    results = numdb.get("cn/loc").info(code)
    return any(props.get("county") for _part, props in results)


def id_number(text: str, today: dt.date) -> str:
    """Check a 公民身份号码 and return its 18-character form with upper-case X.

    ``today`` is the collection date: a birth date after it is refused. Raises
    :class:`Invalid` (``code`` one of :data:`MESSAGES`) with what is wrong.
    """
    number = compact(text)
    if not any(c.isdigit() for c in number):
        raise _refuse("id.no_digits")
    if len(number) != 18:
        if len(number) == 15 and number.isdigit():
            raise _refuse("id.old15")
        raise _refuse("id.length", n=len(number))
    body, last = number[:17], number[17]
    if not (body.isascii() and body.isdigit()) or last not in "0123456789X":
        raise _refuse("id.chars")
    if last != ric.calc_check_digit(number):
        raise _refuse("id.check_digit")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _refuse("id.birth_date") from None
    if born > today:
        raise _refuse("id.future")
    if born.year < EARLIEST_BIRTH_YEAR:
        raise _refuse("id.birth_year")
    if not region_known(number[:6]):
        raise _refuse("id.region")
    return number


# Relevance rules ask for the age many times per step.
@lru_cache(maxsize=4096)
def birth_date(number: str) -> dt.date:
    """Birth date encoded in a valid ID number."""
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex(number: str) -> str:
    """``"male"`` or ``"female"`` from the 17th digit (odd: male)."""
    return "male" if int(number[16]) % 2 else "female"


def age(number: str, on: dt.date) -> int:
    """Completed years on a date."""
    born = birth_date(number)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mask_id(number: str) -> str:
    """``3205**********123X``: the first four and the last four kept, the rest hidden."""
    return number[:4] + "*" * max(len(number) - 8, 0) + number[-4:] if len(number) > 8 else "****"


def contains_id_number(text: str) -> bool:
    """Whether free text carries a full ID number (spaced, dashed or full-width too)."""
    return _IN_TEXT.search(text) is not None


def mask_id_numbers(text: str) -> str:
    """Free text with every full ID number in it masked as :func:`mask_id` does."""
    return _IN_TEXT.sub(lambda m: mask_id(compact(m.group(0))), text)
