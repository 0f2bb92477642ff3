"""Personal data at rest: SM4-GCM field encryption and HMAC-SM3 blind indexes (国密).

Keys live outside the database, in a key file (``CANBAO_DATA_KEY_FILE``, made by
``canbao keys init``) readable by its owner only::

    {"format": "canbao-data-keys/1", "active": "k2",
     "keys": {"k1": "<32 hex>", "k2": "<32 hex>"}, "index_key": "<64 hex>"}

* **Encryption**: SM4 in GCM mode through ``cryptography`` (the OpenSSL here ships it; no
  hand-written cipher), a fresh random 96-bit nonce per value and a 128-bit tag. A stored value
  is ``sm4g1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``: the key id travels with each
  value, so after ``canbao keys rotate`` old and new values are both readable. The associated
  data names the table and column (``persons.id_number``): a value copied into another column
  or table does not decrypt. It does not name the row: the row id is not known before the
  INSERT, and the roster import writes whole batches with ``INSERT … SELECT`` (docs/security.md,
  "Decisions and limits").
* **Blind indexes**: HMAC-SM3 under a separate key of the value as the store holds it (already
  normalised by ``flows.values`` where it entered), prefixed with its kind so that an ID
  number and a mobile never share an index value. Equality only: nothing can search a prefix.
  The index key never rotates with the encryption keys (every index would have to be rebuilt
  at once).

The process has one key ring (:func:`install`); when none was installed the first use loads
``CANBAO_DATA_KEY_FILE``. Without a key file nothing personal can be written or read:
:class:`DataKeyError` says what to do.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

FORMAT = "canbao-data-keys/1"
PREFIX = "sm4g1:"
ENV_VAR = "CANBAO_DATA_KEY_FILE"
NONCE_BYTES = 12
TAG_BYTES = 16
_SM4_KEY_BYTES = 16
_INDEX_KEY_BYTES = 32


class DataKeyError(RuntimeError):
    """The data keys are missing, unreadable, too open, or not the ones the data was written
    with. The message is meant for the operator (Chinese, says what to do)."""


@dataclass(frozen=True)
class Keyring:
    """The encryption keys by id (``active`` encrypts new values) and the blind-index key."""

    active: str
    keys: dict[str, bytes]
    index_key: bytes
    path: Path | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.active not in self.keys:
            raise DataKeyError(f"密钥文件中没有当前密钥 {self.active}")
        for kid, key in self.keys.items():
            if len(key) != _SM4_KEY_BYTES or not kid or ":" in kid:
                raise DataKeyError(f"密钥 {kid!r} 无效（SM4 密钥为 16 字节）")
        if len(self.index_key) != _INDEX_KEY_BYTES:
            raise DataKeyError("索引密钥无效（应为 32 字节）")

    @classmethod
    def generate(cls) -> Keyring:
        """A new key ring: one encryption key ``k1`` and an index key."""
        return cls("k1", {"k1": secrets.token_bytes(16)}, secrets.token_bytes(32))

    def rotated(self) -> Keyring:
        """The same ring with a new active key (old keys stay for reading)."""
        n = 1 + max((int(k[1:]) for k in self.keys if k[1:].isdigit()), default=0)
        kid = f"k{n}"
        return Keyring(kid, {**self.keys, kid: secrets.token_bytes(16)}, self.index_key, self.path)

    def to_json(self) -> str:
        """The key file's text."""
        return json.dumps(
            {
                "format": FORMAT,
                "active": self.active,
                "keys": {k: v.hex() for k, v in self.keys.items()},
                "index_key": self.index_key.hex(),
            },
            indent=2,
        )

    # ------------------------------------------------------------------------- encryption

    def encrypt(self, plaintext: str, context: str) -> str:
        """``plaintext`` sealed under the active key, bound to ``context`` (table.column)."""
        nonce = secrets.token_bytes(NONCE_BYTES)
        encryptor = Cipher(algorithms.SM4(self.keys[self.active]), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(context.encode())
        # surrogatepass: stored text may hold a lone surrogate (bot/stored_text.py finds them)
        sealed = (
            encryptor.update(plaintext.encode("utf-8", "surrogatepass"))
            + encryptor.finalize()
            + encryptor.tag
        )
        body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
        return f"{PREFIX}{self.active}:{body}"

    def decrypt(self, token: str, context: str) -> str:
        """The plaintext of a value :meth:`encrypt` made; :class:`DataKeyError` when the key
        is unknown or the value was altered, moved or sealed under another key."""
        kid, _, body = token[len(PREFIX) :].partition(":")
        key = self.keys.get(kid)
        if key is None:
            raise DataKeyError(f"数据用密钥 {kid} 加密，但密钥文件中没有它（密钥文件不对？）")
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        nonce, sealed, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(context.encode())
        try:
            return (decryptor.update(sealed) + decryptor.finalize()).decode(
                "utf-8", "surrogatepass"
            )
        except InvalidTag:
            raise DataKeyError(
                f"{context} 的一个值无法解密：密钥不对，或数据被改动、被移到别处"
            ) from None

    # ------------------------------------------------------------------------ blind index

    def blind_index(self, kind: str, value: str) -> str:
        """HMAC-SM3 of ``kind`` and ``value`` (64 hex digits)."""
        mac = hmac.HMAC(self.index_key, hashes.SM3())
        mac.update(kind.encode() + b"\x00" + value.encode("utf-8", "surrogatepass"))
        return mac.finalize().hex()


def is_sealed(value: object) -> bool:
    """Whether a stored value is an encrypted one (else it is plain text)."""
    return isinstance(value, str) and value.startswith(PREFIX)


def key_id_of(token: str) -> str:
    """The key id a sealed value was encrypted with."""
    return token[len(PREFIX) :].partition(":")[0]


# ------------------------------------------------------------------------------- key files


def write_key_file(path: Path, keyring: Keyring, *, replace: bool = False) -> None:
    """Write ``keyring`` to ``path``, readable by its owner only (0600), atomically.

    Refuses to overwrite an existing file unless ``replace`` (rotation): losing a key loses
    the data sealed under it.
    """
    path = path.expanduser()
    if path.exists() and not replace:
        raise DataKeyError(f"密钥文件 {path} 已存在，不会覆盖（丢失密钥就无法读出数据）")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(keyring.to_json())
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def load_key_file(path: Path | str) -> Keyring:
    """Read a key file; :class:`DataKeyError` when it is missing, broken or readable by others
    than its owner (group or world)."""
    path = Path(path).expanduser()
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataKeyError(
            f"找不到数据密钥文件 {path}（CANBAO_DATA_KEY_FILE）；新部署用 canbao keys init 生成"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise DataKeyError(
            f"数据密钥文件 {path} 的权限是 {stat.filemode(mode)}，其他用户可以读取；"
            f"请执行 chmod 600 {path}"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        return Keyring(
            active=str(data["active"]),
            keys={str(k): bytes.fromhex(v) for k, v in data["keys"].items()},
            index_key=bytes.fromhex(data["index_key"]),
            path=path,
        )
    except DataKeyError:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DataKeyError(f"数据密钥文件 {path} 无法读取：{exc}") from None


# --------------------------------------------------------------------- the process's keys

_installed: Keyring | None = None


def install(keyring: Keyring | None) -> None:
    """Make ``keyring`` the process's keys (None: forget them; the next use loads the file)."""
    global _installed
    _installed = keyring


def keyring() -> Keyring:
    """The process's keys: those installed, else ``CANBAO_DATA_KEY_FILE``'s."""
    global _installed
    if _installed is None:
        path = os.environ.get(ENV_VAR)
        if not path:
            raise DataKeyError(
                "没有配置数据密钥：请设置 CANBAO_DATA_KEY_FILE（用 canbao keys init 生成密钥文件）"
            )
        _installed = load_key_file(path)
    return _installed


def unseal(token: str, context: str) -> str:
    """:meth:`Keyring.decrypt` with the process's keys. A value under a key the process does
    not know yet (``canbao keys rotate`` ran meanwhile) makes it read its key file again."""
    global _installed
    keys = keyring()
    if key_id_of(token) not in keys.keys and keys.path is not None:
        fresh = load_key_file(keys.path)
        if fresh.index_key == keys.index_key and all(
            fresh.keys.get(k) == v for k, v in keys.keys.items()
        ):
            # A rotation: the old keys are all still there, so this is the same ring grown.
            _installed = keys = fresh
    return keys.decrypt(token, context)


def seal(plaintext: str, context: str) -> str:
    """:meth:`Keyring.encrypt` with the process's keys."""
    return keyring().encrypt(plaintext, context)


def blind_index(kind: str, value: str | None) -> str | None:
    """:meth:`Keyring.blind_index` with the process's keys; None for no value."""
    if value is None or value == "":
        return None
    return keyring().blind_index(kind, value)
