"""``canbao investigator add`` and ``canbao investigator link`` print a one-time sign-in link."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from storage.repositories.accounts import sha256_hex
from tests.roster.test_cli import db, imported, rows  # noqa: F401  (fixtures)


def _link(out: str) -> str:
    line = next(x for x in out.splitlines() if x.startswith("手机浏览器登录链接"))
    return line.rsplit("：", 1)[1]


def test_add_and_link_print_a_sign_in_link_kept_only_as_a_hash(
    imported: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    (community,) = rows(
        imported,
        "select d.name || '/' || s.name || '/' || c.name from communities c "
        "join streets s on s.id = c.street_id join districts d on d.id = s.district_id "
        "order by c.id limit 1",
    )
    capsys.readouterr()
    assert main(["investigator", "add", "周敏", "--community", str(community[0])]) == 0
    first = _link(capsys.readouterr().out)
    assert first.startswith("https://canbao.example.org/i/login/")
    token = first.rsplit("/", 1)[1]
    assert rows(imported, "select token_hash from investigator_links") == [(sha256_hex(token),)]
    assert main(["investigator", "link", "1"]) == 0
    second = _link(capsys.readouterr().out)
    assert second != first and len(rows(imported, "select id from investigator_links")) == 2
    assert main(["investigator", "link", "99"]) == 2
    assert "没有编号为 99 的调查员" in capsys.readouterr().err
    assert main(["investigator", "revoke", "1"]) == 0
    assert main(["investigator", "link", "1"]) == 2
    assert "已停用" in capsys.readouterr().err
