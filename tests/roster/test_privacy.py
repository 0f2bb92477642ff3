"""Masking of ID and mobile numbers in lists and in every log record."""

from __future__ import annotations

import io
import logging

import pytest

from bot.privacy import install_log_masking, mask_id, mask_phone, mask_text


def test_masks() -> None:
    assert mask_id("32050819900101123X") == "3205**********123X"
    assert mask_phone("13856785678") == "138****5678"
    assert mask_id(None) == "" and mask_phone("") == ""
    assert mask_text("身份证 320508199001011234，手机 +86 138-1234-5678。") == (
        "身份证 3205**********1234，手机 138****5678。"
    )
    # Telegram ids and timestamps stay readable; a run of 18 digits or more may hold an ID
    # (touching other digits or letters) and is masked.
    assert mask_text("user 7012345678 at 20141015093000") == "user 7012345678 at 20141015093000"
    assert mask_text("ID320508199001011234") == "ID3205**********1234"
    assert mask_text("0320508199001011234") == "0320**********11234"


def test_every_log_record_is_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_masking()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("canbao.test.privacy.child")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("verify %s from %s", "32050819900101123X", "13812345678")
        try:
            raise ValueError("bad id 320508199001011234")
        except ValueError:
            logger.exception("failed for %s", "13812345678")
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    assert "3205**********123X" in output and "138****5678" in output
    assert "32050819900101123X" not in output and "13812345678" not in output
    assert "320508199001011234" not in output and "3205**********1234" in output
    assert "320508199001011234" not in caplog.text
