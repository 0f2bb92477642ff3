"""Back, edit, reopen, prefill, multi-select, review and the serialisable state."""

from __future__ import annotations

import json

import pytest
from flowkit import CONFIRM_WARNINGS, KEEP, PROCEED, SKIP, make_id, start, walk
from test_branches import ADULT, CHILD, PARENT, SUZHOU, TAIL, head

from flows import Accepted, Conversation, EngineError, Rejected, load_default_form


def reviewed_never() -> Conversation:
    conv = start()
    walk(
        conv,
        [
            *head(),
            "从未参保",
            *SUZHOU,
            "单位就业",
            "某某科技有限公司",
            "江苏",
            "苏州",
            "吴中区",
            "东吴北路",
            "1",
            "单位未参保",
            SKIP,
        ],
    )
    assert conv.at_review
    return conv


def test_changing_insured_status_drops_the_uninsured_section_and_asks_the_other() -> None:
    conv = reviewed_never()
    conv.edit("insured_status")
    result = conv.answer("在外地参保")
    assert isinstance(result, Accepted)
    answers = conv.answers
    for dropped in (
        "residence",
        "current_status",
        "workplace_name",
        "workplace_address",
        "uninsured_reasons",
    ):
        assert dropped not in answers
    visited = walk(conv, ["上海市", "徐汇区", "其他缴费", SKIP])
    # Newly required questions are asked, then straight back to the review (remarks was answered).
    assert visited == [
        "insured_place.province",
        "insured_place.city",
        "pension",
        "medical",
        "review",
    ]
    walk(conv, [PROCEED, KEEP, "确认"])
    record = conv.record()
    assert record["insured_status"] == "elsewhere"
    assert "residence" not in record and "uninsured_reasons" not in record
    assert record["insured_place"] == {"province": "上海市", "city": "徐汇区"}


def test_edit_that_keeps_the_path_returns_to_review_at_once() -> None:
    conv = reviewed_never()
    conv.edit("current_status")
    result = conv.answer("灵活就业")
    assert isinstance(result, Accepted) and result.prompt is None
    assert conv.at_review
    assert "workplace_name" not in conv.answers  # no longer applies
    assert conv.answers["uninsured_reasons"] == ["employer_uninsured"]
    assert [w.code for w in conv.warnings()] == ["W_EMPLOYER_REASON"]


def test_edit_id_to_a_minor_asks_the_guardian_and_back_to_adult_drops_it() -> None:
    conv = reviewed_never()
    conv.edit("id_number")
    walk(conv, [make_id("320508", "20040404", 18)])
    assert conv.prompt is not None and conv.prompt.name == "guardian_name"
    walk(conv, ["张父", PARENT, "13900001111"])
    assert conv.at_review
    assert conv.answers["guardian_name"] == "张父"
    conv.edit("id_number")
    walk(conv, [ADULT])
    assert conv.at_review
    assert not {"guardian_name", "guardian_id_number", "guardian_mobile"} & set(conv.answers)


def test_edit_id_to_a_minor_when_mobile_was_given() -> None:
    conv = reviewed_never()
    conv.edit("id_number")
    walk(conv, [CHILD])
    # The mobile stays (it was answered), the guardian section is new.
    assert conv.answers["mobile"] == "13800001234"
    assert conv.prompt is not None and conv.prompt.name == "guardian_name"


def test_back_follows_the_asked_questions_not_the_declaration_order() -> None:
    conv = start()
    walk(conv, [*head(), "在外地参保"])
    assert conv.prompt is not None and conv.prompt.state == "insured_place.province"
    back = conv.back()
    assert back is not None and back.name == "insured_status"
    assert back.current == "在外地参保（或享受社保待遇）"
    back = conv.back()
    assert back is not None and back.name == "mobile"  # no guardian questions in between
    back = conv.back()
    assert back is not None and back.name == "id_number"


def test_back_then_new_answer_replaces_and_drops() -> None:
    conv = start()
    walk(conv, [*head(), "从未参保", *SUZHOU, "在校（园）学生", "某某小学"])
    conv.back()  # workplace_name
    conv.back()  # current_status
    walk(conv, ["无业"])
    assert "workplace_name" not in conv.answers
    assert conv.prompt is not None and conv.prompt.name == "uninsured_reasons"


def test_back_from_the_first_question_stays() -> None:
    conv = start()
    first = conv.prompt
    assert conv.back() == first


def test_changing_province_clears_later_parts() -> None:
    conv = reviewed_never()
    conv.edit("residence")
    walk(conv, ["浙江省"])
    assert conv.answers["residence"] == {"province": "浙江省"}
    assert conv.prompt is not None and conv.prompt.state == "residence.city"
    walk(conv, ["宁波", SKIP, SKIP, SKIP])
    assert conv.at_review
    # 说明5 no longer applies: the workplace stays but is optional now; nothing is missing.
    assert conv.missing() == []


