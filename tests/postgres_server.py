"""A throw-away PostgreSQL server for the tests: Debian's binaries, a temporary data directory, a free port.

``make test`` installs Debian's ``postgresql`` package when it is missing; the
server runs as the ``postgres`` user when the tests run as root (PostgreSQL
refuses to run as root) and is stopped and deleted at the end of the session.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import asyncpg

__all__ = ["PostgresServer", "new_schema"]


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if not found:
        raise RuntimeError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql; install Debian's package: "
            "apt-get install -y postgresql (`make test` does this)"
        )
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """Start with :meth:`start`, get URLs with :meth:`url`, stop with :meth:`stop`."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.port = _free_port()
        self.root = Path(tempfile.mkdtemp(prefix="tollgate-pg-"))
        self.data = self.root / "data"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            pg = pwd.getpwnam("postgres")
            os.chown(self.root, pg.pw_uid, pg.pw_gid)
            self._as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync")
        self.resume()
        return self

    def pause(self) -> None:
        """Stop the server, keeping its data (``-m fast``: connections are cut, as in a database outage)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the server on its data directory and port."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"),
                  "-w", "-t", "60", "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


async def _create_schema(server_url: str, name: str) -> None:
    connection = await asyncpg.connect(server_url)
    try:
        await connection.execute(f'CREATE SCHEMA "{name}"')
    finally:
        await connection.close()


def new_schema(server_url: str) -> str:
    """A new, empty schema on the server, as a URL whose search path is that schema.

    A schema takes milliseconds where a database takes a quarter of a second.
    """
    name = f"t_{uuid.uuid4().hex}"
    with ThreadPoolExecutor(1) as pool:  # the caller's event loop may already run in this thread
        pool.submit(asyncio.run, _create_schema(server_url, name)).result()
    return f"{server_url}?search_path={name}"


def main(argv: list[str]) -> int:
    """``python -m tests.postgres_server COMMAND…``: run COMMAND with a server it can reach.

    The server's URL is in ``TOLLGATE_TEST_POSTGRES_URL``, which the tests' ``postgres_server``
    fixture uses instead of starting its own; the server is stopped and deleted when COMMAND ends,
    Ctrl-C included.
    """
    if not argv:
        print("usage: python -m tests.postgres_server COMMAND [ARG...]", file=sys.stderr)
        return 2
    # A terminated wrapper stops its server too (Python's default SIGTERM handling skips ``finally``).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    server = PostgresServer().start()
    try:
        return subprocess.run(argv, env={**os.environ, "TOLLGATE_TEST_POSTGRES_URL": server.url()},
                              check=False).returncode
    except KeyboardInterrupt:
        return 130
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
