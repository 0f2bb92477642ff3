"""What a question says: hints that fit the question asked, no instruction a channel repeats."""

from __future__ import annotations

from flowkit import KEEP, PROCEED, SKIP, start, walk
from test_branches import SUZHOU, head


def test_the_workplace_district_hint_names_the_workplace_not_the_residence() -> None:
    conv = start()
    walk(conv, [*head(), "从未参保", *SUZHOU[:2]])
    residence = conv.prompt
    assert residence is not None and residence.state == "residence.district"
    assert "当前常住地在苏州市" in residence.hint
    walk(conv, SUZHOU[2:])
    walk(conv, ["单位就业", "某某公司", "江苏", "苏州"])
    workplace = conv.prompt
    assert workplace is not None and workplace.state == "workplace_address.district"
    assert "工作或学习单位地址在苏州市" in workplace.hint
    assert "常住地" not in workplace.hint


def test_no_question_carries_an_instruction_the_channels_give_themselves() -> None:
    conv = start()
    walk(conv, [*head(), "从未参保", *SUZHOU, "无业"])
    reasons = conv.prompt
    assert reasons is not None and reasons.kind == "select_multiple"
    assert "多选" not in reasons.hint  # every channel says how to pick several
    walk(conv, ["无缴费能力", SKIP, PROCEED, KEEP])
    statement = conv.prompt
    assert statement is not None and statement.kind == "confirm"
    assert "回复" not in statement.hint  # answered with a button where there is one
