"""Normalise and check typed values: 公民身份号码 (python-stdnum), 手机号码 (phonenumbers), text.

Each checker returns the normalised value or raises :class:`Invalid` with a short Chinese
message saying what is wrong and what is expected.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import phonenumbers
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError


class Invalid(ValueError):
    """A typed value was refused; ``message`` is for the person typing it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_SEPARATORS = re.compile(r"[\s\-_.·]+")
_MIDDLE_DOTS = re.compile(r"[•・‧∙⋅･]")
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Trim and collapse whitespace (full-width spaces too), keep Chinese punctuation."""
    return _SPACES.sub(" ", text.replace("\u3000", " ")).strip()


def clean_name(text: str) -> str:
    """Normalise a person's name: full-width letters to ASCII, one kind of middle dot."""
    return clean_text(_MIDDLE_DOTS.sub("·", unicodedata.normalize("NFKC", text)))


def _region_known(code: str) -> bool:
    # stdnum also demands that the region code was in force in the birth year. A number is
    # given at first registration (late ones get the code in force then) and kept when
    # districts merge, so any code ever issued counts as known.
    results = numdb.get("cn/loc").info(code)
    return any(props.get("county") for _part, props in results)


def id_number(text: str, today: dt.date) -> str:
    """Check a 公民身份号码 (GB 11643) and return its 18-character form with upper-case X.

    Accepts full-width digits, a lower-case ``x`` and spaces or dashes between groups.
    ``today`` is the collection date: a birth date after it is refused.
    """
    number = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()
    if len(number) == 15 and number.isdigit():
        raise Invalid("这是旧的15位号码，请填写现行的18位公民身份号码。")
    if len(number) != 18:
        raise Invalid(f"公民身份号码应为18位（最后一位可以是X），您输入了{len(number)}位。")
    if not (number[:17].isascii() and number[:17].isdigit()) or not re.fullmatch(
        r"[0-9X]", number[17]
    ):
        raise Invalid("公民身份号码前17位应全是数字，最后一位是数字或X。")
    if number[17] != ric.calc_check_digit(number):
        raise Invalid("公民身份号码的校验位（最后一位）不对，请逐位核对后重新输入。")
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise Invalid("公民身份号码第7–14位的出生日期不是有效日期，请核对。") from None
    if born > today:
        raise Invalid("公民身份号码中的出生日期晚于今天，请核对。")
    if born.year < 1890:
        raise Invalid("公民身份号码中的出生年份不正确，请核对。")
    if not _region_known(number[:6]):
        raise Invalid("公民身份号码前6位不是有效的行政区划代码，请核对。")
    return number


# Relevance rules ask for the age many times per step; stdnum's parse is the cost.
@lru_cache(maxsize=4096)
def birth_date(number: str) -> dt.date:
    """Birth date encoded in a valid ID number."""
    return ric.get_birth_date(number)


def sex(number: str) -> str:
    """``"male"`` or ``"female"`` from the 17th digit (odd: male)."""
    return "male" if int(number[16]) % 2 else "female"


def age(number: str, on: dt.date) -> int:
    """Completed years on a date."""
    born = birth_date(number)
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mobile(text: str) -> str:
    """Check a mainland mobile number; return its 11 digits. Accepts +86, spaces and dashes."""
    raw = unicodedata.normalize("NFKC", text).strip()
    if not raw:
        raise Invalid("请填写11位手机号码。")
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        raise Invalid(
            "手机号码只能包含数字（可带+86、空格或短横线），请填写11位手机号码。"
        ) from None
    if number.country_code != 86:
        raise Invalid("请填写中国大陆的11位手机号码（+86）。")
    if not phonenumbers.is_valid_number(number):
        raise Invalid("手机号码不正确：应为以1开头的11位号码，如 138 0000 1234。")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise Invalid("这是固定电话号码，请填写11位手机号码。")
    return str(number.national_number)


def mask_id(number: str) -> str:
    """``3205**********123X``: region and the last four kept, the rest hidden."""
    return number[:4] + "*" * max(len(number) - 8, 0) + number[-4:] if len(number) > 8 else "****"


def mask_mobile(number: str) -> str:
    """``138****5678``."""
    return number[:3] + "****" + number[-4:] if len(number) >= 8 else "****"
