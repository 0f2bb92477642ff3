"""Progress on the terminal: a redrawn bar on a TTY, plain lines (every 10 %) otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

PHASES = {
    "read": "读取",
    "check": "检查",
    "households": "写入户",
    "persons": "写入人员",
    "export": "导出",
}


class ProgressPrinter:
    """Callable as ``progress(phase, done, total)``."""

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.width = width
        self._last: tuple[str, int] | None = None

    def __call__(self, phase: str, done: int, total: int) -> None:
        label = PHASES.get(phase, phase)
        percent = 100 if total <= 0 else min(done * 100 // total, 100)
        if self.tty:
            filled = self.width * percent // 100
            bar = "#" * filled + "-" * (self.width - filled)
            end = "\n" if done >= total else ""
            self.stream.write(f"\r{label:<6} [{bar}] {percent:3d}% {done}/{total}{end}")
            self.stream.flush()
            return
        decile = percent // 10
        if self._last == (phase, decile):
            return
        self._last = (phase, decile)
        self.stream.write(f"{label} {percent}% ({done}/{total})\n")
        self.stream.flush()
