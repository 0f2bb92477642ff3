"""The order of one person's updates (bot.telegram.middlewares.ordering)."""

from __future__ import annotations

from bot.telegram.middlewares import ordering


def test_late_updates_are_still_late() -> None:
    """What the ordering keeps dropping: an update that waited behind a newer one."""
    now = 1_700_000_000
    last = ordering.remember(ordering.Position(500, 40, now), None)
    # A button pressed before the newest update, handled seconds later.
    assert ordering.judge(ordering.Position(499, None, now + 5), last).late
    # A message written before the newest message handled.
    assert ordering.judge(ordering.Position(501, 39, now + 5), last).late
    # Newer ones pass.
    assert not ordering.judge(ordering.Position(501, None, now + 5), last).late
    assert not ordering.judge(ordering.Position(502, 41, now + 5), last).late
    # A lower id after a quiet week is a new sequence, not a late update.
    verdict = ordering.judge(ordering.Position(3, None, now + 8 * 86_400), last)
    assert not verdict.late and verdict.restarted
    # What an older worker stored (a bare number, no dates) does not mute anyone.
    assert not ordering.judge(ordering.Position(3, None, now), 500).late
