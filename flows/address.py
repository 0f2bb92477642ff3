"""Address questions: the parts, their choices, typed input and 说明4.

An address answer is a dict of part name → text (``None`` for a skipped part), e.g.
``{"province": "江苏省", "city": "苏州市", "district": "姑苏区", "road": "人民路",
"number": "100"}``.
"""

from __future__ import annotations

import re
from typing import Any

from flows import regions
from flows.matching import match_choice
from flows.model import AddressRules, Choice
from flows.values import Invalid, one_line

PART_NAMES = ("province", "city", "district", "road", "number")
_MAX_PART = 60
_BARE_NUMBER = re.compile(r"[0-9A-Za-z\-之甲乙丙]+")
# Administrative units a roster address names between the district and the road: a street
# office (双塔街道, …街道办事处), a town (木渎镇), a community (平江路社区, …居委会). They are not
# the 路 box: "双塔街道人民路100号" is 人民路 100号 in 双塔街道.
_ADMIN_UNIT = re.compile(
    r"[^0-9０-９]{2,8}?街道(?:办事处)?"
    r"|[\u3400-\u9fff]{2,4}?[镇乡](?![路街巷道弄])"
    r"|[^0-9０-９]{2,10}?社区(?:居民委员会|居委会)?"
)


def is_mainland(value: Any) -> bool:
    """True for an address in mainland China (港澳台 and foreign countries are not)."""
    return isinstance(value, dict) and value.get("province") in regions.mainland_provinces()


def is_local(value: Any, rules: AddressRules) -> bool:
    """True for an address in 江苏省苏州市 (说明4 and 说明5)."""
    return (
        isinstance(value, dict)
        and value.get("province") == rules.local_province
        and value.get("city") == rules.local_city
    )


def format_address(value: dict[str, Any]) -> str:
    """Write an address out as one line ("江苏省苏州市姑苏区人民路100号")."""
    out = []
    for part in PART_NAMES:
        text = value.get(part)
        if not text:
            continue
        if part == "number" and _BARE_NUMBER.fullmatch(str(text)):
            text = f"{text}号"
        out.append(str(text))
    return "".join(out)


def part_choices(
    part: str, value: dict[str, Any] | None, rules: AddressRules
) -> tuple[Choice, ...]:
    """The choices offered for a part, given the parts answered before it."""
    value = value or {}
    if part == "province":
        return tuple(Choice(p.code, p.name) for p in regions.provinces())
    if part == "city" and is_mainland(value):
        return tuple(Choice(p.code, p.name) for p in regions.cities(str(value["province"])))
    if part == "district" and is_local(value, rules):
        return rules.local_districts
    return ()


def part_allows_text(part: str, value: dict[str, Any] | None, rules: AddressRules) -> bool:
    """Whether typing is allowed instead of choosing (not for the local district list)."""
    return not (part == "district" and is_local(value or {}, rules))


def part_hint(
    part: str, value: dict[str, Any] | None, rules: AddressRules, subject: str = "地址"
) -> str:
    """Extra guidance that depends on the answers so far (说明4); ``subject`` names the
    address asked (常住地, 工作或学习单位地址, 参保地)."""
    value = value or {}
    if part == "province":
        return "港澳台请选择对应地区；在国外请直接输入国家名称（如：日本）。"
    if part != "province" and value.get("province") and not is_mainland(value):
        return f"{subject}在港澳台或国外时，本项可以跳过。"
    if part == "district" and is_local(value, rules):
        return f"{subject}在苏州市的，必须选择所在区（县）。"
    return ""


def read_part(part: str, text: str, value: dict[str, Any] | None, rules: AddressRules) -> str:
    """Normalise what was typed or chosen for a part, or raise :class:`Invalid`."""
    value = value or {}
    raw = one_line(text)
    if not raw:
        raise Invalid("请填写这一项。")
    if len(raw) > _MAX_PART:
        raise Invalid(f"内容过长，最多{_MAX_PART}个字。")
    choices = part_choices(part, value, rules)
    found = match_choice(choices, raw) if choices else None
    if found is not None:
        return found.label
    if part == "province":
        country = regions.countries().get(raw) or regions.countries().get(raw.casefold())
        if country is not None:
            return country
        raise Invalid(
            f"没有找到“{raw}”。中国内地请选择省份，港澳台请选择对应地区，国外请输入国家名称（如：日本）。"
        )
    if part in ("province", "city", "district", "road") and len(raw) < 2:
        raise Invalid("地名至少2个字，请填写完整的名称。")
    if choices and not part_allows_text(part, value, rules):
        names = "、".join(c.label for c in choices)
        raise Invalid(f"请从以下区（县）中选择：{names}。")
    return raw


def parse_text(text: str, rules: AddressRules) -> dict[str, str]:
    """Split a one-line roster address into parts, as far as it can be recognised.

    Used only to prefill the address questions; the person confirms each part.
    """
    rest = one_line(text).replace(" ", "")
    parts: dict[str, str] = {}
    for part in ("province", "city", "district"):
        choices = part_choices(part, parts, rules)
        found = None
        for choice in choices:
            for name in (choice.label, re.sub(r"（.*?）|\(.*?\)", "", choice.label)):
                if name and rest.startswith(name):
                    found = (choice.label, name)
                    break
            if found:
                break
        if found is None:
            break
        parts[part] = found[0]
        rest = rest[len(found[1]) :]
    rest = _strip_admin_units(rest)
    match = re.fullmatch(r"(.*?[路街道巷弄村])?([0-9０-９\-之甲乙丙]+号?.*)?", rest)
    if match and (match.group(1) or match.group(2)):
        if match.group(1):
            parts["road"] = match.group(1)
        if match.group(2):
            number = match.group(2)
            bare = number.removesuffix("号")
            parts["number"] = bare if _BARE_NUMBER.fullmatch(bare) else number
    elif rest:
        parts["road"] = rest
    return parts


def _strip_admin_units(rest: str) -> str:
    """``rest`` without the administrative units it starts with (see :data:`_ADMIN_UNIT`)."""
    while (unit := _ADMIN_UNIT.match(rest)) is not None:
        rest = rest[unit.end() :]
    return rest
