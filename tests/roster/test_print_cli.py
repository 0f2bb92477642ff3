"""``canbao roster print``: a community's roster from an imported file, as PDF and XLSX,
audited; an unknown community is an operator error."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main
from bot.exports.fonts import CANDIDATES
from bot.settings import get_settings
from bot.synthetic import make_roster
from tests.roster.conftest import as_lists, write_csv


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A SQLite file with a 40-person synthetic roster imported through the CLI."""
    path = tmp_path / "data" / "canbao.db"
    monkeypatch.setenv("CANBAO_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    get_settings.cache_clear()
    roster = write_csv(tmp_path / "roster.csv", as_lists(make_roster(40, seed=4)))
    assert main(["roster", "import", str(roster), "-q"]) == 0
    yield path
    get_settings.cache_clear()


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


def test_print_a_community_as_xlsx_and_pdf(
    db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ((community, name, people),) = rows(
        db,
        "select c.id, c.name, count(*) from persons p join communities c on c.id = p.community_id"
        " group by c.id order by count(*) desc limit 1",
    )
    out = tmp_path / "roster.xlsx"
    assert main(["roster", "print", "--community", str(community), "-o", str(out)]) == 0
    assert f"{people} 人" in capsys.readouterr().out
    sheet = load_workbook(out).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(values) == people and {v[2] for v in values} == {name}
    numbers = [str(v[4]) for v in values]
    assert numbers == sorted(numbers)  # 户号 order
    assert all("*" in str(v[6]) for v in values)  # IDs masked
    if any(p.exists() for p in CANDIDATES):
        pypdf = pytest.importorskip("pypdf")
        pdf = tmp_path / "roster.pdf"
        assert main(["roster", "print", "--community", str(community), "-o", str(pdf)]) == 0
        text = "".join(
            p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.read_bytes())).pages
        )
        assert str(name) in text and "第 1 页" in text
    audit = rows(db, "select actor_kind, channel from audit_events where action = 'roster_printed'")
    assert len(audit) == (2 if any(p.exists() for p in CANDIDATES) else 1)
    assert audit[0] == ("system", "cli")


def test_unknown_community(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.pdf"
    assert main(["roster", "print", "--community", "99999", "-o", str(out)]) == 2
    assert "没有社区 99999" in capsys.readouterr().err
    assert not out.exists()
    assert rows(db, "select count(*) from audit_events where action = 'roster_printed'") == [(0,)]


def test_report_summary(db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ((district, people),) = rows(
        db,
        "select district_id, count(*) from persons group by district_id order by 1 limit 1",
    )
    out = tmp_path / "summary.xlsx"
    assert main(["report", "summary", "--district", str(district), "-o", str(out)]) == 0
    assert f"花名册 {people} 人" in capsys.readouterr().out
    sheet = load_workbook(out).active
    assert sheet is not None
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert values["花名册人数"] == people and values["未联系"] == people
    assert main(["report", "summary", "-o", str(tmp_path / "city.xlsx")]) == 0
    assert main(["report", "summary", "--district", "999", "-o", str(out)]) == 2
    assert "没有这个区：999" in capsys.readouterr().err
    audit = rows(db, "select count(*) from audit_events where action = 'summary_printed'")
    assert audit == [(2,)]
