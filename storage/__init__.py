"""The central store: SQLAlchemy 2 async models, repositories and Alembic migrations.

- :mod:`storage.db` — engines (SQLite with WAL + ``synchronous=FULL``, or PostgreSQL via
  asyncpg), sessions, :func:`storage.db.ensure_schema` (Alembic upgrade to head).
- :mod:`storage.models` — the tables.
- :mod:`storage.repositories` — async functions over the caller's session (the caller owns the
  transaction); status rules, duplicate guard, optimistic concurrency, audit, outbox, inbox.
- :mod:`storage.testing` — throw-away databases (SQLite file or PostgreSQL schema) for tests.

This package never imports the form engine or the bot: conversation state is stored as JSON.
"""
