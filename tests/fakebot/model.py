"""What the fake server remembers: chat messages as a user sees them, and every call made."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Button:
    """One inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None

    @classmethod
    def from_wire(cls, raw: dict[str, Any]) -> Button:
        """Build from the ``InlineKeyboardButton`` JSON object."""
        return cls(text=raw["text"], callback_data=raw.get("callback_data"), url=raw.get("url"))


@dataclass
class ChatMessage:
    """A message in a chat's history, from the bot or from the user."""

    message_id: int
    chat_id: int
    from_bot: bool
    date: int
    text: str | None = None
    keyboard: list[list[Button]] = field(default_factory=list)
    kind: str = "text"  # text | sticker | photo | voice | document
    document: dict[str, Any] | None = None
    document_content: bytes | None = None
    deleted: bool = False
    edits: int = 0
    raw_reply_markup: dict[str, Any] | None = None

    @property
    def buttons(self) -> list[str]:
        """Texts of the inline buttons, row by row."""
        return [button.text for row in self.keyboard for button in row]

    def button(self, text: str) -> Button | None:
        """The inline button with exactly this text, if any."""
        for row in self.keyboard:
            for button in row:
                if button.text == text:
                    return button
        return None

    def set_markup(self, markup: dict[str, Any] | None) -> None:
        """Replace the inline keyboard from a ``reply_markup`` JSON object."""
        self.raw_reply_markup = markup
        rows = (markup or {}).get("inline_keyboard") or []
        self.keyboard = [[Button.from_wire(b) for b in row] for row in rows]

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else "user"
        gone = " deleted" if self.deleted else ""
        return f"<#{self.message_id} {who}{gone} {self.kind} {self.text!r} buttons={self.buttons}>"


@dataclass(frozen=True)
class Call:
    """One Bot API call as the server saw it (faulted calls included)."""

    method: str
    params: dict[str, Any]
    at: float  # the server loop's monotonic clock when the request arrived
    status: int | str  # HTTP status, or "dropped" when the connection was cut
    seq: int  # order of arrival, over all methods

    @property
    def chat_id(self) -> Any:
        """The target chat of the call, when it has one."""
        return self.params.get("chat_id")

    @property
    def ok(self) -> bool:
        """Whether the call was answered successfully."""
        return self.status == 200
