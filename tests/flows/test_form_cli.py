"""``canbao form check | diagram | walk`` driven like an operator would, answers piped in."""

from __future__ import annotations

import argparse
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from flowkit import make_id
from test_branches import ADULT

from bot.cli import CliError
from bot.cli import form as form_cli

ROOT = Path(__file__).resolve().parents[2]


def run(argv: list[str], stdin: str = "", monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    parser = argparse.ArgumentParser(prog="canbao")
    form_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return int(args.func(args))


RESIDENT_INPUT = "\n".join(
    [
        "",  # the privacy notice
        "1",  # 本人
        "张三",
        ADULT.lower(),
        "+86 138 0000 1234",
        "2",  # 参保后断保
        "江苏",
        "苏州",
        "姑苏",
        "人民路",
        "100",
        "3",  # 单位就业
        "-",  # workplace name is required in Suzhou: refused, asked again
        "苏州某某有限公司",
        "江苏省",
        "苏州市",
        "工业园区",
        "星湖街",
        "-",
        "4 1",  # toggle 单位未参保 and 无参保意愿
        "",  # finish
        "b",  # back to the reasons
        "",  # keep the selection
        "-",  # no remarks
        "y",
        "k",  # confirmer = 张三
        "确认",
    ]
)


def test_walk_resident(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["form", "walk", "--date", "2014-11-01"], RESIDENT_INPUT + "\n", monkeypatch)
    out, err = capsys.readouterr()
    assert code == 0, err
    record = json.loads(out)
    assert record == {
        "filler_role": "self",
        "name": "张三",
        "id_number": ADULT,
        "mobile": "13800001234",
        "insured_status": "lapsed",
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "road": "人民路",
            "number": "100",
        },
        "current_status": "employed",
        "workplace_name": "苏州某某有限公司",
        "workplace_address": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "工业园区",
            "road": "星湖街",
        },
        "uninsured_reasons": ["unwilling", "employer_uninsured"],
        "remarks": None,
        "confirmer_name": "张三",
        "acknowledgement": True,
        "birth_date": "1980-01-01",
        "sex": "male",
        "age": 34,
        "collection_date": "2014-11-01",
    }
    assert "不能跳过" in err  # the refused skip was explained
    assert "核对汇总" in err


INVESTIGATOR_INPUT = "\n".join(
    [
        "1",  # 已采集
        "2",  # 监护人
        "k",  # name from the roster
        "k",  # ID from the roster (a child)
        "-",  # the child's own mobile may be left empty
        "王大明",
        make_id("320508", "19800707", 44),
        "13900005678",
        "3",  # 在外地参保
        "上海",
        "浦东",
        "-",  # no pension
        "-",  # medical cannot be skipped then: refused
        "2",  # 居民医保
        "s",
        "-",
        "e remarks",
        "奶奶代为说明情况",
        "y",
        "k",
        "确认",
    ]
)


def test_walk_investigator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    child = make_id("320508", "20100505", 12)
    argv = [
        "form",
        "walk",
        "--mode",
        "investigator",
        "--date",
        "2014-11-01",
        "--investigator",
        "社区员甲",
        "--prefill",
        "name=王小红",
        "--prefill",
        f"id_number={child}",
    ]
    code = run(argv, INVESTIGATOR_INPUT + "\n", monkeypatch)
    out, err = capsys.readouterr()
    assert code == 0, err
    record = json.loads(out)
    assert record["collection_status"] == "collected"
    assert record["community_worker"] == "社区员甲"
    assert record["name"] == "王小红" and record["id_number"] == child and record["age"] == 4
    assert record["mobile"] is None and record["guardian_name"] == "王大明"
    assert record["insured_place"] == {"province": "上海市", "city": "浦东新区"}
    assert (record["pension"], record["medical"]) == (None, "resident")
    assert record["remarks"] == "奶奶代为说明情况"
    assert record["confirmer_name"] == "王大明"


def test_walk_investigator_not_collected_via_the_real_entry_point() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "form",
            "walk",
            "--mode",
            "investigator",
            "--date",
            "2014-11-01",
            "--investigator",
            "社区员甲",
        ],
        input="2\n情况不明\n-\ny\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "collection_status": "not_collected",
        "not_collected_reason": "unknown",
        "remarks": None,
        "collection_date": "2014-11-01",
        "community_worker": "社区员甲",
    }


def test_walk_input_ending_early_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(CliError) as caught:
        run(["form", "walk"], "\n1\n", monkeypatch)
    assert caught.value.code == 1


def test_check_prints_what_it_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["form", "check"]) == 0
    out = capsys.readouterr().out
    assert "suzhou-canbao-2014 v1" in out
    assert "questions: 22" in out
    assert "current_status (9)" in out
    assert "workplace_name: " in out and "OK" in out


def test_check_bad_file_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "form: {id: x, version: 1, title: t}\nquestions:\n  - {name: a, type: date, label: A}\n"
    )
    with pytest.raises(CliError) as caught:
        run(["form", "check", str(bad)])
    assert caught.value.code == 1
    message = str(caught.value)
    assert "\n" not in message and "bad.yaml: question a: unknown type 'date'" in message


def test_check_bad_file_exit_code_through_main(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("form: [\n")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "form", "check", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "bad.yaml" in done.stderr


def test_diagram_mermaid(tmp_path: Path) -> None:
    target = tmp_path / "form.mmd"
    assert run(["form", "diagram", "-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    assert text.startswith("stateDiagram-v2")
    assert "insured_status --> residence__province : insured_status in ('never', 'lapsed')" in text
    assert "insured_status --> insured_place__province : insured_status == 'elsewhere'" in text


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz 'dot' is not installed")
def test_diagram_svg(tmp_path: Path) -> None:
    target = tmp_path / "form.svg"
    assert run(["form", "diagram", "-o", str(target)]) == 0
    svg = target.read_text(encoding="utf-8")
    assert "<svg" in svg and "guardian_name" in svg


def test_the_shipped_form_is_package_data_of_flows() -> None:
    from importlib import resources

    from flows.loader import DEFAULT_FORM

    shipped = resources.files("flows") / "forms" / "suzhou-2014.yaml"
    assert shipped.is_file()
    assert DEFAULT_FORM.read_bytes() == shipped.read_bytes()
    assert DEFAULT_FORM.samefile(ROOT / "config" / "forms" / "suzhou-2014.yaml")


def test_form_check_reads_canbao_form_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.settings import get_settings

    own = tmp_path / "own.yaml"
    own.write_text(
        (ROOT / "config" / "forms" / "suzhou-2014.yaml")
        .read_text(encoding="utf-8")
        .replace("title: 苏州市区全民社会保险登记信息采集表", "title: 本地试用表"),
        encoding="utf-8",
    )
    monkeypatch.setenv("CANBAO_FORM_FILE", str(own))
    get_settings.cache_clear()
    try:
        assert run(["form", "check"]) == 0
    finally:
        get_settings.cache_clear()
    out = capsys.readouterr().out
    assert "本地试用表" in out and str(own) in out
