"""Match what a person typed against a list of choices (code, label, or an unambiguous part)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from flows.model import Choice

_NOISE = re.compile(r"[\s□☐☑✓√]+")


def _plain(text: str) -> str:
    # NFKC turns full-width brackets into ASCII ones, so "（" and "(" compare equal.
    return _NOISE.sub("", unicodedata.normalize("NFKC", text)).casefold()


def match_choice(choices: Sequence[Choice], text: str) -> Choice | None:
    """The choice meant by ``text``: its code, its label, or a unique beginning or part of one."""
    raw = text.strip()
    if not raw:
        return None
    for choice in choices:
        if raw == choice.code:
            return choice
    plain = _plain(raw)
    if not plain:
        return None
    for choice in choices:
        if plain in (_plain(choice.label), choice.code.casefold()):
            return choice
    for test in (str.startswith, str.__contains__):
        found = [c for c in choices if test(_plain(c.label), plain)]
        if len(found) == 1:
            return found[0]
    return None


def split_multi(text: str) -> list[str]:
    """Split a typed multi-select answer ("无参保意愿、政策不了解") into its items."""
    return [item for item in re.split(r"[,，、;；/\s]+", text.strip()) if item]
