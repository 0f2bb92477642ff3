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

# (what it is, path fragments of the files it is); the first match wins.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
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
    args = parser.parse_args()
    stats = pstats.Stats(args.profile)
    by_layer: dict[str, float] = defaultdict(float)
    for (filename, _line, function), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        by_layer[layer_of(filename, function)] += tt
    total = sum(by_layer.values())
    print("| layer | ms CPU per update | share |\n| --- | ---: | ---: |")
    for name, seconds in sorted(by_layer.items(), key=lambda kv: -kv[1]):
        ms = seconds * 1000 / args.updates
        print(f"| {name} | {ms:.2f} | {seconds / total:.0%} |")
    print(f"| **main thread, all** | **{total * 1000 / args.updates:.2f}** | |")


if __name__ == "__main__":
    main()
