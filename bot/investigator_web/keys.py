"""Typed keys of the investigators' sub-application and its requests."""

from __future__ import annotations

import jinja2
from aiohttp import web

JINJA = web.AppKey("investigator_jinja", jinja2.Environment)
# The signed-in investigator's id, set on an API request by the session middleware.
INVESTIGATOR_ID = web.RequestKey("investigator_id", int)
