"""The one clock of the survey: every date and time it records or shows is read here.

The survey runs on Beijing time (``CANBAO_TIMEZONE``, default ``Asia/Shanghai``) whatever the
server's own zone is: a record handed in at 00:40 in Suzhou carries that day's date even on a
machine set to UTC. Timestamps are stored as aware UTC (``storage.types.utcnow``); this module
turns them into the survey's days and times. Tests freeze the instant with
``storage.types.frozen_time`` and run with ``TZ=UTC`` to catch any other clock.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.types import utcnow

DEFAULT_ZONE = "Asia/Shanghai"

_zone: ZoneInfo | None = None


def parse_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ValueError with a clear message when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (expected an IANA name such as Asia/Shanghai)"
        ) from None


def configure(name: str) -> None:
    """Set the survey's zone for this process (the application does this at start-up)."""
    global _zone
    _zone = parse_zone(name)


def zone() -> ZoneInfo:
    """The survey's zone: the configured one, or ``CANBAO_TIMEZONE`` from the settings."""
    if _zone is None:
        from bot.settings import get_settings

        configure(get_settings().timezone)
    assert _zone is not None
    return _zone


def now() -> dt.datetime:
    """The current time as an aware datetime in the survey's zone."""
    return utcnow().astimezone(zone())


def today() -> dt.date:
    """The survey's date today (the collection date of a form started now)."""
    return now().date()


def local(value: dt.datetime) -> dt.datetime:
    """An aware timestamp in the survey's zone."""
    return value.astimezone(zone())


def local_date(value: dt.datetime) -> dt.date:
    """The survey's date of an aware timestamp."""
    return local(value).date()


def day_start(day: dt.date) -> dt.datetime:
    """The aware UTC instant the survey's day ``day`` begins."""
    return dt.datetime.combine(day, dt.time(), zone()).astimezone(dt.UTC)


def format_time(value: dt.datetime | None) -> str:
    """``2026-12-04 00:40`` in the survey's zone, or an empty string."""
    return local(value).strftime("%Y-%m-%d %H:%M") if value else ""
