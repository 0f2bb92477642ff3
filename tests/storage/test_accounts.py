"""Invites, investigators, staff and API tokens, on both engines."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import AuditEvent, Channel, Investigator, Invite, StaffRole
from storage.repositories import accounts as acc
from storage.repositories import invites as inv
from storage.repositories.actors import Actor
from storage.repositories.areas import find_community
from storage.repositories.errors import AccountError, BindingError

if TYPE_CHECKING:
    from tests.storage.conftest import Factory


async def test_invite_verify_and_lock_after_five(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        other = await factory.person(s, household="000002")
        assert await inv.ensure_invites(s) == 2
        assert await inv.ensure_invites(s) == 0  # idempotent
        invite = await inv.invite_for_person(s, person.id)
        assert invite is not None
        assert inv.CODE_PATTERN.fullmatch(invite.code) and len(invite.code) <= 64
        code = invite.code
        other_invite = await inv.invite_for_person(s, other.id)
        assert other_invite is not None and other_invite.code != code

    async with sessions() as s, s.begin():
        invite = await inv.find_invite(s, code)
        assert invite is not None and invite.person.id == person.id
        assert await inv.find_invite(s, "no such code") is None
        assert await inv.find_invite(s, "x" * 65) is None
        ok = await inv.verify_identity(
            s, invite, person.id_number.lower(), channel=Channel.telegram, chat_id=42
        )
        assert ok.outcome == inv.VerifyOutcome.ok and invite.verified_chat_id == "42"

    lefts = []
    for _ in range(5):
        # Each wrong answer is its own request and transaction, as in the bot.
        async with sessions() as s, s.begin():
            invite = await inv.find_invite(s, code)
            assert invite is not None
            result = await inv.verify_identity(
                s, invite, other.id_number, channel=Channel.web, chat_id="sess"
            )
            lefts.append((result.outcome, result.attempts_left))
    assert lefts == [("wrong", 4), ("wrong", 3), ("wrong", 2), ("wrong", 1), ("locked", 0)]

    async with sessions() as s, s.begin():
        invite = await inv.find_invite(s, code)
        assert invite is not None and invite.locked_at is not None
        # Locked means locked: even the right number is refused now.
        right = await inv.verify_identity(
            s, invite, person.id_number, channel=Channel.telegram, chat_id=42
        )
        assert right.outcome == inv.VerifyOutcome.locked
        actions = (await s.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all()
        assert actions.count("identity_failed") == 5 and "invite_locked" in actions
        await inv.unlock_invite(s, invite, actor=Actor.system(), reason="电话核实身份")
        again = await inv.verify_identity(
            s, invite, person.id_number, channel=Channel.telegram, chat_id=42
        )
        assert again.outcome == inv.VerifyOutcome.ok


async def test_investigator_binding_is_single_use(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        await factory.person(s)
        community = await find_community(s, "姑苏区/平江街道/平江路社区")
        assert community is not None
        investigator, code = await acc.create_investigator(s, "周敏", [community])
        assert code.startswith(acc.BINDING_CODE_PREFIX) and inv.is_code_shaped(code)
        assert code not in (investigator.binding_code_hash or "")
        resolved = await inv.resolve_start_code(s, code)
        assert isinstance(resolved, Investigator) and resolved.id == investigator.id

        bound = await acc.bind_investigator(s, code, 9001)
        assert bound.telegram_user_id == 9001
        with pytest.raises(BindingError, match="无效或已使用"):
            await acc.bind_investigator(s, code, 9002)
        found = await acc.investigator_by_telegram(s, 9001)
        assert found is not None and [c.name for c in found.communities] == ["平江路社区"]

        second, code2 = await acc.create_investigator(s, "吴刚", [community])
        with pytest.raises(BindingError, match="已绑定其他调查员"):
            await acc.bind_investigator(s, code2, 9001)

        await acc.revoke_investigator(s, investigator, actor=Actor.system(), reason="离职")
        assert await acc.investigator_by_telegram(s, 9001) is None
        await acc.revoke_investigator(s, second, actor=Actor.system())
        with pytest.raises(BindingError, match="无效"):
            await acc.bind_investigator(s, code2, 9003)


async def test_expired_binding_code(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        await factory.person(s)
        community = await find_community(s, "姑苏区/平江街道/平江路社区")
        assert community is not None
        _, code = await acc.create_investigator(
            s, "周敏", [community], ttl=dt.timedelta(seconds=-1)
        )
        with pytest.raises(BindingError, match="过期"):
            await acc.bind_investigator(s, code, 1)


async def test_resolve_start_code_finds_invites(
    sessions: async_sessionmaker[AsyncSession], factory: Factory
) -> None:
    async with sessions() as s, s.begin():
        person = await factory.person(s)
        await inv.ensure_invites(s)
        invite = await inv.invite_for_person(s, person.id)
        assert invite is not None
        assert isinstance(await inv.resolve_start_code(s, invite.code), Invite)
        assert await inv.resolve_start_code(s, "bind-unknown") is None
        assert await inv.resolve_start_code(s, "<script>") is None


async def test_staff_passwords(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        staff = await acc.create_staff(s, "wang.li", "correct horse battery", role=StaffRole.admin)
        assert staff.password_hash.startswith("$argon2")
        assert "correct horse" not in staff.password_hash
        with pytest.raises(AccountError, match="已存在"):
            await acc.create_staff(s, "wang.li", "another long password")
        with pytest.raises(AccountError, match="至少"):
            await acc.create_staff(s, "short", "abc")
        with pytest.raises(AccountError, match="用户名"):
            await acc.create_staff(s, "王 丽", "correct horse battery")
    async with sessions() as s, s.begin():
        assert await acc.verify_staff_password(s, "wang.li", "wrong password!!") is None
        assert await acc.verify_staff_password(s, "nobody", "correct horse battery") is None
        ok = await acc.verify_staff_password(s, "wang.li", "correct horse battery")
        assert ok is not None and ok.last_login_at is not None
        await acc.deactivate_staff(s, ok, actor=Actor.system())
        assert await acc.verify_staff_password(s, "wang.li", "correct horse battery") is None


async def test_api_tokens(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions() as s, s.begin():
        token, secret = await acc.create_api_token(s, "central")
        assert secret.startswith(acc.TOKEN_PREFIX) and token.token_hash == acc.sha256_hex(secret)
        with pytest.raises(AccountError):
            await acc.create_api_token(s, "central")
    async with sessions() as s, s.begin():
        found = await acc.verify_api_token(s, secret)
        assert found is not None and found.last_used_at is not None
        assert await acc.verify_api_token(s, secret + "x") is None
        assert await acc.verify_api_token(s, "Bearer nonsense") is None
        await acc.revoke_api_token(s, "central", actor=Actor.system())
        assert await acc.verify_api_token(s, secret) is None
