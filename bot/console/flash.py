"""One-time messages shown on the next page (after a redirect)."""

from __future__ import annotations

from aiohttp_session import Session


def flash(session: Session, message: str, kind: str = "ok") -> None:
    """Queue a message for the next page; ``kind`` is ``ok`` or ``error``."""
    session["flash"] = [*session.get("flash", []), [kind, message]]


def pop_flashes(session: Session) -> list[tuple[str, str]]:
    """The queued messages, removed from the session."""
    items = session.pop("flash", [])
    return [(str(k), str(m)) for k, m in items]
