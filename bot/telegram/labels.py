"""A person's status and contact outcomes in the chat user's language.

The rule that picks the words is :func:`storage.person_status.status_text`; these are only
its words, translated (the Chinese ones equal ``STATUS_LABELS`` / ``OUTCOME_LABELS``: a test
keeps them so). Call these inside a handler, where the user's language is known.
"""

from __future__ import annotations

from bot.telegram.i18n import gettext as _
from flows import Form
from storage import people
from storage.models import ContactOutcome
from storage.person_status import PersonStatus, status_text


def status_labels() -> dict[PersonStatus, str]:
    """Every status's words."""
    return {
        PersonStatus.not_contacted: _("未联系"),
        PersonStatus.invited: _("已发邀请"),
        PersonStatus.contacted: _("已联系"),
        PersonStatus.in_progress: _("填写中"),
        PersonStatus.submitted: _("待审核"),
        PersonStatus.returned: _("已退回"),
        PersonStatus.confirmed: _("已确认"),
        PersonStatus.not_collected: _("未采集"),
    }


def outcome_labels() -> dict[ContactOutcome, str]:
    """Every contact outcome's words."""
    return {
        ContactOutcome.notified: _("已通知"),
        ContactOutcome.no_answer: _("无人接听"),
        ContactOutcome.wrong_number: _("号码错误"),
        ContactOutcome.refused: _("拒绝"),
        ContactOutcome.insured_elsewhere: _("已在外地参保"),
        ContactOutcome.invited: _("已发邀请"),
    }


def describe(
    status: PersonStatus | str,
    *,
    reason_label: str | None = None,
    outcome: ContactOutcome | str | None = None,
) -> str:
    """``未采集（人户分离）``, ``已联系（无人接听）`` or the plain status, translated."""
    return status_text(
        status,
        reason_label=reason_label,
        outcome=outcome,
        labels=status_labels(),
        outcome_labels=outcome_labels(),
    )


def member_status_text(form: Form, member: people.Member) -> str:
    """A household member's status as a person reads it (the 未采集 reason by its form
    label, the last contact's outcome): the bot's household screens and the investigator
    app's say it the same way."""
    record = member.record
    reason = record.not_collected_reason if record is not None else None
    if reason and form.has_field("not_collected_reason"):
        label: str | None = form.label_of("not_collected_reason", reason)
    else:
        label = reason
    return describe(member.status, reason_label=label, outcome=member.person.last_contact_outcome)
