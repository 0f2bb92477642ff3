"""The response headers every answer of the application carries.

One hook (``on_response_prepare``, so streamed downloads and error pages get them too, just
before their headers go out) for the console, the API, the web chat and the webhook:

* ``Content-Security-Policy``: only this origin's scripts, styles and images, no framing by
  any site (``frame-ancestors 'none'``, and ``X-Frame-Options: DENY`` for older browsers), no
  ``<base>``, forms post only here. The console and the chat page load their JS/CSS as files
  of this server, nothing inline.
* ``X-Content-Type-Options: nosniff``; ``Referrer-Policy: no-referrer`` (links carry invite
  codes); ``Cross-Origin-Opener-Policy: same-origin``; a ``Permissions-Policy`` that turns off
  camera, microphone and location.
* ``Cache-Control: no-store`` on everything but the versioned static files: pages, JSON and
  exports carry personal data and must not stay in a browser's or a proxy's cache.
* ``Strict-Transport-Security`` when ``public_url`` is https.

A header a view set itself is kept.
"""

from __future__ import annotations

from aiohttp import web

from bot.appkeys import SETTINGS

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
HSTS = "max-age=31536000"
BASE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
# Static files (versioned URLs, no personal data) may be cached.
STATIC_PREFIXES = ("/console/static/", "/c/_static/", "/i/_static/")


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Set the headers above on ``response`` (see the module docstring)."""
    headers = response.headers
    for name, value in BASE_HEADERS.items():
        headers.setdefault(name, value)
    if not request.path.startswith(STATIC_PREFIXES):
        headers.setdefault("Cache-Control", "no-store")
    settings = request.config_dict.get(SETTINGS)
    if settings is not None and settings.public_url.lower().startswith("https://"):
        headers.setdefault("Strict-Transport-Security", HSTS)


def install(app: web.Application) -> None:
    """Add the hook to the main application (it sees the sub-applications' answers too)."""
    app.on_response_prepare.append(add_security_headers)
