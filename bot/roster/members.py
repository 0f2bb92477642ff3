"""Parse the roster's 已参保家庭成员 cell: "李四(父) 13800001111; 王五(母)" → a list of members."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[;；,，、\n]+")
_MEMBER = re.compile(
    r"""^\s*
    (?P<name>[\u4e00-\u9fff·•A-Za-z][\u4e00-\u9fff·•A-Za-z .]{0,29}?)\s*
    (?:[(（]\s*(?P<relation>[^()（）]{1,10}?)\s*[)）])?\s*
    (?P<phone>\+?[\d\- ]{7,20})?\s*$""",
    re.VERBOSE,
)


def parse_insured_members(text: str | None) -> tuple[list[dict[str, str]], str | None]:
    """Members as ``{"姓名", "关系", "联系电话"}`` dicts, and the raw text when it did not parse.

    All-or-nothing: if any part is not understood, no list is returned and the text is kept
    verbatim, so nothing the roster said is lost or half-read.
    """
    if text is None or not str(text).strip():
        return [], None
    raw = str(text).strip()
    members: list[dict[str, str]] = []
    for part in _SEPARATORS.split(raw):
        if not part.strip():
            continue
        match = _MEMBER.match(part)
        if match is None:
            return [], raw
        members.append(
            {
                "姓名": match["name"].strip(),
                "关系": (match["relation"] or "").strip(),
                "联系电话": re.sub(r"[\s-]", "", match["phone"] or ""),
            }
        )
    return members, None
