"""Free text as it enters the system, from any channel: :func:`clean_text`.

Whatever a chat, a form post or a roster cell carries, what is kept is text every export,
page and JSON view can show: NFC-normalised, without control characters (a newline is kept,
a tab becomes a space, ``\\r\\n`` and ``\\r`` become ``\\n``), without lone surrogates (each
becomes U+FFFD, so the reader sees that something was there), without zero-width characters
and without bidirectional overrides (which can make text read differently from what it is).
"""

from __future__ import annotations

import re
import unicodedata

# Removed: C0 controls except tab/newline/CR (handled below), DEL and the C1 block; the soft
# hyphen; Arabic letter mark; Mongolian vowel separator; zero-width space/joiners and the
# LRM/RLM marks; the bidi embeddings/overrides/isolates; word joiner and invisible operators;
# deprecated format characters; the byte-order mark; interlinear annotation marks; the
# non-characters U+FFFE/U+FFFF; the tag characters.
_DROP = (
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    "\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f"
    "\ufeff\ufff9-\ufffb\ufffe\uffff\U000e0000-\U000e007f"
)
_DROP_RE = re.compile(f"[{_DROP}]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# Anything that makes the slow path necessary (the common case is text with none of it).
_SUSPECT_RE = re.compile(f"[{_DROP}\ud800-\udfff\t\r\u2028\u2029]")
_LINE_BREAKS = str.maketrans({"\t": " ", "\u2028": "\n", "\u2029": "\n"})
_SPACES = re.compile(r"\s+")

REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """The text as it may be stored (see the module docstring); idempotent."""
    # str.isprintable() is False for every control, format, surrogate, separator (other than
    # the space) and unassigned character: printable text has nothing to remove.
    if text.isprintable() or _SUSPECT_RE.search(text) is None:
        if text.isascii() or unicodedata.is_normalized("NFC", text):
            return text
        return unicodedata.normalize("NFC", text)
    text = _SURROGATE_RE.sub(REPLACEMENT, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_LINE_BREAKS)
    text = _DROP_RE.sub("", text)
    return unicodedata.normalize("NFC", text)


def one_line(text: str) -> str:
    """Clean text on one line: every run of whitespace (newlines and the ideographic space
    too) becomes one space, none at either end. A typed answer is read this way."""
    return _SPACES.sub(" ", clean_text(text)).strip()


def is_clean(text: str) -> bool:
    """Whether ``text`` is already what :func:`clean_text` makes of it."""
    return clean_text(text) == text
