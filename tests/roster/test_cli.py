"""The ``canbao`` roster and account commands, run in-process against a SQLite file."""

from __future__ import annotations

import csv
import datetime as dt
import io
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.settings import get_settings
from bot.synthetic import make_roster
from storage.db import head_revision
from storage.testing import unsealed
from tests.roster.conftest import as_lists, write_csv, write_xlsx


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh SQLite database file configured through the environment, as in production."""
    path = tmp_path / "data" / "canbao.db"
    monkeypatch.setenv("CANBAO_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("CANBAO_BOT_USERNAME", "suzhou_canbao_bot")
    monkeypatch.setenv("CANBAO_PUBLIC_URL", "https://canbao.example.org/")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


@pytest.fixture
def imported(db: Path, tmp_path: Path) -> Path:
    """The database with a 60-person synthetic roster imported."""
    roster = write_csv(tmp_path / "roster.csv", as_lists(make_roster(60, seed=9)))
    assert main(["roster", "import", str(roster), "-q"]) == 0
    return db


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    # Personal values are sealed in the file: shown here as their plain text.
    with sqlite3.connect(db) as conn:
        return [tuple(unsealed(v) for v in row) for row in conn.execute(sql).fetchall()]


def test_roster_import_dry_run_then_real(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = write_csv(tmp_path / "roster.csv", as_lists(make_roster(30, seed=2)))
    assert main(["roster", "import", str(roster), "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "检查通过，共 30 行" in out and not db.exists()
    # Not a terminal: plain progress lines, no carriage returns.
    assert "检查 100% (30/30)" in err and "\r" not in err
    assert main(["roster", "import", str(roster)]) == 0
    out, _ = capsys.readouterr()
    assert "新增 30 人" in out
    assert rows(db, "select count(*) from persons") == [(30,)]


def test_roster_import_errors_name_the_place_and_import_nothing(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = as_lists(make_roster(5, seed=3))
    data[2][5] = data[2][5][:-1] + ("0" if data[2][5][-1] != "0" else "1")
    roster = write_csv(tmp_path / "roster.csv", data)
    assert main(["roster", "import", str(roster), "-q"]) == 2
    _, err = capsys.readouterr()
    assert "roster.csv: 第4行 公民身份号码 (F列): 公民身份号码的校验位（最后一位）不对" in err
    assert err.strip().endswith("错误: roster.csv: 发现 1 处问题，未导入任何数据")
    assert "Traceback" not in err
    assert rows(db, "select count(*) from persons") == [(0,)]
    assert main(["roster", "import", str(tmp_path / "missing.xlsx")]) == 2
    assert "missing.xlsx: 文件不存在" in capsys.readouterr().err


def test_investigator_add_shows_code_once(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (community,) = rows(
        imported,
        "select d.name || '/' || s.name || '/' || c.name from communities c "
        "join streets s on s.id = c.street_id join districts d on d.id = s.district_id "
        "order by c.id limit 1",
    )
    capsys.readouterr()
    assert main(["investigator", "add", "周敏", "--community", str(community[0])]) == 0
    out = capsys.readouterr().out
    code = next(x for x in out.splitlines() if x.startswith("一次性绑定码")).rsplit("：", 1)[1]
    assert code.startswith("bind-")
    assert f"https://t.me/suzhou_canbao_bot?start={code}" in out
    assert main(["investigator", "list"]) == 0
    listed = capsys.readouterr().out
    assert "周敏" in listed and "未绑定" in listed and code not in listed
    # Only the hash is stored.
    assert not any(code in str(r) for r in rows(imported, "select * from investigators"))

    assert main(["investigator", "add", "吴刚", "--community", "姑苏区/没有/这个社区"]) == 2
    assert "社区 姑苏区/没有/这个社区 不存在" in capsys.readouterr().err
    assert main(["investigator", "revoke", "1", "--reason", "离职"]) == 0
    assert main(["investigator", "list"]) == 0
    assert "已停用" in capsys.readouterr().out


def test_staff_add_with_password_stdin(
    imported: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["staff", "add", "gusu1", "--district", "姑苏区", "--password-stdin"]) == 0
    assert "gusu1 已创建（姑苏区，审核员）" in capsys.readouterr().out
    (hash_,) = rows(imported, "select password_hash from staff where username = 'gusu1'")
    assert str(hash_[0]).startswith("$argon2") and "horse" not in str(hash_[0])

    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["staff", "add", "boss", "--city", "--role", "admin", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["staff", "add", "x1x", "--city", "--password-stdin"]) == 2
    assert "密码至少" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("correct horse battery\n"))
    assert main(["staff", "add", "y1y", "--district", "吴中区", "--password-stdin"]) == 2
    assert "区 吴中区 不存在" in capsys.readouterr().err
    # Not a terminal and no --password-stdin: refused instead of hanging on a prompt.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["staff", "add", "z1z", "--city"]) == 2
    assert "--password-stdin" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["staff", "add", "q1q", "--city", "--district", "姑苏区"])


def test_token_create_prints_secret_once(
    imported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["token", "create", "central"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()
    assert secret.startswith("cbt_") and "只显示这一次" in err
    assert main(["token", "list"]) == 0
    assert secret not in capsys.readouterr().out
    assert main(["token", "create", "central"]) == 2
    assert "已存在" in capsys.readouterr().err
    assert main(["token", "revoke", "central"]) == 0


def _table(output: Path) -> list[list[str]]:
    if output.suffix == ".csv":
        with output.open(encoding="utf-8-sig", newline="") as f:
            return list(csv.reader(f))
    sheet = load_workbook(output, read_only=True).worksheets[0]
    return [[str(c) if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_invite_export_is_the_call_list(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    output = tmp_path / "out" / f"invites{suffix}"
    assert main(["invite", "--district", "姑苏区", "-o", str(output)]) == 0
    gusu = rows(
        imported,
        "select count(*) from persons p join districts d on d.id = p.district_id "
        "where d.name = '姑苏区'",
    )[0][0]
    out = capsys.readouterr().out
    assert f"{gusu} 人（本次新建邀请 {gusu} 个，新记为已发邀请 {gusu} 人）" in out
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    header, *body = _table(output)
    assert header == [
        "区",
        "街道",
        "社区",
        "户号",
        "姓名",
        "联系电话",
        "状态",
        "最近联系日期",
        "最近联系结果",
        "邀请码",
        "链接",
        "网页链接",
    ]
    assert len(body) == gusu and {r[0] for r in body} == {"姑苏区"}
    assert {r[6] for r in body} == {"未联系"}  # as they stood when the list was made
    codes = {r[9] for r in body}
    assert len(codes) == gusu
    first = body[0]
    assert first[10] == f"https://t.me/suzhou_canbao_bot?start={first[9]}"
    assert first[11] == f"https://canbao.example.org/c/{first[9]}"
    # Handing the list out sent the invites: 姑苏区 is 已发邀请 now, and audited.
    assert rows(
        imported,
        "select count(*) from persons where last_contact_outcome = 'invited'",
    ) == [(gusu,)]
    assert rows(imported, "select count(*) from contacts where channel = 'cli'") == [(gusu,)]
    assert rows(imported, "select count(*) from audit_events where action = 'invites_sent'") == [
        (1,)
    ]
    # Again, for the whole city: the same codes; the never-contacted (高新区) first.
    assert main(["invite", "-o", str(tmp_path / "all.csv")]) == 0
    again = _table(tmp_path / "all.csv")[1:]
    assert codes <= {r[9] for r in again} and len(again) == 60
    statuses = [r[6] for r in again]
    assert statuses == sorted(statuses, key=lambda s: s != "未联系")
    assert statuses.count("已发邀请") == gusu
    assert main(["invite", "-o", str(tmp_path / "x.txt")]) == 2


def test_call_list_puts_failed_calls_first_and_leaves_out_the_done(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    people = rows(imported, "select id_number, name from persons order by id limit 3")
    calls = write_csv(
        tmp_path / "calls.csv",
        [
            [people[0][0], "2014-11-03", "无人接听", ""],
            [people[1][0], "2014-11-04", "已在外地参保", "在上海参保"],
            [people[2][0], "2014-11-05", "已通知", ""],
        ],
        headers=["公民身份号码", "联系日期", "联系结果", "备注"],
    )
    assert main(["contacts", "import", str(calls)]) == 0
    assert main(["invite", "-o", str(tmp_path / "calls.xlsx")]) == 0
    body = _table(tmp_path / "calls.xlsx")[1:]
    names = [r[4] for r in body]
    assert len(body) == 59 and people[1][1] not in names  # insured elsewhere: nobody to call
    # 57 never contacted, then the one nobody answered, then the one told.
    assert [r[6] for r in body[-2:]] == ["已联系（无人接听）", "已联系（已通知）"]
    assert body[-2][7:9] == ["2014-11-03", "无人接听"]
    assert main(["invite", "--all", "-o", str(tmp_path / "everyone.csv")]) == 0
    assert len(_table(tmp_path / "everyone.csv")) == 61


def test_contacts_import_checks_every_row_and_imports_nothing_on_a_problem(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (number, name), (other, _other_name) = rows(
        imported, "select id_number, name from persons order by id limit 2"
    )
    bad = write_csv(
        tmp_path / "calls.csv",
        [
            [number, "2014-11-03", "无人接听", name, "", "晚上再打"],
            [other, "2014/11/3", "打不通", "", "", ""],
            ["320508199001011234", "3 Nov", "已通知", "", "", ""],
            [other, "2999-01-01", "已通知", "", "", ""],
            [other, "2014-11-05", "已通知", "张三丰", "", ""],
            [other, "2014-11-05", "已通知", "", "李调查", ""],
        ],
        headers=["身份证号码", "联系日期", "联系结果", "姓名", "联系人", "备注"],
    )
    capsys.readouterr()
    assert main(["contacts", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert (
        "calls.csv: 第3行 联系结果 (C列): 应为 已通知、无人接听、号码错误、拒绝、已在外地参保"
        in err
    )
    assert "calls.csv: 第4行 公民身份号码 (A列): 公民身份号码的校验位（最后一位）不对" in err
    assert "calls.csv: 第4行 联系日期 (B列): 3 Nov 不是日期（应写成 2014-11-20）" in err
    assert "calls.csv: 第5行 联系日期 (B列): 联系日期 2999-01-01 晚于今天" in err
    assert "错误: calls.csv: 发现 4 处问题，未导入任何联系记录" in err
    assert rows(imported, "select count(*) from contacts") == [(0,)]
    # Cells fixed: now the lookups speak (a name that is not the roster's, an unknown caller).
    fixed = write_csv(
        tmp_path / "fixed.csv",
        [
            [number, "2014-11-03", "无人接听", name, "", "晚上再打"],
            [other, "2014-11-05", "已通知", "张三丰", "", ""],
            [other, "2014-11-05", "已通知", "", "李调查", ""],
        ],
        headers=["身份证号码", "联系日期", "联系结果", "姓名", "联系人", "备注"],
    )
    assert main(["contacts", "import", str(fixed)]) == 2
    err = capsys.readouterr().err
    assert "fixed.csv: 第3行 姓名 (D列): 与名册不符" in err
    assert "fixed.csv: 第4行 联系人 (E列): 联系人 李调查 不是在职的调查员或工作人员" in err
    assert rows(imported, "select count(*) from contacts") == [(0,)]
    # A good file: all rows in, each audited, the operator named.
    good = write_csv(
        tmp_path / "good.csv",
        [
            [number, "2014年11月3日", "无人接听", name, "", "晚上再打"],
            [other, "20141105", "拒绝", "", "", ""],
        ],
        headers=["身份证号码", "联系日期", "联系结果", "姓名", "联系人", "备注"],
    )
    assert main(["contacts", "import", str(good), "--dry-run"]) == 0
    assert "检查通过，共 2 行、2 人（试运行，未写入）" in capsys.readouterr().out
    assert rows(imported, "select count(*) from contacts") == [(0,)]
    assert main(["contacts", "import", str(good)]) == 0
    assert "已导入 2 条联系记录，涉及 2 人" in capsys.readouterr().out
    assert rows(
        imported, "select outcome, note, actor_label, channel from contacts order by id"
    ) == [
        ("no_answer", "晚上再打", "命令行导入（good.csv）", "import"),
        ("refused", None, "命令行导入（good.csv）", "import"),
    ]
    assert rows(
        imported, "select count(*) from audit_events where action = 'contact_recorded'"
    ) == [(2,)]
    assert main(["contacts", "import", str(tmp_path / "missing.csv")]) == 2
    assert "文件不存在" in capsys.readouterr().err
    headless = write_csv(tmp_path / "h.csv", [[number, "x"]], headers=["公民身份号码", "日子"])
    assert main(["contacts", "import", str(headless)]) == 2
    assert "缺少列：联系日期、联系结果" in capsys.readouterr().err


def test_db_upgrade_and_current(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    assert f"数据库已升级：空库 → {head_revision()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "已是最新版本" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert f"当前版本：{head_revision()}；最新" in capsys.readouterr().out


def test_a_bad_setting_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CANBAO_PORT", "not-a-port")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误: 配置错误: CANBAO_PORT") and "Traceback" not in err


def test_contacts_import_reads_xlsx_dates_and_names_the_caller(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    community = _first_community(imported)
    assert main(["investigator", "add", "周调查", "--community", community]) == 0
    (number, name), (other, _) = rows(
        imported,
        "select id_number, name from persons where community_id = "
        "(select min(id) from communities) order by id limit 2",
    )
    elsewhere = rows(
        imported,
        "select id_number, name from persons where community_id != "
        "(select min(id) from communities) order by id limit 1",
    )[0]
    wrong = write_xlsx(
        tmp_path / "wrong.xlsx",
        [[elsewhere[0], dt.date(2014, 11, 3), "拒绝", "周调查"]],
        headers=["公民身份号码", "联系日期", "联系结果", "联系人"],
    )
    capsys.readouterr()
    assert main(["contacts", "import", str(wrong)]) == 2
    assert f"wrong.xlsx: 第2行 联系人 (D列): 调查员 周调查 不负责 {elsewhere[1]} 所在的社区" in (
        capsys.readouterr().err
    )
    calls = write_xlsx(
        tmp_path / "calls.xlsx",
        [
            [number, dt.datetime(2014, 11, 3, 9, 30), "号码错误", "周调查"],
            [other, dt.date(2014, 11, 4), "已通知", ""],
        ],
        headers=["公民身份号码", "联系日期", "联系结果", "联系人"],
    )
    capsys.readouterr()
    assert main(["contacts", "import", str(calls)]) == 0
    assert "已导入 2 条联系记录，涉及 2 人" in capsys.readouterr().out
    assert rows(
        imported,
        "select c.contacted_on, c.outcome, c.actor_label, c.investigator_id is not null "
        "from contacts c order by c.id",
    ) == [
        ("2014-11-03", "wrong_number", "调查员 周调查", 1),
        ("2014-11-04", "notified", "命令行导入（calls.xlsx）", 0),
    ]
    assert [
        outcome
        for who, outcome in rows(imported, "select name, last_contact_outcome from persons")
        if who == name
    ] == ["wrong_number"]


def _first_community(db: Path) -> str:
    (path,) = rows(
        db,
        "select d.name || '/' || s.name || '/' || c.name from communities c "
        "join streets s on s.id = c.street_id join districts d on d.id = c.district_id "
        "order by c.id limit 1",
    )
    return str(path[0])


async def test_invite_links_name_the_bot_telegram_says_the_token_belongs_to(
    imported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    from tests.fakebot import FakeTelegram

    async with FakeTelegram(username="gusu_canbao_bot") as tg:
        monkeypatch.setenv("CANBAO_BOT_TOKEN", tg.token)
        monkeypatch.setenv("CANBAO_TELEGRAM_API_URL", tg.base_url)
        monkeypatch.delenv("CANBAO_BOT_USERNAME")
        get_settings.cache_clear()
        out = tmp_path / "links.csv"
        assert await asyncio.to_thread(main, ["invite", "-o", str(out)]) == 0
        assert tg.calls_of("getMe")
    with out.open(encoding="utf-8-sig", newline="") as f:
        header, first = list(csv.reader(f))[:2]
    code = first[header.index("邀请码")]
    assert first[header.index("链接")] == f"https://t.me/gusu_canbao_bot?start={code}"


def test_without_a_token_or_a_name_the_telegram_link_is_left_empty(
    imported: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("CANBAO_BOT_USERNAME")
    monkeypatch.delenv("CANBAO_BOT_TOKEN", raising=False)
    get_settings.cache_clear()
    out = tmp_path / "links.csv"
    assert main(["invite", "-o", str(out)]) == 0
    assert "Telegram 链接留空" in capsys.readouterr().err
    with out.open(encoding="utf-8-sig", newline="") as f:
        header, first = list(csv.reader(f))[:2]
    assert first[header.index("链接")] == ""
    assert "canbao_bot" not in out.read_text(encoding="utf-8-sig")
