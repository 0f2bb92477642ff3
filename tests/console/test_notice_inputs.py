"""Whatever the bytes, the new pages answer 4xx, never 5xx: rosters, badges, the summary, the
evaluation and the notes, for a signed-in district reviewer."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import csrf_of, login
from seed import World

GARBAGE = ("abc", "-1", "0", "99999999999999999999999", "%00", "%ff%fe", "1e3", "１", "<b>")


@pytest.mark.parametrize("value", GARBAGE)
async def test_queries(client: TestClient, world: World, value: str) -> None:  # type: ignore[type-arg]
    await login(client, "gusu_rev")
    paths = (
        f"/console/rosters/print?community={value}",
        f"/console/rosters/print?investigator={value}",
        f"/console/rosters/print?community=1&format={value}",
        f"/console/summary?level=district&id={value}",
        f"/console/summary?from={value}",
        f"/console/summary?format={value}",
        f"/console/summary?area=street:{value}",
        f"/console/evaluation?kind={value}",
        f"/console/evaluation?dir={value}",
        f"/console/evaluation?format={value}",
    )
    for path in paths:
        response = await client.get(path)
        assert 400 <= response.status < 500, (path, response.status)
    for path in (f"/console/badges/{value}.pdf", f"/console/notes/{value}", f"/badge/{value}"):
        assert (await client.get(path)).status in (400, 404), path


async def test_posts(client: TestClient, world: World) -> None:  # type: ignore[type-arg]
    await login(client, "gusu_rev")
    token = await csrf_of(client, "/console/badges")
    for who in ("", "x-y", "1-", "-1", "99999999999999999999-1", "1-2-3", "\x00"):
        for day in ("", "2014-13-40", "\x00", "9" * 40):
            data = {"_csrf": token, "who": who, "office_phone": "0512", "valid_from": day}
            response = await client.post("/console/badges", data=data, allow_redirects=False)
            assert response.status in (303, 400, 404), (who, day, response.status)
    for path in ("/console/badges/1/revoke", "/console/notes/1/answer"):
        response = await client.post(path, data={"_csrf": token}, allow_redirects=False)
        assert response.status in (303, 404), path
    response = await client.post(
        "/console/notes", data={"_csrf": token, "kind": "x" * 10000, "title": "\x00"}
    )
    assert response.status == 200  # back to the list with the message
