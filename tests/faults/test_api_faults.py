"""The fake Bot API misbehaves while residents fill their forms: 429 with retry_after, 500s,
connections cut for a while. Every conversation still completes with exactly the answers given,
every reply reaches the chat once, and a staff notification is delivered exactly once."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Awaitable, Callable

from bench.driver import Outcome
from bench.load import assign, check_store
from bench.resident import Walk, state_labels, state_order
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import Record
from storage.repositories.accounts import create_staff
from storage.repositories.records import return_record
from tests.faults.conftest import Running


def _walks(run: Running) -> list[Walk]:
    form = load_default_form()
    labels, order = state_labels(form), state_order(form)
    return [
        Walk(
            run.server,
            run.server.user(70_000 + i, r.name),
            r,
            p,
            labels,
            Outcome(70_000 + i, p.name),
            timeout=30,
            order=order,
        )
        for i, (r, p) in enumerate(assign(run.residents, len(run.residents)))
    ]


def _shown_twice(run: Running, walks: list[Walk]) -> list[str]:
    """Bot messages that reached a chat twice in a row (a retried send that had gone through)."""
    doubled = []
    for walk in walks:
        texts = [m.text for m in walk.user.bot_messages]
        doubled += [
            f"user {walk.user.id}: {a!r}"
            for a, b in itertools.pairwise(texts)
            if a == b and a and "❗" not in a
        ]
    return doubled


async def test_flood_control_server_errors_and_cut_connections(
    running: Callable[..., Awaitable[Running]],
) -> None:
    run = await running(residents=6)
    server = run.server
    server.fail("sendMessage", status=429, retry_after=1, times=3)
    server.fail(["editMessageText", "answerCallbackQuery"], status=500, times=8)
    server.fail("sendMessage", status=502, times=4)
    server.drop(["sendMessage", "editMessageText"], times=6)
    walks = _walks(run)
    runs = [asyncio.create_task(w.run()) for w in walks]
    await asyncio.sleep(1.0)
    # A stretch where every call's connection is cut, as when the network goes away (shorter
    # than the retry budget: a longer outage fails the updates in hand, see docs/benchmarks.md).
    server.drop(None, seconds=1.0)
    await asyncio.gather(*runs)

    assert [w.outcome.error for w in walks if w.outcome.error] == []
    assert await check_store(run.url, walks) == []
    statuses = Counter(str(c.status) for c in server.calls)
    assert statuses["429"] == 3 and statuses["500"] == 8 and statuses["dropped"] >= 6
    # 429: the same call came back no sooner than retry_after.
    flood = [c for c in server.calls if c.status == 429]
    for call in flood:
        retry = next(
            c
            for c in server.calls
            if c.seq > call.seq and c.method == call.method and c.params == call.params
        )
        assert retry.at - call.at >= 1.0
    assert _shown_twice(run, walks) == []


async def test_a_notification_is_delivered_once_through_failures(
    running: Callable[..., Awaitable[Running]],
) -> None:
    run = await running(residents=3)
    walks = _walks(run)
    for walk in walks:
        assert (await walk.run()).completed, walk.outcome.error
    engine = make_engine(run.url)
    try:
        sessions = make_sessionmaker(engine)
        run.server.fail("sendMessage", status=429, retry_after=1, times=2)
        run.server.fail("sendMessage", status=500, times=3)
        run.server.drop("sendMessage", times=2)
        async with sessions() as session, session.begin():
            staff = await create_staff(session, "reviewer1", "correct horse battery staple")
            for walk in walks:
                record = await session.get(Record, int(walk.reference[2:]))  # type: ignore[index]
                assert record is not None
                await return_record(
                    session, record, staff=staff, comment="请补充工作单位地址", fields=["remarks"]
                )
        assert run.service.sender is not None
        run.service.sender.wake()
        for walk in walks:

            def noticed(w: Walk = walk) -> bool:
                return any("请补充工作单位地址" in (m.text or "") for m in w.user.bot_messages)

            await run.server.wait_chat(
                walk.user.id,
                noticed,
                30,
                "return notice",
            )
        # Quiet a moment: nothing more may arrive.
        await asyncio.sleep(1.0)
        for walk in walks:
            notices = [m for m in walk.user.bot_messages if "请补充工作单位地址" in (m.text or "")]
            assert len(notices) == 1, notices
    finally:
        await engine.dispose()
