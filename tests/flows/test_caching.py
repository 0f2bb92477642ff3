"""What a conversation works out once per set of answers (relevance, required, step numbers,
derived values) must follow every change of the answers, and copies handed out stay copies.

Each test first makes the conversation work everything out, then changes an answer, and
compares the long-lived conversation with one restored from its state (which starts with
nothing worked out) and with the rules evaluated directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flowkit import COLLECTION_DATE, SKIP, start, walk
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_branches import ADULT, CHILD, STUDENT, SUZHOU, head
from test_property import FORM, act

from flows import Accepted, Conversation, load_form
from flows.scope import AnswerScope

# "early" applies once the later "detail" is answered; "detail" only for kind b.
FORWARD = """\
form: {id: forward, version: 1, title: 小表}
questions:
  - {name: id_number, type: id_number, label: 公民身份号码}
  - {name: kind, type: select_one, choices: kinds, label: 类别, required: true}
  - {name: early, type: text, label: 补充, relevant: "answered(detail)"}
  - {name: detail, type: text, label: 细节, relevant: "kind == 'b'"}
choices:
  kinds:
    - {name: a, label: 甲}
    - {name: b, label: 乙}
"""


def view(conv: Conversation) -> dict[str, Any]:
    """Everything a channel can see, plus the engine's own relevance and required flags."""
    return {
        "position": conv.position,
        "prompt": conv.prompt,
        "summary": conv.summary(),
        "warnings": conv.warnings(),
        "missing": conv.missing(),
        "notes": conv.policy_notes(),
        "relevant": {f.name: conv._field_relevant(f) for f in conv.form.fields},
        "required": {s: conv._required(s) for f in conv.form.fields for s in f.states},
    }


def evaluated(conv: Conversation) -> dict[str, bool]:
    """Relevance of every question, evaluated from scratch on the current answers."""
    scope = AnswerScope(conv.form, conv.answers, conv.mode, conv.collection_date)
    return {f.name: all(rule(scope) for rule in f.relevant) for f in conv.form.fields}


def assert_current(conv: Conversation) -> None:
    """The conversation's worked-out values are those of its answers as they are now."""
    seen = view(conv)
    assert seen == view(Conversation.restore(conv.form, conv.state))
    assert seen["relevant"] == evaluated(conv)


def relevant(conv: Conversation, name: str) -> bool:
    return conv._field_relevant(FORM.field(name))


def test_answering_a_branch_question_opens_that_branch_at_once() -> None:
    conv = start()
    walk(conv, head())
    assert conv.position == "insured_status"
    view(conv)  # everything worked out with insured_status unanswered
    assert not relevant(conv, "residence") and not relevant(conv, "insured_place")
    before = conv.prompt
    assert before is not None

    result = conv.answer("从未参保")
    assert isinstance(result, Accepted) and result.prompt is not None
    assert result.prompt.state == "residence.province"
    assert result.prompt.total > before.total
    assert relevant(conv, "residence") and not relevant(conv, "insured_place")
    assert_current(conv)

    walk(conv, [*SUZHOU])
    conv.edit("insured_status")
    view(conv)
    result = conv.answer("在外地参保")
    assert isinstance(result, Accepted) and result.prompt is not None
    assert result.prompt.state == "insured_place.province"
    assert not relevant(conv, "residence") and relevant(conv, "insured_place")
    assert "residence" not in conv.answers
    assert_current(conv)


def test_a_new_id_number_changes_the_age_rules_and_derived_values_at_once() -> None:
    conv = start()
    walk(conv, head(number=ADULT)[:-1])
    assert conv.position == "mobile"
    view(conv)
    prompt = conv.prompt
    assert prompt is not None and not prompt.optional  # an adult's own number is required
    assert not relevant(conv, "guardian_name")
    age = next(item for item in conv.summary() if item.name == "age")
    assert age.display == "34"

    conv.back()
    assert conv.position == "id_number"
    result = conv.answer(CHILD)
    assert isinstance(result, Accepted) and result.prompt is not None
    assert result.prompt.name == "mobile" and result.prompt.optional
    assert relevant(conv, "guardian_name")
    age = next(item for item in conv.summary() if item.name == "age")
    assert age.display == "4"
    assert_current(conv)


def test_answers_dropped_one_after_another_are_judged_on_what_is_left() -> None:
    # A 20-year-old without civil capacity has a guardian section; once the person fills in
    # the form alone, no_civil_capacity no longer applies, and without it neither does the
    # guardian section: both go in one step.
    conv = start()
    walk(
        conv,
        ["", "监护人", "张三", STUDENT, "是", SKIP, "王建国", ADULT, "13912345678"],
    )
    assert conv.position == "insured_status"
    assert relevant(conv, "no_civil_capacity") and relevant(conv, "guardian_name")
    view(conv)
    conv.edit("filler_role")
    result = conv.answer("本人")
    assert isinstance(result, Accepted)
    answers = conv.answers
    assert "no_civil_capacity" not in answers and "guardian_name" not in answers
    assert not relevant(conv, "guardian_name")
    # The number skipped while it was optional is now required: the review will ask for it.
    assert conv._required("mobile") and "mobile" in conv.missing()
    assert result.prompt is not None and result.prompt.name == "insured_status"
    assert_current(conv)


def test_an_answer_dropped_on_the_way_counts_for_questions_judged_before(tmp_path: Path) -> None:
    path = tmp_path / "forward.yaml"
    path.write_text(FORWARD, encoding="utf-8")
    conv = Conversation.start(load_form(path), context={"collection_date": COLLECTION_DATE})
    walk(conv, [SKIP, "乙", "写了细节"])
    assert conv.at_review
    conv.edit("early")
    walk(conv, ["补充的话"])
    assert set(conv.answers) == {"id_number", "kind", "early", "detail"}
    view(conv)
    conv.edit("kind")
    # detail no longer applies, and once it is gone neither does early (judged before it).
    walk(conv, ["甲"])
    assert set(conv.answers) == {"id_number", "kind"}
    assert conv.at_review
    assert_current(conv)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), mode=st.sampled_from(["resident", "investigator"]))
def test_worked_out_values_follow_any_sequence_of_steps(data: st.DataObject, mode: str) -> None:
    conv = Conversation.start(FORM, mode=mode, context={"collection_date": COLLECTION_DATE})
    for _ in range(data.draw(st.integers(1, 60))):
        act(conv, data)  # a restored copy it may return is ignored: this one lives on
        assert_current(conv)


def test_values_handed_out_are_copies() -> None:
    conv = start()
    walk(conv, [*head(), "从未参保", *SUZHOU, "单位就业", "某某公司"])
    state = conv.state
    state["answers"]["residence"]["city"] = "杭州市"
    state["history"].append("remarks")
    conv.answers["residence"]["road"] = "别的路"
    assert conv.state["answers"]["residence"]["city"] == "苏州市"
    assert conv.state["answers"]["residence"]["road"] == "人民路"
    assert conv.state["history"][-1] != "remarks"

    given_state = conv.state
    restored = Conversation.restore(FORM, given_state)
    given_state["answers"]["residence"]["city"] = "杭州市"
    given_state["prefill"]["name"] = "李四"
    assert restored.state == conv.state

    walk(restored, ["江苏", "苏州", "姑苏区", "干将西路", "1"])
    restored.toggle("employer_uninsured")
    result = restored.finish_multi()
    assert isinstance(result, Accepted) and isinstance(result.value, list)
    result.value.append("unwilling")
    assert restored.answers["uninsured_reasons"] == ["employer_uninsured"]
