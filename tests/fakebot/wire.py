"""The Bot API wire format: decoding request fields and encoding answers.

Every method arrives as an HTTP POST whose fields are strings (form-urlencoded, or multipart
when a file is attached); nested objects such as ``reply_markup`` are JSON text inside a field.
Answers are ``{"ok": true, "result": ...}`` or an error envelope with ``error_code``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# Fields whose value is JSON text; everything else is a plain string unless typed below.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
    }
)
INT_FIELDS = frozenset(
    {
        "message_id",
        "offset",
        "limit",
        "timeout",
        "max_connections",
        "cache_time",
        "reply_to_message_id",
        "message_thread_id",
    }
)
BOOL_FIELDS = frozenset(
    {
        "disable_notification",
        "show_alert",
        "drop_pending_updates",
        "protect_content",
        "disable_web_page_preview",
        "allow_sending_without_reply",
    }
)


class ApiError(Exception):
    """An error answer: the Bot API's ``error_code`` and ``description``."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(f"{code} {description}")
        self.code = code
        self.description = description
        self.retry_after = retry_after


@dataclass
class UploadedFile:
    """A file sent with multipart (``sendDocument``)."""

    field: str
    filename: str
    content_type: str
    content: bytes


@dataclass
class Params:
    """Decoded fields of one call, plus the files that came with it."""

    values: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    # Whether the caller is still connected (a cancelled long poll must not take updates).
    connected: Callable[[], bool] = lambda: True

    def get(self, name: str, default: Any = None) -> Any:
        """The decoded value of a field, or ``default``."""
        return self.values.get(name, default)

    def require(self, name: str) -> Any:
        """The value of a required field; a 400 like Telegram's when it is missing."""
        if name not in self.values or self.values[name] in ("", None):
            raise ApiError(400, f"Bad Request: {name} is empty")
        return self.values[name]


def decode_field(name: str, raw: str) -> Any:
    """Decode one string field by its name (JSON, int, bool or text)."""
    if name in JSON_FIELDS:
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from exc
    if name in INT_FIELDS:
        try:
            return int(raw)
        except ValueError as exc:
            raise ApiError(400, f"Bad Request: invalid {name} specified") from exc
    if name in BOOL_FIELDS:
        return raw.lower() in ("true", "1")
    if name == "chat_id":
        # A chat id is a number, or "@channelusername".
        return int(raw) if raw.lstrip("-").isdigit() else raw
    return raw


async def read_params(request: web.Request) -> Params:
    """Decode a method call's fields from a form-urlencoded, multipart or JSON body."""
    params = Params(values={})
    if request.content_type == "application/json":
        body = await request.json()
        params.values.update(body if isinstance(body, dict) else {})
        return params
    form = await request.post()
    for name, value in form.items():
        if isinstance(value, web.FileField):
            params.files[name] = UploadedFile(
                field=name,
                filename=value.filename,
                content_type=value.content_type,
                content=value.file.read(),
            )
        else:
            params.values[name] = decode_field(name, str(value))
    for name in list(params.values):
        # Files are referenced as "attach://<field>" in the field that names them.
        value = params.values[name]
        if isinstance(value, str) and value.startswith("attach://"):
            attached = params.files.get(value.removeprefix("attach://"))
            if attached is not None:
                params.files[name] = attached
    return params


def ok(result: Any) -> web.Response:
    """A successful answer."""
    return web.json_response({"ok": True, "result": result})


def error(exc: ApiError) -> web.Response:
    """An error answer with the HTTP status equal to the error code, as Telegram does."""
    body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
    if exc.retry_after is not None:
        body["parameters"] = {"retry_after": exc.retry_after}
    return web.json_response(body, status=exc.code)
