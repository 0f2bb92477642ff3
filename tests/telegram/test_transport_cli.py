"""``canbao run`` as an operator starts it: a real process, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.fakebot import FakeTelegram
from tests.telegram.conftest import free_port

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@asynccontextmanager
async def canbao_run(env: dict[str, str], port: int) -> AsyncIterator[Callable[[], str]]:
    """Run ``canbao run`` until the test is done; yields a function returning its log so far."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CANBAO_")} | {
        "PYTHONPATH": str(ROOT),
        **env,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--port",
        str(port),
        cwd=env.get("HOME_DIR", str(ROOT)),
        env=full_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    log: list[str] = []

    async def read() -> None:
        assert process.stdout is not None
        async for line in process.stdout:
            log.append(line.decode())

    reader = asyncio.create_task(read())
    try:
        await _until_healthy(port, process, log)
        yield lambda: "".join(log)
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
            await reader
        assert code == 0, "".join(log)
        assert "Traceback" not in "".join(log)


async def _until_healthy(port: int, process: asyncio.subprocess.Process, log: list[str]) -> None:
    async with asyncio.timeout(60), aiohttp.ClientSession() as http:
        while True:
            if process.returncode is not None:
                raise AssertionError("canbao run exited early:\n" + "".join(log))
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "CANBAO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'canbao.db'}",
        "CANBAO_DATA_DIR": str(tmp_path),
        # The suite's data key (tests/conftest.py): the other CANBAO_ variables are dropped.
        "CANBAO_DATA_KEY_FILE": os.environ["CANBAO_DATA_KEY_FILE"],
        **extra,
    }


async def test_polling_run_and_sigterm(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    env = _env(tmp_path, CANBAO_BOT_TOKEN=tg.token, CANBAO_TELEGRAM_API_URL=tg.base_url)
    async with canbao_run(env, port) as log:
        await tg.wait_call("getUpdates", answered=False)
        assert tg.calls_of("deleteWebhook", ok_only=True)
    assert "telegram: polling" in log()
    assert (tmp_path / "canbao.db").exists()


async def test_webhook_run_rejects_a_missing_secret(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    env = _env(
        tmp_path,
        CANBAO_BOT_TOKEN=tg.token,
        CANBAO_TELEGRAM_API_URL=tg.base_url,
        CANBAO_WEBHOOK_URL=url,
    )
    async with canbao_run(env, port) as log:
        # The web server answers before the webhook is set (it must be reachable first).
        await tg.wait_call("setWebhook")
        (call,) = tg.calls_of("setWebhook", ok_only=True)
        assert call.params["url"] == url
        # No CANBAO_WEBHOOK_SECRET: a random one was made for this run and given to Telegram.
        assert len(call.params["secret_token"]) >= 32
        async with aiohttp.ClientSession() as http, http.post(url, json={"update_id": 1}) as resp:
            assert resp.status == 401
    assert "telegram: webhook" in log()
    assert call.params["secret_token"] not in log()


async def test_web_only_without_a_token(tmp_path: Path) -> None:
    port = free_port()
    async with canbao_run(_env(tmp_path), port) as log:
        pass
    assert "CANBAO_BOT_TOKEN is not set" in log()
    assert "telegram: off" in log()
