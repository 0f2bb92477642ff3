"""``/c/preview``: staff try the form in the chat page without creating any record.

The conversation state lives only in the browser, as a signed token sent back with each
action (the signature keeps the engine from ever seeing a hand-made state); nothing is written
to the store.
"""

from __future__ import annotations

import inspect
from typing import Any

from aiohttp import web

from bot import clock
from bot.appkeys import FORM, SETTINGS
from bot.telegram.i18n import N_
from bot.telegram.i18n import gettext as _
from bot.webchat import formtext
from bot.webchat.actions import CONVERSATION_ACTIONS, apply_action
from bot.webchat.errors import ApiError, bad_request, out_of_order
from bot.webchat.keys import PREVIEW_GUARD, PREVIEW_SIGNER
from bot.webchat.language import locale_of
from bot.webchat.pages import render_page
from bot.webchat.payload import check_same_origin, read_json, text_value
from bot.webchat.present import conversation_view
from bot.webchat.staff import console_staff_signed_in
from flows import Conversation, EngineError, Form

# The token carries the whole state, so the body may be larger than a resident's.
MAX_BODY_BYTES = 64 * 1024
TOKEN_MAX_AGE = 12 * 3600
FORBIDDEN = N_("预览仅供已登录的工作人员使用，请先登录工作人员后台。")


async def preview_allowed(request: web.Request) -> bool:
    """Whether ``request`` comes from a staff member signed in to the console (or passes the
    guard set as ``app[PREVIEW_GUARD]``); without either nobody may preview."""
    guard = request.config_dict.get(PREVIEW_GUARD)
    if guard is None:
        return await console_staff_signed_in(request)
    verdict = guard(request)
    if inspect.isawaitable(verdict):
        verdict = await verdict
    return bool(verdict)


async def page(request: web.Request) -> web.StreamResponse:
    """The chat page in preview mode."""
    if not await preview_allowed(request):
        return render_page(request, "not_found.html", {"message": _(FORBIDDEN)}, status=403)
    return render_page(
        request, "chat.html", {"mode": "preview", "api": "/c/preview/api", "title": _("表单预览")}
    )


def _token(request: web.Request, conv: Conversation) -> str:
    return request.config_dict[PREVIEW_SIGNER].sign({"s": conv.state})


def _restore(request: web.Request, data: dict[str, Any]) -> Conversation:
    token = text_value(data, "token", required=False)
    payload = request.config_dict[PREVIEW_SIGNER].unsign(token, TOKEN_MAX_AGE) if token else None
    if payload is None:
        raise bad_request(_("预览已过期或内容无效，请点“重新开始”。"))
    form: Form = request.config_dict[FORM]
    try:
        return Conversation.restore(form, payload["s"])
    except (EngineError, KeyError, TypeError):
        raise bad_request(_("预览所用的表单已更新，请点“重新开始”。")) from None


def _response(
    request: web.Request, conv: Conversation, *, submitted: bool = False, **extra: Any
) -> web.Response:
    view = conversation_view(conv)
    view.update(preview=True, version=0)
    if conv.complete:
        view["record"] = {k: v for k, v in conv.record().items() if v not in (None, [], {})}
    if submitted:
        # What a resident sees after submitting, without the reference number: the preview ends
        # here (the banner's buttons start again).
        view.update(stage="submitted", prompt=None, can_back=False)
    if "error" in extra:
        extra["error"] = formtext.translate(extra["error"])
    view = formtext.translate_view(view, locale_of(request))
    return web.json_response({"view": view, "token": _token(request, conv), **extra})


async def _checked(request: web.Request, allowed: set[str]) -> dict[str, Any]:
    check_same_origin(request, request.config_dict[SETTINGS].public_url)
    if not await preview_allowed(request):
        raise ApiError(403, _(FORBIDDEN))
    return await read_json(request, allowed, limit=MAX_BODY_BYTES)


async def start(request: web.Request) -> web.StreamResponse:
    """A new preview conversation (``mode``: resident or investigator)."""
    data = await _checked(request, {"mode", "token", "version"})
    mode = text_value(data, "mode", required=False) or "resident"
    if mode not in ("resident", "investigator"):
        raise bad_request(_("预览模式只能是 resident 或 investigator。"))
    if data.get("token"):
        return _response(request, _restore(request, data))
    context = {"collection_date": clock.today(), "investigator": "预览"}
    return _response(request, Conversation.start(request.config_dict[FORM], mode, {}, context))


async def action(request: web.Request) -> web.StreamResponse:
    """One step of the preview; ``submit`` only shows what would be stored."""
    name = request.match_info["action"]
    if name not in CONVERSATION_ACTIONS and name != "submit":
        raise ApiError(404, _("无法识别的操作。"))
    allowed = set(CONVERSATION_ACTIONS.get(name, frozenset())) | {"token", "version"}
    data = await _checked(request, allowed)
    conv = _restore(request, data)
    if name == "submit":
        if not conv.complete:
            raise out_of_order(_("还没有填完，请先回答完所有问题并确认。"))
        return _response(
            request,
            conv,
            submitted=True,
            message=_("预览模式：表格已填完。预览不会保存或提交任何记录。"),
        )
    outcome = apply_action(conv, name, data)
    if outcome.error:
        return _response(request, conv, error=outcome.error)
    return _response(request, conv)
