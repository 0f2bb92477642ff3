"""Bearer tokens of the central system (``canbao token create``), checked on every call."""

from __future__ import annotations

import logging

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import SESSIONMAKER
from bot.display import json_response
from bot.params import ParamError
from bot.security.proxies import client_address
from bot.streaming import response_started
from storage.models import ApiToken
from storage.repositories.accounts import verify_api_token

logger = logging.getLogger(__name__)

TOKEN_KEY = web.RequestKey("api_token", ApiToken)
OPEN_PATHS = ("/openapi.json",)
ERRORS = {
    404: ("not_found", "记录不存在或不在令牌的范围内"),
    405: ("method", "不支持的请求方式"),
}


def error(status: int, code: str, message: str) -> web.Response:
    """The API's error body: ``{"error": code, "message": 中文说明}``."""
    response = json_response({"error": code, "message": message}, status=status)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="canbao"'
    return response


def current_token(request: web.Request) -> ApiToken:
    """The token the request was made with."""
    if TOKEN_KEY not in request:
        raise web.HTTPUnauthorized()
    return request[TOKEN_KEY]


@web.middleware
async def bearer_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """401 unless ``Authorization: Bearer <token>`` names a live token; JSON errors throughout."""
    try:
        if not request.path.endswith(OPEN_PATHS):
            refusal = await _authenticate(request)
            if refusal is not None:
                return refusal
        return await handler(request)
    except ParamError as exc:
        return error(400, "bad_request", exc.message)
    except web.HTTPException as exc:
        if exc.status < 400 or response_started(request):
            raise
        code, message = ERRORS.get(exc.status, ("error", exc.reason))
        response = error(exc.status, code, message)
        if "Allow" in exc.headers:  # a 405 names the methods that are allowed
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        # An API error is never the framework's plain-text page: the cause goes to the log.
        logger.exception("api: %s %s failed", request.method, request.path)
        if response_started(request):
            raise
        return error(500, "internal", "服务器内部错误，已记录。请稍后重试。")


async def _authenticate(request: web.Request) -> web.Response | None:
    """Set the request's token, or the 401 to answer."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return error(401, "unauthorized", "缺少访问令牌（Authorization: Bearer …）")
    token = None
    if secret.isascii() and secret.isprintable():  # what `canbao token create` makes
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            token = await verify_api_token(db, secret, address=client_address(request))
    if token is None:
        return error(401, "unauthorized", "访问令牌无效或已吊销")
    request[TOKEN_KEY] = token
    return None
