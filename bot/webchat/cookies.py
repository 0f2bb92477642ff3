"""The signed HttpOnly cookie that ties a browser to the invite whose identity it proved."""

from __future__ import annotations

from aiohttp import web

from bot.webchat.keys import COOKIE_SIGNER
from storage.models import Invite

COOKIE_NAME = "canbao_chat"
# A proof of identity lasts a month on one device; another device proves it again.
MAX_AGE = 30 * 24 * 3600


def _path(invite: Invite) -> str:
    # One cookie per link: a browser that opens two family members' links keeps both.
    return f"/c/{invite.code}"


def is_verified(request: web.Request, invite: Invite) -> bool:
    """Whether this browser proved the identity of ``invite``'s person."""
    token = request.cookies.get(COOKIE_NAME)
    if not token:
        return False
    payload = request.config_dict[COOKIE_SIGNER].unsign(token, MAX_AGE)
    return payload is not None and payload.get("i") == invite.id


def remember(request: web.Request, response: web.StreamResponse, invite: Invite) -> None:
    """Set the cookie after a successful identity proof."""
    token = request.config_dict[COOKIE_SIGNER].sign({"i": invite.id})
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=MAX_AGE,
        path=_path(invite),
        httponly=True,
        samesite="Strict",
        secure=request.secure,
    )
