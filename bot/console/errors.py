"""Error pages in Chinese: what went wrong and what to do, never a traceback."""

from __future__ import annotations

import logging

import aiohttp_jinja2
from aiohttp import web
from aiohttp.typedefs import Handler

from bot.telegram.i18n import N_

logger = logging.getLogger(__name__)

MESSAGES = {
    400: (N_("请求有误"), N_("提交的内容不完整或格式不对，请返回重试。")),
    403: (N_("无法提交"), N_("页面已过期或来源不明（安全校验失败）。请刷新页面后重新提交。")),
    404: (N_("找不到页面"), N_("该记录或页面不存在，或不在您的权限范围内。")),
    405: (N_("请求方式不对"), N_("请从控制台的页面上操作。")),
    409: (N_("记录已被修改"), N_("这条记录已被他人修改，请刷新后再试。")),
    500: (N_("系统出错"), N_("处理请求时出错，已记录。请稍后重试。")),
}


def _page(request: web.Request, status: int) -> web.Response:
    title, text = MESSAGES.get(status, MESSAGES[500])
    return aiohttp_jinja2.render_template(
        "console/error.html",
        request,
        {"title": title, "text": text, "status": status},
        status=status,
    )


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Render 4xx/5xx as a short Chinese page; redirects pass through."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return _page(request, exc.status)
    except Exception:
        logger.exception("console: %s %s failed", request.method, request.path)
        return _page(request, 500)
