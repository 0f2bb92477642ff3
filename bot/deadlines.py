"""The survey's deadlines as every screen shows them: the day, and how many days are left.

The dates are settings (``CANBAO_COMMUNITY_DEADLINE`` and the others; the defaults are the
2014 notice's). A deadline that has passed is shown as overdue (已过期), never as a count of
days gone by: a deployment that kept the notice's dates would otherwise read "4,376 days".
Today is the survey's day (:func:`bot.clock.today`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot import clock

# (settings field, what is due) in the notice's order.
ITEMS = (
    ("community_deadline", "社区完成采集并上传"),
    ("district_deadline", "各区完成工作总结"),
    ("survey_end", "调查结束"),
)
# The deadline a progress line answers to: communities (and the streets and investigators
# working in them) the community deadline, districts theirs, the city the survey's end.
LEVEL_DEADLINE = {
    "community": "community_deadline",
    "street": "community_deadline",
    "investigator": "community_deadline",
    "district": "district_deadline",
    "city": "survey_end",
}


@dataclass(frozen=True, slots=True)
class Deadline:
    """One deadline seen from ``today``."""

    key: str
    label: str
    day: dt.date
    days_left: int

    @property
    def overdue(self) -> bool:
        """The day has passed."""
        return self.days_left < 0

    @property
    def when(self) -> str:
        """``还剩 3 天``, ``今天截止`` or ``已过期``."""
        if self.overdue:
            return "已过期"
        return "今天截止" if self.days_left == 0 else f"还剩 {self.days_left} 天"

    @property
    def text(self) -> str:
        """``2014-12-10（已过期）``."""
        return f"{self.day.isoformat()}（{self.when}）"


def _make(settings: Any, key: str, label: str, today: dt.date) -> Deadline:
    day: dt.date = getattr(settings, key)
    return Deadline(key, label, day, (day - today).days)


def deadlines(settings: Any, today: dt.date | None = None) -> list[Deadline]:
    """Every configured deadline, in the notice's order."""
    on = today or clock.today()
    return [_make(settings, key, label, on) for key, label in ITEMS]


def deadline_for(level: str, settings: Any, today: dt.date | None = None) -> Deadline:
    """The deadline of a progress line at ``level`` (city, district, street, community or
    investigator)."""
    key = LEVEL_DEADLINE[level]
    label = dict(ITEMS)[key]
    return _make(settings, key, label, today or clock.today())
