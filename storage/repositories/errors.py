"""Errors the repositories raise; each message is short Chinese text fit to show a user."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the store raises on purpose."""


class NotFoundError(StorageError):
    """The thing asked for does not exist."""


class ConflictError(StorageError):
    """Someone else changed the record first (optimistic concurrency); reload and retry."""


class TransitionError(StorageError):
    """The record's status does not allow this action (e.g. confirming a draft)."""


class ReadOnlyError(TransitionError):
    """The record can no longer be edited by its filler (submitted or confirmed)."""


class ScopeError(StorageError):
    """A staff member acted outside their district."""


class AccountError(StorageError):
    """An account operation was refused (bad username, weak password, unknown community...)."""


class BindingError(StorageError):
    """An investigator binding code was refused (unknown, expired, used, revoked)."""


class ContactError(StorageError):
    """A contact log entry was refused (an outcome that cannot be recorded, a date ahead...);
    ``field`` names what is wrong: ``outcome``, ``on`` or ``note``."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
