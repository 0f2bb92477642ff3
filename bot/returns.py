"""A record returned by staff, the same in every channel (Telegram, web chat).

The rules themselves are the form engine's (:meth:`flows.Conversation.reopen_returned`): the
record is reopened once per return, with the questions staff marked; each of them must be
answered again before the record can be resubmitted, and only they can be edited. Here is what
the channels share on top: which return a record is in, and the labels of what was marked.
"""

from __future__ import annotations

from collections.abc import Iterable

from flows import Conversation, Form
from storage.models import Record, RecordStatus


def return_marker(record: Record) -> str:
    """Names the current return: the submission it returned."""
    return record.submitted_at.isoformat() if record.submitted_at else ""


def needs_reopen(record: Record, conv: Conversation) -> bool:
    """A returned record whose return has not been opened for changes yet."""
    return record.status == RecordStatus.returned and conv.needs_reopen(return_marker(record))


def reopen(record: Record, conv: Conversation) -> bool:
    """Open the marked questions (or the summary) of a returned record; whether it was done
    now (the caller saves the state)."""
    if record.status != RecordStatus.returned:
        return False
    return conv.reopen_returned(list(record.return_fields or []), return_marker(record))


def field_labels(form: Form, names: Iterable[object]) -> list[str]:
    """The labels of form questions, as people read them (a name the form lacks as it is)."""
    labels = []
    for name in names:
        text = str(name)
        labels.append(form.field(text).label if form.has_field(text) else text)
    return labels
