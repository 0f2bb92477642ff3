"""Districts' notes to the city centre (典型事例和重大事项报送, 五.7): a district's staff send
one (a problem or a notable practice, an optional link to records in the console); city staff
see every district's in one list, mark them read and answer. Every step is audited.

District staff see their own district's notes only; a note is never changed after it is sent
(the answer is the city's own field).
"""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import CityNote, Staff
from storage.repositories import Actor
from storage.repositories.audit import add_event
from storage.repositories.errors import StorageError
from storage.types import utcnow

KINDS = {"problem": "问题", "practice": "典型做法", "matter": "重大事项"}
MAX_TITLE = 200
MAX_BODY = 5000
# A link to records is a path of this console (a record, a person, a filtered list).
_LINK_RE = re.compile(r"/console/[A-Za-z0-9/_\-.?=&%]*")


class NoteError(StorageError):
    """A note cannot be sent or answered as asked (the message says why, in Chinese)."""


def note_status(note: CityNote) -> str:
    """未读, 已读 or 已答复."""
    if note.answered_at is not None:
        return "已答复"
    return "已读" if note.read_at is not None else "未读"


async def send_note(
    session: AsyncSession, staff: Staff, *, kind: str, title: str, body: str, link: str
) -> CityNote:
    """A district staff member's note to the city; audited."""
    if staff.district_id is None:
        raise NoteError("市级账号无需向市中心报送。")
    if kind not in KINDS:
        raise NoteError("请选择报送类型。")
    title, body, link = title.strip(), body.strip(), link.strip()
    if not title or len(title) > MAX_TITLE:
        raise NoteError(f"请填写标题（不超过 {MAX_TITLE} 字）。")
    if not body or len(body) > MAX_BODY:
        raise NoteError(f"请填写内容（不超过 {MAX_BODY} 字）。")
    if link and (len(link) > 300 or not _LINK_RE.fullmatch(link)):
        raise NoteError("附件链接须为本后台的地址，例如 /console/records/12。")
    actor = Actor.staff(staff)
    note = CityNote(
        district_id=staff.district_id,
        kind=kind,
        title=title,
        body=body,
        link=link or None,
        author_id=staff.id,
        author_label=actor.label,
    )
    session.add(note)
    await session.flush()
    add_event(session, actor, "note_sent", channel="console", details={"note_id": note.id})
    return note


async def notes_for(session: AsyncSession, scope: int | None) -> list[CityNote]:
    """Notes of ``scope`` (every district's for the city), newest first."""
    stmt = select(CityNote).options(selectinload(CityNote.district))
    if scope is not None:
        stmt = stmt.where(CityNote.district_id == scope)
    stmt = stmt.order_by(CityNote.created_at.desc(), CityNote.id.desc())
    return list((await session.scalars(stmt)).all())


async def note_in_scope(session: AsyncSession, scope: int | None, note_id: int) -> CityNote | None:
    """One note within ``scope`` (None also when outside it)."""
    stmt = select(CityNote).where(CityNote.id == note_id)
    stmt = stmt.options(selectinload(CityNote.district))
    if scope is not None:
        stmt = stmt.where(CityNote.district_id == scope)
    return (await session.scalars(stmt)).first()


def mark_read(session: AsyncSession, note: CityNote, staff: Staff) -> bool:
    """City staff opened the note: read from now on (audited the first time)."""
    if staff.district_id is not None or note.read_at is not None:
        return False
    actor = Actor.staff(staff)
    note.read_at = utcnow()
    note.read_by = actor.label
    add_event(session, actor, "note_read", channel="console", details={"note_id": note.id})
    return True


def answer_note(session: AsyncSession, note: CityNote, staff: Staff, text: str) -> None:
    """The city's answer (replacing an earlier one); audited."""
    if staff.district_id is not None:
        raise NoteError("只有市级账号可以答复。")
    text = text.strip()
    if not text or len(text) > MAX_BODY:
        raise NoteError(f"请填写答复（不超过 {MAX_BODY} 字）。")
    actor = Actor.staff(staff)
    mark_read(session, note, staff)
    note.answer = text
    note.answered_at = utcnow()
    note.answered_by = actor.label
    add_event(session, actor, "note_answered", channel="console", details={"note_id": note.id})
