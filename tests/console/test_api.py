"""``/api/v1``: bearer tokens, changed records with a cursor, one record, progress, OpenAPI."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from seed import World
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.api import API_APP
from bot.api.openapi import SPEC
from storage.models import Person, Staff
from storage.repositories.accounts import revoke_api_token
from storage.repositories.actors import Actor
from storage.repositories.contacts import add_contact
from storage.repositories.records import confirm, get_record
from storage.types import frozen_time

Client = TestClient  # type: ignore[type-arg]


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_no_token_or_a_bad_one_is_401(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    for headers in ({}, {"Authorization": "Basic abc"}, _auth("cbt_not-a-real-token")):
        response = await client.get("/api/v1/records", headers=headers)
        assert response.status == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert (await response.json())["error"] == "unauthorized"
    async with sessions() as db, db.begin():
        await revoke_api_token(db, "central", actor=Actor.system())
    revoked = await client.get("/api/v1/records", headers=_auth(world.token_city))
    assert revoked.status == 401


async def test_changed_records_page_through_with_a_cursor(client: Client, world: World) -> None:
    seen: list[int] = []
    url = "/api/v1/records?limit=2"
    pages = 0
    while True:
        body = await (await client.get(url, headers=_auth(world.token_city))).json()
        pages += 1
        seen += [r["id"] for r in body["records"]]
        if body["next_cursor"] is None:
            break
        url = f"/api/v1/records?limit=2&cursor={body['next_cursor']}"
    assert pages == 3
    assert sorted(seen) == sorted(v for k, v in world.records.items() if k != "draft")
    assert len(seen) == len(set(seen))


async def test_since_and_status_filters(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    mark = dt.datetime.now(dt.UTC)
    async with sessions() as db, db.begin():
        record = await get_record(db, world.records["plain"])
        staff = await db.get(Staff, world.staff["city"].id)
        assert staff is not None
        await confirm(db, record, staff=staff)
    since = mark.isoformat()
    body = await (
        await client.get(
            "/api/v1/records", params={"since": since}, headers=_auth(world.token_city)
        )
    ).json()
    assert [r["id"] for r in body["records"]] == [world.records["plain"]]
    assert body["records"][0]["status"] == "confirmed"
    confirmed = await (
        await client.get("/api/v1/records?status=confirmed", headers=_auth(world.token_city))
    ).json()
    assert {r["id"] for r in confirmed["records"]} == {
        world.records["plain"],
        world.records["confirmed"],
    }


async def test_bad_parameters_say_what_is_expected(client: Client, world: World) -> None:
    cases = {
        "/api/v1/records?since=yesterday": "since",
        "/api/v1/records?since=2014-11-01T00:00:00": "时区",
        "/api/v1/records?status=draft": "status",
        "/api/v1/records?limit=0": "limit",
        "/api/v1/records?cursor=%%%": "cursor",
        "/api/v1/progress?level=district": "id",
        "/api/v1/progress?level=planet": "level",
    }
    for url, word in cases.items():
        response = await client.get(url, headers=_auth(world.token_city))
        assert response.status == 400, url
        body = await response.json()
        assert body["error"] == "bad_request" and word in body["message"], (url, body)


async def test_one_record_with_answers_and_labels(client: Client, world: World) -> None:
    response = await client.get(
        f"/api/v1/records/{world.records['plain']}", headers=_auth(world.token_city)
    )
    body: dict[str, Any] = await response.json()
    assert body["person"]["name"] == "林晓"
    assert body["answers"]["insured_status"] == "never"
    assert body["labels"]["insured_status"] == "从未参保"
    assert body["area"]["community"] == "平江路社区"
    assert body["revision"] == 1 and body["status"] == "submitted"
    draft = await client.get(
        f"/api/v1/records/{world.records['draft']}", headers=_auth(world.token_city)
    )
    assert draft.status == 404


async def test_progress_per_area(client: Client, world: World) -> None:
    body = await (await client.get("/api/v1/progress", headers=_auth(world.token_city))).json()
    assert body["area"]["name"] == "苏州市区"
    assert body["area"]["target"] == 7
    assert [c["name"] for c in body["children"]] == ["姑苏区", "高新区"]
    street = world.streets["姑苏区/平江街道"]
    one = await (
        await client.get(
            f"/api/v1/progress?level=street&id={street}", headers=_auth(world.token_city)
        )
    ).json()
    assert one["area"]["name"] == "平江街道"
    assert [c["name"] for c in one["children"]] == ["平江路社区"]
    assert one["children"][0]["submitted"] == 2


async def test_openapi_matches_the_routes(client: Client, world: World) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    spec = await response.json()
    assert spec == SPEC and spec["openapi"].startswith("3.1")
    api = client.server.app[API_APP]  # type: ignore[union-attr]
    routes = set()
    for resource in api.router.resources():
        info = resource.get_info()
        path = info.get("path") or info.get("formatter", "")
        path = path.removeprefix("/api/v1")
        for route in resource:
            if route.method != "HEAD":
                routes.add((route.method.lower(), path.replace(r":\d+", "")))
    documented = {(m, p) for p, ops in spec["paths"].items() for m in ops}
    assert routes == documented
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path


async def test_progress_carries_person_statuses_and_deadlines(client: Client, world: World) -> None:
    with frozen_time(dt.datetime(2014, 11, 20, 4, 0, tzinfo=dt.UTC)):
        body = await (await client.get("/api/v1/progress", headers=_auth(world.token_city))).json()
    persons = body["area"]["persons"]
    assert persons["target"] == 7 and persons["not_contacted"] == 1
    assert persons["not_contacted_share"] == round(1 / 7, 4)
    assert sum(persons["statuses"].values()) == 7
    assert persons["statuses"]["in_progress"] == 1
    assert body["area"]["deadline"] == {
        "name": "survey_end",
        "label": "调查结束",
        "date": "2015-01-31",
        "overdue": False,
        "days_left": 72,
    }
    gaoxin = body["children"][1]
    assert gaoxin["persons"]["not_contacted"] == 1 and gaoxin["deadline"]["days_left"] == 41
    with frozen_time(dt.datetime(2026, 12, 4, 4, 0, tzinfo=dt.UTC)):
        late = await (await client.get("/api/v1/progress", headers=_auth(world.token_city))).json()
    assert late["area"]["deadline"]["overdue"] is True
    assert late["area"]["deadline"]["days_left"] is None


async def test_persons_with_status_and_the_record_view_agrees(
    client: Client, world: World, sessions: async_sessionmaker[AsyncSession]
) -> None:
    body = await (
        await client.get("/api/v1/persons?status=not_contacted", headers=_auth(world.token_city))
    ).json()
    assert [p["name"] for p in body["persons"]] == ["赵丽"]
    assert body["persons"][0]["status_label"] == "未联系" and body["total"] == 1
    assert body["persons"][0]["last_contact"] is None
    # A district token sees its district only.
    gusu = await (await client.get("/api/v1/persons", headers=_auth(world.token_gusu))).json()
    assert gusu["total"] == 5 and "赵丽" not in {p["name"] for p in gusu["persons"]}
    paged = await (
        await client.get("/api/v1/persons?limit=3&page=3", headers=_auth(world.token_city))
    ).json()
    assert (paged["pages"], len(paged["persons"])) == (3, 1)
    async with sessions() as db, db.begin():
        # Names are sealed in the store: found among the people, not by SQL.
        zhao = next((p for p in await db.scalars(select(Person)) if p.name == "赵丽"), None)
        assert zhao is not None
        await add_contact(
            db,
            zhao,
            outcome="refused",
            on=dt.date(2014, 11, 2),
            today=dt.date(2014, 11, 2),
            actor=Actor.system("电话组"),
            channel="console",
            note="不愿登记",
        )
    one = await (
        await client.get(f"/api/v1/persons/{zhao.id}", headers=_auth(world.token_city))
    ).json()
    assert one["status"] == "contacted" and one["status_label"] == "已联系（拒绝）"
    assert one["last_contact"] == {
        "date": "2014-11-02",
        "outcome": "refused",
        "outcome_label": "拒绝",
    }
    assert one["contacts"][0]["note"] == "不愿登记" and one["contacts"][0]["by"] == "电话组"
    hidden = await client.get(f"/api/v1/persons/{zhao.id}", headers=_auth(world.token_gusu))
    assert hidden.status == 404
    bad = await client.get("/api/v1/persons?status=maybe", headers=_auth(world.token_city))
    assert bad.status == 400 and "status" in (await bad.json())["message"]
    record = await (
        await client.get(
            f"/api/v1/records/{world.records['returned']}", headers=_auth(world.token_city)
        )
    ).json()
    assert record["person"]["status"] == "returned"
    assert record["person"]["status_label"] == "已退回"
