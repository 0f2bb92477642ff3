"""The ``canbao`` roster and account commands, run in-process against a SQLite file."""

from __future__ import annotations

import csv
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
from tests.roster.conftest import as_lists, write_csv


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
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


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
    assert "roster.csv: 第4行 公民身份号码 (F列): 校验位错误" in err
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


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_invite_export(
    imported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], suffix: str
) -> None:
    output = tmp_path / "out" / f"invites{suffix}"
    assert main(["invite", "--district", "姑苏区", "-o", str(output)]) == 0
    gusu = rows(
        imported,
        "select count(*) from persons p join districts d on d.id = p.district_id "
        "where d.name = '姑苏区'",
    )[0][0]
    assert f"{gusu} 人（本次新建邀请 {gusu} 个）" in capsys.readouterr().out
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    if suffix == ".csv":
        with output.open(encoding="utf-8-sig", newline="") as f:
            table = list(csv.reader(f))
    else:
        sheet = load_workbook(output, read_only=True).worksheets[0]
        table = [
            [str(c) if c is not None else "" for c in r] for r in sheet.iter_rows(values_only=True)
        ]
    header, *body = table
    assert header == [
        "区",
        "街道",
        "社区",
        "户号",
        "姓名",
        "联系电话",
        "邀请码",
        "链接",
        "网页链接",
    ]
    assert len(body) == gusu and {r[0] for r in body} == {"姑苏区"}
    codes = {r[6] for r in body}
    assert len(codes) == gusu
    first = body[0]
    assert first[7] == f"https://t.me/suzhou_canbao_bot?start={first[6]}"
    assert first[8] == f"https://canbao.example.org/c/{first[6]}"
    # Exporting again reuses the same codes (the phone team may already have called).
    assert main(["invite", "-o", str(tmp_path / "all.csv")]) == 0
    with (tmp_path / "all.csv").open(encoding="utf-8-sig", newline="") as f:
        again = {r[6] for r in list(csv.reader(f))[1:]}
    assert codes <= again and len(again) == 60
    assert main(["invite", "-o", str(tmp_path / "x.txt")]) == 2


def test_db_upgrade_and_current(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "upgrade"]) == 0
    head = head_revision()
    assert f"数据库已升级：空库 → {head}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "已是最新版本" in capsys.readouterr().out
    assert main(["db", "current"]) == 0
    assert f"当前版本：{head}；最新" in capsys.readouterr().out


def test_a_bad_setting_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CANBAO_PORT", "not-a-port")
    assert main(["db", "current"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("错误: 配置错误: CANBAO_PORT") and "Traceback" not in err
