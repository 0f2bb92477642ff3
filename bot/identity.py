"""Whose 公民身份号码 a record's answer gives: the swapped-identity check of every channel.

An invite proves one person's identity; the 公民身份号码 question may still be answered with
another number. A changed number is allowed (the roster can be wrong) and flagged for the
reviewer; a number that belongs to another person on the roster, or that another live record
gives, is a hard warning in the chat and a flag. Staff decide; nothing is merged. The flags
themselves are set by the store when the record is handed in or corrected
(:func:`storage.repositories.records.identity_check`); this module tells the chat at once.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession

from flows import Conversation, Prompt
from storage.models import Record
from storage.repositories import records as records_repo
from storage.repositories.records import IdentityCheck


async def check_id_answer(
    session: AsyncSession, record: Record, conv: Conversation, answered: Prompt | None
) -> IdentityCheck | None:
    """After ``answered`` (the question just answered) was accepted: how the 公民身份号码 now
    answered relates to the roster and other records, when that question was the one naming
    the person and the number is not the person's own on the roster (None otherwise)."""
    name = conv.form.derive_from
    if answered is None or answered.name != name:
        return None
    number = conv.answers.get(name)
    if not isinstance(number, str):
        return None
    check = await records_repo.identity_check(session, record, number)
    # The person's own number is not questioned in the chat, even when another record uses it
    # too: that other record is the one in doubt (both carry the flag for the reviewer).
    return check if check.changed else None


def _same(text: str) -> str:
    return text


def warning_text(check: IdentityCheck, _: Callable[[str], str] = _same) -> str:
    """What the chat says about ``check`` (``_``: the channel's gettext; Chinese by default)."""
    if check.other_person_id is not None:
        return _(
            "这个身份号码属于名册上的另一位人员。请确认填写的是登记对象本人的公民身份号码；"
            "如确实无误可以继续填写，社保经办机构审核时会核实，不会自动合并。"
        )
    if check.conflict:
        return _(
            "这个身份号码已用于另一份登记。请确认填写的是登记对象本人的公民身份号码；"
            "如确实无误可以继续填写，社保经办机构审核时会核实，不会自动合并。"
        )
    return _("这个身份号码与名册上登记的不同。如确实无误可以继续填写，社保经办机构审核时会核实。")
