"""The installable shell: the same page for everyone (no personal data, so the service worker
may keep it), the manifest, the service worker, the cacheable static files; and requests the
API cannot mean are 4xx, never 5xx."""

from __future__ import annotations

import pytest

from tests.investigator_web.conftest import HEADERS, WebEnv


async def test_shell_manifest_and_service_worker(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    signed_in = await (await phone.client.get("/i/")).text()
    anonymous = await web_env.phone()
    assert await (await anonymous.client.get("/i/")).text() == signed_in
    assert "赵敏" not in signed_in and "张丽" not in signed_in
    assert 'rel="manifest" href="/i/manifest.webmanifest"' in signed_in
    manifest = await phone.client.get("/i/manifest.webmanifest")
    assert manifest.content_type == "application/manifest+json"
    body = await manifest.json()
    assert body["start_url"] == "/i/" and body["scope"] == "/i/" and body["display"] == "standalone"
    worker = await phone.client.get("/i/sw.js")
    assert worker.status == 200 and worker.headers["Service-Worker-Allowed"] == "/i/"
    text = await worker.text()
    assert "/i/api" not in text  # only the shell and static files are kept
    script = next(part for part in signed_in.split('"') if part.startswith("/i/_static/app.js"))
    static = await phone.client.get(script)
    assert static.status == 200 and "no-store" not in static.headers.get("Cache-Control", "")
    api = await phone.client.get("/i/api/me", headers=HEADERS)
    assert api.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{",
        b'{"aid": "short", "op": "collect", "person": 1}',
        b'{"aid": "abcdefgh12", "op": "nope"}',
        b'{"aid": "abcdefgh12", "op": "collect", "person": "1"}',
        b'{"aid": "abcdefgh12", "op": "collect", "person": 99999999999999999999}',
        b'{"aid": "abcdefgh12", "op": "answer", "record": 1, "version": 1, "text": 5}',
        b'{"aid": "abcdefgh12", "op": "answer", "record": 1, "after": "x"}',
        b'{"aid": "abcdefgh12", "op": "contact", "person": 1, "outcome": "no_answer", "zzz": 1}',
        b'{"aid": "abcdefgh12", "op": "add_person", "household": 1, "name": "x"}',
    ],
)
async def test_bad_actions_are_refused_with_4xx(web_env: WebEnv, body: bytes) -> None:
    phone = await web_env.signed_in("gusu")
    response = await phone.client.post(
        "/i/api/act", data=body, headers={**HEADERS, "Content-Type": "application/json"}
    )
    assert 400 <= response.status < 500, await response.text()
    assert "error" in await response.json()


async def test_cross_site_requests_are_refused(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    person = web_env.people["adult"].person_id
    response = await phone.client.post(
        "/i/api/act", json={"aid": "abcdefgh12", "op": "collect", "person": person}
    )
    assert response.status == 403
    response = await phone.client.post(
        "/i/login", data={"token": "x"}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status == 403
    for path in ("households/abc", "persons/0", "records/99"):
        response = await phone.client.get(f"/i/api/{path}", headers=HEADERS)
        assert response.status == 404