def test_keeping_every_part_of_an_address_changes_nothing() -> None:
    conv = reviewed_never()
    before = conv.answers["residence"]
    conv.edit("residence")
    walk(conv, [KEEP, KEEP, KEEP, KEEP, KEEP])
    assert conv.at_review
    assert conv.answers["residence"] == before


def test_edit_part_of_an_address() -> None:
    conv = reviewed_never()
    prompt = conv.edit("residence.road")
    assert prompt.state == "residence.road" and prompt.current == "人民路"
    walk(conv, ["十全街", KEEP])
    assert conv.at_review
    assert conv.answers["residence"]["road"] == "十全街"


def test_edit_refuses_unknown_or_inapplicable_fields() -> None:
    conv = reviewed_never()
    with pytest.raises(EngineError):
        conv.edit("pension")
    with pytest.raises(EngineError):
        conv.edit("no_such_field")


def test_prefill_is_shown_for_confirmation_and_a_new_answer_replaces_it() -> None:
    conv = start(prefill={"name": "张三", "id_number": ADULT.lower(), "mobile": "13800009999"})
    walk(conv, ["", "本人"])
    prompt = conv.prompt
    assert prompt is not None and prompt.prefilled and prompt.current == "张三"
    walk(conv, [KEEP])
    assert conv.prompt is not None and conv.prompt.prefilled
    walk(conv, [KEEP])
    assert conv.answers["id_number"] == ADULT  # normalised on the way in
    walk(conv, ["13800001234"])
    assert conv.answers["mobile"] == "13800001234"


def test_invalid_prefill_is_refused_on_keep() -> None:
    conv = start(prefill={"mobile": "0512-65223344"})
    walk(conv, ["", "本人", "张三", ADULT])
    result = conv.keep()
    assert isinstance(result, Rejected) and "固定电话" in result.message


def test_multi_select_toggle_and_finish() -> None:
    conv = start()
    walk(conv, [*head(), "never", *SUZHOU, "无业"])
    prompt = conv.prompt
    assert prompt is not None and prompt.kind == "select_multiple"
    assert isinstance(conv.finish_multi(), Rejected)  # nothing chosen yet
    conv.toggle("unaware")
    conv.toggle("unwilling")
    conv.toggle("cannot_afford")
    prompt = conv.toggle("cannot_afford")
    assert prompt is not None and prompt.selected == {"unaware", "unwilling"}
    state = conv.state  # a selection in progress survives a restart
    conv = Conversation.restore(load_default_form(), state)
    result = conv.finish_multi()
    assert isinstance(result, Accepted)
    assert result.value == ["unwilling", "unaware"]  # in the list's order


def test_review_blocks_until_warnings_confirmed() -> None:
    conv = start()
    walk(conv, [*head(), "never", *SUZHOU, "学龄前", "政策不了解", SKIP])
    assert [w.code for w in conv.warnings()] == ["W_PRESCHOOL_AGE"]
    refused = conv.proceed()
    assert isinstance(refused, Rejected) and "学龄前" in refused.message
    conv.confirm_warnings()
    prompt = conv.proceed()
    assert not isinstance(prompt, Rejected) and prompt is not None
    assert prompt.name == "confirmer_name"


def test_summary_shows_derived_values_and_masks() -> None:
    conv = reviewed_never()
    items = {item.name: item for item in conv.summary()}
    assert items["birth_date"].display == "1980-01-01" and not items["birth_date"].editable
    assert items["sex"].display == "男"
    assert items["age"].display == "34"
    assert items["id_number"].masked == ADULT[:4] + "*" * 10 + ADULT[-4:]
    assert items["mobile"].masked == "138****1234"
    assert items["residence"].display == "江苏省苏州市姑苏区人民路100号"
    assert items["uninsured_reasons"].display == "单位未参保"


def test_policy_notes() -> None:
    employed = reviewed_never()
    assert any("参加社会保险的权利" in n for n in employed.policy_notes())
    jobless = start()
    walk(jobless, [*head(), "never", *SUZHOU, "无业", "无缴费能力"])
    assert any("灵活就业" in n for n in jobless.policy_notes())
    elsewhere = start()
    walk(elsewhere, [*head(), "elsewhere"])
    assert elsewhere.policy_notes() == []


def test_acknowledgement_needs_a_yes() -> None:
    conv = reviewed_never()
    walk(conv, [PROCEED, KEEP])
    refused = conv.answer("不知道")
    assert isinstance(refused, Rejected) and "确认" in refused.message
    assert not conv.complete


def test_record_before_complete_raises() -> None:
    conv = reviewed_never()
    with pytest.raises(EngineError):
        conv.record()


def test_reopen_only_the_named_fields() -> None:
    conv = reviewed_never()
    walk(conv, [PROCEED, *TAIL[2:]])
    assert conv.complete
    prompt = conv.reopen(["mobile"])
    assert prompt is not None and prompt.name == "mobile" and prompt.current == "13800001234"
    visited = walk(conv, ["13900002222"])
    assert visited[-1] == "review"
    walk(conv, [PROCEED, KEEP])
    assert conv.prompt is not None and conv.prompt.name == "acknowledgement"  # asked again
    walk(conv, ["确认"])
    assert conv.record()["mobile"] == "13900002222"


