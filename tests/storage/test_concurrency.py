"""Optimistic concurrency and resume across engines (a restart), on both engines."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.db import make_engine, make_sessionmaker
from storage.models import Channel, FilledBy, Record
from storage.repositories import records as rec
from storage.repositories.actors import Actor
from storage.repositories.errors import ConflictError

if TYPE_CHECKING:
    from tests.storage.conftest import Factory

# Shaped like the form engine's state: nested answers, history, ISO dates, Chinese text.
STATE: dict[str, Any] = {
    "form_id": "suzhou-canbao-2014",
    "form_version": 1,
    "mode": "resident",
    "answers": {
        "name": "林晓",
        "residence": {
            "province": "江苏省",
            "city": "苏州市",
            "district": "姑苏区",
            "road": "平江路",
        },
        "uninsured_reasons": ["no_will", "policy_unknown"],
        "collection_date": "2014-10-20",
    },
    "position": ["residence", "number"],
    "history": ["name", "id_number", "insured_status", "residence"],
    "prefill": {"mobile": "13812345678"},
    "context": {"collection_date": "2014-10-20"},
    "confirmed_warnings": [],
    "nested": {"deep": [1, 2.5, None, True, {"x": "·"}]},
}


async def _start(sessions: async_sessionmaker[AsyncSession], factory: Factory) -> int:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        started = await rec.get_or_start_draft(
            s,
            person,
            form_id="suzhou-canbao-2014",
            form_version=1,
            filled_by=FilledBy.resident,
            state={"form_id": "suzhou-canbao-2014", "form_version": 1},
            actor=Actor.resident(1),
            channel=Channel.telegram,
            chat_id=1,
        )
        return started.record.id


async def test_two_sessions_one_wins_one_conflicts(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    record_id = await _start(sessions, factory)
    async with sessions() as a, sessions() as b:
        ra = await a.get(Record, record_id)
        rb = await b.get(Record, record_id)
        assert ra is not None and rb is not None and ra.version == rb.version == 1
        await rec.save_state(a, ra, {**STATE, "who": "a"}, expected_version=1)
        await a.commit()
        # b loaded version 1 before a's commit; its write must not silently win.
        with pytest.raises(ConflictError):
            await rec.save_state(b, rb, {**STATE, "who": "b"}, expected_version=1)
        await b.rollback()
    async with sessions() as c:
        final = await c.get(Record, record_id)
        assert final is not None
        assert final.state["who"] == "a" and final.version == 2


async def test_stale_expected_version_is_refused_up_front(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    record_id = await _start(sessions, factory)
    async with sessions() as s, s.begin():
        record = await rec.get_record(s, record_id)
        await rec.save_state(s, record, STATE, expected_version=1)
        with pytest.raises(ConflictError, match="已被他人修改"):
            await rec.save_state(s, record, STATE, expected_version=1)


async def test_resume_after_restart_restores_identical_state(
    engine: AsyncEngine, factory: Factory
) -> None:
    record_id = await _start(make_sessionmaker(engine), factory)
    async with make_sessionmaker(engine)() as s, s.begin():
        record = await rec.get_record(s, record_id)
        await rec.save_state(s, record, STATE, expected_version=record.version)
    url = engine.url
    connect_args: dict[str, Any] = {}
    if engine.dialect.name == "postgresql":
        async with engine.connect() as conn:
            schema = (await conn.execute(text("select current_schema()"))).scalar_one()
        connect_args = {"server_settings": {"search_path": schema}}
    await engine.dispose()

    # A new engine (as after a restart of the process) reads back exactly what was saved.
    fresh = make_engine(url, connect_args=connect_args)
    try:
        async with make_sessionmaker(fresh)() as s:
            record = await rec.get_record(s, record_id)
            assert record.state == STATE
            assert json.dumps(record.state, sort_keys=True) == json.dumps(STATE, sort_keys=True)
            assert record.version == 2
    finally:
        await fresh.dispose()
