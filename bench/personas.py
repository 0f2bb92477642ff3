"""Residents with different lives: each walks a different branch of the form, some make
mistakes on the way and some go back to change an answer.

A persona is data: what to do at each question (by the engine's state name, e.g.
``residence.city``), which wrong inputs to try first, where to go back once, and what the stored
record must hold in the end.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.synthetic import make_id_number

# What to do at a question:
#   ("click", label)        press the button with that text (typed if there is no such button)
#   ("type", text)          type the text
#   ("keep",)               press 确认 (the roster's / earlier value)
#   ("skip",)               press 跳过
#   ("multi", [labels])     tick each label, then press 完成
#   ("note",)               press 知道了，继续
Step = tuple[Any, ...]

SUZHOU_HOME = {
    "province": ("click", "江苏省"),
    "city": ("click", "苏州市"),
    "district": ("click", "姑苏区"),
    "road": ("type", "人民路"),
    "number": ("type", "100"),
}
HIGH_TECH_HOME = {
    "province": ("click", "江苏省"),
    "city": ("click", "苏州市"),
    "district": ("click", "虎丘区（高新区）"),
    "road": ("type", "狮山路"),
    "number": ("type", "88"),
}


def _address(field: str, parts: dict[str, Step]) -> dict[str, Step]:
    return {f"{field}.{part}": step for part, step in parts.items()}


COMMON: dict[str, Step] = {
    "privacy_notice": ("note",),
    "filler_role": ("click", "本人"),
    "name": ("keep",),
    "id_number": ("keep",),
    "mobile": ("keep",),
    "no_civil_capacity": ("click", "否"),
    "remarks": ("skip",),
    "confirmer_name": ("keep",),
    "acknowledgement": ("click", "确认"),
}


@dataclass(frozen=True)
class Persona:
    """One kind of resident."""

    name: str
    steps: dict[str, Step]
    expected: dict[str, Any]
    mistakes: dict[str, list[str]] = field(default_factory=dict)
    back_after: dict[str, Step] = field(default_factory=dict)
    wrong_identity_first: bool = False
    minor: bool = False

    def step(self, state: str) -> Step | None:
        """What to do at ``state`` (None when the persona did not plan for it)."""
        return self.steps.get(state, COMMON.get(state))


EMPLOYED = Persona(
    name="employed",
    steps={
        "insured_status": ("click", "从未参保"),
        **_address("residence", SUZHOU_HOME),
        "current_status": ("click", "单位就业"),
        "workplace_name": ("type", "苏州某某电子有限公司"),
        **_address("workplace_address", {**SUZHOU_HOME, "road": ("type", "干将西路")}),
        "uninsured_reasons": ("multi", ["单位未参保"]),
    },
    expected={
        "insured_status": "never",
        "current_status": "employed",
        "workplace_name": "苏州某某电子有限公司",
        "uninsured_reasons": ["employer_uninsured"],
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "road": "人民路",
            "number": "100",
        },
    },
    mistakes={"insured_status": ["不知道"], "residence.number": ["x" * 200]},
    wrong_identity_first=True,
)

ELSEWHERE = Persona(
    name="elsewhere",
    steps={
        "insured_status": ("click", "在外地参保（或享受社保待遇）"),
        "insured_place.province": ("click", "浙江省"),
        "insured_place.city": ("click", "杭州市"),
        "pension": ("click", "在职缴费（含灵活就业缴费）"),
        "medical": ("click", "职工医保"),
        "remarks": ("type", "在杭州工作"),
    },
    expected={
        "insured_status": "elsewhere",
        "insured_place": {"province": "浙江省", "city": "杭州市"},
        "pension": "employee_contrib",
        "medical": "employee",
        "remarks": "在杭州工作",
    },
    back_after={"pension": ("click", "在职缴费（含灵活就业缴费）")},
)

FLEXIBLE = Persona(
    name="flexible",
    steps={
        "insured_status": ("click", "参保后断保"),
        **_address("residence", HIGH_TECH_HOME),
        "current_status": ("click", "单位就业"),
        "uninsured_reasons": ("multi", ["无缴费能力", "政策不了解"]),
    },
    expected={
        "insured_status": "lapsed",
        "current_status": "flexible",
        "uninsured_reasons": ["cannot_afford", "unaware"],
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "虎丘区（高新区）",
            "road": "狮山路",
            "number": "88",
        },
    },
    # Chose 单位就业 by mistake, goes back and picks 灵活就业.
    back_after={"current_status": ("click", "灵活就业")},
)

GUARDIAN_NAME = "王建国"
GUARDIAN_ID = make_id_number(dt.date(1978, 5, 12), "M", region="320500", seq=15)
# The same number with another check digit.
GUARDIAN_ID_BAD = GUARDIAN_ID[:17] + ("0" if GUARDIAN_ID[17] != "0" else "1")
GUARDIAN_MOBILE = "13912345678"

MINOR = Persona(
    name="minor",
    steps={
        "filler_role": ("click", "监护人"),
        "guardian_name": ("type", GUARDIAN_NAME),
        "guardian_id_number": ("type", GUARDIAN_ID),
        "guardian_mobile": ("type", GUARDIAN_MOBILE),
        "mobile": ("skip",),
        "insured_status": ("click", "从未参保"),
        **_address("residence", SUZHOU_HOME),
        "current_status": ("click", "在校（园）学生"),
        "workplace_name": ("type", "苏州市某某实验小学"),
        **_address("workplace_address", {**SUZHOU_HOME, "road": ("type", "十全街")}),
        "uninsured_reasons": ("multi", ["学校（园）未参保"]),
        "confirmer_name": ("type", GUARDIAN_NAME),
    },
    expected={
        "filler_role": "guardian",
        "guardian_name": GUARDIAN_NAME,
        "guardian_id_number": GUARDIAN_ID,
        "guardian_mobile": GUARDIAN_MOBILE,
        "insured_status": "never",
        "current_status": "student",
        "uninsured_reasons": ["school_uninsured"],
    },
    mistakes={"guardian_id_number": [GUARDIAN_ID_BAD], "guardian_mobile": ["1391234567"]},
    minor=True,
)

ADULTS = (EMPLOYED, ELSEWHERE, FLEXIBLE)
ALL = (*ADULTS, MINOR)


def age_on(birth: dt.date, day: dt.date) -> int:
    """Full years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def persona_for(index: int, birth: dt.date, today: dt.date | None = None) -> Persona:
    """The minor's persona for people under 16 today, the adults' in turn otherwise."""
    if age_on(birth, today or dt.date.today()) < 16:
        return MINOR
    return ADULTS[index % len(ADULTS)]
