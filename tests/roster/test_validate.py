"""Cell checks: ID numbers (cross-checked with stdnum), mobiles (with phonenumbers)."""

from __future__ import annotations

import datetime as dt
import random

import phonenumbers
import pytest
from stdnum.cn import ric

from bot.roster.validate import check_id_number, check_mobile
from bot.synthetic import check_digit, make_id_number, make_roster, region_for

TODAY = dt.date(2014, 10, 15)


def test_synthetic_ids_are_valid_and_check_digit_matches_stdnum() -> None:
    rng = random.Random(11)
    for _ in range(500):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(30_000))
        district = rng.choice(["姑苏区", "高新区"])
        sex = rng.choice("MF")
        region = region_for(district, birth.year, rng)
        number = make_id_number(birth, sex, region=region, seq=rng.randrange(500))
        assert ric.is_valid(number), number
        assert check_digit(number[:17]) == ric.calc_check_digit(number)
        assert ric.get_birth_date(number) == birth
        assert (int(number[16]) % 2 == 1) == (sex == "M")


def test_id_check_agrees_with_stdnum_on_damaged_numbers() -> None:
    rng = random.Random(3)
    far_future = dt.date(2100, 1, 1)
    for row in make_roster(400, seed=5):
        number = row["公民身份号码"]
        candidates = [
            number,
            number[:-1] + rng.choice("0123456789X"),
            number[:6] + "19991301" + number[14:],
            "999999" + number[6:],
            number[:10] + "0230" + number[14:],
            number[:-2] + "A" + number[-1],
        ]
        for candidate in candidates:
            if rng.random() < 0.5 and candidate[:17].isdigit():
                candidate = candidate[:17] + ric.calc_check_digit(candidate)
            ours = check_id_number(candidate, far_future)[0] is not None
            assert ours == ric.is_valid(candidate), candidate


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "不能为空"),
        (None, "不能为空"),
        ("3205081990010112", "应为18位（最后一位可以是X），您输入了16位"),
        ("32050819900101123A", "前17位应全是数字"),
        ("3.20508E+17", "科学计数法"),
        (3.20508199001011e17, "被存成了数字"),
        (320508199001011234, "被存成了数字"),
    ],
)
def test_id_problems(value: object, message: str) -> None:
    number, wrong = check_id_number(value, TODAY)
    assert number is None and wrong is not None and message in wrong


def test_id_checksum_date_region_future() -> None:
    good = make_id_number(dt.date(1990, 5, 17), "F", "320503", 7)
    assert check_id_number(good.lower(), TODAY) == (good, None)
    assert check_id_number(f" {good[:6]} {good[6:]} ", TODAY) == (good, None)
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    assert "校验位（最后一位）不对" in (check_id_number(bad_check, TODAY)[1] or "")
    feb30 = good[:6] + "19900230" + good[14:17]
    assert "出生日期不是有效日期" in (check_id_number(feb30 + check_digit(feb30), TODAY)[1] or "")
    unknown = "990000" + "19900517" + "014"
    assert "行政区划代码" in (check_id_number(unknown + check_digit(unknown), TODAY)[1] or "")
    baby = make_id_number(dt.date(2014, 12, 1), "M", "320508", 1)
    assert "晚于今天" in (check_id_number(baby, TODAY)[1] or "")


def test_region_code_issued_after_the_birth_year_is_accepted() -> None:
    # 姑苏区 (320508) exists since 2012: someone born in 1950 and registered late, or whose
    # number was kept through the district merger, carries it. The chat accepts it; so does
    # the roster.
    old_gusu = "320508" + "19500517" + "014"
    number = old_gusu + check_digit(old_gusu)
    assert check_id_number(number, TODAY) == (number, None)


def test_full_width_number_is_normalised_not_a_check_digit_error() -> None:
    good = make_id_number(dt.date(1990, 5, 17), "F", "320503", 7)
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in good)
    assert check_id_number(full_width, TODAY) == (good, None)
    assert check_id_number(f"{good[:6]}-{good[6:14]}-{good[14:]}", TODAY) == (good, None)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812345678", "13812345678"),
        (13812345678, "13812345678"),
        (13812345678.0, "13812345678"),
        ("+86 138-1234-5678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("", None),
        (None, None),
    ],
)
def test_mobiles_accepted(value: object, expected: str | None) -> None:
    assert check_mobile(value) == (expected, None)


@pytest.mark.parametrize(
    "value", ["12345678901", "0512-65231234", "1381234567", "手机", "+1 650 253 0000"]
)
def test_mobiles_refused(value: str) -> None:
    number, wrong = check_mobile(value)
    assert number is None and wrong is not None and "手机号码" in wrong


def test_mobile_fast_path_agrees_with_phonenumbers() -> None:
    rng = random.Random(8)
    for _ in range(3000):
        candidate = "1" + f"{rng.randrange(10**10):010d}"
        try:
            parsed = phonenumbers.parse(candidate, "CN")
        except phonenumbers.NumberParseException:
            expected = False
        else:
            expected = phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(
                parsed
            ) in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            )
        assert (check_mobile(candidate)[0] is not None) == expected, candidate
