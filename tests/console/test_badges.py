"""Investigators' badges: issued and revoked in the console within the district, printed as a
card with its verification address, and the public check page (valid / revoked / expired /
unknown), limited per address and audited."""

from __future__ import annotations

import datetime as dt
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import csrf_of, login
from seed import World

from bot import clock
from bot.exports.fonts import CANDIDATES
from storage import badges
from storage.models import AuditEvent, Badge, Community, Investigator
from storage.testing import temporary_database

HAS_FONT = any(p.exists() for p in CANDIDATES)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def engine(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """This module runs on both engines."""
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else None
    async with temporary_database(url, directory=tmp_path) as eng:
        yield eng


async def _issue(client: TestClient, world: World, **fields: str) -> None:  # type: ignore[type-arg]
    assert world.investigator is not None
    token = await csrf_of(client, "/console/badges")
    data = {
        "_csrf": token,
        "who": f"{world.investigator.id}-{world.communities['gusu']}",
        "office_phone": "0512-65223456",
        "valid_from": clock.today().isoformat(),
        "valid_until": (clock.today() + dt.timedelta(days=30)).isoformat(),
        **fields,
    }
    response = await client.post("/console/badges", data=data, allow_redirects=False)
    assert response.status == 303


async def _only_badge(sessions: async_sessionmaker[AsyncSession]) -> Badge:
    async with sessions() as s:
        return (await s.scalars(select(Badge))).one()


async def _events(sessions: async_sessionmaker[AsyncSession], action: str) -> list[AuditEvent]:
    async with sessions() as s:
        return list((await s.scalars(select(AuditEvent).where(AuditEvent.action == action))).all())


def test_numbers_are_random_and_read_back() -> None:
    numbers = {badges.new_number() for _ in range(200)}
    assert len(numbers) == 200
    number = numbers.pop()
    assert len(number) == 19 and number.count("-") == 3
    assert badges.normal_number(number.lower().replace("-", " ")) == number
    for bad in ("", "1234", number + "A", "\x00" * 16, "OOOO-OOOO-OOOO-OOOO"):
        assert badges.normal_number(bad) is None


async def test_issue_check_revoke(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gusu_rev")
    await _issue(client, world)
    badge = await _only_badge(sessions)
    assert (await _events(sessions, "badge_issued"))[0].details["badge_id"] == badge.id
    page = await (await client.get("/console/badges")).text()
    assert badge.number in page and "有效" in page

    client.session.cookie_jar.clear()  # residents are not signed in
    response = await client.get(f"/badge/{badge.number}")
    assert response.status == 200
    text = await response.text()
    assert "有效" in text and "钱调查" in text and "平江路社区" in text and "0512-65223456" in text
    assert "已注销" not in text
    # Nothing else: no mobile, no district staff, no other person.
    assert "138" not in text and "姑苏审核员" not in text
    # The number as typed from the card (spaces, lower case) finds it too.
    typed = badge.number.lower().replace("-", "")
    assert (await client.get(f"/badge/{typed}")).status == 200

    await login(client, "gusu_rev")
    token = await csrf_of(client, "/console/badges")
    response = await client.post(
        f"/console/badges/{badge.id}/revoke",
        data={"_csrf": token, "reason": "离岗"},
        allow_redirects=False,
    )
    assert response.status == 303
    client.session.cookie_jar.clear()
    text = await (await client.get(f"/badge/{badge.number}")).text()
    assert "已注销" in text and "现在无效" in text
    (revoked,) = await _events(sessions, "badge_revoked")
    assert revoked.reason == "离岗"
    checks = await _events(sessions, "badge_checked")
    assert [e.details["state"] for e in checks] == ["valid", "valid", "revoked"]


async def test_expired_and_unknown_and_any_bytes(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    yesterday = clock.today() - dt.timedelta(days=1)
    await login(client, "gusu_rev")
    await _issue(client, world, valid_from="2014-11-01", valid_until=yesterday.isoformat())
    badge = await _only_badge(sessions)
    client.session.cookie_jar.clear()
    text = await (await client.get(f"/badge/{badge.number}")).text()
    assert "已过期" in text
    missing = await client.get("/badge/2222-2222-2222-2222")
    assert missing.status == 404 and "查无此工作牌" in await missing.text()
    for raw in ("%00%ff", "x" * 500, "%E4%BD%A0<script>", "..%2F..%2Fetc"):
        assert (await client.get(f"/badge/{raw}")).status == 404


async def test_checks_are_limited_per_address(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    for _ in range(badges.CHECKS_PER_WINDOW):
        assert (await client.get("/badge/2222-2222-2222-2222")).status == 404
    response = await client.get("/badge/2222-2222-2222-2222")
    assert response.status == 429 and int(response.headers["Retry-After"]) > 0
    assert len(await _events(sessions, "badge_checked")) == badges.CHECKS_PER_WINDOW


async def test_district_scope_and_bad_input(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    await login(client, "gusu_rev")
    await _issue(client, world, office_phone="call me")
    await _issue(client, world, valid_until="2014-01-01")
    async with sessions() as s:
        assert (await s.scalars(select(Badge))).all() == []
    await _issue(client, world)
    badge = await _only_badge(sessions)
    await login(client, "gaoxin_rev")
    token = await csrf_of(client, "/console/badges")
    assert badge.number not in await (await client.get("/console/badges")).text()
    response = await client.post(f"/console/badges/{badge.id}/revoke", data={"_csrf": token})
    assert response.status == 404
    assert (await client.get(f"/console/badges/{badge.id}.pdf")).status == 404
    # An investigator of another community, or a community outside the district.
    async with sessions() as s:
        gaoxin = (await s.scalars(select(Community).where(Community.name == "狮山社区"))).one()
    assert world.investigator is not None
    response = await client.post(
        "/console/badges",
        data={
            "_csrf": token,
            "who": f"{world.investigator.id}-{gaoxin.id}",
            "office_phone": "0512-1",
            "valid_from": "2026-01-01",
            "valid_until": "2026-02-01",
        },
        allow_redirects=False,
    )
    assert response.status == 303
    async with sessions() as s:
        assert len((await s.scalars(select(Badge))).all()) == 1


@pytest.mark.skipif(not HAS_FONT, reason="no embeddable CJK font on this machine")
async def test_card_pdf(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    pypdf = pytest.importorskip("pypdf")
    await login(client, "gusu_rev")
    await _issue(client, world)
    badge = await _only_badge(sessions)
    response = await client.get(f"/console/badges/{badge.id}.pdf")
    assert response.status == 200
    reader = pypdf.PdfReader(io.BytesIO(await response.read()))
    (page,) = reader.pages
    width_mm = float(page.mediabox.width) / 72 * 25.4
    assert round(width_mm, 1) == 85.6
    text = page.extract_text().replace("\n", "")
    for expected in ("全民参保登记入户调查", "钱调查", "平江路社区", badge.number, "有效期"):
        assert expected in text, expected
    assert f"/badge/{badge.number}" in text
    assert len(await _events(sessions, "badge_printed")) == 1


async def test_revoked_investigator_revokes_the_badge(
    sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessions() as s, s.begin():
        inv = await s.get(Investigator, world.investigator.id if world.investigator else 0)
        assert inv is not None
        await s.refresh(inv, ["communities"])
        badge = await badges.issue_badge(
            s,
            inv,
            inv.communities[0],
            office_phone="0512-65223456",
            valid_from=clock.today(),
            valid_until=clock.today(),
            actor=badges.Actor.system(),
            channel="cli",
        )
        assert badges.state_of(badge, clock.today()) == badges.BadgeState.valid
        inv.revoked_at = dt.datetime.now(dt.UTC)
        assert badges.state_of(badge, clock.today()) == badges.BadgeState.revoked


def _picture(kind: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (600, 800), (200, 180, 160)).save(out, kind)
    return out.getvalue()


async def test_photo_on_the_card(
    client: TestClient, sessions: async_sessionmaker[AsyncSession], world: World
) -> None:
    from aiohttp import FormData

    assert world.investigator is not None
    await login(client, "gusu_rev")

    async def issue(photo: bytes, name: str) -> str:
        token = await csrf_of(client, "/console/badges")
        data = FormData()
        for key, value in {
            "_csrf": token,
            "who": f"{world.investigator.id}-{world.communities['gusu']}",
            "office_phone": "0512-65223456",
            "valid_from": clock.today().isoformat(),
            "valid_until": clock.today().isoformat(),
        }.items():
            data.add_field(key, value)
        data.add_field("photo", photo, filename=name, content_type="image/png")
        return await (await client.post("/console/badges", data=data)).text()

    assert "照片无法读取" in await issue(b"not a picture", "x.png")
    assert "JPEG 或 PNG" in await issue(_picture("GIF"), "x.gif")
    async with sessions() as s:
        assert (await s.scalars(select(Badge))).all() == []
    assert "已发放工作牌" in await issue(_picture("PNG"), "me.png")
    badge = await _only_badge(sessions)
    assert badge.photo is not None and badge.photo.startswith(b"\xff\xd8")  # JPEG
    from PIL import Image

    with Image.open(io.BytesIO(badge.photo)) as stored:
        assert stored.size == (360, 480) and not stored.info.get("exif")
    response = await client.get(f"/console/badges/{badge.id}.pdf")
    pypdf = pytest.importorskip("pypdf")
    (page,) = pypdf.PdfReader(io.BytesIO(await response.read())).pages
    assert len(page.images) == 1