def test_reopen_without_fields_shows_the_summary() -> None:
    conv = reviewed_never()
    walk(conv, [PROCEED, *TAIL[2:]])
    assert conv.reopen(None) is None
    assert conv.at_review


def test_answers_at_review_are_refused_politely() -> None:
    conv = reviewed_never()
    result = conv.answer("随便")
    assert isinstance(result, Rejected) and result.prompt is None


def test_state_is_json_and_restores_exactly() -> None:
    conv = reviewed_never()
    state = conv.state
    text = json.dumps(state, ensure_ascii=False)
    restored = Conversation.restore(load_default_form(), json.loads(text))
    assert restored.state == state
    assert restored.summary() == conv.summary()
    walk(restored, [PROCEED, KEEP, "确认"])
    walk(conv, [PROCEED, KEEP, "确认"])
    assert restored.record() == conv.record()


def test_restore_refuses_another_form_version() -> None:
    state = start().state
    state["form_version"] = 99
    with pytest.raises(EngineError):
        Conversation.restore(load_default_form(), state)


def test_duplicate_answer_after_restore_is_idempotent_per_state() -> None:
    # A channel that replays the same update after a crash restores the state saved *before*
    # it, so the answer is applied once; the saved state after it does not move again.
    conv = start()
    walk(conv, [*head()[:3]])
    saved = conv.state
    first = Conversation.restore(load_default_form(), saved)
    second = Conversation.restore(load_default_form(), saved)
    first.answer(ADULT)
    second.answer(ADULT)
    assert first.state == second.state


def test_start_a_returned_record_with_only_some_fields_reopened() -> None:
    done = reviewed_never()
    walk(done, [PROCEED, KEEP, "确认"])
    previous = done.record()
    conv = start(prefill=previous, reopen=["current_status"])
    prompt = conv.prompt
    assert prompt is not None and prompt.name == "current_status"
    assert prompt.current == "单位就业"
    # The workplace still applies (student), so it is not asked again: straight to the review.
    visited = walk(conv, ["在校（园）学生"])
    assert visited[-1] == "review"
    assert conv.answers["workplace_name"] == "某某科技有限公司"
    assert [w.code for w in conv.warnings()] == ["W_EMPLOYER_REASON"]
    walk(conv, [CONFIRM_WARNINGS, PROCEED, KEEP, "确认"])
    assert conv.record() == {**previous, "current_status": "student"}


def test_start_reopen_asks_what_the_old_record_lacked() -> None:
    partial = {
        "filler_role": "self",
        "name": "张三",
        "id_number": ADULT,
        "mobile": "138",  # invalid: asked again
        "insured_status": "never",
        "residence": {"province": "江苏省", "city": "苏州市"},
    }
    conv = start(prefill=partial, reopen=["name"])
    assert conv.prompt is not None and conv.prompt.name == "name"
    visited = walk(
        conv, [KEEP, "13800001234", "姑苏区", "人民路", SKIP, "无业", "无参保意愿", SKIP]
    )
    assert visited[1:] == [
        "mobile",
        "residence.district",
        "residence.road",
        "residence.number",
        "current_status",
        "uninsured_reasons",
        "remarks",
        "review",
    ]


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("阿依古丽•买买提", "阿依古丽·买买提"),
        ("  王  小明 ", "王 小明"),
        ("ＪＯＨＮ Smith", "JOHN Smith"),
    ],
)
def test_names_are_normalised(typed: str, stored: str) -> None:
    conv = start()
    walk(conv, ["", "本人", typed])
    assert conv.answers["name"] == stored


@pytest.mark.parametrize("typed", ["张", "12345", "张三" * 16, "   "])
def test_bad_names_are_refused(typed: str) -> None:
    conv = start()
    walk(conv, ["", "本人"])
    result = conv.answer(typed)
    assert isinstance(result, Rejected) and result.message
    assert result.prompt is not None and result.prompt.name == "name"


def test_remarks_are_bounded() -> None:
    conv = start()
    walk(conv, [*head(), "elsewhere", "上海", "黄浦", "离退休待遇", SKIP])
    refused = conv.answer("很" * 201)
    assert isinstance(refused, Rejected) and "200" in refused.message
    walk(conv, ["很" * 200])
    assert conv.at_review


def test_insured_elsewhere_in_suzhou_is_flagged_for_a_second_look() -> None:
    conv = reviewed_never()
    conv.edit("insured_status")
    conv.answer("在外地参保")
    walk(conv, ["江苏", "苏州", SKIP, "职工医保"])
    assert conv.at_review
    assert [w.code for w in conv.warnings()] == ["W_INSURED_IN_SUZHOU"]
    conv.edit("insured_place")
    walk(conv, ["上海市", "徐汇区"])
    assert conv.at_review
    assert conv.warnings() == []
