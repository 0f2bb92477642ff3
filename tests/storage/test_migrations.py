"""The Alembic migrations produce exactly the models' schema, on both engines."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from storage.db import current_revision, ensure_schema, head_revision
from storage.models import Base
from storage.testing import temporary_database


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.mark.parametrize("backend", BACKENDS)
async def test_upgrade_head_matches_models(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    async with temporary_database(url, migrate=True, directory=tmp_path) as engine:
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == []
        # A second upgrade is a no-op, not an error.
        await ensure_schema(engine)
        assert await current_revision(engine) == head_revision()
