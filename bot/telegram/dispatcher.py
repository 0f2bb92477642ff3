"""The Dispatcher: storage, isolation, middlewares, and the routers, wired once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiogram import BaseMiddleware, Dispatcher, Router
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.settings import Settings
from bot.telegram import errors
from bot.telegram.fsm import create_fsm_storage, create_isolation, worker_name
from bot.telegram.i18n import i18n_middleware
from bot.telegram.middlewares import (
    CleanTextMiddleware,
    DatabaseRetryMiddleware,
    DbSessionMiddleware,
    FsmBufferMiddleware,
    InboxMiddleware,
)

# Updates handled at once in polling: a backlog must not become thousands of tasks.
TASKS_CONCURRENCY_LIMIT = 100


def create_dispatcher(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    form: Any,
    fsm_storage: BaseStorage | None = None,
    *,
    events_isolation: BaseEventIsolation | None = None,
    router: Router | None = None,
    outer_middlewares: Sequence[BaseMiddleware] = (),
) -> Dispatcher:
    """Build the dispatcher.

    Handlers receive by name: ``session`` (one :class:`AsyncSession` per update, committed when
    the handler returns), ``form`` (the compiled form), ``settings``, ``sessionmaker``, ``state``
    (FSM) and ``i18n``. ``fsm_storage`` defaults to Redis when ``settings.redis_url`` is set,
    memory otherwise; updates of one user are serialised by the matching event isolation.
    ``router`` defaults to :data:`bot.telegram.handlers.router`; ``outer_middlewares`` wrap
    everything else, aiogram's error handling included, so they see every update (duplicates
    too) and the moment its handling, error handlers included, is over.
    """
    storage = fsm_storage if fsm_storage is not None else create_fsm_storage(settings)
    dispatcher = Dispatcher(
        storage=storage,
        events_isolation=events_isolation or create_isolation(storage, worker_name(settings)),
        name="canbao",
    )
    dispatcher["settings"] = settings
    dispatcher["sessionmaker"] = sessionmaker
    dispatcher["form"] = form
    _install_outermost(dispatcher, outer_middlewares)
    # Under the per-user lock: the FSM data is read once and written once per update.
    dispatcher.update.outer_middleware(FsmBufferMiddleware())
    # Inside the per-user lock (aiogram's FSM middleware, registered above), outside the inbox:
    # a retried update keeps its place in the user's order and is deduplicated on every try.
    dispatcher.update.outer_middleware(DatabaseRetryMiddleware())
    dispatcher.update.outer_middleware(InboxMiddleware(sessionmaker))
    dispatcher.update.outer_middleware(DbSessionMiddleware(sessionmaker))
    i18n_middleware().setup(dispatcher)
    # Typed text is cleaned where it enters (flows.values.clean_text), before any filter.
    dispatcher.message.outer_middleware(CleanTextMiddleware())
    if router is None:
        from bot.telegram.handlers import router as handlers_router

        router = handlers_router
    attach(dispatcher, errors.router)
    attach(dispatcher, router)
    return dispatcher


def _install_outermost(dispatcher: Dispatcher, middlewares: Sequence[BaseMiddleware]) -> None:
    manager = dispatcher.update.outer_middleware
    builtin: list[Any] = list(manager)
    for middleware in builtin:
        manager.unregister(middleware)
    for middleware in [*middlewares, *builtin]:
        manager.register(middleware)


def attach(parent: Router, router: Router) -> None:
    """Include a module-level router, moving it from a dispatcher built earlier in this
    process (tests and in-process restarts build several; a router has one parent)."""
    previous = router.parent_router
    if previous is parent:
        return
    if previous is not None:
        previous.sub_routers.remove(router)
        router._parent_router = None
    parent.include_router(router)
