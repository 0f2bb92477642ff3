"""Table-driven walks through every branch of the shipped form, asserting the exact record."""

from __future__ import annotations

from typing import Any

import pytest
from flowkit import KEEP, PROCEED, SKIP, make_id, start, walk

from flows import Rejected

ADULT = make_id("320508", "19800101", 123)  # man, 34 on 2014-11-01
WOMAN = make_id("320505", "19850612", 224)  # woman, 29
CHILD = make_id("320508", "20100505", 12)  # girl, 4
TEEN = make_id("320506", "19991231", 37)  # boy, 14
ELDER = make_id("320503", "19490301", 51)  # man, 65
STUDENT = make_id("320505", "19940901", 75)  # man, 20
PARENT = make_id("320508", "19800707", 44)  # woman, 34

SUZHOU = ["江苏省", "苏州市", "姑苏区", "人民路", "100"]
SUZHOU_VALUE = {
    "province": "江苏省",
    "city": "苏州市",
    "district": "姑苏区",
    "road": "人民路",
    "number": "100",
}
TAIL = [SKIP, PROCEED, KEEP, "确认"]  # no remarks, review, confirmer as proposed, acknowledgement


def head(
    role: str = "本人", name: str = "张三", number: str = ADULT, mobile: str = "13800001234"
) -> list[Any]:
    return ["", role, name, number, mobile]


def record(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "filler_role": "self",
        "name": "张三",
        "id_number": ADULT,
        "mobile": "13800001234",
        "remarks": None,
        "confirmer_name": "张三",
        "acknowledgement": True,
        "birth_date": "1980-01-01",
        "sex": "male",
        "age": 34,
        "collection_date": "2014-11-01",
    }
    base.update(fields)
    return base


UNINSURED_CASES = [
    pytest.param(
        [*head(), "从未参保", *SUZHOU, "无业", "无缴费能力", *TAIL],
        record(
            insured_status="never",
            residence=SUZHOU_VALUE,
            current_status="unemployed",
            uninsured_reasons=["cannot_afford"],
        ),
        id="never-unemployed-suzhou",
    ),
    pytest.param(
        [*head(), "参保后断保", *SUZHOU, "灵活就业", "无参保意愿、政策不了解", *TAIL],
        record(
            insured_status="lapsed",
            residence=SUZHOU_VALUE,
            current_status="flexible",
            uninsured_reasons=["unwilling", "unaware"],
        ),
        id="lapsed-flexible",
    ),
    pytest.param(
        [
            *head(),
            "never",
            *SUZHOU,
            "单位就业",
            "苏州某某电子有限公司",
            "江苏",
            "苏州",
            "工业园区",
            "星湖街",
            "328",
            "单位未参保",
            *TAIL,
        ],
        record(
            insured_status="never",
            residence=SUZHOU_VALUE,
            current_status="employed",
            workplace_name="苏州某某电子有限公司",
            workplace_address={
                "province": "江苏省",
                "city": "苏州市",
                "district": "工业园区",
                "road": "星湖街",
                "number": "328",
            },
            uninsured_reasons=["employer_uninsured"],
        ),
        id="employed-suzhou-workplace-required",
    ),
    pytest.param(
        [
            *head(number=STUDENT),
            "never",
            *SUZHOU,
            "在校（园）学生",
            "苏州某某职业技术学院",
            "江苏省",
            "苏州市",
            "虎丘区",
            "科技城路",
            SKIP,
            "school_uninsured",
            *TAIL,
        ],
        record(
            id_number=STUDENT,
            birth_date="1994-09-01",
            age=20,
            insured_status="never",
            residence=SUZHOU_VALUE,
            current_status="student",
            workplace_name="苏州某某职业技术学院",
            workplace_address={
                "province": "江苏省",
                "city": "苏州市",
                "district": "虎丘区（高新区）",
                "road": "科技城路",
            },
            uninsured_reasons=["school_uninsured"],
        ),
        id="student-suzhou",
    ),
    pytest.param(
        [
            *head(),
            "never",
            "浙江省",
            "杭州市",
            SKIP,
            SKIP,
            SKIP,
            "单位就业",
            SKIP,
            SKIP,
            "政策不了解",
            *TAIL,
        ],
        record(
            insured_status="never",
            residence={"province": "浙江省", "city": "杭州市"},
            current_status="employed",
            workplace_name=None,
            workplace_address=None,
            uninsured_reasons=["unaware"],
        ),
        id="employed-other-province-workplace-optional",
    ),
    pytest.param(
        [*head(), "never", "香港", SKIP, SKIP, SKIP, SKIP, "务农", "不符合参保条件", *TAIL],
        record(
            insured_status="never",
            residence={"province": "香港"},
            current_status="farming",
            uninsured_reasons=["ineligible"],
        ),
        id="hong-kong",
    ),
    pytest.param(
        [*head(), "lapsed", "日本", "东京", SKIP, SKIP, SKIP, "参军", "unwilling", *TAIL],
        record(
            insured_status="lapsed",
            residence={"province": "日本", "city": "东京"},
            current_status="military",
            uninsured_reasons=["unwilling"],
        ),
        id="abroad-country-in-province-box",
    ),
    pytest.param(
        [*head(), "never", *SUZHOU, "服刑", "无缴费能力", *TAIL],
        record(
            insured_status="never",
            residence=SUZHOU_VALUE,
            current_status="prison",
            uninsured_reasons=["cannot_afford"],
        ),
        id="prison",
    ),
    pytest.param(
        [*head(number=ELDER), "never", *SUZHOU, "老年无待遇", "无缴费能力", *TAIL],
        record(
            id_number=ELDER,
            birth_date="1949-03-01",
            age=65,
            insured_status="never",
            residence=SUZHOU_VALUE,
            current_status="elderly_no_benefit",
            uninsured_reasons=["cannot_afford"],
        ),
        id="elderly",
    ),
    pytest.param(
        [
            "",
            "监护人",
            "王小红",
            CHILD,
            SKIP,
            "王大明",
            PARENT,
            "139 0000 5678",
            "从未参保",
            *SUZHOU,
            "学龄前",
            "政策不了解",
            *TAIL,
        ],
        record(
            filler_role="guardian",
            name="王小红",
            id_number=CHILD,
            mobile=None,
            guardian_name="王大明",
            guardian_id_number=PARENT,
            guardian_mobile="13900005678",
            insured_status="never",
            residence=SUZHOU_VALUE,
            current_status="preschool",
            uninsured_reasons=["unaware"],
            confirmer_name="王大明",
            birth_date="2010-05-05",
            sex="female",
            age=4,
        ),
        id="preschool-minor-with-guardian",
    ),
]


