"""The transport's small parts on their own: retry policy, pacing, catalogues, wiring."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from string import Formatter
from typing import Any

import pytest
from aiogram import Bot, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import GetUpdates, SendMessage, TelegramMethod
from babel.messages.pofile import read_po
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.locales.update import extract, form_texts
from bot.settings import Settings
from bot.telegram import BotNotConfiguredError, create_bot, create_dispatcher
from bot.telegram.i18n import LOCALES_DIR, compile_catalogs, load_i18n
from bot.telegram.ratelimit import ChatPacer, KeyedBuckets, TokenBucket
from bot.telegram.retry import RetryPolicy, RetryRequests

SEND = SendMessage(chat_id=1, text="x")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Script:
    """A ``make_request`` answering from a list: exceptions are raised, values returned."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def __call__(self, bot: Bot, method: TelegramMethod[Any]) -> Any:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


@pytest.fixture
def slept() -> list[float]:
    return []


@pytest.fixture
def retry(slept: list[float]) -> RetryRequests:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return RetryRequests(RetryPolicy(attempts=4, base_delay=1.0, max_delay=3.0), sleep=sleep)


BOT = Bot("42:TEST-token-not-used-on-the-network")


async def test_retry_after_is_waited_exactly(retry: RetryRequests, slept: list[float]) -> None:
    script = Script(TelegramRetryAfter(SEND, "Too Many Requests", retry_after=7), "done")
    assert await retry(script, BOT, SEND) == "done"
    assert slept == [7.0]


async def test_network_and_server_errors_back_off_exponentially(
    retry: RetryRequests, slept: list[float]
) -> None:
    script = Script(
        TelegramNetworkError(SEND, "cut"),
        TelegramServerError(SEND, "Internal Server Error"),
        TelegramServerError(SEND, "Bad Gateway"),
        "done",
    )
    assert await retry(script, BOT, SEND) == "done"
    # base 1 s doubling, capped at 3 s, each scaled by a jitter factor in [0.5, 1].
    for pause, ceiling in zip(slept, [1.0, 2.0, 3.0], strict=True):
        assert ceiling * 0.5 <= pause <= ceiling


async def test_attempts_are_bounded(retry: RetryRequests, slept: list[float]) -> None:
    script = Script(*[TelegramServerError(SEND, "down")] * 4)
    with pytest.raises(TelegramServerError):
        await retry(script, BOT, SEND)
    assert script.calls == 4 and len(slept) == 3


async def test_a_long_flood_wait_is_not_slept_through(
    retry: RetryRequests, slept: list[float]
) -> None:
    script = Script(TelegramRetryAfter(SEND, "Too Many Requests", retry_after=3600))
    with pytest.raises(TelegramRetryAfter):
        await retry(script, BOT, SEND)
    assert slept == []


async def test_client_errors_and_polling_are_not_retried(
    retry: RetryRequests, slept: list[float]
) -> None:
    with pytest.raises(TelegramBadRequest):
        await retry(Script(TelegramBadRequest(SEND, "message is too long")), BOT, SEND)
    get_updates = GetUpdates(timeout=1)
    with pytest.raises(TelegramNetworkError):
        await retry(Script(TelegramNetworkError(get_updates, "cut")), BOT, get_updates)
    assert slept == []


def test_backoff_jitter_bounds() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=20.0, jitter=0.5)
    assert policy.backoff(1, rand=lambda: 0.0) == 0.5
    assert policy.backoff(1, rand=lambda: 1.0) == 0.25
    assert policy.backoff(4, rand=lambda: 0.0) == 4.0
    assert policy.backoff(20, rand=lambda: 0.0) == 20.0


def test_token_bucket_spaces_reservations() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=2.0, capacity=1, clock=clock)
    assert [bucket.reserve() for _ in range(3)] == [0.0, 0.5, 1.0]
    clock.now += 1.5  # the queue has drained, one token refilled
    assert bucket.reserve() == 0.0
    assert not bucket.idle
    clock.now += 10
    assert bucket.idle


def test_token_bucket_allows_a_burst_up_to_capacity() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, capacity=3, clock=clock)
    assert [bucket.reserve() for _ in range(4)] == [0.0, 0.0, 0.0, 1.0]


def test_keyed_buckets_are_independent_and_pruned() -> None:
    clock = Clock()
    buckets = KeyedBuckets(rate=1.0, clock=clock, prune_above=2)
    assert buckets.bucket("a").reserve() == 0.0
    assert buckets.bucket("b").reserve() == 0.0
    assert buckets.bucket("a").reserve() == 1.0
    clock.now += 5
    buckets.bucket("c")
    assert len(buckets) == 1  # a and b were idle and forgotten


def test_chat_pacer_counts_from_the_end_of_a_send() -> None:
    clock = Clock()
    pacer = ChatPacer(rate=1.0, clock=clock)
    assert pacer.delay(7) == 0.0
    clock.now += 3  # a slow send (retries inside it)
    pacer.sent(7)
    assert pacer.delay(7) == 1.0
    assert pacer.delay(8) == 0.0
    clock.now += 0.25
    assert pacer.delay(7) == 0.75


def test_catalogues_compile_and_translate(tmp_path: Path) -> None:
    assert compile_catalogs(LOCALES_DIR, tmp_path) == ["en", "zh_CN"]
    assert (tmp_path / "en" / "LC_MESSAGES" / "messages.mo").stat().st_size > 0
    i18n = load_i18n()
    assert i18n.default_locale == "zh_CN"
    text = "抱歉，系统暂时出了点问题，请稍后再试。已填写的内容不会丢失。"
    assert i18n.gettext(text, locale="en").startswith("Sorry")
    assert i18n.gettext(text, locale="zh_CN") == text


def test_the_catalogues_hold_every_text_of_the_code() -> None:
    template = extract()
    form_texts(template)  # the shipped form's texts too (the web chat shows them in English)
    in_code = {str(m.id) for m in template if m.id}
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        in_catalogue = {str(m.id) for m in read_po(po) if m.id}
    assert sorted(in_code - in_catalogue) == [], "run: python -m bot.locales.update, then translate"


def test_translations_keep_the_placeholders() -> None:
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = read_po(po)
    for message in english:
        if message.id and message.string:
            fields = {f for _, f, _, _ in Formatter().parse(str(message.id)) if f}
            assert {f for _, f, _, _ in Formatter().parse(str(message.string)) if f} == fields, (
                message.id
            )


def test_every_text_has_an_english_translation() -> None:
    with (LOCALES_DIR / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = read_po(po)
    with (LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        chinese = read_po(po)
    missing = [m.id for m in english if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    assert {m.id for m in english if m.id} == {m.id for m in chinese if m.id}


def test_bot_needs_a_token(make_settings: Callable[..., Settings]) -> None:
    with pytest.raises(BotNotConfiguredError):
        create_bot(make_settings(bot_token=None))


async def test_a_router_moves_to_a_newer_dispatcher(
    make_settings: Callable[..., Settings], sessions: async_sessionmaker[AsyncSession]
) -> None:
    router = Router(name="moved")
    first = create_dispatcher(make_settings(), sessions, None, router=router)
    second = create_dispatcher(make_settings(), sessions, None, router=router)
    assert router.parent_router is second
    assert router not in first.sub_routers
    assert second["form"] is None and isinstance(second["settings"], Settings)
