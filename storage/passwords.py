"""The staff password policy: one definition, used by ``canbao staff``, the console's password
page and the demo.

A password protects access to every resident's personal data of a district, so it must be
long (at least :data:`MIN_LENGTH` characters) and not one people commonly choose: not in the
list shipped with the package (``storage/common-passwords.txt``, a few thousand of the most
used passwords and their usual variants), not the username, not a single character repeated.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

MIN_LENGTH = 12
MAX_LENGTH = 256
COMMON_FILE = Path(__file__).resolve().parent / "common-passwords.txt"


class WeakPassword(ValueError):
    """The password breaks the policy; the message says how, in Chinese."""


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def check_password(password: str, *, username: str | None = None) -> None:
    """Raise :class:`WeakPassword` when ``password`` breaks the policy."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"密码至少 {MIN_LENGTH} 个字符（可以用一句容易记住的话）")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"密码最多 {MAX_LENGTH} 个字符")
    if password.strip() != password:
        raise WeakPassword("密码不要以空格开头或结尾")
    folded = _folded(password)
    if len(set(folded)) < 4:
        raise WeakPassword("密码太简单：不要只用几个重复的字符")
    compact = "".join(folded.split())
    if folded in common_passwords() or compact in common_passwords():
        raise WeakPassword("这个密码太常见，很容易被猜到，请换一个")
    if username and len(username) >= 3 and _folded(username) in folded:
        raise WeakPassword("密码不能包含用户名")
