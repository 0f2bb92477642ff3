"""Personal data at rest: the key file, SM4-GCM sealed columns, HMAC-SM3 blind indexes, the
key check at start-up, and lookups going through the indexes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import crypto
from storage.db import ensure_schema
from storage.keys import SEALED, check_keys, seal_report
from storage.models import Base, Person
from storage.repositories.persons import find_person_by_id_number
from storage.testing import temporary_database
from storage.types import EncryptedJSON, EncryptedText
from tests.storage.conftest import Factory

# ------------------------------------------------------------------------------ key files


def test_key_file_is_made_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "data.key"
    keys = crypto.Keyring.generate()
    crypto.write_key_file(path, keys)
    assert path.stat().st_mode & 0o777 == 0o600
    assert crypto.load_key_file(path) == keys
    with pytest.raises(crypto.DataKeyError, match="已存在"):
        crypto.write_key_file(path, crypto.Keyring.generate())
    assert crypto.load_key_file(path) == keys


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "data.key"
    crypto.write_key_file(path, crypto.Keyring.generate())
    os.chmod(path, mode)
    with pytest.raises(crypto.DataKeyError, match="chmod 600"):
        crypto.load_key_file(path)


def test_missing_or_broken_key_files_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(crypto.DataKeyError, match="canbao keys init"):
        crypto.load_key_file(tmp_path / "none.key")
    broken = tmp_path / "broken.key"
    broken.write_text('{"format": "canbao-data-keys/1", "active": "k1"}')
    os.chmod(broken, 0o600)
    with pytest.raises(crypto.DataKeyError, match="无法读取"):
        crypto.load_key_file(broken)


def test_without_any_key_nothing_personal_is_written(monkeypatch: pytest.MonkeyPatch) -> None:
    before = crypto.keyring()
    monkeypatch.delenv(crypto.ENV_VAR)
    crypto.install(None)
    try:
        with pytest.raises(crypto.DataKeyError, match="CANBAO_DATA_KEY_FILE"):
            crypto.seal("林晓", "persons.name")
    finally:
        crypto.install(before)


# --------------------------------------------------------------------------- encryption


def test_every_value_gets_a_fresh_nonce_and_names_its_key() -> None:
    keys = crypto.Keyring.generate()
    a, b = (
        keys.encrypt("320503199001011234", "persons.id_number"),
        keys.encrypt("320503199001011234", "persons.id_number"),
    )
    assert a != b and a.startswith("sm4g1:k1:") and "3205031990" not in a
    assert keys.decrypt(a, "persons.id_number") == keys.decrypt(b, "persons.id_number")


def test_a_value_moved_to_another_column_altered_or_under_another_key_does_not_open() -> None:
    keys = crypto.Keyring.generate()
    sealed = keys.encrypt("13812345678", "persons.mobile")
    with pytest.raises(crypto.DataKeyError, match="移到别处"):
        keys.decrypt(sealed, "persons.name")
    body = sealed[len("sm4g1:k1:") :]
    flipped = body[:-3] + ("A" if body[-3] != "A" else "B") + body[-2:]
    with pytest.raises(crypto.DataKeyError):
        keys.decrypt("sm4g1:k1:" + flipped, "persons.mobile")
    other = crypto.Keyring.generate()
    with pytest.raises(crypto.DataKeyError, match="密钥不对"):
        other.decrypt(sealed, "persons.mobile")
    with pytest.raises(crypto.DataKeyError, match="没有它"):
        crypto.Keyring("k7", {"k7": bytes(16)}, bytes(32)).decrypt(sealed, "persons.mobile")


def test_a_rotated_ring_reads_old_values_and_writes_under_the_new_key() -> None:
    keys = crypto.Keyring.generate()
    old = keys.encrypt("林晓", "persons.name")
    rotated = keys.rotated()
    assert rotated.active == "k2" and rotated.index_key == keys.index_key
    assert rotated.decrypt(old, "persons.name") == "林晓"
    assert crypto.key_id_of(rotated.encrypt("林晓", "persons.name")) == "k2"


def test_blind_indexes_are_keyed_per_kind_and_equal_for_equal_values() -> None:
    keys = crypto.Keyring.generate()
    number = "11010519491231002X"
    assert keys.blind_index("id_number", number) == keys.blind_index("id_number", number)
    assert keys.blind_index("id_number", number) != keys.blind_index("mobile", number)
    assert keys.blind_index("id_number", number) != crypto.Keyring.generate().blind_index(
        "id_number", number
    )
    assert len(keys.blind_index("mobile", "13812345678")) == 64


def test_the_sealed_columns_listed_are_the_models_sealed_columns() -> None:
    from_models: dict[str, dict[str, str]] = {}
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, EncryptedText | EncryptedJSON):
                kind = "json" if isinstance(column.type, EncryptedJSON) else "text"
                assert column.type.context == f"{table.name}.{column.name}"
                from_models.setdefault(table.name, {})[column.name] = kind
    assert from_models == SEALED


# ------------------------------------------------------------------------ in the store


async def test_persons_are_sealed_in_the_database_and_found_by_blind_index(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    factory = Factory(sessions)
    async with sessions() as session, session.begin():
        person = await factory.person(session, name="郑雨桐", mobile="13912345678")
        number = person.id_number
    async with engine.connect() as conn:
        raw = (
            await conn.execute(text("SELECT name, id_number, mobile, id_number_index FROM persons"))
        ).one()
        report = await conn.run_sync(seal_report)
    assert all(crypto.is_sealed(v) for v in raw[:3])
    assert "郑雨桐" not in str(raw) and number not in str(raw) and "13912345678" not in str(raw)
    assert report == []
    async with sessions() as session:
        found = await find_person_by_id_number(session, f" {number.lower()} ")
        assert found is not None and found.name == "郑雨桐" and found.mobile == "13912345678"
        by_mobile = await session.scalar(
            select(Person.id).where(
                Person.mobile_index == crypto.blind_index("mobile", "13912345678")
            )
        )
        assert by_mobile == found.id
        assert await find_person_by_id_number(session, factory.id_number()) is None


async def test_db_check_counts_values_left_in_plain_text(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    factory = Factory(sessions)
    async with sessions() as session, session.begin():
        person = await factory.person(session)
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE persons SET mobile = '13800000000' WHERE id = :id"), {"id": person.id}
        )
        report = await conn.run_sync(seal_report)
    assert [(r.table, r.column, r.plain, r.old_key) for r in report] == [
        ("persons", "mobile", 1, 0)
    ]


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
async def test_the_wrong_key_file_stops_before_anything_is_changed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    right = crypto.keyring()
    async with temporary_database(url, migrate=True, directory=tmp_path) as engine:
        async with engine.connect() as conn:
            probes = (await conn.execute(text("SELECT key_id FROM data_keys"))).all()
        assert probes == [(right.active,)]
        for wrong in (
            crypto.Keyring.generate(),  # another deployment's keys
            crypto.Keyring(right.active, {right.active: bytes(16)}, right.index_key),
            crypto.Keyring("k9", {"k9": bytes(16)}, right.index_key),  # k1 missing
        ):
            crypto.install(wrong)
            try:
                with pytest.raises(crypto.DataKeyError):
                    await ensure_schema(engine)
                with pytest.raises(crypto.DataKeyError):
                    await check_keys(engine)
            finally:
                crypto.install(right)
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT key_id FROM data_keys"))).all() == probes
        await check_keys(engine)
