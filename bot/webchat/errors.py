"""The one error type of the chat API: an HTTP status and a short Chinese message."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.display import json_response


class ApiError(Exception):
    """Refuse a chat API request; the conversation is left exactly as it was."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def response(self) -> web.Response:
        """The JSON answer: ``{"error": message, ...extra}`` with the status."""
        return json_response({"error": self.message, **self.extra}, status=self.status)


def bad_request(message: str) -> ApiError:
    """400: the request itself is malformed (not a wrong answer to a question)."""
    return ApiError(400, message)


def out_of_order(message: str, **extra: Any) -> ApiError:
    """409: the action does not fit where the conversation is now."""
    return ApiError(409, message, **extra)
