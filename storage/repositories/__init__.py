"""Repositories: async functions over the caller's :class:`~sqlalchemy.ext.asyncio.AsyncSession`.

They never commit (the caller owns the transaction) and every mutation writes an audit event.
Modules: :mod:`.areas`, :mod:`.persons`, :mod:`.roster`, :mod:`.invites`, :mod:`.accounts`,
:mod:`.records`, :mod:`.contacts`, :mod:`.audit`, :mod:`.outbox`, :mod:`.inbox`; errors in
:mod:`.errors`.
"""

from storage.repositories.actors import Actor
from storage.repositories.errors import (
    AccountError,
    BindingError,
    ConflictError,
    ContactError,
    NotFoundError,
    ReadOnlyError,
    ScopeError,
    StorageError,
    TransitionError,
)

__all__ = [
    "AccountError",
    "Actor",
    "BindingError",
    "ConflictError",
    "ContactError",
    "NotFoundError",
    "ReadOnlyError",
    "ScopeError",
    "StorageError",
    "TransitionError",
]
