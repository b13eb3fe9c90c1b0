"""Real servers for the tests: a throw-away PostgreSQL (Debian's package) on a free loopback port.

`ensure_postgres()` finds the server binaries (installing Debian's ``postgresql`` package when they are
missing and we are root), creates a cluster in a temporary folder owned by the ``postgres`` user (the
server refuses to run as root) and starts it with durability off (tests do not need fsync).  Outside CI a
missing PostgreSQL raises `ServiceUnavailable` (the fixture turns that into a skip with the reason); in CI
(``CI=true``) the fixture fails instead, so a broken set-up is never silently skipped.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest

POSTGRES_ROOT = Path("/usr/lib/postgresql")
_SERVER_USER = "postgres"
_FAST = ("--locale=C", "--no-sync")


class ServiceUnavailable(RuntimeError):
    """A server the tests need cannot be started here; the message says why."""


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def unavailable(what: str, reason: object) -> NoReturn:
    """A service the test needs cannot run here: fail in CI (never a silent skip), skip elsewhere."""
    if in_ci():
        pytest.fail(f"{what} is required in CI and could not be started: {reason}")
    pytest.skip(f"{what} not available: {reason}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: object, *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate()`` until it is true; fail with ``what`` after ``timeout`` seconds."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def _postgres_bin() -> Path | None:
    if not POSTGRES_ROOT.is_dir():
        return None
    versions = sorted(
        (p for p in POSTGRES_ROOT.iterdir() if (p / "bin" / "initdb").exists()),
        key=lambda p: int(p.name) if p.name.isdigit() else 0,
        reverse=True,
    )
    return versions[0] / "bin" if versions else None


_apt_updated = False


def apt_install(*packages: str) -> None:
    """``apt-get update`` (once per test process), then ``apt-get install -y`` ``packages``; waits for a
    dpkg lock another test set-up (PostgreSQL, Dovecot, Chromium) may hold.  `ServiceUnavailable` when
    apt-get fails."""
    global _apt_updated
    if not _apt_updated:
        _apt_get("update")
        _apt_updated = True
    _apt_get("install", "-y", *packages)


def _apt_get(*arguments: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q", *arguments]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, check=False)
    if result.returncode != 0:
        raise ServiceUnavailable(f"{' '.join(command)} failed: {result.stderr.strip()[-2000:]}")


def _install_postgres() -> None:
    apt_install("postgresql")


def _server_user() -> pwd.struct_passwd | None:
    """The account the server runs as: ``postgres`` when we are root (created if missing), else us."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(_SERVER_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _SERVER_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(_SERVER_USER)


@dataclass
class PostgresServer:
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    host: str = "127.0.0.1"
    user: str = "postgres"
    log: Path = field(default_factory=Path)

    def url(self, database: str = "postgres", driver: str = "asyncpg") -> str:
        return f"postgresql+{driver}://{self.user}@{self.host}:{self.port}/{database}"

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)  # immediate shutdown: the cluster is thrown away
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def ensure_postgres() -> PostgresServer:
    """Start a private PostgreSQL; raise `ServiceUnavailable` when it cannot be had."""
    bin_dir = _postgres_bin()
    if bin_dir is None:
        if os.geteuid() != 0:
            raise ServiceUnavailable(
                f"no PostgreSQL under {POSTGRES_ROOT} and not root to apt-get install postgresql"
            )
        _install_postgres()
        bin_dir = _postgres_bin()
        if bin_dir is None:
            raise ServiceUnavailable("apt-get install postgresql left no initdb under /usr/lib/postgresql")

    account = _server_user()
    root = Path(tempfile.mkdtemp(prefix="regbot-pg-"))
    data, sockets, log = root / "data", root / "sockets", root / "postgres.log"
    sockets.mkdir()
    log.touch()
    run_as: dict[str, object] = {}
    if account is not None:
        for path in (root, sockets, log):
            os.chown(path, account.pw_uid, account.pw_gid)
        run_as = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "HOME": str(root)}

    initdb = subprocess.run(
        [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", *_FAST],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        **run_as,  # type: ignore[call-overload]
    )
    if initdb.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise ServiceUnavailable(f"initdb failed: {initdb.stderr.strip()[-500:]}")

    port = free_port()
    settings = {
        "listen_addresses": "127.0.0.1",
        "unix_socket_directories": str(sockets),
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    command = [str(bin_dir / "postgres"), "-D", str(data), "-p", str(port)]
    for name, value in settings.items():
        command += ["-c", f"{name}={value}"]
    with log.open("ab") as log_file:
        process = subprocess.Popen(  # type: ignore[call-overload]
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, **run_as
        )
    server = PostgresServer(port=port, root=root, process=process, log=log)

    def ready() -> bool:
        if process.poll() is not None:
            raise ServiceUnavailable(f"postgres exited: {log.read_text(errors='replace')[-500:]}")
        probe = subprocess.run(
            [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(port)],
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    try:
        wait_for(ready, timeout=30, what="PostgreSQL to accept connections")
    except BaseException:
        server.stop()
        raise
    return server


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    server = ensure_postgres()
    try:
        yield server
    finally:
        server.stop()
