"""Property: any sequence of answers, backs, edits, keeps and skips leaves a valid state."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flowkit import COLLECTION_DATE, make_id
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import Conversation, Prompt, Rejected, load_default_form
from flows.model import COMPLETE, DERIVED, REVIEW

FORM = load_default_form()
GARBAGE = [
    "",
    " ",
    "？？",
    "x",
    "0",
    "1234567",
    "０５１２-６５２２３３４４",
    "abc" * 80,
    "\u3000",
    "否",
    "是",
]
AGES = [2, 10, 15, 16, 17, 30, 55, 70]


def good_answer(prompt: Prompt, data: st.DataObject) -> str:
    """A plausible answer for the current question."""
    if prompt.choices and (prompt.kind != "address_part" or data.draw(st.booleans())):
        return data.draw(st.sampled_from(prompt.choices)).code
    if prompt.kind == "id_number":
        years = data.draw(st.sampled_from(AGES))
        born = COLLECTION_DATE.replace(year=COLLECTION_DATE.year - years) - dt.timedelta(days=3)
        return make_id("320505", born, data.draw(st.integers(0, 999)))
    if prompt.kind == "mobile":
        return data.draw(st.sampled_from(["13800001234", "+86 139-0000-5678", "15000000000"]))
    if prompt.kind == "address_part":
        return data.draw(st.sampled_from(["日本", "人民路", "12", "某某村", "香港", "江苏"]))
    if prompt.kind == "confirm":
        return "确认"
    return data.draw(st.sampled_from(["张三", "阿依古丽·买买提", "John Smith", "某某公司"]))


def check_invariants(conv: Conversation) -> None:
    state = conv.state
    assert json.loads(json.dumps(state)) == state
    again = Conversation.restore(FORM, state)
    assert again.state == state
    assert conv.position in FORM.states
    for name in state["answers"]:
        assert conv._field_relevant(FORM.field(name)), f"stale answer {name}"
    prompt = conv.prompt
    assert (prompt is None) == (conv.position in (REVIEW, COMPLETE))
    if prompt is not None:
        assert prompt.total >= prompt.step >= 1 or prompt.kind == "note"
    conv.summary()
    conv.warnings()
    conv.policy_notes()
    if conv.complete:
        assert conv.missing() == []
        record = conv.record()
        allowed = (
            {f.name for f in FORM.fields} | set(DERIVED) | {"collection_date", "community_worker"}
        )
        assert set(record) <= allowed
        for field in FORM.fields:
            if field.type != "note" and conv._field_relevant(field):
                assert field.name in record


def act(conv: Conversation, data: st.DataObject) -> Any:
    prompt = conv.prompt
    choice = data.draw(
        st.sampled_from(
            [
                "good",
                "good",
                "good",
                "good",
                "garbage",
                "keep",
                "skip",
                "back",
                "edit",
                "toggle",
                "finish",
                "proceed",
                "confirm",
                "restore",
            ]
        )
    )
    if choice == "good" and prompt is not None:
        if prompt.kind == "select_multiple":
            conv.toggle(data.draw(st.sampled_from(prompt.choices)).code)
            return conv.finish_multi()
        return conv.answer(good_answer(prompt, data))
    if choice == "good" or choice == "proceed":
        if conv.at_review and data.draw(st.booleans()):
            conv.confirm_warnings()
        return conv.proceed()
    if choice == "garbage":
        return conv.answer(data.draw(st.sampled_from(GARBAGE)))
    if choice == "keep":
        return conv.keep()
    if choice == "skip":
        return conv.skip()
    if choice == "back":
        return conv.back()
    if choice == "edit":
        editable = [item.name for item in conv.summary() if item.editable]
        if editable and not conv.complete:
            return conv.edit(data.draw(st.sampled_from(editable)))
        return None
    if choice == "toggle" and prompt is not None and prompt.choices:
        return conv.toggle(data.draw(st.sampled_from(prompt.choices)).code)
    if choice == "finish":
        return conv.finish_multi()
    if choice == "confirm":
        conv.confirm_warnings()
        return None
    if choice == "restore":
        return Conversation.restore(FORM, conv.state)
    return None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), mode=st.sampled_from(["resident", "investigator"]))
def test_random_sequences_keep_the_engine_valid(data: st.DataObject, mode: str) -> None:
    prefill = data.draw(
        st.sampled_from(
            [
                None,
                {
                    "name": "张三",
                    "mobile": "0512-65223344",
                    "residence": "江苏省苏州市姑苏区人民路1号",
                },
            ]
        )
    )
    conv = Conversation.start(
        FORM, mode=mode, prefill=prefill, context={"collection_date": COLLECTION_DATE}
    )
    for _ in range(data.draw(st.integers(1, 80))):
        result = act(conv, data)
        if isinstance(result, Conversation):
            conv = result
        if isinstance(result, Rejected):
            assert result.message
        check_invariants(conv)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), mode=st.sampled_from(["resident", "investigator"]))
def test_answering_well_always_finishes_complete(data: st.DataObject, mode: str) -> None:
    conv = Conversation.start(FORM, mode=mode, context={"collection_date": COLLECTION_DATE})
    for _ in range(200):
        if conv.complete:
            break
        prompt = conv.prompt
        if prompt is None:
            conv.confirm_warnings()
            result: Any = conv.proceed()
        elif prompt.kind == "select_multiple":
            conv.toggle(data.draw(st.sampled_from(prompt.choices)).code)
            result = conv.finish_multi()
        else:
            result = conv.answer(good_answer(prompt, data))
            if isinstance(result, Rejected) and prompt.optional:
                result = conv.skip()
        if isinstance(result, Rejected) and prompt is not None and not prompt.choices:
            # A plausible answer can still be wrong here (a guardian too young, a short name).
            result = conv.answer(
                make_id("320505", "19700101", 11) if prompt.kind == "id_number" else "王五"
            )
    assert conv.complete
    assert conv.missing() == []
    check_invariants(conv)
