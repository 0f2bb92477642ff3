"""Every path and query parameter goes through one typed layer: 400 (or 404), never 500.

The table holds each URL of the finding (``/api/v1/records/99999999999999999999``,
``queue?page=9223372036854775807``, ``queue?from=0001-01-01``, a chat body 8,000 ``[`` deep,
…) with its neighbours; the API answers with its JSON error body in every case, its 500s too.
"""

from __future__ import annotations

import base64

import pytest
from aiohttp.test_utils import TestClient
from conftest import csrf_of, login
from seed import World

from storage import reporting
from tests.outputs import strict_json

Client = TestClient  # type: ignore[type-arg]

HUGE = "99999999999999999999"
MAX = str(2**63 - 1)
OVER = str(2**63)
NEGATIVE_ID_CURSOR = base64.urlsafe_b64encode(b"2014-11-01T00:00:00+00:00|-1").decode()

API = [
    # (path and query, status)
    (f"/api/v1/records/{HUGE}", 404),
    (f"/api/v1/records/{MAX}", 404),
    (f"/api/v1/records/{OVER}", 404),
    ("/api/v1/records/0", 404),
    (f"/api/v1/records?district_id={HUGE}", 400),
    (f"/api/v1/records?district_id={MAX}", 200),
    ("/api/v1/records?street_id=-1", 400),
    ("/api/v1/records?community_id=abc", 400),
    ("/api/v1/records?community_id=%EF%BC%91", 400),  # a full-width 1: int() would take it
    ("/api/v1/records?community_id=1_0", 400),
    ("/api/v1/records?since=", 400),
    ("/api/v1/records?since=0001-01-01T00:00:00%2B14:00", 200),  # before year 1 in UTC
    ("/api/v1/records?since=9999-12-31T23:59:59-14:00", 200),  # after 9999 in UTC
    ("/api/v1/records?since=2014-11-01", 400),
    ("/api/v1/records?since=2014-11-01T00:00:00", 400),  # no zone
    ("/api/v1/records?since=2014-11-01T00:00:00Z", 200),
    ("/api/v1/records?since=2014-11-01T08:00:00%2B08:00", 200),
    ("/api/v1/records?limit=0", 400),
    ("/api/v1/records?limit=501", 400),
    (f"/api/v1/records?limit={HUGE}", 400),
    ("/api/v1/records?limit=500", 200),
    ("/api/v1/records?status=draft", 400),
    ("/api/v1/records?status=", 400),
    ("/api/v1/records?status=submitted,confirmed", 200),
    ("/api/v1/records?cursor=not-a-cursor", 400),
    (f"/api/v1/records?cursor={NEGATIVE_ID_CURSOR}", 400),
    ("/api/v1/progress?level=community&id=0", 400),
    (f"/api/v1/progress?level=district&id={HUGE}", 400),
    (f"/api/v1/progress?level=district&id={MAX}", 404),
    ("/api/v1/progress?level=street", 400),
    ("/api/v1/progress?level=planet", 400),
    ("/api/v1/progress?level=city&id=", 400),
    ("/api/v1/progress", 200),
    ("/api/v1/records?districtid=1", 400),  # a typo is refused, not ignored
    ("/api/v1/progress?level=city&=null", 400),
    ("/api/v1/persons?status=", 400),
    ("/api/v1/persons?status=not_contacted,invited", 200),
    (f"/api/v1/persons?household_id={HUGE}", 400),
    (f"/api/v1/persons/{HUGE}", 404),
    ("/api/v1/persons?page=100001", 400),
    ("/api/v1/no-such-thing", 404),
]

