"""A returned record reopened with marked questions, the completed form, and the progress count."""

from __future__ import annotations

import itertools

import pytest
from flowkit import KEEP, PROCEED, SKIP, start, walk
from test_branches import SUZHOU, TAIL, head

from flows import Conversation, EngineError, Rejected


def completed() -> Conversation:
    conv = start()
    walk(conv, [*head(), "从未参保", *SUZHOU, "无业", "无缴费能力", *TAIL])
    assert conv.complete
    return conv


def test_marked_questions_must_be_answered_again_before_the_review_is_left() -> None:
    conv = completed()
    conv.reopen(["mobile"])
    assert conv.prompt is not None and conv.prompt.name == "mobile"
    assert conv.awaiting_reanswer() == ["mobile"]
    conv.back()  # straight back to the review, the number not looked at
    assert conv.at_review
    refused = conv.proceed()
    assert isinstance(refused, Rejected)
    assert "手机号码" in refused.message and "重新回答" in refused.message
    conv.edit("mobile")
    walk(conv, ["13900002222"])
    assert conv.awaiting_reanswer() == [] and conv.unchanged_after_reopen() == []
    walk(conv, [PROCEED, KEEP, "确认"])
    assert conv.complete and conv.record()["mobile"] == "13900002222"


def test_keeping_a_marked_answer_is_an_explicit_choice_that_is_reported() -> None:
    conv = completed()
    conv.reopen(["mobile", "current_status"])
    walk(conv, [KEEP, "无业"])  # the old number kept, the same status chosen again
    assert conv.at_review
    assert conv.awaiting_reanswer() == []
    assert conv.unchanged_after_reopen() == ["mobile", "current_status"]
    walk(conv, [PROCEED, KEEP, "确认"])
    assert conv.complete
    # The state survives a restore with what was marked.
    again = Conversation.restore(conv.form, conv.state)
    assert again.unchanged_after_reopen() == ["mobile", "current_status"]


def test_only_marked_questions_are_editable_when_some_are_marked() -> None:
    conv = completed()
    conv.reopen(["mobile"])
    editable = {item.name for item in conv.summary() if item.editable}
    assert editable == {"mobile"}
    with pytest.raises(EngineError):
        conv.edit("remarks")


def test_a_changed_answer_opens_questions_that_are_editable_too() -> None:
    conv = completed()
    conv.reopen(["current_status"])
    walk(conv, ["单位就业", "某某公司", "江苏", "苏州", "吴中区", "东吴北路", "1"])
    assert conv.at_review
    editable = {item.name for item in conv.summary() if item.editable}
    assert editable == {"current_status", "workplace_name", "workplace_address"}


def test_without_marked_questions_everything_stays_editable() -> None:
    conv = completed()
    assert conv.reopen(None) is None
    assert all(item.editable for item in conv.summary() if conv.form.has_field(item.name))
    assert conv.awaiting_reanswer() == [] and conv.unchanged_after_reopen() == []
    walk(conv, [PROCEED, KEEP, "确认"])
    assert conv.complete


def test_the_completed_form_can_go_back_and_edit() -> None:
    conv = completed()
    conv.back()
    assert conv.prompt is not None and conv.prompt.name == "acknowledgement"
    walk(conv, ["确认"])
    assert conv.complete
    conv.edit("mobile")
    assert conv.prompt is not None and conv.prompt.name == "mobile"
    walk(conv, [KEEP])
    assert conv.at_review  # the acknowledgement is asked again after the review
    walk(conv, [PROCEED, KEEP])
    assert conv.prompt is not None and conv.prompt.name == "acknowledgement"
    walk(conv, ["确认"])
    assert conv.complete


def test_progress_counts_what_is_still_ahead() -> None:
    conv = start()
    notice = conv.prompt
    assert notice is not None and notice.kind == "note"
    ahead = [notice.remaining]
    for action in [*head(), "从未参保", *SUZHOU, "无业", "无缴费能力", SKIP]:
        walk(conv, [action])
        if conv.prompt is not None:
            ahead.append(conv.prompt.remaining)
    walk(conv, [PROCEED])
    while conv.prompt is not None:
        ahead.append(conv.prompt.remaining)
        walk(conv, [KEEP] if conv.prompt.name == "confirmer_name" else ["确认"])
    assert ahead[0] > 0
    assert ahead[-1] == 1  # the acknowledgement: the last question
    assert min(ahead) >= 1
    # The residence's five boxes are one question; otherwise each answer leaves one fewer,
    # except where an answer opens questions (从未参保 opens the uninsured section).
    grown = [n for n, (a, b) in enumerate(itertools.pairwise(ahead)) if b > a]
    assert len(grown) <= 1
