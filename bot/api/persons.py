"""``/api/v1/persons``: roster people with their status (未联系 → … → 已确认 / 未采集) and
their newest contact, and one person with the contact log."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.api.auth import current_token, error
from bot.api.serialize import contact_json, person_json
from bot.api.views import BadRequest, _actor, _int_param
from bot.appkeys import FORM, SESSIONMAKER
from storage import people
from storage.person_status import PersonStatus
from storage.repositories.audit import add_event
from storage.repositories.contacts import contacts_of_person

router = web.RouteTableDef()
MAX_LIMIT = 500
DEFAULT_LIMIT = 100


def _filter(query: Any) -> people.PersonFilter:
    statuses: tuple[PersonStatus, ...] = ()
    if query.get("status"):
        wanted = [s.strip() for s in str(query["status"]).split(",") if s.strip()]
        bad = [s for s in wanted if s not in PersonStatus.__members__]
        if bad:
            allowed = ", ".join(PersonStatus)
            raise BadRequest(f"参数 status 只能是 {allowed}（收到 {bad[0]}）")
        statuses = tuple(PersonStatus(s) for s in wanted)
    return people.PersonFilter(
        district_id=_int_param(query, "district_id"),
        street_id=_int_param(query, "street_id"),
        community_id=_int_param(query, "community_id"),
        household_id=_int_param(query, "household_id"),
        statuses=statuses,
    )


@router.get("/persons", name="api_persons")
async def list_persons(request: web.Request) -> web.Response:
    """Roster people of an area with their status, in roster order, a page at a time."""
    token = current_token(request)
    form = request.config_dict[FORM]
    try:
        f = _filter(request.query)
        page = _int_param(request.query, "page", 1) or 1
        limit = min(_int_param(request.query, "limit", DEFAULT_LIMIT) or DEFAULT_LIMIT, MAX_LIMIT)
    except BadRequest as exc:
        return error(400, "bad_request", str(exc))
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        result = await people.person_page(db, token.district_id, f, page=page, per_page=limit)
        add_event(
            db,
            _actor(token),
            "api_read",
            channel="api",
            details={"path": request.path, "persons": len(result.rows)},
        )
    return web.json_response(
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
    person_id = int(request.match_info["person_id"])
    async with request.config_dict[SESSIONMAKER]() as db, db.begin():
        row = await people.person_row(db, token.district_id, person_id)
        if row is None:
            raise web.HTTPNotFound()
        log = await contacts_of_person(db, person_id)
        add_event(db, _actor(token), "api_read", person_id=person_id, channel="api", details={})
    body = person_json(request.config_dict[FORM], row)
    body["contacts"] = [contact_json(c) for c in log]
    return web.json_response(body)
