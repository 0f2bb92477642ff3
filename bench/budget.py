"""Where one update's CPU goes, from a profile of the bot (``bench.load --profile``)::

    python -m bench.load --users 100 --db sqlite --no-echo --profile /tmp/canbao
    python -m bench.budget /tmp/canbao.<port> --updates <updates the run reported>

The profile counts the bot's main thread CPU time (``bench/profiled.py``). Each function's own
time (not what it calls) is charged to the layer its file belongs to, so the layers add up to
the whole; divided by the updates handled, that is the budget per update. (aiosqlite's thread,
where SQLite itself runs, is not in the main thread's profile.)
"""

from __future__ import annotations

import argparse
import pstats
from collections import defaultdict

STARTUP = "start-up: imports, building the pydantic models (not per update)"
# (what it is, path fragments of the files it is); the first match wins.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    (
        STARTUP,
        (
            "pydantic/_internal/_generate_schema",
            "pydantic/_internal/_schema_gather",
            "pydantic/_internal/_model_construction",
            "pydantic/_internal/_fields",
            "pydantic/_internal/_namespace_utils",
            "pydantic/fields.py",
            "importlib",
            "<frozen",
            "marshal.loads",
            "builtins.compile",
            "__build_class__",
        ),
    ),
    ("parse: pydantic models (updates, Bot API answers, methods)", ("pydantic",)),
    ("parse: JSON", ("/json/", "orjson", "{built-in method loads}", "{built-in method dumps}")),
    (
        "lock + FSM data + inbox (bot/telegram middlewares, fsm)",
        ("bot/telegram/middlewares", "bot/telegram/fsm"),
    ),
    (
        "render (bot/telegram/render, labels, i18n)",
        ("bot/telegram/render", "bot/telegram/labels", "bot/telegram/i18n", "gettext", "babel"),
    ),
    ("handlers (bot/telegram/handlers, the rest of bot/)", ("bot/",)),
    ("form engine (flows/, transitions)", ("flows/", "transitions")),
    ("load, save, commit: SQLAlchemy + storage/", ("sqlalchemy", "storage/")),
    ("SQLite driver calls (aiosqlite, sqlite3)", ("aiosqlite", "sqlite3")),
    ("aiogram routing, filters, middlewares", ("aiogram",)),
    ("send + receive: aiohttp, yarl, multidict", ("aiohttp", "yarl", "multidict")),
    ("event loop (asyncio, uvloop)", ("asyncio", "uvloop")),
]


def layer_of(filename: str, function: str) -> str:
    where = filename if filename != "~" else function
    for name, parts in LAYERS:
        if any(p in where for p in parts):
            return name
    return "other (builtins, logging, gc, …)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile")
    parser.add_argument("--updates", type=int, required=True)
    parser.add_argument("--cpu-ms", type=float, help="an unprofiled run's CPU ms per update")
    args = parser.parse_args()
    stats = pstats.Stats(args.profile)
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_layer[layer_of(filename, function)] += tt
    startup = by_layer.pop(STARTUP, 0.0)
    total = sum(by_layer.values())
    # The profiler's own cost inflates every call; the shares are what it measures, the
    # milliseconds are the shares of --cpu-ms (an unprofiled run's CPU per update), if given.
    scale = args.cpu_ms / (total * 1000 / args.updates) if args.cpu_ms else 1.0
    print("| layer | share | ms CPU per update |\n| --- | ---: | ---: |")
    for name, seconds in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        ms = seconds * 1000 / args.updates * scale
        print(f"| {name} | {seconds / total:.0%} | {ms:.2f} |")
    print(f"| **per update, all** | | **{total * 1000 / args.updates * scale:.2f}** |")
    print(f"\n(start-up, left out: {startup:.1f} s of profiled CPU)")


if __name__ == "__main__":
    main()
