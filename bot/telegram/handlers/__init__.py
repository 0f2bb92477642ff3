"""The bot's conversation handlers, one named Router per file, gathered in :data:`router`.

Order matters: commands first, then the side steps held in the FSM (identity proof, adding a
person), then buttons, then typed answers, then the fallbacks.
"""

from __future__ import annotations

from aiogram import Router

from bot.telegram.handlers import (
    answers,
    commands,
    fallback,
    help,
    households,
    identity,
    start,
    steps,
)

router = Router(name="handlers")
router.include_routers(
    start.router,
    help.router,
    commands.router,
    households.router,
    identity.router,
    steps.router,
    answers.router,
    fallback.router,
)
