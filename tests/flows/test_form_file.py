"""Loading form files: the shipped form, caching, and one bad file per load-time error."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from flowkit import make_id, start

from flows import ERROR_CODES, Conversation, FormError, load_default_form, load_form

GOOD = """\
form: {id: tiny, version: 1, title: 小表}
questions:
  - {name: id_number, type: id_number, label: 公民身份号码, required: true}
  - {name: kind, type: select_one, choices: kinds, label: 类别, required: true}
  - {name: other, type: text, label: 其他, relevant: "kind == 'b'"}
choices:
  kinds:
    - {name: a, label: 甲}
    - {name: b, label: 乙}
"""

# code -> (replace this text of GOOD, with this), question expected in the error (or None)
BAD: dict[str, tuple[str, str, str | None]] = {
    "E_YAML": ("form: {id: tiny", "form: [id: tiny", None),
    "E_SCHEMA": (
        "  - {name: other, type: text, label: 其他, relevant: \"kind == 'b'\"}",
        "  - just text",
        None,
    ),
    "E_MISSING_KEY": ("label: 类别, ", "", "kind"),
    "E_UNKNOWN_KEY": ("relevant: \"kind == 'b'\"", "relevent: \"kind == 'b'\"", "other"),
    "E_BAD_NAME": ("name: other", "name: age", "age"),
    "E_UNKNOWN_TYPE": ("type: text", "type: date", "other"),
    "E_DUPLICATE_NAME": ("name: other", "name: kind", "kind"),
    "E_UNKNOWN_CHOICE_LIST": ("choices: kinds", "choices: sorts", "kind"),
    "E_DUPLICATE_CHOICE": ("{name: b, label: 乙}", "{name: a, label: 乙}", None),
    "E_UNKNOWN_CHOICE": ("kind == 'b'", "kind == 'c'", "other"),
    "E_SYNTAX": ("kind == 'b'", "kind == ", "other"),
    "E_UNKNOWN_FIELD": ("kind == 'b'", "knd == 'b'", "other"),
    "E_UNKNOWN_FUNCTION": ("kind == 'b'", "lookup(kind)", "other"),
    "E_ARITY": ("kind == 'b'", "answered(kind, other)", "other"),
    "E_CYCLE": (
        "label: 类别, required: true}",
        'label: 类别, required: true, relevant: "answered(other)"}',
        "kind",
    ),
}


def write(tmp_path: Path, text: str, name: str = "form.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_the_minimal_form_is_good(tmp_path: Path) -> None:
    form = load_form(write(tmp_path, GOOD))
    assert (form.id, form.version, len(form.fields)) == ("tiny", 1, 3)


@pytest.mark.parametrize("code", sorted(BAD))
def test_each_load_time_error(tmp_path: Path, code: str) -> None:
    old, new, question = BAD[code]
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new), f"bad-{code}.yaml")
    with pytest.raises(FormError) as caught:
        load_form(path)
    error = caught.value
    assert error.code == code, str(error)
    assert error.file is not None and error.file.endswith(f"bad-{code}.yaml")
    assert str(error).startswith(error.file)
    if question is not None:
        assert error.question == question
        assert f"question {question}: " in str(error)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FormError) as caught:
        load_form(tmp_path / "nope.yaml")
    assert caught.value.code == "E_FILE"


def test_every_error_code_has_a_bad_form_test() -> None:
    assert set(BAD) | {"E_FILE"} == set(ERROR_CODES)


def test_cycle_error_shows_the_circle(tmp_path: Path) -> None:
    old, new, _ = BAD["E_CYCLE"]
    with pytest.raises(FormError) as caught:
        load_form(write(tmp_path, GOOD.replace(old, new)))
    assert "kind → other → kind" in caught.value.message


def test_a_bad_code_in_a_multi_select_membership(tmp_path: Path) -> None:
    text = GOOD.replace("type: select_one", "type: select_multiple").replace(
        "kind == 'b'", "'z' in kind"
    )
    with pytest.raises(FormError) as caught:
        load_form(write(tmp_path, text))
    assert caught.value.code == "E_UNKNOWN_CHOICE"


def test_shipped_form_loads_and_describes_the_paper_form() -> None:
    form = load_default_form()
    assert (form.id, form.version) == ("suzhou-canbao-2014", 1)
    assert form.title == "苏州市区全民社会保险登记信息采集表"
    names = [f.name for f in form.fields]
    for required in (
        "name",
        "id_number",
        "mobile",
        "guardian_name",
        "guardian_id_number",
        "guardian_mobile",
        "collection_status",
        "not_collected_reason",
        "insured_status",
        "residence",
        "current_status",
        "workplace_name",
        "workplace_address",
        "uninsured_reasons",
        "insured_place",
        "pension",
        "medical",
        "remarks",
        "filler_role",
        "confirmer_name",
        "acknowledgement",
    ):
        assert required in names
    assert [c.label for c in form.field("current_status").choices] == [
        "学龄前",
        "在校（园）学生",
        "单位就业",
        "灵活就业",
        "无业",
        "务农",
        "参军",
        "服刑",
        "老年无待遇",
    ]
    assert len(form.field("uninsured_reasons").choices) == 6
    assert len(form.field("pension").choices) == 6
    assert [p.name for p in form.field("residence").parts] == [
        "province",
        "city",
        "district",
        "road",
        "number",
    ]
    assert [p.name for p in form.field("insured_place").parts] == ["province", "city"]


def test_export_columns_follow_the_paper_form() -> None:
    columns = load_default_form().export_columns()
    keys = [k for k, _ in columns]
    assert keys[:7] == [
        "collection_status",
        "not_collected_reason",
        "name",
        "id_number",
        "birth_date",
        "sex",
        "age",
    ]
    assert dict(columns)["birth_date"] == "出生日期"
    assert dict(columns)["community_worker"] == "社区经办人"
    assert keys[-1] == "collection_date"


def test_label_of() -> None:
    form = load_default_form()
    assert form.label_of("uninsured_reasons", ["unwilling", "unaware"]) == "无参保意愿、政策不了解"
    assert form.label_of("insured_status", "elsewhere") == "在外地参保（或享受社保待遇）"
    assert form.label_of("residence", {"province": "江苏省", "city": "苏州市", "number": "3"}) == (
        "江苏省苏州市3号"
    )
    assert form.label_of("sex", "female") == "女"
    assert form.label_of("current_status", "typed text") == "typed text"


def test_loading_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    first = load_form(path)
    assert load_form(path) is first
    path.write_text(GOOD.replace("title: 小表", "title: 新表"), encoding="utf-8")
    os.utime(path, ns=(1, first_mtime_plus(path)))
    second = load_form(path)
    assert second is not first and second.title == "新表"


def first_mtime_plus(path: Path) -> int:
    return path.stat().st_mtime_ns + 1_000_000_000


def test_the_machine_is_shared_and_left_clean() -> None:
    form = load_default_form()
    machine = form.machine
    a = start()
    b = start()
    a.answer("")
    b.answer("")
    a.answer("本人")
    assert a.form.machine is machine and b.form.machine is machine
    assert list(machine.models) == []  # models are attached per call only
    restored = Conversation.restore(form, a.state)
    restored.answer("张三")
    restored.answer(make_id())
    assert list(machine.models) == []
