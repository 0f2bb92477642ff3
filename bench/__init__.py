"""Benchmarks, one command each; the figures and the commands are in docs/benchmarks.md.

They run with personal data sealed, as deployments do: without ``CANBAO_DATA_KEY_FILE`` a
throw-away key file is made for the run (the servers a benchmark starts inherit it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from storage import crypto

if not os.environ.get(crypto.ENV_VAR):
    _path = Path(tempfile.mkdtemp(prefix="canbao-bench-keys-")) / "data.key"
    crypto.write_key_file(_path, crypto.Keyring.generate())
    os.environ[crypto.ENV_VAR] = str(_path)
