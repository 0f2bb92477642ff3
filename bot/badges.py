"""The public badge check: ``GET /badge/<number>``, the address on a badge's QR code.

It shows, from the store, whether the badge is valid today, the investigator's name and
community and the community office's phone — nothing else. No sign-in; checks are limited
per client address (429) and audited (:func:`storage.badges.check_badge`).
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from bot import clock
from bot.appkeys import SESSIONMAKER
from bot.display import finalize
from bot.security.proxies import client_address
from storage.badges import STATE_LABELS, TooManyChecks, check_badge

TEMPLATES = Path(__file__).resolve().parent / "templates" / "badge"
CSS = Path(__file__).resolve().parent / "static" / "badge" / "badge.css"
_ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    finalize=finalize,
)
HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


async def verify_page(request: web.Request) -> web.Response:
    """The badge's state today (200 for a known badge, 404 for an unknown number)."""
    number = request.match_info["number"][:64]
    try:
        async with request.app[SESSIONMAKER]() as db, db.begin():
            check = await check_badge(
                db, number, today=clock.today(), address=client_address(request)
            )
    except TooManyChecks as exc:
        return web.Response(
            text="核验次数过多，请稍后再试。",
            status=429,
            headers={**HEADERS, "Retry-After": str(int(exc.retry_after))},
        )
    label = STATE_LABELS[check.state] if check.state else ""
    html = _ENV.get_template("verify.html").render(
        check=check, label=label, today=clock.today().isoformat()
    )
    return web.Response(
        text=html,
        content_type="text/html",
        status=200 if check.found else 404,
        headers=HEADERS,
    )


async def stylesheet(request: web.Request) -> web.FileResponse:
    """The page's styles (the security policy allows no inline style)."""
    return web.FileResponse(CSS, headers={"Cache-Control": "public, max-age=3600"})


def setup(app: web.Application) -> None:
    """Mount ``/badge/<number>`` (called by :func:`bot.server.create_app`)."""
    app.router.add_get("/badge/{number}", verify_page, name="badge_verify")
    app.router.add_get("/badge.css", stylesheet, name="badge_css")
