"""``canbao db check`` finds stored text that cannot be shown as it is; ``--repair`` fixes it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from seed import build_world
from sqlalchemy import select
from test_stored_strings import store_bad_strings

from bot.cli import main
from flows import load_default_form
from storage.db import ensure_schema, make_engine, make_sessionmaker
from storage.models import AuditEvent, Person, Record, RecordRevision


def _prepared(path: Path) -> tuple[str, int]:
    """A migrated SQLite file with the console's world and one record's bad strings."""
    url = f"sqlite+aiosqlite:///{path}"

    async def setup() -> int:
        engine = make_engine(url)
        try:
            await ensure_schema(engine)
            sessions = make_sessionmaker(engine)
            world = await build_world(sessions, load_default_form())
            await store_bad_strings(sessions, world.records["plain"])
            return world.records["plain"]
        finally:
            await engine.dispose()

    return url, asyncio.run(setup())


def test_check_reports_rows_then_repair_fixes_them_with_an_audit_trail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, record_id = _prepared(tmp_path / "canbao.db")

    assert main(["db", "check", "--database-url", url]) == 1
    report = capsys.readouterr().out
    assert "发现 3 行" in report
    assert f"records #{record_id}: state, return_comment" in report
    assert "record_revisions #" in report and "persons #" in report
    assert "a\x01b" not in report  # where, never what

    assert main(["db", "check", "--repair", "--database-url", url]) == 0
    assert "已修复 3 行" in capsys.readouterr().out
    assert main(["db", "check", "--database-url", url]) == 0
    assert "未发现" in capsys.readouterr().out

    async def stored() -> tuple[Record, RecordRevision, Person, list[AuditEvent]]:
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as db:
                record = await db.get(Record, record_id)
                assert record is not None
                revision = await db.scalar(
                    select(RecordRevision).where(RecordRevision.record_id == record_id)
                )
                person = await db.get(Person, record.person_id)
                events = (
                    await db.scalars(select(AuditEvent).where(AuditEvent.action == "text_repaired"))
                ).all()
                assert revision is not None and person is not None
                return record, revision, person, list(events)
        finally:
            await engine.dispose()

    record, revision, person, events = asyncio.run(stored())
    assert record.return_comment == "abcde"
    assert record.state["answers"]["remarks"] == "x\ufffdy\ufffdz"
    assert revision.answers["remarks"] == "abcde"
    assert revision.answers["name"] == "林王强"
    assert person.name == "林晓"
    assert len(events) == 3
    assert {e.details["table"] for e in events} == {"records", "record_revisions", "persons"}
    assert {e.record_id for e in events if e.details["table"] != "persons"} == {record_id}
