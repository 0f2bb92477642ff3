"""Place names for address questions.

Provinces and their prefectures come from python-stdnum's copy of China's administrative
division codes (``stdnum/cn/loc.dat``); countries from Babel's Chinese territory names.
Only names still in force are offered; the codes are the division codes (``32``, ``3205``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from babel import Locale

# Municipalities: their "市（区、县）" column holds districts, not prefectures.
_MUNICIPALITIES = {"11", "12", "31", "50"}
_SPECIAL = (("81", "香港"), ("82", "澳门"), ("71", "台湾"))
_SKIP_PREFECTURES = (
    "市辖区",
    "县",
    "省直辖县级行政区划",
    "自治区直辖县级行政区划",
    "省直辖行政单位",
)


@dataclass(frozen=True)
class Place:
    """A named place with its division code."""

    code: str
    name: str


def _current_name(raw: str) -> str | None:
    # "[-1986]渡口市,[1987-]攀枝花市" -> "攀枝花市"; names with an end year are gone.
    for part in reversed(raw.split(",")):
        match = re.fullmatch(r"(?:\[(\d*)-(\d*)\])?(.+)", part)
        if match is None:
            continue
        if match.group(2):
            continue
        return match.group(3)
    return None


@lru_cache(maxsize=1)
def _divisions() -> dict[str, list[tuple[str, str]]]:
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    provinces: dict[str, list[tuple[str, str]]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = re.match(r'^(\s*)(\d+) (?:province|county)="([^"]*)"', line)
        if match is None:
            continue
        indent, code, name = match.groups()
        if not indent:
            province = code
            provinces[province] = [("", name)]
        else:
            provinces[province].append((code, name))
    return provinces


@lru_cache(maxsize=1)
def provinces() -> tuple[Place, ...]:
    """Mainland provinces, autonomous regions and municipalities, then 香港, 澳门, 台湾."""
    result: list[Place] = []
    for code, rows in _divisions().items():
        if code in {c for c, _ in _SPECIAL}:
            continue
        name = next((_current_name(n) for sub, n in rows if sub == "0000"), None)
        if name:
            result.append(Place(code, name))
    result.extend(Place(code, name) for code, name in _SPECIAL)
    return tuple(result)


@lru_cache(maxsize=1)
def mainland_provinces() -> frozenset[str]:
    """Names of the mainland provinces (for 说明4: everything else is 港澳台 or abroad)."""
    special = {name for _, name in _SPECIAL}
    return frozenset(p.name for p in provinces() if p.name not in special)


@lru_cache(maxsize=64)
def cities(province_name: str) -> tuple[Place, ...]:
    """Prefecture-level places of a mainland province (districts for a municipality)."""
    code = next((p.code for p in provinces() if p.name == province_name), None)
    if code is None or code not in _divisions():
        return ()
    rows = _divisions()[code]
    result: list[Place] = []
    for sub, raw in rows:
        if not sub or sub == "0000":
            continue
        is_prefecture = sub.endswith("00")
        is_municipal_district = (
            code in _MUNICIPALITIES and sub[:2] in ("01", "02") and not is_prefecture
        )
        if not (is_prefecture or is_municipal_district):
            continue
        name = _current_name(raw)
        if name and name not in _SKIP_PREFECTURES:
            result.append(Place(code + sub, name))
    return tuple(result)


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """Chinese and English country names → the Chinese name used in records."""
    chinese = Locale.parse("zh_Hans_CN").territories
    english = Locale.parse("en").territories
    result: dict[str, str] = {}
    for code, name in chinese.items():
        if not code.isalpha() or code in ("CN", "HK", "MO", "TW", "ZZ", "EU", "UN", "EZ", "QO"):
            continue
        result[name] = name
        if code in english:
            result[english[code].casefold()] = name
    return result
