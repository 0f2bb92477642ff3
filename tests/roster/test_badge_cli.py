"""``canbao badge``: issue for an investigator, list with the verification address, print the
card, revoke; mistakes are one-line operator errors."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings
from bot.synthetic import make_roster
from tests.roster.conftest import as_lists, write_csv


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A roster and one investigator of the first community, made through the CLI."""
    path = tmp_path / "data" / "canbao.db"
    monkeypatch.setenv("CANBAO_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("CANBAO_PUBLIC_URL", "https://canbao.example.org/")
    get_settings.cache_clear()
    roster = write_csv(tmp_path / "roster.csv", as_lists(make_roster(20, seed=5)))
    assert main(["roster", "import", str(roster), "-q"]) == 0
    with sqlite3.connect(path) as conn:
        (where,) = conn.execute(
            "select d.name || '/' || s.name || '/' || c.name from communities c"
            " join streets s on s.id = c.street_id join districts d on d.id = c.district_id"
            " order by c.id limit 1"
        ).fetchone()
    assert main(["investigator", "add", "测试员", "--community", where]) == 0
    yield path
    get_settings.cache_clear()


def test_issue_list_print_revoke(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["badge", "issue", "--investigator", "1", "--phone", "0512-65223456"]) == 0
    out = capsys.readouterr().out
    number = out.split("已发放工作牌 ")[1].split("（")[0]
    assert f"核验页：https://canbao.example.org/badge/{number}" in out
    assert main(["badge", "list"]) == 0
    listed = capsys.readouterr().out
    assert number in listed and "有效" in listed
    card = tmp_path / "badge.pdf"
    assert main(["badge", "print", number.lower(), "-o", str(card)]) == 0
    assert card.read_bytes().startswith(b"%PDF")
    assert main(["badge", "revoke", number, "--reason", "离岗"]) == 0
    capsys.readouterr()
    assert main(["badge", "list"]) == 0
    assert "已注销" in capsys.readouterr().out
    assert main(["badge", "revoke", number]) == 2
    assert "已注销" in capsys.readouterr().err
    with sqlite3.connect(db) as conn:
        actions = [
            a
            for (a,) in conn.execute(
                "select action from audit_events where action like 'badge%' order by id"
            )
        ]
    assert actions == ["badge_issued", "badge_printed", "badge_revoked"]


def test_operator_errors(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["badge", "issue", "--investigator", "9", "--phone", "0512-1"]) == 2
    assert "没有调查员 9" in capsys.readouterr().err
    assert main(["badge", "issue", "--investigator", "1", "--phone", "abc"]) == 2
    assert "社区办公电话" in capsys.readouterr().err
    assert main(["badge", "revoke", "not-a-number"]) == 2
    assert "不是工作牌编号" in capsys.readouterr().err
    picture = db.parent / "photo.txt"
    picture.write_text("not a picture")
    args = ["badge", "issue", "--investigator", "1", "--phone", "0512-1", "--photo", str(picture)]
    assert main(args) == 2
    assert "照片无法读取" in capsys.readouterr().err
