"""The central system's API at ``/api/v1`` (bearer tokens) and the signed outbound webhook."""

from __future__ import annotations

from aiohttp import web

from bot.api.auth import bearer_middleware
from bot.api.openapi import router as openapi_router
from bot.api.persons import router as persons_router
from bot.api.views import router as views_router
from bot.api.webhook import setup_webhook

PREFIX = "/api/v1"
API_APP = web.AppKey("api_app", web.Application)


def create_api() -> web.Application:
    """The ``/api/v1`` sub-application."""
    api = web.Application(middlewares=[bearer_middleware])
    api.router.add_routes(views_router)
    api.router.add_routes(persons_router)
    api.router.add_routes(openapi_router)
    return api


def setup(app: web.Application) -> None:
    """Mount the API (called by :func:`bot.server.create_app`) and start the webhook sender
    when ``outbound_webhook_url`` is configured."""
    api = create_api()
    app[API_APP] = api
    app.add_subapp(PREFIX, api)
    setup_webhook(app)
