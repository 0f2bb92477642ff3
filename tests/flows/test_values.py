"""flows.values: free-text cleaning, dates, ID numbers inside text; and the form details that
depend on them (the 路 prefill, the mobilisation note, the collection date passed in)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from flowkit import COLLECTION_DATE, SKIP, start, walk
from test_branches import head

from flows import Conversation, EngineError, load_default_form, values
from flows.address import parse_text
from flows.values import (
    Invalid,
    clean_text,
    contains_id_number,
    mask_id_numbers,
    one_line,
    parse_date,
)
from flows.values.mobile import _problem
from tests.value_cases import ID


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\u0001b\u0000c", "abc"),
        ("x\ud800y", "x\ufffdy"),
        ("x\udfffy", "x\ufffdy"),
        ("pay\u202egnp.exe", "paygnp.exe"),
        ("\u2066隔离\u2069", "隔离"),
        ("零\u200b宽\u200d字\u2060符\ufeff", "零宽字符"),
        ("C1\u0085\u009b", "C1"),
        ("DEL\x7f", "DEL"),
        ("第一行\r\n第二行\r第三行", "第一行\n第二行\n第三行"),
        ("tab\there", "tab here"),
        ("e\u0301", "é"),  # NFC
        ("已经干净的文字 abc", "已经干净的文字 abc"),
        ("👨\u200d👩\u200d👧", "👨👩👧"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    assert clean_text(clean) == clean  # idempotent
    clean.encode("utf-8")  # no lone surrogate left


def test_one_line_collapses_whitespace() -> None:
    assert one_line("  第一行\n\u3000第二行\t ") == "第一行 第二行"


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("2014-11-20", dt.date(2014, 11, 20)),
        ("2014/11/20", dt.date(2014, 11, 20)),
        ("2014.11.20", dt.date(2014, 11, 20)),
        ("2014年11月20日", dt.date(2014, 11, 20)),
        ("2014-1-5", dt.date(2014, 1, 5)),
        ("20141120", dt.date(2014, 11, 20)),
        ("２０１４－１１－２０", dt.date(2014, 11, 20)),
    ],
)
def test_dates_accepted(typed: str, day: dt.date) -> None:
    assert parse_date(typed) == day


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("20.11.2014", "date.format"),
        ("明天", "date.format"),
        ("2014-02-30", "date.invalid"),
        ("1800-01-01", "date.too_early"),
        ("2099-01-01", "date.too_late"),
    ],
)
def test_dates_refused(typed: str, code: str) -> None:
    with pytest.raises(Invalid) as caught:
        parse_date(typed, latest=dt.date(2026, 12, 4))
    assert caught.value.code == code


def test_id_numbers_inside_text_are_found_and_masked() -> None:
    spaced = f"{ID[:6]} {ID[6:14]} {ID[14:]}"
    for text in (
        f"备注：{ID}。",
        f"号码 {spaced}",
        f"ID{ID}",
        "身份证" + ID.translate(_FULL_WIDTH),
    ):
        assert contains_id_number(text), text
        masked = mask_id_numbers(text)
        assert ID not in masked and "3205**********0140" in masked, masked
    for text in ("电话 13812345678", "订单号 12345678901234567890", f"1{ID}"):
        assert not contains_id_number(text) and mask_id_numbers(text) == text


_FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}


@pytest.mark.parametrize(
    ("address", "road", "number"),
    [
        ("江苏省苏州市姑苏区双塔街道人民路100号", "人民路", "100"),
        ("江苏省苏州市姑苏区双塔街道办事处竹辉路8号", "竹辉路", "8"),
        ("江苏省苏州市姑苏区平江路社区平江路12号", "平江路", "12"),
        ("江苏省苏州市吴中区木渎镇中山路5号", "中山路", "5"),
        ("江苏省苏州市姑苏区新镇路5号", "新镇路", "5"),
        ("江苏省苏州市姑苏区人民路100号", "人民路", "100"),
        ("江苏省苏州市姑苏区双塔街道", None, None),
    ],
)
def test_road_prefill_is_not_the_street_office(
    address: str, road: str | None, number: str | None
) -> None:
    parts = parse_text(address, load_default_form().address)
    assert parts.get("road") == road and parts.get("number") == number


REGISTERED = "您填写的工作或就读单位已登记"


def test_mobilisation_note_names_the_workplace_only_when_one_was_given() -> None:
    outside = start()
    # Lives in Shanghai: the workplace may be left out (说明5), and is.
    walk(outside, [*head(), "从未参保", "上海", "浦东", SKIP, SKIP, SKIP, "单位就业", SKIP])
    walk(outside, [SKIP, "无缴费能力"])
    assert outside.position == "remarks" and outside.answers.get("workplace_name") is None
    notes = outside.policy_notes()
    assert notes and not any(REGISTERED in n for n in notes), notes
    assert any("参加社会保险的权利" in n for n in notes)

    inside = start()
    walk(inside, [*head(), "从未参保", "江苏省", "苏州市", "姑苏区", "人民路", "100", "单位就业"])
    walk(inside, ["苏州某某电子有限公司", "江苏", "苏州", "工业园区", "星湖街", "328"])
    assert any(REGISTERED in n for n in inside.policy_notes())


def test_the_engine_reads_no_clock() -> None:
    form = load_default_form()
    with pytest.raises(EngineError):
        Conversation.start(form, mode="resident")
    conv = Conversation.start(form, context={"collection_date": COLLECTION_DATE})
    assert conv.collection_date == COLLECTION_DATE


def test_mobile_validity_is_decided_by_the_first_five_digits() -> None:
    # The fast path of values.mobile caches validity per 5-digit block: every block, with
    # suffixes of its own, must agree with libphonenumber's full parse of the number.
    rng = random.Random(20261204)
    for prefix in range(10000, 20000):
        for _ in range(2):
            number = f"{prefix}{rng.randrange(1_000_000):06d}"
            full = _problem(number)[1] is None
            try:
                values.mobile(number)
                fast = True
            except values.Invalid:
                fast = False
            assert fast == full, number