@pytest.mark.parametrize(("actions", "expected"), UNINSURED_CASES)
def test_uninsured_branches(actions: list[Any], expected: dict[str, Any]) -> None:
    conv = start()
    walk(conv, actions)
    assert conv.complete
    assert conv.record() == expected
    assert conv.missing() == []


ELSEWHERE_CASES = [
    pytest.param(
        ["上海", "浦东", "离退休待遇", SKIP],
        {
            "insured_place": {"province": "上海市", "city": "浦东新区"},
            "pension": "retirement_benefit",
            "medical": None,
        },
        id="pension-only",
    ),
    pytest.param(
        ["江苏省", "南京市", SKIP, "居民医保"],
        {
            "insured_place": {"province": "江苏省", "city": "南京市"},
            "pension": None,
            "medical": "resident",
        },
        id="medical-only",
    ),
    pytest.param(
        ["台湾", SKIP, "在职缴费", "职工医保"],
        {
            "insured_place": {"province": "台湾"},
            "pension": "employee_contrib",
            "medical": "employee",
        },
        id="both-taiwan",
    ),
]


@pytest.mark.parametrize(("section", "expected"), ELSEWHERE_CASES)
def test_insured_elsewhere_branches(section: list[Any], expected: dict[str, Any]) -> None:
    conv = start()
    walk(conv, [*head(), "在外地参保", *section, *TAIL])
    assert conv.record() == record(insured_status="elsewhere", **expected)


def test_pension_or_medical_at_least_one() -> None:
    conv = start()
    walk(conv, [*head(), "elsewhere", "上海市", "黄浦区", SKIP])
    assert conv.prompt is not None and conv.prompt.name == "medical"
    result = conv.skip()
    assert isinstance(result, Rejected)
    assert "不能跳过" in result.message
    assert conv.prompt is not None and conv.prompt.name == "medical"


def test_suzhou_requires_district_and_workplace() -> None:
    conv = start()
    walk(conv, [*head(), "never", "江苏省", "苏州市"])
    prompt = conv.prompt
    assert prompt is not None and prompt.state == "residence.district" and not prompt.optional
    assert isinstance(conv.skip(), Rejected)
    refused = conv.answer("朝阳区")  # not a district of Suzhou
    assert isinstance(refused, Rejected) and "姑苏区" in refused.message
    walk(conv, ["姑苏", "人民路", SKIP, "单位就业"])
    assert conv.prompt is not None and conv.prompt.name == "workplace_name"
    assert not conv.prompt.optional
    assert isinstance(conv.skip(), Rejected)


def test_abroad_parts_may_be_skipped_but_mainland_city_may_not() -> None:
    conv = start()
    walk(conv, [*head(), "never", "浙江"])
    assert isinstance(conv.skip(), Rejected)  # mainland: 市 is needed
    conv.back()
    walk(conv, ["美国"])
    assert conv.prompt is not None and conv.prompt.optional
    unknown = start()
    walk(unknown, [*head(), "never"])
    result = unknown.answer("火星")
    assert isinstance(result, Rejected) and "国家名称" in result.message


