"""``/api/v1/persons``: roster people with their status (未联系 → … → 已确认 / 未采集) and
their newest contact, and one person with the contact log."""

from __future__ import annotations

from aiohttp import web

from bot.api.auth import current_token
from bot.api.serialize import contact_json, person_json
from bot.api.views import _actor, _query
from bot.appkeys import FORM, SESSIONMAKER
from bot.display import json_response
from bot.params import Query, path_id
from storage import people
from storage.person_status import PersonStatus
from storage.repositories.audit import add_event
from storage.repositories.contacts import contacts_of_person

router = web.RouteTableDef()
MAX_LIMIT = 500
DEFAULT_LIMIT = 100
STATUSES = [str(s) for s in PersonStatus]


def _filter(q: Query) -> people.PersonFilter:
    return people.PersonFilter(
        district_id=q.id("district_id"),
        street_id=q.id("street_id"),
        community_id=q.id("community_id"),
        household_id=q.id("household_id"),
        statuses=tuple(PersonStatus(s) for s in q.choices("status", STATUSES)),
    )


@router.get("/persons", name="api_persons")
async def list_persons(request: web.Request) -> web.Response:
    """Roster people of an area with their status, in roster order, a page at a time."""
    token = current_token(request)
    form = request.config_dict[FORM]
    q = _query(request)
    f = _filter(q)
    page = q.page()
    limit = q.number("limit", default=DEFAULT_LIMIT, maximum=MAX_LIMIT)
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        result = await people.person_page(db, token.district_id, f, page=page, per_page=limit)
        add_event(
            db,
            _actor(token),
            "api_read",
            channel="api",
            details={"path": request.path, "persons": len(result.rows)},
        )
    return json_response(
        {
            "persons": [person_json(form, row) for row in result.rows],
            "total": result.total,
            "page": result.page,
            "pages": result.pages,
        }
    )


@router.get(r"/persons/{person_id:\d+}", name="api_person")
async def get_person(request: web.Request) -> web.Response:
    """One person with their contact log (newest first); 404 outside the token's district."""
    token = current_token(request)
    person_id = path_id(request, "person_id")
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        row = await people.person_row(db, token.district_id, person_id)
        if row is None:
            raise web.HTTPNotFound()
        log = await contacts_of_person(db, person_id)
        add_event(db, _actor(token), "api_read", person_id=person_id, channel="api", details={})
    body = person_json(request.config_dict[FORM], row)
    body["contacts"] = [contact_json(c) for c in log]
    return json_response(body)
