"""Starting, watching and stopping the bot processes a benchmark talks to."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory (VmHWM) of a live process, in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a live process has used so far."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


@dataclass
class BotProcess:
    """One bot process: ``canbao run`` (or the echo bot) with its own environment."""

    name: str
    argv: list[str]
    env: dict[str, str]
    health_url: str | None = None
    log_path: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    started: list[float] = field(default_factory=list)

    def start(self) -> None:
        """Spawn the process (stdout/stderr to the log file)."""
        env = {**os.environ, **self.env}
        env.setdefault("PYTHONPATH", str(ROOT))
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
        )
        self.started.append(time.monotonic())

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    async def wait_healthy(self, within: float = 60.0) -> None:
        """Wait until ``/healthz`` answers 200 (or, without one, a short settle time)."""
        if self.health_url is None:
            await asyncio.sleep(1.0)
            return
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if not self.alive():
                    raise RuntimeError(f"{self.name} exited with {self.proc and self.proc.poll()}")
                try:
                    async with http.get(self.health_url) as resp:
                        if resp.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"{self.name} not healthy within {within} s")

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.pid) if self.alive() else 0.0

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid) if self.alive() else 0.0

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to finish anything."""
        if self.alive():
            assert self.proc is not None
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    async def stop(self, grace: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL after ``grace`` seconds."""
        if not self.alive():
            return self.proc.poll() if self.proc else None
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        # A child's exit is not an awaitable event here; poll it.
        while self.proc.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        if self.proc.poll() is None:
            self.kill()
        return self.proc.poll()


def canbao_run(
    name: str,
    *,
    api_url: str,
    token: str,
    database_url: str,
    data_dir: Path,
    redis_url: str | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    port: int | None = None,
    log_path: Path | None = None,
    extra_env: dict[str, str] | None = None,
    profile: Path | None = None,
) -> BotProcess:
    """The real bot: ``python -m bot run`` pointed at the fake Bot API and a database
    (under cProfile, writing ``profile`` at a clean stop, when given)."""
    port = port or free_port()
    env = {
        "CANBAO_BOT_TOKEN": token,
        "CANBAO_TELEGRAM_API_URL": api_url,
        "CANBAO_DATABASE_URL": database_url,
        "CANBAO_DATA_DIR": str(data_dir),
        "CANBAO_HOST": "127.0.0.1",
        "CANBAO_PORT": str(port),
        "CANBAO_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CANBAO_SESSION_SECRET": "bench-session-secret-0123456789abcdef0123456789",
        # The benchmark measures the conversation, not Telegram's bulk-sending pace.
        "CANBAO_SEND_RATE_OVERALL": "1000",
    }
    if redis_url:
        env["CANBAO_REDIS_URL"] = redis_url
    if webhook_url:
        env["CANBAO_WEBHOOK_URL"] = webhook_url
        env["CANBAO_WEBHOOK_SECRET"] = webhook_secret or "bench-secret_0123456789"
    env.update(extra_env or {})
    return BotProcess(
        name=name,
        argv=[
            sys.executable,
            "-m",
            *(["bench.profiled", str(profile)] if profile else ["bot"]),
            "run",
            "--log-level",
            "WARNING",
        ],
        env=env,
        health_url=f"http://127.0.0.1:{port}/healthz",
        log_path=log_path,
    )


def echo_bot(
    name: str,
    *,
    api_url: str,
    token: str,
    webhook_url: str | None = None,
    port: int | None = None,
    log_path: Path | None = None,
) -> BotProcess:
    """The floor: a minimal aiogram echo bot (:mod:`bench.echo_bot`)."""
    port = port or free_port()
    argv = [
        sys.executable,
        "-m",
        "bench.echo_bot",
        "--api",
        api_url,
        "--token",
        token,
        "--port",
        str(port),
    ]
    if webhook_url:
        argv += ["--webhook-url", webhook_url]
    return BotProcess(
        name=name,
        argv=argv,
        env={},
        health_url=f"http://127.0.0.1:{port}/healthz",
        log_path=log_path,
    )
