"""Migration 0009 seals the personal data of an existing plain database, on both engines:
every value, the blind indexes the lookups need, idempotently."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.synthetic import make_id_number
from storage.db import (
    current_revision,
    ensure_schema,
    head_revision,
    make_engine,
    make_sessionmaker,
)
from storage.keys import seal_report
from storage.models import Record
from storage.repositories.persons import find_person_by_id_number
from storage.repositories.records import identity_check
from storage.testing import schema_engine, sqlite_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
NOW = dt.datetime(2014, 11, 3, 8, 0, tzinfo=dt.UTC)


def _filled(table: sa.Table, values: dict[str, Any]) -> dict[str, Any]:
    """``values`` plus something for every other required column of the 0006 schema."""
    row = dict(values)
    for column in table.columns:
        if column.name in row or column.nullable or column.primary_key:
            continue
        kind = column.type
        if isinstance(kind, sa.DateTime):
            row[column.name] = NOW
        elif isinstance(kind, sa.Boolean):
            row[column.name] = False
        elif isinstance(kind, sa.Integer):
            row[column.name] = 1
        elif isinstance(kind, sa.JSON):
            row[column.name] = {}
        else:
            row[column.name] = "x"
    return row


def _plain_data(conn: Connection, people: list[tuple[str, str, str]]) -> None:
    meta = sa.MetaData()
    meta.reflect(conn)
    t = meta.tables
    if conn.dialect.name == "sqlite":  # reflected SQLite JSON columns read back as text
        for name in ("persons", "records", "record_revisions", "inbox", "outbox"):
            for column in t[name].columns:
                if column.name in ("insured_members", "extra", "state", "answers", "payload"):
                    column.type = sa.JSON()

    def add(table: str, **values: Any) -> int:
        result = conn.execute(sa.insert(t[table]).values(_filled(t[table], values)))
        return int(result.inserted_primary_key[0])

    district = add("districts", name="姑苏区")
    street = add("streets", district_id=district, name="平江街道")
    community = add("communities", street_id=street, district_id=district, name="平江路社区")
    household = add("households", community_id=community, number="000001")
    for n, (name, number, mobile) in enumerate(people, start=1):
        areas = {"district_id": district, "street_id": street, "community_id": community}
        person = add(
            "persons",
            household_id=household,
            name=name,
            id_number=number,
            mobile=mobile,
            residence_address="平江路 1 号",
            insured_members=[{"姓名": "林大", "关系": "父亲", "联系电话": "13700000001"}],
            extra={},
            on_roster=True,
            **areas,
        )
        state = {"answers": {"name": name, "id_number": number, "mobile": mobile}}
        record = add(
            "records",
            person_id=person,
            live_person_id=person,
            form_id="suzhou-2014",
            form_version=1,
            status="submitted",
            filled_by="resident",
            state=state,
            flags=[],
            household_id=household,
            answered_id_number=number,
            version=1,
            **areas,
        )
        add(
            "record_revisions",
            record_id=record,
            n=1,
            form_id="f",
            form_version=1,
            answers=state["answers"],
            actor_kind="resident",
            actor_label="本人",
        )
        add(
            "inbox",
            bot_id=1,
            update_id=n,
            fingerprint=n,
            payload={"update_id": n, "message": {"text": number}},
        )
        add(
            "outbox",
            channel="telegram",
            chat_id=str(n),
            kind="returned",
            payload={"text": f"{name} 您好"},
            dedup_key=f"k{n}",
        )


@pytest.mark.parametrize("backend", BACKENDS)
async def test_an_existing_plain_database_is_sealed_by_the_upgrade(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    people = [
        (
            "林晓",
            make_id_number(dt.date(1990, 1, 2) + dt.timedelta(days=n), "F", "320503", seq=n % 500),
            f"1381234{n:04d}",
        )
        for n in range(1, 601)  # more than one batch
    ]
    async with _empty_database(url, tmp_path) as engine:
        await ensure_schema(engine, "0006")
        async with engine.begin() as conn:
            await conn.run_sync(_plain_data, people)
            plain = await conn.run_sync(seal_report)
        assert {(r.table, r.column) for r in plain} >= {
            ("persons", "id_number"),
            ("records", "state"),
            ("inbox", "payload"),
        }

        await ensure_schema(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            assert await conn.run_sync(seal_report) == []
            dump = json.dumps(
                [
                    [str(v) for v in row]
                    for table in ("persons", "records", "record_revisions", "inbox", "outbox")
                    for row in (await conn.execute(sa.text(f"SELECT * FROM {table}"))).all()
                ],
                ensure_ascii=False,
            )
        for _name, number, mobile in people[:50]:
            assert number not in dump and mobile not in dump
        assert "林晓" not in dump and "13700000001" not in dump

        sessions = make_sessionmaker(engine)
        name, number, mobile = people[550]  # in the second batch
        async with sessions() as session:
            person = await find_person_by_id_number(session, number)
            assert person is not None and (person.name, person.mobile) == (name, mobile)
            assert person.insured_members[0]["联系电话"] == "13700000001"
            record = await session.scalar(sa.select(Record).where(Record.person_id == person.id))
            assert record is not None and record.answered_id_number == number
            other = await session.scalar(
                sa.select(Record).where(Record.person_id != person.id).limit(1)
            )
            assert other is not None
            check = await identity_check(session, other, number)
            assert check.other_person_id == person.id and check.other_record_id == record.id

        # Idempotent: a second run changes nothing.
        await ensure_schema(engine)
        async with engine.connect() as conn:
            assert await conn.run_sync(seal_report) == []


@asynccontextmanager
async def _empty_database(url: str | None, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    if url is None:
        engine = make_engine(sqlite_url(tmp_path))
        try:
            yield engine
        finally:
            await engine.dispose()
        return
    schema = f"t_{secrets.token_hex(6)}"
    admin = make_engine(url)
    async with admin.begin() as conn:
        await conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = schema_engine(url, schema)
    try:
        yield engine
    finally:
        await engine.dispose()
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()
