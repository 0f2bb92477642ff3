"""Load benchmark: N residents at once against the real bot process, and the echo floor.

    python -m bench.load --users 1000 --db sqlite
    python -m bench.load --users 1000 --db postgres --redis
    python -m bench.load --users 1000 --db postgres --redis --mode webhook --workers 2
    python -m bench.load --rate 20,50,100 --db sqlite          (open loop: bench/openloop.py)

In one run: a fake Bot API server in this process; a fresh store with a synthetic roster and
an invite per person; first a bare aiogram echo bot (the floor: every user sends as many
updates as a form takes, one after the other), then ``canbao run`` (polling, or N webhook
workers behind a round-robin proxy) with every user walking a full form as a persona. Reports
updates/s and answers/s, update→reply latency percentiles, Bot API calls per completed record
per persona, peak RSS and CPU of the bot process(es), the ratio to the floor, and checks the
stored records against what each persona answered.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import openloop
from bench.driver import Outcome, PhaseResult, echo_script, run_users
from bench.fakeserver import LoadTelegram
from bench.personas import Persona, persona_for
from bench.procs import BotProcess, canbao_run, echo_bot, free_port
from bench.proxy import RoundRobinProxy
from bench.resident import Walk, state_labels
from bench.stores import REDIS_URL, Resident, clean_redis, fresh_database, seed_residents
from flows import load_default_form
from storage.db import make_engine, make_sessionmaker
from storage.models import Record, RecordRevision, RecordStatus

FIRST_USER_ID = 50_000_001
WEBHOOK_SECRET = "bench-secret_0123456789"


class Topology:
    """The bot process(es) of one phase, and the address Telegram talks to."""

    def __init__(
        self, procs: list[BotProcess], proxy: RoundRobinProxy | None, url: str | None = None
    ) -> None:
        self.procs = procs
        self.proxy = proxy
        self.url = url  # the webhook address (None: polling)

    async def start(self, server: LoadTelegram) -> None:
        polls = len(server.calls_of("getUpdates"))
        for proc in self.procs:
            proc.start()
        for proc in self.procs:
            await proc.wait_healthy()
        # Ready when these processes ask for updates (polling) or have set their webhook; what
        # an earlier phase left on the server does not count (its webhook points at a process
        # that is gone: updates sent there would be lost to this phase).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.url is not None and server.webhook.url == self.url:
                break
            if self.url is None and len(server.calls_of("getUpdates")) > polls:
                break
            await asyncio.sleep(0.05)

    def peak_rss_mb(self) -> float:
        return sum(p.peak_rss_mb() for p in self.procs)

    def cpu_seconds(self) -> float:
        return sum(p.cpu_seconds() for p in self.procs)

    async def stop(self) -> None:
        for proc in self.procs:
            await proc.stop()
        if self.proxy is not None:
            await self.proxy.close()


async def topology(
    args: argparse.Namespace,
    server: LoadTelegram,
    make: Any,
) -> Topology:
    """One process in polling mode; N webhook workers behind the proxy in webhook mode."""
    if args.mode == "polling":
        return Topology([make(port=free_port(), webhook_url=None)], None)
    ports = [free_port() for _ in range(args.workers)]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{p}" for p in ports])
    base = await proxy.start()
    url = f"{base}/telegram/webhook"
    return Topology([make(port=p, webhook_url=url) for p in ports], proxy, url)


def assign(residents: list[Resident], users: int) -> list[tuple[Resident, Persona]]:
    """The first ``users`` residents, each with the persona that fits their age."""
    return [(r, persona_for(i, r.birth)) for i, r in enumerate(residents[:users])]


async def echo_phase(
    args: argparse.Namespace, server: LoadTelegram, workdir: Path, steps: int
) -> PhaseResult:
    def make(port: int, webhook_url: str | None) -> BotProcess:
        return echo_bot(
            f"echo:{port}",
            api_url=server.base_url,
            token=server.token,
            webhook_url=webhook_url,
            port=port,
            log_path=workdir / "echo.log",
        )

    topo = await topology(args, server, make)
    await topo.start(server)
    cpu = topo.cpu_seconds()
    ids = range(FIRST_USER_ID, FIRST_USER_ID + args.users)
    result = await run_users(server, "echo floor", echo_script(server, steps), ids)
    result.cpu_seconds = topo.cpu_seconds() - cpu
    result.peak_rss_mb = topo.peak_rss_mb()
    await topo.stop()
    server.webhook.configure(url="", secret_token=None, drop_pending=True)
    return result


async def bot_phase(
    args: argparse.Namespace,
    server: LoadTelegram,
    workdir: Path,
    url: str,
    cast: list[tuple[Resident, Persona]],
) -> tuple[PhaseResult, list[Walk]]:
    redis = REDIS_URL if args.redis else None

    def make(port: int, webhook_url: str | None) -> BotProcess:
        return canbao_run(
            f"canbao:{port}",
            api_url=server.base_url,
            token=server.token,
            database_url=url,
            data_dir=workdir,
            redis_url=redis,
            webhook_url=webhook_url,
            webhook_secret=WEBHOOK_SECRET,
            port=port,
            log_path=workdir / f"bot-{port}.log",
            profile=Path(f"{args.profile}.{port}") if args.profile else None,
            extra_env={"CANBAO_SPEEDUPS": "0"} if args.no_speedups else None,
        )

    topo = await topology(args, server, make)
    await topo.start(server)
    cpu = topo.cpu_seconds()
    labels = state_labels(load_default_form())
    walks: dict[int, Walk] = {}
    first = FIRST_USER_ID + 1_000_000  # other chats than the echo phase's

    async def script(user_id: int) -> Outcome:
        resident, persona = cast[user_id - first]
        walk = Walk(
            server,
            server.user(user_id, resident.name),
            resident,
            persona,
            labels,
            Outcome(user_id, persona.name),
        )
        walks[user_id] = walk
        return await walk.run()

    result = await run_users(server, "canbao", script, range(first, first + len(cast)))
    result.cpu_seconds = topo.cpu_seconds() - cpu
    result.peak_rss_mb = topo.peak_rss_mb()
    if topo.proxy is not None:
        result.extra["per_worker"] = dict(topo.proxy.forwarded)
    await topo.stop()
    return result, [walks[uid] for uid in sorted(walks)]


def calls_per_record(server: LoadTelegram, walks: list[Walk]) -> dict[str, dict[str, float]]:
    """Bot API calls (answered or not) per completed conversation, by persona and method."""
    by_chat: dict[int, Counter[str]] = defaultdict(Counter)
    for call in server.calls:
        chat = call.chat_id
        if chat is None and call.method.lower() == "answercallbackquery":
            query = server.callback_queries.get(str(call.params.get("callback_query_id")))
            chat = query["user"] if query else None
        if isinstance(chat, int):
            by_chat[chat][call.method] += 1
    table: dict[str, dict[str, float]] = {}
    for persona in sorted({w.persona.name for w in walks}):
        done = [w for w in walks if w.persona.name == persona and w.outcome.completed]
        if not done:
            continue
        total: Counter[str] = Counter()
        for walk in done:
            total.update(by_chat[walk.user.id])
        row = {m: n / len(done) for m, n in sorted(total.items())}
        row["total"] = sum(total.values()) / len(done)
        row["updates"] = sum(w.outcome.updates for w in done) / len(done)
        row["records"] = len(done)
        table[persona] = row
    return table


async def check_store(url: str, walks: list[Walk]) -> list[str]:
    """Every completed walk left exactly one submitted record with one revision holding what the
    persona answered; returns the problems found."""
    problems: list[str] = []
    engine = make_engine(url)
    try:
        sessions = make_sessionmaker(engine)
        async with sessions() as session:
            rows = (
                await session.execute(
                    select(Record, func.count(RecordRevision.id))
                    .outerjoin(RecordRevision, RecordRevision.record_id == Record.id)
                    .group_by(Record.id)
                )
            ).all()
        by_ref = {f"CB{record.id:08d}": (record, revisions) for record, revisions in rows}
        for walk in walks:
            if not walk.outcome.completed:
                continue
            found = by_ref.get(walk.reference or "")
            if found is None:
                problems.append(f"{walk.persona.name} {walk.reference}: no such record")
                continue
            record, revisions = found
            if record.status != RecordStatus.submitted or revisions != 1:
                problems.append(f"{walk.reference}: {record.status}, {revisions} revisions")
            answers = record.state.get("answers", {})
            for key, value in walk.persona.expected.items():
                if answers.get(key) != value:
                    problems.append(f"{walk.reference} {key}: {answers.get(key)!r} != {value!r}")
        if len(rows) != sum(1 for w in walks if w.outcome.completed):
            problems.append(f"{len(rows)} records for {len(walks)} conversations")
    finally:
        await engine.dispose()
    return problems


def report(
    args: argparse.Namespace,
    floor: PhaseResult | None,
    ours: PhaseResult,
    per_persona: dict[str, dict[str, float]],
    problems: list[str],
    walks: list[Walk],
) -> dict[str, Any]:
    """Print the figures as Markdown; return them as a dict (for --json)."""
    setup = f"{args.db}{' + Redis' if args.redis else ''}, {args.mode}"
    if args.mode == "webhook":
        setup += f", {args.workers} worker{'s' if args.workers > 1 else ''}"
    print(f"\n## {args.users} residents at once — {setup} — {dt.date.today()}\n")
    print(
        "| bot | updates | seconds | updates/s | answers/s | p50 ms | p95 ms | p99 ms "
        "| CPU s | peak RSS MB | failed |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for phase in (floor, ours):
        if phase is None:
            continue
        print(
            f"| {phase.name} | {phase.updates:,} | {phase.seconds:.1f} | "
            f"{phase.updates_per_s:.0f} | {phase.answers_per_s:.0f} | "
            f"{phase.percentile(50):.0f} | {phase.percentile(95):.0f} | "
            f"{phase.percentile(99):.0f} | {phase.cpu_seconds:.1f} | "
            f"{phase.peak_rss_mb:.0f} | {len(phase.failures)} |"
        )
    ratio = ours.updates_per_s / floor.updates_per_s if floor and floor.updates_per_s else None
    if ratio is not None:
        print(f"\nRatio to the echo floor (updates/s): **{ratio:.2f}**")
    if ours.updates:
        print(
            f"Bot CPU per update: {1000 * ours.cpu_seconds / ours.updates:.2f} ms"
            + (
                f" (echo: {1000 * floor.cpu_seconds / floor.updates:.2f} ms)"
                if floor and floor.updates
                else ""
            )
        )
    if "per_worker" in ours.extra:
        print(f"Deliveries per worker: {ours.extra['per_worker']}")
    methods = sorted(
        {m for row in per_persona.values() for m in row} - {"total", "updates", "records"}
    )
    print("\nBot API calls per completed record:\n")
    print("| persona | records | updates | " + " | ".join(methods) + " | total |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in methods) + " | ---: |")
    for persona, row in per_persona.items():
        cells = " | ".join(f"{row.get(m, 0):.1f}" for m in methods)
        print(
            f"| {persona} | {row['records']:.0f} | {row['updates']:.1f} | {cells} | "
            f"{row['total']:.1f} |"
        )
    completed = sum(1 for w in walks if w.outcome.completed)
    print(
        f"\nCompleted conversations: {completed}/{len(walks)}; store check: "
        + ("OK" if not problems else f"{len(problems)} problems")
    )
    for problem in problems[:10]:
        print(f"  - {problem}")
    for walk in [w for w in walks if w.outcome.error][:5]:
        print(f"  - {walk.persona.name} user {walk.user.id}: {(walk.outcome.error or '')[:300]}")
    unplanned = Counter(s for w in walks for s in w.unplanned)
    if unplanned:
        print(f"Questions no persona planned for (kept the shown value): {dict(unplanned)}")
    return {
        "setup": setup,
        "users": args.users,
        "floor": _phase_dict(floor) if floor else None,
        "canbao": _phase_dict(ours),
        "ratio": ratio,
        "calls_per_record": per_persona,
        "completed": completed,
        "problems": problems,
    }


def _phase_dict(phase: PhaseResult) -> dict[str, Any]:
    return {
        "updates": phase.updates,
        "answers": phase.answers,
        "seconds": phase.seconds,
        "updates_per_s": phase.updates_per_s,
        "answers_per_s": phase.answers_per_s,
        "p50_ms": phase.percentile(50),
        "p95_ms": phase.percentile(95),
        "p99_ms": phase.percentile(99),
        "cpu_s": phase.cpu_seconds,
        "peak_rss_mb": phase.peak_rss_mb,
        "failed": len(phase.failures),
    }


async def main_async(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="canbao-load-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before the run)
        kind = "sqlite" if args.db == "sqlite" else "postgres"
        async with fresh_database(kind, workdir) as url:
            residents = await seed_residents(url, args.users, workdir)
            cast = assign(residents, args.users)
            if args.redis:
                await clean_redis(REDIS_URL)
            async with LoadTelegram(reply_timeout=60) as server:
                ours, walks = await bot_phase(args, server, workdir, url, cast)
                per_persona = calls_per_record(server, walks)
                problems = await check_store(url, walks)
                floor = None
                if not args.no_echo:
                    steps = round(ours.updates / max(len(walks), 1))
                    floor = await echo_phase(args, server, workdir, steps)
            if args.redis:
                await clean_redis(REDIS_URL)
        figures = report(args, floor, ours, per_persona, problems, walks)
        if args.json:
            text = json.dumps(figures, ensure_ascii=False, indent=2)
            await asyncio.to_thread(Path(args.json).write_text, text)
        ok = not problems and all(w.outcome.completed for w in walks)
        return 0 if ok else 1


def _base(proc: BotProcess) -> str:
    assert proc.health_url is not None
    return proc.health_url.rsplit("/", 1)[0]


async def open_loop_async(args: argparse.Namespace) -> int:
    """Every rate of ``--rate`` against the bot and its floor, alternating (bench/openloop.py)."""
    rates = [float(r) for r in args.rate.split(",")]
    need = [openloop.population(r) for r in rates]
    with tempfile.TemporaryDirectory(prefix="canbao-open-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 (once, before the run)
        kind = "sqlite" if args.db == "sqlite" else "postgres"
        async with fresh_database(kind, workdir) as url:
            total = 2 * sum(need) + args.concurrency
            residents = await seed_residents(url, total, workdir)
            cast = assign(residents, total)
            if args.redis:
                await clean_redis(REDIS_URL)
            labels = state_labels(load_default_form())
            async with (
                LoadTelegram(reply_timeout=60) as ours,
                LoadTelegram(reply_timeout=60) as theirs,
            ):
                bot_topo = await topology(args, ours, _bot_maker(args, ours, workdir, url))
                echo_topo = await topology(args, theirs, _echo_maker(theirs, workdir))
                await asyncio.gather(bot_topo.start(ours), echo_topo.start(theirs))
                bot_web, echo_web = _base(bot_topo.procs[0]), _base(echo_topo.procs[0])
                rows: list[dict[str, Any]] = []
                used = 0
                for rate, count in zip(rates, need, strict=True):
                    tg = cast[used : used + count]
                    web = cast[used + count : used + 2 * count]
                    used += 2 * count
                    seed = int(rate)
                    first = FIRST_USER_ID + used * 10
                    row: dict[str, Any] = {"rate": rate}
                    row["bot"] = (
                        await openloop.telegram_phase(
                            ours,
                            [(r, p, first + i) for i, (r, p) in enumerate(tg)],
                            labels,
                            rate,
                            args.seconds,
                            seed,
                        )
                    ).figures(rate)
                    ids = [first + i for i in range(count)]
                    row["echo"] = (
                        await openloop.echo_phase(theirs, ids, rate, args.seconds, seed)
                    ).figures(rate)
                    row["web"] = (
                        await openloop.web_phase(bot_web, web, rate, args.seconds, seed)
                    ).figures(rate)
                    row["web_floor"] = (
                        await openloop.web_floor_phase(echo_web, count, rate, args.seconds, seed)
                    ).figures(rate)
                    rows.append(row)
                    print(_open_row(row), flush=True)
                people = cast[used : used + args.concurrency]
                web_ours = await openloop.web_sustained(bot_web, people, 0, args.concurrency)
                web_floor = await openloop.web_sustained(
                    echo_web, None, web_ours["answers"], args.concurrency
                )
                bot_cpu, echo_cpu = bot_topo.cpu_seconds(), echo_topo.cpu_seconds()
                await bot_topo.stop()
                await echo_topo.stop()
            if args.redis:
                await clean_redis(REDIS_URL)
    ratio = web_ours["answers_per_s"] / web_floor["answers_per_s"] if web_floor["answers"] else None
    figures = {
        "setup": _setup(args),
        "seconds_per_phase": args.seconds,
        "think_s": list(openloop.THINK),
        "rates": rows,
        "web_sustained": {"canbao": web_ours, "floor": web_floor, "ratio": ratio},
        "cpu_s": {"canbao": bot_cpu, "echo": echo_cpu},
    }
    _open_report(figures)
    if args.json:
        text = json.dumps(figures, ensure_ascii=False, indent=2)
        await asyncio.to_thread(Path(args.json).write_text, text)
    failed = sum(row[k]["failed"] for row in rows for k in ("bot", "echo", "web", "web_floor"))
    return 0 if failed == 0 and web_ours["failed"] == 0 else 1


def _bot_maker(args: argparse.Namespace, server: LoadTelegram, workdir: Path, url: str) -> Any:
    def make(port: int, webhook_url: str | None) -> BotProcess:
        return canbao_run(
            f"canbao:{port}",
            api_url=server.base_url,
            token=server.token,
            database_url=url,
            data_dir=workdir,
            redis_url=REDIS_URL if args.redis else None,
            webhook_url=webhook_url,
            webhook_secret=WEBHOOK_SECRET,
            port=port,
            log_path=workdir / f"bot-{port}.log",
            extra_env={"CANBAO_SPEEDUPS": "0"} if args.no_speedups else None,
        )

    return make


def _echo_maker(server: LoadTelegram, workdir: Path) -> Any:
    def make(port: int, webhook_url: str | None) -> BotProcess:
        return echo_bot(
            f"echo:{port}",
            api_url=server.base_url,
            token=server.token,
            webhook_url=webhook_url,
            port=port,
            log_path=workdir / "echo.log",
        )

    return make


def _setup(args: argparse.Namespace) -> str:
    setup = f"{args.db}{' + Redis' if args.redis else ''}, {args.mode}"
    if args.mode == "webhook":
        setup += f", {args.workers} worker{'s' if args.workers > 1 else ''}"
    return setup


def _ms(p: dict[str, float] | None) -> str:
    return " / ".join(f"{p[k]:.0f}" for k in ("p50", "p95", "p99")) if p else "—"


def _open_row(row: dict[str, Any]) -> str:
    cells = [f"{row['rate']:.0f}"]
    for key in ("bot", "echo"):
        f = row[key]
        cells += [f"{f['sent_per_s']:.0f}", _ms(f["first_call_ms"]), _ms(f["round_trip_ms"])]
    for key in ("web", "web_floor"):
        f = row[key]
        cells += [f"{f['sent_per_s']:.0f}", _ms(f["round_trip_ms"])]
    failed = sum(row[k]["failed"] for k in ("bot", "echo", "web", "web_floor"))
    return "| " + " | ".join(cells) + f" | {failed} |"


def _open_report(figures: dict[str, Any]) -> None:
    print(f"\n## Open loop — {figures['setup']} — {dt.date.today()}\n")
    print(
        "| offered /s | bot sent /s | bot first call p50/p95/p99 ms | bot round trip ms "
        "| echo sent /s | echo first call ms | echo round trip ms | web sent /s "
        "| web round trip ms | floor sent /s | floor round trip ms | failed |"
    )
    print("| ---: | ---: | --- | --- | ---: | --- | --- | ---: | --- | ---: | --- | ---: |")
    for row in figures["rates"]:
        print(_open_row(row))
    web = figures["web_sustained"]
    ours, floor = web["canbao"], web["floor"]
    print(
        f"\nWeb chat sustained: {ours['answers_per_s']:.0f} answers/s "
        f"({_ms(ours['latency_ms'])} ms) against the floor's {floor['answers_per_s']:.0f} "
        f"({_ms(floor['latency_ms'])} ms): ratio **{(web['ratio'] or 0):.2f}**; "
        f"failed {ours['failed']}"
    )
    print(f"CPU: bot {figures['cpu_s']['canbao']:.1f} s, echo {figures['cpu_s']['echo']:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--redis", action="store_true", help="Redis FSM storage and lock")
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    parser.add_argument("--workers", type=int, default=1, help="webhook workers")
    parser.add_argument("--no-echo", action="store_true", help="skip the echo floor")
    parser.add_argument("--json", help="also write the figures to this file")
    parser.add_argument("--profile", help="run the bot under cProfile, stats to PROFILE.<port>")
    parser.add_argument("--keep", help="work (and leave logs) in this directory")
    parser.add_argument(
        "--no-speedups", action="store_true", help="the bot without orjson/uvloop (bot/speedups.py)"
    )
    parser.add_argument(
        "--rate", help="open loop at these update rates, e.g. 20,50,100 (bench/openloop.py)"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="open loop: window per phase")
    parser.add_argument(
        "--concurrency", type=int, default=20, help="open loop: web chat sustained, people at once"
    )
    args = parser.parse_args()
    if args.mode == "polling" and args.workers != 1:
        parser.error("several workers need --mode webhook (one poller per bot token)")
    if args.rate:
        sys.exit(asyncio.run(open_loop_async(args)))
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
