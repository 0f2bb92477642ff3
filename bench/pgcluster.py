"""A private, throwaway PostgreSQL server that a test or benchmark owns and may stop at will.

    async with PgCluster() as cluster:          # initdb + start on a free port
        url = cluster.url                       # postgresql+asyncpg://postgres@127.0.0.1:PORT/postgres
        await cluster.restart("fast")           # pg_ctl stop -m fast, then start
        await cluster.restart("immediate", down=1.0)  # a crash, 1 s down, WAL recovery on start
    # stopped and deleted

The shared server of the test suite must never be stopped (others run tests against it), so
faults of the database itself are played on one of these. ``initdb`` and ``postgres`` refuse
to run as root: as root they run as the ``postgres`` OS user (``runuser``), with the cluster in
a directory under ``/tmp`` that user owns.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Literal

from bench.procs import free_port

ShutdownMode = Literal["smart", "fast", "immediate"]

PG_BIN_ENV = "CANBAO_PG_BIN"  # a directory holding initdb and pg_ctl, when not the Debian one
OS_USER = "postgres"
_PROGRAMS = ("initdb", "pg_ctl", "postgres")


def find_bin_dir() -> Path | None:
    """The directory with ``initdb``/``pg_ctl``/``postgres``: ``$CANBAO_PG_BIN``, else the newest
    ``/usr/lib/postgresql/<version>/bin``; None when there is none."""
    candidates: list[Path] = []
    if os.environ.get(PG_BIN_ENV):
        candidates.append(Path(os.environ[PG_BIN_ENV]))
    versions = Path("/usr/lib/postgresql")
    if versions.is_dir():
        numbered = [p for p in versions.iterdir() if p.name.replace(".", "").isdigit()]
        numbered.sort(key=lambda p: [int(x) for x in p.name.split(".")], reverse=True)
        candidates += [p / "bin" for p in numbered]
    for directory in candidates:
        if all(os.access(directory / name, os.X_OK) for name in _PROGRAMS):
            return directory
    return None


def unavailable() -> str | None:
    """Why a private cluster cannot be started here (for a skip), or None when it can."""
    if find_bin_dir() is None:
        return f"PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin or ${PG_BIN_ENV})"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return f"running as root and there is no {OS_USER!r} OS user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root and runuser(1) is missing"
    return None


class PgCluster:
    """One private PostgreSQL cluster: ``initdb`` into a fresh directory, a free port, trust
    authentication for ``postgres`` over TCP on 127.0.0.1 and a socket in the same directory."""

    def __init__(self, *, port: int | None = None, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_bin_dir()
        if found is None:
            raise RuntimeError(unavailable() or "PostgreSQL binaries not found")
        self.bin_dir = found
        self.port = port or free_port()
        self.root: Path | None = None
        self.restarts = 0
        self._as_postgres = os.geteuid() == 0

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the cluster's ``postgres`` database."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def data_dir(self) -> Path:
        assert self.root is not None, "the cluster was not created"
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        """The server's log (kept until the cluster is deleted)."""
        assert self.root is not None, "the cluster was not created"
        return self.root / "server.log"

    async def create(self) -> None:
        """``initdb`` a new cluster in a directory of its own under ``/tmp``."""
        # Not pytest's tmp_path: /tmp/pytest-of-root is root's alone, and the server runs as
        # another user that must reach its data directory.
        self.root = Path(tempfile.mkdtemp(prefix="canbao-pg-", dir="/tmp"))
        if self._as_postgres:
            user = pwd.getpwnam(OS_USER)
            os.chown(self.root, user.pw_uid, user.pw_gid)
        await self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",  # a throwaway cluster: its files need not reach the disk first
        )

    async def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = " ".join(
            [
                "-c listen_addresses=127.0.0.1",
                f"-p {self.port}",
                f"-k {self.root}",
                # Small: the machine is shared, and the test needs a few dozen connections.
                "-c shared_buffers=32MB",
                "-c max_connections=200",
            ]
        )
        await self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data_dir),
            "-l", str(self.log_path), "-o", options,
        )  # fmt: skip

    async def stop(self, mode: ShutdownMode = "fast") -> None:
        """Stop the server: ``smart`` waits for clients to leave, ``fast`` disconnects them and
        shuts down cleanly, ``immediate`` kills every server process (a crash: the next start
        recovers from the WAL)."""
        await self._run("pg_ctl", "stop", "-w", "-t", "60", "-D", str(self.data_dir), "-m", mode)

    async def restart(self, mode: ShutdownMode = "fast", *, down: float = 0.0) -> None:
        """Stop (in ``mode``) and start again, ``down`` seconds later; clients' connections are
        cut, and new ones are refused until the server is back."""
        await self.stop(mode)
        if down > 0:
            await asyncio.sleep(down)
        await self.start()
        self.restarts += 1

    def running(self) -> bool:
        """Whether the postmaster of this cluster is alive (its pid file names a live pid)."""
        try:
            pid = int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # alive, owned by the postgres user
        return True

    async def destroy(self) -> None:
        """Stop the server if it runs (``immediate``: nothing in it is worth keeping) and delete
        the cluster's directory."""
        if self.root is None:
            return
        try:
            if self.running():
                await self.stop("immediate")
        finally:
            await asyncio.to_thread(shutil.rmtree, self.root, True)
            self.root = None

    async def __aenter__(self) -> PgCluster:
        await self.create()
        try:
            await self.start()
        except BaseException:
            await self.destroy()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.destroy()

    async def _run(self, program: str, *args: str) -> None:
        argv = [str(self.bin_dir / program), *args]
        if self._as_postgres:
            argv = ["runuser", "-u", OS_USER, "--", *argv]
        # pg_ctl's server inherits the stdout it is given: a pipe would keep communicate()
        # waiting for the server's end, so its output goes to a file (and the server to its log).
        assert self.root is not None
        out_path = self.root / f"{program}.out"
        with out_path.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out, cwd=self.root
            )
            code = await proc.wait()
        if code != 0:
            tail = out_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"{program} {' '.join(args[:2])} failed ({code}): {tail}")