GUARDIAN_CASES = [
    pytest.param(
        ["", "本人", "李小刚", TEEN, SKIP, "李建国", ADULT, "13800001234", "从未参保"],
        {
            "filler_role": "self",
            "name": "李小刚",
            "id_number": TEEN,
            "mobile": None,
            "guardian_name": "李建国",
            "guardian_id_number": ADULT,
            "guardian_mobile": "13800001234",
        },
        id="minor-filling-in-himself-still-needs-guardian",
    ),
    pytest.param(
        ["", "监护人", "赵某某", ADULT, "是", SKIP, "赵母", WOMAN, "13700001111", "从未参保"],
        {
            "filler_role": "guardian",
            "name": "赵某某",
            "id_number": ADULT,
            "no_civil_capacity": "yes",
            "mobile": None,
            "guardian_name": "赵母",
            "guardian_id_number": WOMAN,
            "guardian_mobile": "13700001111",
        },
        id="adult-without-civil-capacity",
    ),
    pytest.param(
        ["", "监护人", "赵某某", ADULT, "否", "13800001234", "从未参保"],
        {
            "filler_role": "guardian",
            "name": "赵某某",
            "id_number": ADULT,
            "no_civil_capacity": "no",
            "mobile": "13800001234",
        },
        id="guardian-fills-for-capable-adult",
    ),
    pytest.param(
        ["", "指定代理人", "钱某", ADULT, "13800001234", "从未参保"],
        {"filler_role": "proxy", "name": "钱某", "id_number": ADULT, "mobile": "13800001234"},
        id="proxy",
    ),
]


@pytest.mark.parametrize(("actions", "expected"), GUARDIAN_CASES)
def test_guardian_section(actions: list[Any], expected: dict[str, Any]) -> None:
    conv = start()
    walk(conv, actions)
    assert conv.position == "residence.province"
    answers = conv.answers
    answers.pop("privacy_notice", None)
    assert {k: v for k, v in answers.items() if k != "insured_status"} == expected


def test_guardian_must_be_adult_and_someone_else() -> None:
    conv = start()
    walk(conv, ["", "监护人", "王小红", CHILD, SKIP, "王大明"])
    young = conv.answer(make_id("320508", "19980101", 33))  # 16 years old
    assert isinstance(young, Rejected) and "18" in young.message
    same = conv.answer(CHILD)
    assert isinstance(same, Rejected)
    assert conv.prompt is not None and conv.prompt.name == "guardian_id_number"


def test_adult_self_needs_mobile() -> None:
    conv = start()
    walk(conv, ["", "本人", "张三", ADULT])
    assert conv.prompt is not None and not conv.prompt.optional
    assert isinstance(conv.skip(), Rejected)


def test_confirmer_default_depends_on_filler() -> None:
    proxy = start()
    walk(
        proxy,
        [
            "",
            "指定代理人",
            "钱某",
            ADULT,
            "13800001234",
            "elsewhere",
            "上海市",
            "黄浦区",
            "离退休待遇",
            SKIP,
            SKIP,
            PROCEED,
        ],
    )
    assert proxy.prompt is not None and proxy.prompt.name == "confirmer_name"
    assert proxy.prompt.current is None
    assert isinstance(proxy.keep(), Rejected)
    walk(proxy, ["孙代理", "确认"])
    assert proxy.record()["confirmer_name"] == "孙代理"


@pytest.mark.parametrize(
    ("label", "code"), [("人户分离", "separated"), ("长期外出", "away"), ("情况不明", "unknown")]
)
def test_investigator_not_collected(label: str, code: str) -> None:
    conv = start(
        "investigator",
        prefill={"name": "周某", "id_number": ADULT, "mobile": "13800001234"},
        investigator="社区员甲",
    )
    visited = walk(conv, ["未采集", label, "邻居称已搬离多年", PROCEED])
    assert visited == ["collection_status", "not_collected_reason", "remarks", "review", "complete"]
    assert conv.record() == {
        "collection_status": "not_collected",
        "not_collected_reason": code,
        "remarks": "邻居称已搬离多年",
        "collection_date": "2014-11-01",
        "community_worker": "社区员甲",
    }


def test_investigator_collected_with_prefill() -> None:
    conv = start(
        "investigator",
        prefill={
            "name": "周某",
            "id_number": ADULT,
            "mobile": "138-0000-1234",
            "residence": "江苏省苏州市姑苏区干将西路12号",
        },
        investigator="社区员甲",
    )
    walk(
        conv,
        [
            "已采集",
            "本人",
            KEEP,
            KEEP,
            KEEP,
            "从未参保",
            KEEP,
            KEEP,
            KEEP,
            KEEP,
            KEEP,
            "无业",
            "无参保意愿",
            *TAIL,
        ],
    )
    assert conv.record() == record(
        collection_status="collected",
        name="周某",
        confirmer_name="周某",
        insured_status="never",
        residence={
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "road": "干将西路",
            "number": "12",
        },
        current_status="unemployed",
        uninsured_reasons=["unwilling"],
        community_worker="社区员甲",
    )
