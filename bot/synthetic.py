"""Synthetic people for demos, tests and benchmarks: never real persons.

ID numbers are valid GB 11643 numbers (check digit, real date, a Suzhou region code in force
in the birth year, as ``stdnum.cn.ric`` checks) built from random parts; names are drawn from
common surnames and given-name characters; mobiles are valid mainland numbers.

>>> make_id_number(date(1990, 5, 17), "F", region="320503", seq=7)
'320503199005170140'
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

# GB 11643: weights of the first 17 digits; sum mod 11 indexes the check characters.
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"

ROSTER_HEADERS = (
    "区",
    "街道",
    "社区",
    "户号",
    "姓名",
    "公民身份号码",
    "联系电话",
    "居住地址",
    "已参保家庭成员",
)

# Districts in scope → streets → communities. Street names are real; community names are
# made up for the demo.
AREAS: dict[str, dict[str, tuple[str, ...]]] = {
    "姑苏区": {
        "平江街道": ("平江路社区", "大儒巷社区", "钮家巷社区"),
        "沧浪街道": ("南园社区", "杨枝社区"),
        "双塔街道": ("定慧寺社区", "滚绣坊社区"),
        "金阊街道": ("彩香社区", "留园社区"),
    },
    "高新区": {
        "狮山街道": ("狮山社区", "何山社区"),
        "枫桥街道": ("枫桥社区", "寒山社区"),
    },
}

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
    "于杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰建国志红梅文斌宇浩凯鹏飞婷雪"
    "琳晨欣怡子涵梓轩佳宁晓东海峰俊辉嘉"
)
# Mainland mobile prefixes that libphonenumber accepts as mobile.
_MOBILE_PREFIXES: tuple[str, ...] = (
    "133",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
)
_MOBILE_PREFIXES += ("177", "180", "181", "186", "187", "188", "189", "199")
_RELATIONS = ("父", "母", "配偶", "子", "女", "兄", "姐", "弟", "妹")


def check_digit(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("need exactly 17 digits")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def region_for(district: str, birth_year: int, rng: random.Random | None = None) -> str:
    """A region code of ``district`` that was in force in ``birth_year`` (as stdnum checks).

    姑苏区 (320508) replaced 沧浪/平江/金阊 (320502–320504) in 2012; 虎丘区 (320505, the 高新区)
    replaced 郊区 (320511) in 2000; before 1983 the city-wide 320500 is used.
    """
    rng = rng or random.Random()
    if district == "姑苏区":
        if birth_year >= 2012:
            return "320508"
        return rng.choice(("320502", "320503", "320504")) if birth_year >= 1983 else "320500"
    if district in ("高新区", "虎丘区"):
        if birth_year >= 2000:
            return "320505"
        return "320511" if birth_year >= 1983 else "320500"
    raise ValueError(f"no region codes known for {district}")


def make_id_number(birth: date, sex: str, region: str = "320508", seq: int = 0) -> str:
    """A valid 18-character 公民身份号码.

    ``sex`` is "M"/"F" (or 男/女); ``seq`` (0–499) picks the order code, whose last digit is odd
    for men and even for women. Pick a region code in force in the birth year (see
    :func:`region_for`) for numbers python-stdnum accepts too; the survey itself accepts any code
    ever issued (flows.values.idnumber).
    """
    male = sex.upper() in ("M", "MALE") or sex == "男"
    if not male and sex.upper() not in ("F", "FEMALE") and sex != "女":
        raise ValueError(f"sex must be M or F, got {sex!r}")
    if not 0 <= seq <= 499:
        raise ValueError("seq must be within 0..499")
    if len(region) != 6 or not region.isdigit():
        raise ValueError("region must be 6 digits")
    order = seq * 2 + (1 if male else 0)
    first17 = f"{region}{birth:%Y%m%d}{order:03d}"
    return first17 + check_digit(first17)


def make_name(rng: random.Random) -> str:
    """A plausible two- or three-character Chinese name."""
    given = "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(_SURNAMES) + given


def make_mobile(rng: random.Random) -> str:
    """A valid 11-digit mainland mobile number."""
    return rng.choice(_MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def _birth(rng: random.Random, today: date) -> date:
    # Mostly working-age adults, some children (the guardian branch) and elderly people.
    age = rng.choices((rng.randint(0, 15), rng.randint(16, 59), rng.randint(60, 85)), (2, 7, 1))[0]
    return today - timedelta(days=age * 365 + rng.randint(0, 364))


def make_roster(
    n_people: int, seed: int = 0, *, today: date = date(2014, 10, 15)
) -> list[dict[str, Any]]:
    """``n_people`` roster rows keyed by the Chinese roster headers (:data:`ROSTER_HEADERS`).

    People come in households of 1–5 spread over :data:`AREAS`; about one in four households
    lists already-insured family members ("李四(父) 13800001111; 王五(母)"). The same seed gives
    the same rows; ID numbers are unique.
    """
    rng = random.Random(seed)
    communities = [
        (district, street, community)
        for district, streets in AREAS.items()
        for street, names in streets.items()
        for community in names
    ]
    used: set[str] = set()
    rows: list[dict[str, Any]] = []
    household_no = 0
    while len(rows) < n_people:
        household_no += 1
        district, street, community = rng.choice(communities)
        address = (
            f"{street.removesuffix('街道')}{rng.choice('东西南北中')}路{rng.randint(1, 300)}号"
        )
        members = ""
        if rng.random() < 0.25:
            members = "; ".join(
                f"{make_name(rng)}({rng.choice(_RELATIONS)})"
                + (f" {make_mobile(rng)}" if rng.random() < 0.7 else "")
                for _ in range(rng.randint(1, 2))
            )
        for _ in range(min(rng.randint(1, 5), n_people - len(rows))):
            birth = _birth(rng, today)
            while True:
                id_number = make_id_number(
                    birth,
                    rng.choice("MF"),
                    region=region_for(district, birth.year, rng),
                    seq=rng.randrange(500),
                )
                if id_number not in used:
                    used.add(id_number)
                    break
            rows.append(
                {
                    "区": district,
                    "街道": street,
                    "社区": community,
                    "户号": f"{household_no:06d}",
                    "姓名": make_name(rng),
                    "公民身份号码": id_number,
                    "联系电话": make_mobile(rng) if rng.random() < 0.85 else "",
                    "居住地址": address if rng.random() < 0.9 else "",
                    "已参保家庭成员": members,
                }
            )
    return rows
