"""Bot API methods the fake server implements, with Telegram's checks and error texts."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from tests.fakebot.model import ChatMessage
from tests.fakebot.wire import ApiError, Params

if TYPE_CHECKING:
    from tests.fakebot.server import FakeTelegram

MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64

Method = Callable[["FakeTelegram", Params], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def method(name: str) -> Callable[[Method], Method]:
    """Register an implementation under its (case-insensitive) Bot API name."""

    def register(func: Method) -> Method:
        METHODS[name.lower()] = func
        return func

    return register


def _check_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row:
            if not button.get("text"):
                raise ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup


def _check_text(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _chat(srv: FakeTelegram, params: Params) -> int:
    chat_id = params.require("chat_id")
    user = srv.users.get(chat_id) if isinstance(chat_id, int) else None
    if user is None:
        raise ApiError(400, "Bad Request: chat not found")
    if user.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    return int(chat_id)


def _same_markup(message: ChatMessage, markup: dict[str, Any] | None) -> bool:
    return json.dumps(message.raw_reply_markup or {}, sort_keys=True) == json.dumps(
        markup or {}, sort_keys=True
    )


@method("getMe")
async def get_me(srv: FakeTelegram, params: Params) -> Any:
    return srv.bot_user


@method("getUpdates")
async def get_updates(srv: FakeTelegram, params: Params) -> Any:
    if srv.webhook.url:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    return await srv.updates.poll(
        offset=params.get("offset"),
        limit=min(max(int(params.get("limit", 100)), 1), 100),
        wait_seconds=max(int(params.get("timeout", 0)), 0),
        connected=params.connected,
    )


@method("setWebhook")
async def set_webhook(srv: FakeTelegram, params: Params) -> Any:
    url = params.get("url", "")
    secret = params.get("secret_token")
    if secret is not None and not (
        1 <= len(secret) <= 256 and all(c.isalnum() or c in "_-" for c in secret)
    ):
        raise ApiError(400, "Bad Request: secret token contains unallowed characters")
    srv.webhook.configure(
        url=url,
        secret_token=secret,
        max_connections=int(params.get("max_connections", 40)),
        drop_pending=bool(params.get("drop_pending_updates", False)),
    )
    return True


@method("deleteWebhook")
async def delete_webhook(srv: FakeTelegram, params: Params) -> Any:
    srv.webhook.configure(
        url="", secret_token=None, drop_pending=bool(params.get("drop_pending_updates", False))
    )
    return True


@method("getWebhookInfo")
async def get_webhook_info(srv: FakeTelegram, params: Params) -> Any:
    return srv.webhook.info()


@method("setMyCommands")
async def set_my_commands(srv: FakeTelegram, params: Params) -> Any:
    commands = params.require("commands")
    scope = json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)
    srv.commands[(scope, params.get("language_code", ""))] = list(commands)
    return True


@method("sendChatAction")
async def send_chat_action(srv: FakeTelegram, params: Params) -> Any:
    _chat(srv, params)
    return True


@method("sendMessage")
async def send_message(srv: FakeTelegram, params: Params) -> Any:
    chat_id = _chat(srv, params)
    text = _check_text(params.get("text"))
    markup = _check_markup(params.get("reply_markup"))
    message = srv.chats.add(chat_id, from_bot=True, text=text, reply_markup=markup)
    return srv.message_wire(message)


@method("sendDocument")
async def send_document(srv: FakeTelegram, params: Params) -> Any:
    chat_id = _chat(srv, params)
    upload = params.files.get("document")
    if upload is None:
        raise ApiError(400, "Bad Request: there is no document in the request")
    markup = _check_markup(params.get("reply_markup"))
    document = {
        "file_id": f"DOC{srv.next_file_seq()}",
        "file_unique_id": f"UDOC{srv.next_file_seq()}",
        "file_name": upload.filename,
        "mime_type": upload.content_type,
        "file_size": len(upload.content),
    }
    message = srv.chats.add(
        chat_id,
        from_bot=True,
        kind="document",
        text=params.get("caption"),
        document=document,
        document_content=upload.content,
        reply_markup=markup,
    )
    return srv.message_wire(message)


@method("editMessageText")
async def edit_message_text(srv: FakeTelegram, params: Params) -> Any:
    chat_id = _chat(srv, params)
    message = srv.chats.get(chat_id, int(params.require("message_id")), purpose="edit")
    text = _check_text(params.get("text"))
    markup = _check_markup(params.get("reply_markup"))
    if message.text == text and _same_markup(message, markup):
        raise ApiError(
            400,
            "Bad Request: message is not modified: specified new message content and reply "
            "markup are exactly the same as a current content and reply markup of the message",
        )
    message.text = text
    message.set_markup(markup)
    message.edits += 1
    return srv.message_wire(message)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(srv: FakeTelegram, params: Params) -> Any:
    chat_id = _chat(srv, params)
    message = srv.chats.get(chat_id, int(params.require("message_id")), purpose="edit")
    markup = _check_markup(params.get("reply_markup"))
    if _same_markup(message, markup):
        raise ApiError(400, "Bad Request: message is not modified")
    message.set_markup(markup)
    message.edits += 1
    return srv.message_wire(message)


@method("deleteMessage")
async def delete_message(srv: FakeTelegram, params: Params) -> Any:
    chat_id = _chat(srv, params)
    message = srv.chats.get(chat_id, int(params.require("message_id")), purpose="delete")
    message.deleted = True
    return True


@method("answerCallbackQuery")
async def answer_callback_query(srv: FakeTelegram, params: Params) -> Any:
    query_id = str(params.require("callback_query_id"))
    query = srv.callback_queries.get(query_id)
    if query is None or query.get("answered"):
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    query["answered"] = True
    query["text"] = params.get("text")
    query["show_alert"] = bool(params.get("show_alert", False))
    return True
