"""ID numbers (GB 11643 via python-stdnum), mobiles (phonenumbers), names, masks."""

from __future__ import annotations

import datetime as dt

import pytest
from flowkit import check_digit, make_id
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from flows.validators import Invalid, id_number, mask_id, mask_mobile, mobile

TODAY = dt.date(2014, 11, 1)
VALID = make_id("320508", "19800101", 123)


@given(
    region=st.sampled_from(["110101", "320505", "320508", "440305", "510104", "650102"]),
    # From 2012 every sampled code is in force (姑苏区 320508 was created in 2012); stdnum
    # also checks that.
    born=st.dates(dt.date(2012, 1, 1), dt.date(2014, 10, 31)),
    seq=st.integers(0, 999),
)
def test_our_check_digit_agrees_with_stdnum(region: str, born: dt.date, seq: int) -> None:
    number = make_id(region, born, seq)
    assert ric.calc_check_digit(number) == number[-1]
    assert ric.is_valid(number)


def test_check_digit_known_vector() -> None:
    # The worked example of the standard's annex: 11010519491231002X.
    assert check_digit("11010519491231002") == "X"


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


X_ID = next(
    make_id("320508", "19900315", s)
    for s in range(1000)
    if make_id("320508", "19900315", s)[-1] == "X"
)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        (VALID, VALID),
        (X_ID.lower(), X_ID),
        (_full_width(VALID), VALID),
        (f"{VALID[:6]} {VALID[6:14]} {VALID[14:]}", VALID),
        (f" {VALID[:6]}-{VALID[6:14]}-{VALID[14:]} ", VALID),
        (_full_width(X_ID.lower()), X_ID),
    ],
    ids=["plain", "lower-x", "full-width", "spaces", "dashes", "full-width-x"],
)
def test_valid_ids_are_normalised(typed: str, expected: str) -> None:
    assert id_number(typed, TODAY) == expected


def _with_bad_check(number: str) -> str:
    wrong = next(c for c in "0123456789X" if c != number[-1])
    return number[:-1] + wrong


def _recheck(body17: str) -> str:
    return body17 + check_digit(body17)


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        (VALID[:-1], "18位"),
        (VALID + "1", "18位"),
        ("320508800101123", "15位"),
        ("32050819800101A23X", "前17位"),
        (_with_bad_check(VALID), "校验位"),
        (_recheck("32050819800230123"), "出生日期"),  # 30 February
        (_recheck("32050820150101123"), "晚于"),  # born after the collection date
        (_recheck("99000019800101123"), "行政区划"),  # no such region
        ("", "18位"),
    ],
    ids=["short", "long", "old-15", "letter", "checksum", "bad-date", "future", "region", "empty"],
)
def test_invalid_ids_are_explained(typed: str, fragment: str) -> None:
    with pytest.raises(Invalid) as caught:
        id_number(typed, TODAY)
    assert fragment in caught.value.message


def test_region_code_counts_even_if_created_after_the_birth_year() -> None:
    # stdnum refuses 320508 (姑苏区, since 2012) for someone born in 1980; a late first
    # registration gets the code in force then, so the form accepts any code ever issued.
    assert not ric.is_valid(VALID)
    assert id_number(VALID, TODAY) == VALID


def test_future_is_relative_to_the_collection_date() -> None:
    born_2015 = _recheck("32050820150101123")
    assert id_number(born_2015, dt.date(2016, 1, 1)) == born_2015


@pytest.mark.parametrize(
    "typed",
    [
        "13800001234",
        "+86 138 0000 1234",
        "+86-138-0000-1234",
        "0086 13800001234",
        "138-0000-1234",
        "１３８００００１２３４",
        " 13800001234 ",
        "+8619912345678",
    ],
)
def test_valid_mobiles(typed: str) -> None:
    assert mobile(typed) in ("13800001234", "19912345678")


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("0512-65223344", "固定电话"),
        ("051265223344", "固定电话"),
        ("1380000123", "11位"),
        ("12345678901", "11位"),
        ("+1 650 253 0000", "中国大陆"),
        ("手机号", "数字"),
        ("", "11位"),
    ],
    ids=["landline-dash", "landline", "ten-digits", "bad-prefix", "foreign", "letters", "empty"],
)
def test_invalid_mobiles_are_explained(typed: str, fragment: str) -> None:
    with pytest.raises(Invalid) as caught:
        mobile(typed)
    assert fragment in caught.value.message


def test_masks() -> None:
    assert mask_id("32050819800101123X") == "3205**********123X"
    assert mask_mobile("13856785678") == "138****5678"
