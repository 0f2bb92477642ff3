"""Signed, tamper-evident tokens for the chat cookie and the preview's browser-held state.

A token is ``base64url(json).base64url(hmac-sha256)``; the key is derived from
``CANBAO_SESSION_SECRET`` or, when that is unset, from a random key generated once and kept in
``CANBAO_DATA_DIR`` so cookies survive a restart.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

from bot.settings import Settings

KEY_FILE = "webchat.key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Signer:
    """Sign JSON payloads with an expiry and check them back."""

    def __init__(self, key: bytes, purpose: str) -> None:
        # One key per purpose, so a preview token can never pass as a cookie and vice versa.
        self._key = hmac.new(key, purpose.encode(), hashlib.sha256).digest()

    def sign(self, payload: dict[str, Any]) -> str:
        """The token carrying ``payload`` and the time it was issued."""
        body = _b64(
            json.dumps({"p": payload, "t": int(time.time())}, separators=(",", ":")).encode()
        )
        return f"{body}.{_b64(self._mac(body))}"

    def unsign(self, token: str, max_age: float) -> dict[str, Any] | None:
        """The payload when ``token`` is intact and younger than ``max_age`` seconds, else None."""
        body, dot, mac = token.partition(".")
        if not dot or not body or not mac:
            return None
        try:
            given = _unb64(mac)
            if not hmac.compare_digest(given, self._mac(body)):
                return None
            data = json.loads(_unb64(body))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("p"), dict):
            return None
        issued = data.get("t")
        if not isinstance(issued, int) or time.time() - issued > max_age:
            return None
        payload: dict[str, Any] = data["p"]
        return payload

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def secret_key(settings: Settings) -> bytes:
    """The deployment's signing key (see the module docstring)."""
    if settings.session_secret is not None and settings.session_secret.get_secret_value():
        return hashlib.sha256(settings.session_secret.get_secret_value().encode()).digest()
    path = Path(settings.data_dir) / KEY_FILE
    try:
        key = bytes.fromhex(path.read_text().strip())
        if len(key) >= 32:
            return key
    except (OSError, ValueError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    # Readable by the owner only: whoever holds it can forge a resident's cookie.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex())
    return key
