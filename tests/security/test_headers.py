"""Every answer of the application carries the security headers; pages and JSON with personal
data are never cached; HSTS only when the public address is https."""

from __future__ import annotations

from typing import Any

from tests.console.seed import World
from tests.security.conftest import login

PROTECTIVE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def assert_protected(response: Any, *, cached: bool = False) -> None:
    for name, value in PROTECTIVE.items():
        assert response.headers.get(name) == value, (response.url, name)
    csp = response.headers.get("Content-Security-Policy", "")
    for part in ("default-src 'self'", "frame-ancestors 'none'", "script-src 'self'"):
        assert part in csp, (response.url, csp)
    if not cached:
        assert response.headers.get("Cache-Control") == "no-store", response.url


async def test_console_pages_api_json_and_exports_carry_the_headers(web: Any, world: World) -> None:
    client = await web()
    assert_protected(await client.get("/console/login"))
    await login(client, "city_admin")
    record = world.records["plain"]
    for path in (
        "/console/queue",
        f"/console/records/{record}",
        "/console/progress",
        "/console/exports/records.csv",
        f"/console/records/{record}.pdf",
        "/console/no-such-page",
    ):
        response = await client.get(path)
        await response.read()
        assert_protected(response)
    token = world.token_city
    for path in ("/api/v1/records", f"/api/v1/records/{record}", "/api/v1/nothing-here"):
        response = await client.get(path, headers={"Authorization": f"Bearer {token}"})
        await response.read()
        assert_protected(response)
    static = await client.get("/console/static/console.css")
    assert static.status == 200
    assert_protected(static, cached=True)
    assert static.headers.get("Cache-Control") != "no-store"
    # No HSTS over plain http.
    assert "Strict-Transport-Security" not in static.headers


async def test_hsts_when_the_public_address_is_https(web: Any, world: World) -> None:
    client = await web(public_url="https://canbao.example.org")
    for path in ("/console/login", "/healthz", "/c/no-such-code"):
        response = await client.get(path)
        assert response.headers.get("Strict-Transport-Security", "").startswith("max-age="), path
        assert_protected(response)
