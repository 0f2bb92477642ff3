"""What protects the whole web application: the client's real address and scheme behind a
trusted proxy (:mod:`bot.security.proxies`) and the response headers
(:mod:`bot.security.headers`). ``docs/security.md`` lists every protection and its test."""

from __future__ import annotations

from aiohttp import web

from bot.security import headers, proxies


def install(app: web.Application) -> None:
    """Install both on the main application (called by :func:`bot.server.create_app`)."""
    proxies.install(app)
    headers.install(app)
