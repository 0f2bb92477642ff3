"""手机号码: a mainland mobile number (phonenumbers), the one definition for every channel.

Accepted: 11 digits starting with 1, optionally with +86 / 0086, spaces, dashes or full-width
digits; kept as the 11 digits. Refused with a message: landlines, foreign numbers, anything
phonenumbers does not know as a mainland mobile.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import phonenumbers

from flows.values.invalid import Invalid

MESSAGES = {
    "mobile.empty": "请填写11位手机号码。",
    "mobile.chars": "手机号码只能包含数字（可带+86、空格或短横线），请填写11位手机号码。",
    "mobile.foreign": "请填写中国大陆的11位手机号码（+86）。",
    "mobile.invalid": "手机号码不正确：应为以1开头的11位号码，如 138 0000 1234。",
    "mobile.landline": "这是固定电话号码，请填写11位手机号码。",
}
_MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def _problem(raw: str) -> tuple[str, str | None]:
    """(the 11 digits, None) or ("", the code of what is wrong), by phonenumbers."""
    try:
        number = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return "", "mobile.chars"
    if number.country_code != 86:
        return "", "mobile.foreign"
    if not phonenumbers.is_valid_number(number):
        return "", "mobile.invalid"
    if phonenumbers.number_type(number) not in _MOBILE_TYPES:
        return "", "mobile.landline"
    return str(number.national_number), None


@cache
def _block_valid(prefix5: str) -> bool:
    # libphonenumber's mainland mobile patterns look at no more than the first five digits of
    # an 11-digit number starting with 1 (the rest is "any digit"; see the CN metadata's mobile
    # pattern), so validity is decided per 5-digit block — at most 10,000 of them, all cached.
    # Parsing every number of a 200,000-row roster would take most of its import time.
    return _problem(prefix5 + "000000")[1] is None


def mobile(text: str) -> str:
    """Check a mainland mobile number; return its 11 digits, or raise :class:`Invalid`."""
    if (
        len(text) == 11
        and text.isascii()
        and text.isdigit()
        and text[0] == "1"
        and _block_valid(text[:5])
    ):
        return text
    raw = unicodedata.normalize("NFKC", text).strip()
    if not raw:
        raise Invalid(MESSAGES["mobile.empty"], "mobile.empty")
    number, code = _problem(raw)
    if code is not None:
        raise Invalid(MESSAGES[code], code)
    return number


def mask_mobile(number: str) -> str:
    """``138****5678``."""
    return number[:3] + "****" + number[-4:] if len(number) >= 8 else "****"
