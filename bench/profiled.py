"""Run ``canbao`` under cProfile counting the main thread's CPU time, not wall time.

The default (wall-clock) timer charges every await to whoever waits, which hides where the
CPU goes in an asyncio program::

    python -m bench.profiled OUT.prof run --log-level WARNING
    python -c "import pstats; pstats.Stats('OUT.prof').sort_stats('tottime').print_stats(30)"
"""

from __future__ import annotations

import cProfile
import sys
import time

from bot.cli import main


def run() -> int:
    out, argv = sys.argv[1], sys.argv[2:]
    profiler = cProfile.Profile(time.thread_time)
    profiler.enable()
    try:
        return main(argv)
    finally:
        profiler.disable()
        profiler.dump_stats(out)


if __name__ == "__main__":
    sys.exit(run())