CONSOLE = [
    (f"/console/records/{HUGE}", 404),
    (f"/console/records/{HUGE}.pdf", 404),
    (f"/console/records/{OVER}", 404),
    ("/console/records/0", 404),
    ("/console/queue?page=9223372036854775807", 400),
    ("/console/queue?page=0", 400),
    ("/console/queue?page=x", 400),
    ("/console/queue?page=2", 200),
    ("/console/queue?from=0001-01-01", 400),
    ("/console/queue?to=9999-12-31", 400),
    ("/console/queue?from=2014-13-01", 400),
    ("/console/queue?from=20141101", 400),
    ("/console/queue?from=2014-11-01&to=2014-12-31", 200),
    (f"/console/queue?district={HUGE}", 400),
    ("/console/queue?status=bogus", 400),
    ("/console/queue?flag=bogus", 400),
    ("/console/queue?filled_by=robot", 400),
    ("/console/queue?district=&street=&status=all&flag=&from=&to=", 200),  # the form's blanks
    (f"/console/progress?level=district&id={HUGE}", 400),
    (f"/console/progress?level=district&id={MAX}", 404),
    ("/console/progress?level=district", 400),
    (f"/console/exports/records.csv?street={HUGE}", 400),
    ("/console/exports/records.xlsx?to=9999-12-31", 400),
    ("/console/employers?from=0001-01-01", 400),
    ("/console/exports/employers.xlsx?investigator=-3", 400),
    (f"/console/persons?level=community&id={HUGE}", 400),
    (f"/console/persons?investigator={HUGE}", 400),
    ("/console/persons?outcome=bogus", 400),
    ("/console/persons?status=bogus", 400),
    ("/console/persons?page=0", 400),
    (f"/console/persons/{HUGE}", 404),
    (f"/console/households/{HUGE}", 404),
]


def _auth(world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token_city}"}


async def test_api_parameters(client: Client, world: World) -> None:
    for url, status in API:
        response = await client.get(url, headers=_auth(world))
        assert response.status == status, (url, await response.text())
        assert response.content_type == "application/json", url
        body = strict_json(await response.read())
        if status >= 400:
            assert set(body) == {"error", "message"}, url
            assert body["error"] == {400: "bad_request", 404: "not_found"}[status], url


async def test_api_405_names_the_allowed_methods_in_json(client: Client, world: World) -> None:
    response = await client.post("/api/v1/records", headers=_auth(world))
    assert response.status == 405
    assert set(response.headers["Allow"].split(",")) >= {"GET"}
    assert strict_json(await response.read())["error"] == "method"


async def test_an_api_error_is_json_never_plain_text(
    client: Client, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database said something unexpected")

    monkeypatch.setattr(reporting, "changed_records", broken)
    response = await client.get("/api/v1/records", headers=_auth(world))
    assert response.status == 500
    assert response.content_type == "application/json"
    assert strict_json(await response.read())["error"] == "internal"


async def test_console_parameters(client: Client, world: World) -> None:
    await login(client, "city_admin")
    for url, status in CONSOLE:
        response = await client.get(url)
        assert response.status == status, (url, response.status)
        if status == 400:
            assert "参数" in await response.text(), url  # which parameter, what is expected


async def test_bulk_confirm_refuses_an_id_out_of_range(client: Client, world: World) -> None:
    await login(client, "city_admin")
    token = await csrf_of(client, "/console/queue")
    response = await client.post(
        "/console/queue/confirm", data={"_csrf": token, "ids": HUGE}, allow_redirects=False
    )
    assert response.status == 400


CHAT = {"X-Canbao-Chat": "1", "Content-Type": "application/json"}


@pytest.mark.parametrize(
    "path",
    ["/c/preview/api/state", "/c/abcDEF123/api/identity", "/c/abcDEF123/api/answer"],
)
async def test_a_chat_body_nested_8000_deep_is_a_400(
    client: Client, world: World, path: str
) -> None:
    await login(client, "city_admin")  # the preview is for staff
    response = await client.post(path, data="[" * 8000, headers=CHAT)
    assert response.status == 400
    assert "JSON" in strict_json(await response.read())["error"]


async def test_chat_paths_that_name_nothing(client: Client) -> None:
    assert (await client.get("/c/%00")).status == 404
    assert (await client.get("/c/" + "x" * 300)).status == 404
    response = await client.get("/c/abcDEF123/api/identity")
    assert response.status == 405
    assert "POST" in response.headers["Allow"]
    assert "error" in strict_json(await response.read())


async def test_a_console_form_that_is_not_utf8_is_a_400(client: Client, world: World) -> None:
    await login(client, "city_admin")
    token = await csrf_of(client, "/console/queue")
    response = await client.post(
        f"/console/records/{world.records['plain']}/return",
        data=f"_csrf={token}&comment=".encode() + b"\x9c\xff",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    assert response.status == 400
