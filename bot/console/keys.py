"""Typed keys of the console's sub-application and request."""

from __future__ import annotations

from aiohttp import web

from storage.models import Staff

# The signed-in staff member (set by the auth middleware).
STAFF_KEY = web.RequestKey("console_staff", Staff)
