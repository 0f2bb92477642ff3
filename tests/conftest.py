"""Shared test fixtures: where the real PostgreSQL and Redis servers are.

The storage and FSM tests run on SQLite and on PostgreSQL / Redis. When a server is not
reachable the tests that need it are skipped with the reason shown in the summary (``-ra``).
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from storage import crypto

PG_URL = os.environ.get("CANBAO_TEST_PG_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CANBAO_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        with socket.create_connection(
            (parts.hostname or "127.0.0.1", parts.port or default_port), 1
        ):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def pg_url() -> str:
    """The PostgreSQL URL for tests, or skip with the reason."""
    if not _reachable(PG_URL, 5432):
        pytest.skip(f"PostgreSQL not reachable at {urlsplit(PG_URL).netloc} (CANBAO_TEST_PG_URL)")
    return PG_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The Redis URL for tests, or skip with the reason."""
    if not _reachable(REDIS_URL, 6379):
        pytest.skip(f"Redis not reachable at {urlsplit(REDIS_URL).netloc} (CANBAO_TEST_REDIS_URL)")
    return REDIS_URL


@pytest.fixture
def utc_server() -> Iterator[None]:
    """The process runs with ``TZ=UTC``: a server whose own zone is not the survey's, so any
    date taken from the machine's clock instead of ``bot.clock`` shows up as a day off."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(autouse=True, scope="session")
def data_keys(tmp_path_factory: pytest.TempPathFactory) -> Iterator[crypto.Keyring]:
    """Every test runs with personal data encrypted, as deployments do: a key file of its own
    (in ``CANBAO_DATA_KEY_FILE`` too, for the commands a test starts as a process)."""
    path = tmp_path_factory.mktemp("keys") / "data.key"
    keys = crypto.Keyring.generate()
    crypto.write_key_file(path, keys)
    before = os.environ.get(crypto.ENV_VAR)
    os.environ[crypto.ENV_VAR] = str(path)
    crypto.install(crypto.load_key_file(path))
    try:
        yield crypto.keyring()
    finally:
        crypto.install(None)
        if before is None:
            os.environ.pop(crypto.ENV_VAR, None)
        else:
            os.environ[crypto.ENV_VAR] = before
