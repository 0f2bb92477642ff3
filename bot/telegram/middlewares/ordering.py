"""Which of a person's updates came late: the order Telegram's message ids and dates say.

An update older than one already handled for the same person is dropped (see
:mod:`bot.telegram.middlewares.inbox`). Update ids alone cannot say "older": after a week
without updates Telegram may start them again at any number, and a bot that compared ids
would then drop every new update of everyone it knew, for good. So:

* a message the person sent carries its message id, and in a private chat message ids only
  grow (they count both sides' messages, whatever the update ids do): a message whose id is
  below the newest message handled for the person is late;
* otherwise updates go by update id, unless a long quiet time lies between the update and the
  newest handled one (:data:`RESTART_GAP`, by Telegram's date of the update, or when it
  arrived when it has none): a lower id then means that the sequence started again, not that
  the update waited. Late updates wait seconds or minutes (a lock, a retry), never a day,
  and Telegram starts again only after a week without any update.

What is kept per person is small and plain (it lives in the FSM data, under the user's lock).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiogram.types import Update

# FSM data: {"u": update id, "m": newest message id the person sent, "t": unix time}.
LAST_KEY = "inbox_last"
RESTART_GAP = 24 * 3600


@dataclass(frozen=True, slots=True)
class Position:
    """Where an update stands in the person's order."""

    update_id: int
    message_id: int | None  # a message the person sent (not an edit, not a button's message)
    time: int  # Telegram's date of the update, or when it arrived


@dataclass(frozen=True, slots=True)
class Verdict:
    """``late``: drop it; ``restarted``: it is new although its update id is lower."""

    late: bool
    restarted: bool = False


def position_of(update: Update, now: float) -> Position:
    """The update's position; ``now`` (unix seconds) stands in for a missing date."""
    message = update.message
    if message is not None:
        return Position(update.update_id, message.message_id, _unix(message.date, now))
    edited = update.edited_message
    if edited is not None:
        return Position(update.update_id, None, _unix(edited.edit_date or edited.date, now))
    return Position(update.update_id, None, int(now))


def _unix(value: Any, now: float) -> int:
    if value is None:
        return int(now)
    if isinstance(value, int | float):
        return int(value)
    return int(value.timestamp())


def judge(position: Position, last: Any) -> Verdict:
    """Whether the update at ``position`` is late after ``last`` (the stored value)."""
    if not isinstance(last, Mapping) or not isinstance(last.get("u"), int):
        return Verdict(late=False)
    newest_message = last.get("m")
    if (
        position.message_id is not None
        and isinstance(newest_message, int)
        and position.message_id < newest_message
    ):
        return Verdict(late=True)  # written before a message already handled
    if position.update_id >= last["u"]:
        return Verdict(late=False)
    last_time = last.get("t")
    if isinstance(last_time, int) and position.time - last_time >= RESTART_GAP:
        return Verdict(late=False, restarted=True)
    return Verdict(late=True)


def remember(position: Position, last: Any) -> dict[str, Any]:
    """The value to store once the update at ``position`` is taken."""
    previous = last if isinstance(last, Mapping) else {}
    message_id = position.message_id
    if message_id is None and isinstance(previous.get("m"), int):
        message_id = previous["m"]
    last_time = previous.get("t")
    newest = max(position.time, last_time) if isinstance(last_time, int) else position.time
    return {"u": position.update_id, "m": message_id, "t": newest}
