"""Bearer tokens of the central system (``canbao token create``), checked on every call."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.appkeys import SESSIONMAKER
from bot.security.proxies import client_address
from storage.models import ApiToken
from storage.repositories.accounts import verify_api_token

TOKEN_KEY = web.RequestKey("api_token", ApiToken)
OPEN_PATHS = ("/openapi.json",)


def error(status: int, code: str, message: str) -> web.Response:
    """The API's error body: ``{"error": code, "message": 中文说明}``."""
    response = web.json_response({"error": code, "message": message}, status=status)
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
    if not request.path.endswith(OPEN_PATHS):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            return error(401, "unauthorized", "缺少访问令牌（Authorization: Bearer …）")
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            token = await verify_api_token(db, secret.strip(), address=client_address(request))
        if token is None:
            return error(401, "unauthorized", "访问令牌无效或已吊销")
        request[TOKEN_KEY] = token
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        codes = {
            404: ("not_found", "记录不存在或不在令牌的范围内"),
            405: ("method", "不支持的请求方式"),
        }
        code, message = codes.get(exc.status, ("error", exc.reason))
        return error(exc.status, code, message)
