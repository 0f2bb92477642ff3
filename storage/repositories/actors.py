"""Who does something, as written into revisions and the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from storage.models import Investigator, Staff


@dataclass(frozen=True, slots=True)
class Actor:
    """The doer of an action: ``kind`` is resident, investigator, staff, api or system.

    ``id`` identifies the account (staff/investigator id, or the resident's chat id) and
    ``label`` is what a reviewer reads in the audit trail.
    """

    kind: str
    id: str | None
    label: str

    @classmethod
    def staff(cls, staff: Staff) -> Actor:
        """A staff member of the console."""
        return cls("staff", str(staff.id), staff.display_name or staff.username)

    @classmethod
    def investigator(cls, investigator: Investigator) -> Actor:
        """An investigator."""
        return cls("investigator", str(investigator.id), f"调查员 {investigator.name}")

    @classmethod
    def resident(cls, chat_id: str | int | None) -> Actor:
        """The surveyed person (or their guardian or appointed representative) in a chat."""
        return cls("resident", None if chat_id is None else str(chat_id), "调查对象本人")

    @classmethod
    def system(cls, label: str = "系统") -> Actor:
        """The application itself, or an operator at the command line."""
        return cls("system", None, label)
