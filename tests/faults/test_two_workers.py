"""Two ``canbao run`` webhook workers behind one address, on one PostgreSQL store and one
Redis: one person's updates delivered to both workers at once are handled one at a time and
exactly once, and the stored conversation is one the person could have produced in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bench.fakeserver import LoadTelegram
from bench.procs import canbao_run, free_port
from bench.proxy import RoundRobinProxy
from bench.stores import clean_redis, fresh_database, seed_residents
from flows import Conversation, load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import InboxUpdate, Record

pytestmark = pytest.mark.slow
BURST = ("王一", "王二", "王三", "王四", "王五", "王六")


async def test_one_persons_burst_over_two_workers(
    tmp_path: Path, pg_url: str, redis_url: str
) -> None:
    async with fresh_database("postgres", tmp_path, pg_url) as url:
        person = (await seed_residents(url, 1, tmp_path, seed=5))[0]
        await clean_redis(redis_url)
        async with LoadTelegram(reply_timeout=30) as server:
            ports = [free_port(), free_port()]
            proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports])
            hook = f"{await proxy.start()}/telegram/webhook"
            workers = [
                canbao_run(
                    f"w{p}",
                    api_url=server.base_url,
                    token=server.token,
                    database_url=url,
                    data_dir=tmp_path,
                    redis_url=redis_url,
                    webhook_url=hook,
                    port=p,
                    log_path=tmp_path / f"w{p}.log",
                )
                for p in ports
            ]
            try:
                for worker in workers:
                    worker.start()
                for worker in workers:
                    await worker.wait_healthy()
                user = server.user(91_001, person.name)
                await user.send(f"/start {person.code}")
                await user.send(person.id_number)
                await user.click("知道了，继续")
                await user.click("本人")
                assert "姓名" in (user.last_message.text or "")
                # Six answers typed faster than the bot replies: the webhook delivers them
                # concurrently, the proxy alternates the workers.
                for name in BURST:
                    await user.send(name, wait=False)
                for update_id in user.update_ids[-len(BURST) :]:
                    await server.wait_handled(update_id)
                assert len(proxy.forwarded) == 2, proxy.forwarded
            finally:
                for worker in workers:
                    await worker.stop()
                await proxy.close()
        engine = make_engine(url)
        try:
            async with make_sessionmaker(engine)() as session:
                record = (await session.scalars(select(Record))).one()
                rows = (await session.scalars(select(InboxUpdate))).all()
        finally:
            await engine.dispose()
        await clean_redis(redis_url)
    answers = record.state["answers"]
    # One of the burst became the name (the first to be handled); the rest met the ID question
    # and were refused there or, arriving after a newer one, dropped: never applied twice.
    assert answers["name"] in BURST
    assert Conversation.restore(load_default_form(), record.state).position == "id_number"
    assert all(row.processed_at is not None and row.last_error is None for row in rows)
    assert len({row.update_id for row in rows}) == len(rows)
