"""The table of typed values (tests/value_cases.py) through the form's questions: every channel
(Telegram, web chat, console correction) answers a question with ``Conversation.answer``."""

from __future__ import annotations

import pytest
from flowkit import start, walk

from flows import Conversation, Rejected
from tests.value_cases import ID, ID_CASES, MOBILE_CASES, NAME_CASES, Case, ids


def _at(question: str) -> Conversation:
    conv = start()
    script = {"name": ["", "本人"], "id_number": ["", "本人", "林晓"]}
    walk(conv, script.get(question, ["", "本人", "林晓", ID]))
    assert conv.position == question
    return conv


def _check(conv: Conversation, question: str, case: Case) -> None:
    result = conv.answer(case.typed)
    if case.accepted:
        assert not isinstance(result, Rejected), result.message
        assert conv.answers[question] == case.kept
    else:
        assert isinstance(result, Rejected)
        assert result.message == case.message
        assert question not in conv.answers and conv.position == question


@pytest.mark.parametrize("case", ID_CASES, ids=ids(ID_CASES))
def test_id_number_question(case: Case) -> None:
    _check(_at("id_number"), "id_number", case)


@pytest.mark.parametrize("case", MOBILE_CASES, ids=ids(MOBILE_CASES))
def test_mobile_question(case: Case) -> None:
    _check(_at("mobile"), "mobile", case)


@pytest.mark.parametrize("case", NAME_CASES, ids=ids(NAME_CASES))
def test_name_question(case: Case) -> None:
    _check(_at("name"), "name", case)
