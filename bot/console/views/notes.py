"""Notes from the districts to the city centre (五.7): district staff send and follow theirs,
city staff see all of them with their status, read and answer."""

from __future__ import annotations

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from bot.appkeys import SESSIONMAKER
from bot.console.auth import current_staff
from bot.console.flash import flash, pop_flashes
from bot.console.sessions import csrf_token
from bot.params import path_id
from flows.values import clean_text
from storage.notes import (
    KINDS,
    NoteError,
    answer_note,
    mark_read,
    note_in_scope,
    note_status,
    notes_for,
    send_note,
)

router = web.RouteTableDef()


@router.get("/notes", name="console_notes")
async def notes_page(request: web.Request) -> web.Response:
    """The list (the district's own, or every district's for the city) and the form to send."""
    staff = current_staff(request)
    async with request.config_dict[SESSIONMAKER]() as db:
        notes = await notes_for(db, staff.district_id)
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "rows": [(n, note_status(n), KINDS.get(n.kind, n.kind)) for n in notes],
        "kinds": KINDS,
    }
    return aiohttp_jinja2.render_template("console/notes.html", request, context)


@router.post("/notes", name="console_note_send")
async def send(request: web.Request) -> web.Response:
    """A district sends a note."""
    staff = current_staff(request)
    form = await request.post()
    session = await get_session(request)
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            note = await send_note(
                db,
                staff,
                kind=str(form.get("kind", "")),
                title=clean_text(str(form.get("title", ""))),
                body=clean_text(str(form.get("body", ""))),
                link=clean_text(str(form.get("link", ""))),
            )
            note_id = note.id
    except NoteError as exc:
        flash(session, str(exc), "error")
        raise web.HTTPSeeOther(request.app.router["console_notes"].url_for()) from None
    flash(session, "已报送市中心。")
    raise web.HTTPSeeOther(request.app.router["console_note"].url_for(note_id=str(note_id)))


@router.get(r"/notes/{note_id:\d+}", name="console_note")
async def note_page(request: web.Request) -> web.Response:
    """One note; opening it as city staff marks it read."""
    staff = current_staff(request)
    note_id = path_id(request, "note_id")
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        note = await note_in_scope(db, staff.district_id, note_id)
        if note is None:
            raise web.HTTPNotFound()
        mark_read(db, note, staff)
    session = await get_session(request)
    context = {
        "staff": staff,
        "csrf": csrf_token(session),
        "flashes": pop_flashes(session),
        "note": note,
        "status": note_status(note),
        "kind": KINDS.get(note.kind, note.kind),
    }
    return aiohttp_jinja2.render_template("console/note.html", request, context)


@router.post(r"/notes/{note_id:\d+}/answer", name="console_note_answer")
async def answer(request: web.Request) -> web.Response:
    """The city answers a note."""
    staff = current_staff(request)
    note_id = path_id(request, "note_id")
    form = await request.post()
    session = await get_session(request)
    back = request.app.router["console_note"].url_for(note_id=str(note_id))
    try:
        async with request.config_dict[SESSIONMAKER]() as db, db.begin():
            note = await note_in_scope(db, staff.district_id, note_id)
            if note is None:
                raise web.HTTPNotFound()
            answer_note(db, note, staff, clean_text(str(form.get("answer", ""))))
    except NoteError as exc:
        flash(session, str(exc), "error")
    else:
        flash(session, "已答复。")
    raise web.HTTPSeeOther(back)
