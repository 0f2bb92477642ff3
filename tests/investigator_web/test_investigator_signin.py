"""Signing in an investigator's phone: a one-time link bound to the device, a server-side
session, rate limits, and scoping to the investigator's own communities."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from storage.models import Investigator, InvestigatorLink, InvestigatorSession
from storage.repositories.accounts import sha256_hex
from storage.repositories.login_limits import MAX_PER_PAIR
from storage.types import utcnow
from tests.investigator_web.conftest import WebEnv


async def test_link_signs_in_and_is_stored_only_as_a_hash(web_env: WebEnv) -> None:
    token = await web_env.link("gusu")
    async with web_env.sessions() as session:
        rows = (await session.scalars(select(InvestigatorLink))).all()
    assert [r.token_hash for r in rows] == [sha256_hex(token)]
    assert token not in repr([vars(r) for r in rows])
    phone = await web_env.phone()
    assert (await phone.get("me"))["signed_out"] is True and phone.status == 401
    assert await phone.sign_in(token) == 303
    me = await phone.get("me")
    assert phone.status == 200 and me["name"] == "赵敏" and me["communities"] == ["平江路社区"]


async def test_a_link_signs_in_once(web_env: WebEnv) -> None:
    token = await web_env.link("gusu")
    first = await web_env.phone()
    assert await first.sign_in(token) == 303
    # Another phone cannot use it any more.
    other = await web_env.phone()
    assert await other.sign_in(token) == 403
    assert (await other.get("me")).get("signed_out") is True
    # Tapped again on the phone it signed in: that sign-in goes on, no new one starts.
    assert await first.sign_in(token) == 303
    async with web_env.sessions() as session:
        assert len((await session.scalars(select(InvestigatorSession))).all()) == 1
    # Signed out, the link does not sign that phone in again either.
    await first.client.post("/i/logout", allow_redirects=False)
    assert await first.sign_in(token) == 403
    assert (await first.get("me")).get("signed_out") is True


async def test_an_expired_link_and_an_unknown_one_are_refused(web_env: WebEnv) -> None:
    token = await web_env.link("gusu")
    async with web_env.sessions() as session, session.begin():
        await session.execute(
            update(InvestigatorLink).values(expires_at=utcnow() - dt.timedelta(seconds=1))
        )
    phone = await web_env.phone()
    assert await phone.sign_in(token) == 410
    assert await phone.sign_in("x" * 43) == 403
    assert await phone.sign_in("not a token") == 403


async def test_guessing_links_is_rate_limited(web_env: WebEnv) -> None:
    phone = await web_env.phone()
    for _ in range(MAX_PER_PAIR):
        assert await phone.sign_in("A" * 43) == 403
    # Even the right link waits now: tries are taken before the token is looked up.
    assert await phone.sign_in(await web_env.link("gusu")) == 429


async def test_the_session_ends_on_timeout_revoke_and_sign_out(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    async with web_env.sessions() as session, session.begin():
        await session.execute(
            update(InvestigatorSession).values(last_seen_at=utcnow() - dt.timedelta(hours=3))
        )
    assert (await phone.get("me")).get("signed_out") is True
    phone = await web_env.signed_in("gusu")
    assert (await phone.get("me"))["name"] == "赵敏"
    response = await phone.client.post("/i/logout", allow_redirects=False)
    assert response.status == 303
    assert (await phone.get("me")).get("signed_out") is True
    phone = await web_env.signed_in("gusu")
    async with web_env.sessions() as session, session.begin():
        await session.execute(
            update(Investigator)
            .where(Investigator.id == web_env.investigators["gusu"])
            .values(revoked_at=utcnow())
        )
    assert (await phone.get("me")).get("signed_out") is True


async def test_a_stolen_session_cookie_needs_its_device(web_env: WebEnv) -> None:
    phone = await web_env.signed_in("gusu")
    cookies = {c.key: c.value for c in phone.client.session.cookie_jar}
    thief = await web_env.phone()
    thief.client.session.cookie_jar.update_cookies(
        {"canbao_investigator": cookies["canbao_investigator"]}
    )
    assert (await thief.get("me")).get("signed_out") is True


@pytest.mark.parametrize("web_env", ["sqlite", "postgresql"], indirect=True)
async def test_each_investigator_sees_only_their_communities(web_env: WebEnv) -> None:
    gusu = await web_env.signed_in("gusu")
    gaoxin = await web_env.signed_in("gaoxin")
    mine = await gusu.get("households")
    assert {r["community"] for r in mine["screen"]["rows"]} == {"平江路社区"}
    theirs = await gaoxin.get("households")
    assert {r["community"] for r in theirs["screen"]["rows"]} == {"狮山社区"}
    child = web_env.people["child"].person_id
    adult = web_env.people["adult"].person_id
    await gusu.get(f"persons/{child}")
    assert gusu.status == 404
    await gaoxin.get(f"persons/{adult}")
    assert gaoxin.status == 404
    household = theirs["screen"]["rows"][0]["id"]
    await gusu.get(f"households/{household}")
    assert gusu.status == 404
    # Nor can one act on the other's people.
    await gusu.act("collect", person=child)
    assert gusu.status == 404
    await gusu.act("contact", person=child, outcome="no_answer")
    assert gusu.status == 404
    await gusu.act("add_person", household=household, name="孙悟", id_number="x")
    assert gusu.status == 404
