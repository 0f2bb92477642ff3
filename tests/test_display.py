"""The display-safe form of stored text (bot.display)."""

from __future__ import annotations

import json

from bot.display import display_json, display_text, display_value, finalize, is_display_safe

CONTROLS = "a\u0001b\u0000c\u001bd\u0085e"
SURROGATE = "x\ud800y\udfffz"
BIDI = "王\u202e强"


def test_display_text_keeps_text_and_drops_what_cannot_be_shown() -> None:
    assert display_text("林晓 Zoë 😀 第1行\n第2行") == "林晓 Zoë 😀 第1行\n第2行"
    assert display_text("a\tb\r\nc\u200bd") == "a b\ncd"  # as the chat would have kept it
    assert display_text(CONTROLS) == "abcde"
    assert display_text(SURROGATE) == "x\ufffdy\ufffdz"
    assert display_text(BIDI) == "王强"
    assert display_text("\ufffe\uffff") == ""
    assert display_value({"k\ud800": [SURROGATE, 1, None]}) == {
        "k\ufffd": ["x\ufffdy\ufffdz", 1, None]
    }
    assert is_display_safe("林晓\n") and not is_display_safe(SURROGATE)


def test_display_json_is_utf8_a_strict_reader_accepts() -> None:
    text = display_json({"remarks": SURROGATE, "n": 1})
    assert json.loads(text.encode("utf-8")) == {"remarks": "x\ufffdy\ufffdz", "n": 1}


def test_finalize_keeps_markup_as_markup() -> None:
    from markupsafe import Markup

    shown = finalize(Markup("<b>a\u0001</b>"))
    assert isinstance(shown, Markup) and str(shown) == "<b>a</b>"
    assert finalize(3) == 3
