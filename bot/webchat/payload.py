"""Checks every chat API request passes before it touches the conversation.

CSRF: a state-changing request must carry the ``X-Canbao-Chat`` header (a cross-site form cannot
set it, and a cross-site script cannot send it without a CORS preflight this server never
approves) and, when the browser names one, an ``Origin`` equal to this server's. Bodies are JSON
objects of bounded size whose keys are exactly the ones the action knows.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from bot.telegram.i18n import gettext as _
from bot.webchat.errors import ApiError, bad_request
from flows.values import clean_text

CSRF_HEADER = "X-Canbao-Chat"
MAX_BODY_BYTES = 16 * 1024
# A typed answer: longer than any field of the form (备注 is 200), short enough to keep the
# stored state small.
MAX_TEXT_CHARS = 2000


def check_same_origin(request: web.Request, public_url: str | None = None) -> None:
    """403 unless the request comes from a page of this server (see the module docstring)."""
    if request.headers.get(CSRF_HEADER) != "1":
        raise ApiError(403, _("请求来源无法确认，请刷新页面后重试。"))
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        raise ApiError(403, _("请求来源无法确认，请刷新页面后重试。"))
    origin = request.headers.get("Origin")
    if origin is None:
        return
    allowed = {f"{request.scheme}://{request.host}"}
    if public_url:
        parts = urlsplit(public_url)
        allowed.add(f"{parts.scheme}://{parts.netloc}")
    if origin not in allowed:
        raise ApiError(403, _("请求来源无法确认，请刷新页面后重试。"))


async def read_json(
    request: web.Request, allowed: Collection[str], *, limit: int = MAX_BODY_BYTES
) -> dict[str, Any]:
    """The request's JSON object, with only ``allowed`` keys (400 otherwise).

    An empty body counts as ``{}``.
    """
    if request.content_length is not None and request.content_length > limit:
        raise _too_large()
    raw = await request.content.read(limit + 1)
    if len(raw) > limit:
        raise _too_large()
    if not raw.strip():
        return {}
    content_type = request.content_type
    if content_type not in ("application/json", "text/plain", "application/octet-stream"):
        raise bad_request(_("请求格式不对：内容应为 JSON。"))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise bad_request(_("请求格式不对：无法读取 JSON 内容，请刷新页面后重试。")) from None
    if not isinstance(data, dict):
        raise bad_request(_("请求格式不对：内容应为一个 JSON 对象。"))
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise bad_request(
            _("请求中有无法识别的字段：{names}。").format(names="、".join(unknown)[:100])
        )
    return data


def text_value(data: dict[str, Any], key: str, *, required: bool = True) -> str:
    """A string field of at most :data:`MAX_TEXT_CHARS` characters (400 otherwise), cleaned
    where it enters (:func:`flows.values.clean_text`: controls, zero-width and bidi characters
    removed, lone surrogates from JSON escapes replaced, NFC)."""
    value = data.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise bad_request(_("请求格式不对：“{key}”应为文字。").format(key=key))
    if len(value) > MAX_TEXT_CHARS:
        raise _too_large()
    return clean_text(value)


def int_value(data: dict[str, Any], key: str) -> int:
    """A required integer field (400 otherwise)."""
    value = data.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise bad_request(_("请求格式不对：缺少“{key}”，请刷新页面后重试。").format(key=key))
    return value


def _too_large() -> ApiError:
    return ApiError(
        400, _("内容太长了（最多 {n} 个字），请精简后再发送。").format(n=MAX_TEXT_CHARS)
    )
