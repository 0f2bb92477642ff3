"""orjson and uvloop when installed: the same JSON values, the bot's calls still understood."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Callable

import pytest

from bot import speedups
from bot.settings import Settings
from bot.telegram import create_bot
from tests.fakebot import FakeTelegram
from tests.telegram.conftest import FAST_RETRY

VALUES = [
    {"text": "第 3/30 题　当前参保状态", "chat_id": 50000001, "parse_mode": None},
    {"reply_markup": {"inline_keyboard": [[{"text": "✓ 养老", "callback_data": "t:1:x"}]]}},
    [1, 2.5, True, None, "\u200b", "𠀀"],
]


@pytest.mark.parametrize("value", VALUES)
def test_json_round_trips_as_the_standard_library_reads_it(value: object) -> None:
    text = speedups.json_dumps(value)
    assert isinstance(text, str)
    assert json.loads(text) == value
    assert speedups.json_loads(json.dumps(value)) == value
    assert speedups.json_loads(text.encode()) == value


def test_a_lone_surrogate_is_read_and_written_as_json_does() -> None:
    # orjson alone refuses these; a getUpdates batch carrying one must still be read.
    raw = '{"text": "x\\ud800y", "ok": true}'
    assert speedups.json_loads(raw) == json.loads(raw)
    assert speedups.json_loads(raw.encode()) == json.loads(raw)
    value = {"text": "x\ud800y"}
    assert json.loads(speedups.json_dumps(value)) == value


def test_orjson_is_used_when_installed() -> None:
    pytest.importorskip("orjson")
    assert speedups.ORJSON
    assert speedups.json_dumps({"a": "汉字"}) == '{"a":"汉字"}'


def test_off_switch_falls_back_to_the_standard_library() -> None:
    code = (
        "import json; from bot import speedups; "
        "assert speedups.json_loads is json.loads and not speedups.ORJSON; "
        "assert speedups.install_event_loop() == 'asyncio'"
    )
    env = {"CANBAO_SPEEDUPS": "0", "PYTHONPATH": ".", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env)


def test_uvloop_is_the_event_loop_when_installed() -> None:
    uvloop = pytest.importorskip("uvloop")
    before = asyncio.get_event_loop_policy()
    try:
        assert speedups.install_event_loop() == "uvloop"
        assert isinstance(asyncio.get_event_loop_policy(), uvloop.EventLoopPolicy)
    finally:
        asyncio.set_event_loop_policy(before)


async def test_the_bot_session_uses_them(
    tg: FakeTelegram, make_settings: Callable[..., Settings]
) -> None:
    bot = create_bot(make_settings(), retry=FAST_RETRY)
    try:
        assert bot.session.json_dumps is speedups.json_dumps
        assert bot.session.json_loads is speedups.json_loads
        user = tg.user(5001, "张三")
        await bot.send_message(user.id, "第 1/30 题　姓名", reply_markup=None)
        assert user.last_message.text == "第 1/30 题　姓名"
    finally:
        await bot.session.close()
