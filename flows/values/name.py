"""Person names (姓名, 监护人姓名, 确认人签名, a roster's 姓名): one normalisation, one rule.

Full-width letters become ASCII (NFKC), the middle dots of minority names become one kind
(``·``), whitespace is collapsed. Accepted: 2–30 characters of Chinese (CJK unified ideographs
with the extensions, and 〇), the middle dot, Latin letters, space, period, apostrophe, hyphen.
"""

from __future__ import annotations

import re
import unicodedata

from flows.values.invalid import Invalid
from flows.values.text import one_line

MIN_LENGTH = 2
MAX_LENGTH = 30
_MIDDLE_DOTS = re.compile(r"[•・‧∙⋅･]")
_NAME = re.compile(
    rf"[\u3007\u3400-\u9fff\U00020000-\U0003134f·A-Za-z .'-]{{{MIN_LENGTH},{MAX_LENGTH}}}"
)
MESSAGES = {
    "name.invalid": "姓名应为2–30个字，可以是汉字、少数民族姓名中的“·”或英文字母。",
}


def clean_name(text: str) -> str:
    """A name as it is kept (normalised, not checked)."""
    return one_line(_MIDDLE_DOTS.sub("·", unicodedata.normalize("NFKC", text)))


def person_name(text: str) -> str:
    """Normalise and check a person's name; raise :class:`Invalid` when it cannot be one."""
    name = clean_name(text)
    if _NAME.fullmatch(name) is None:
        raise Invalid(MESSAGES["name.invalid"], "name.invalid")
    return name
