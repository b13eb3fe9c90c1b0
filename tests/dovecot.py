"""A private Dovecot IMAP server for the tests (Debian's ``dovecot-imapd``).

`ensure_dovecot()` finds the ``dovecot`` binary (installing ``dovecot-imapd`` once when it is missing and
we are root), writes a configuration of its own into a temporary folder — loopback only, a free port,
plaintext login allowed (no TLS on loopback), one test user in a passwd-file, Maildir in the same folder —
and runs ``dovecot -F -c <conf>`` in the foreground, so the test owns exactly one process and stops it by
its id.  Nothing of the system's Dovecot (``/etc/dovecot``, its service, its port 143) is touched.

As root, mail is accessed as an unprivileged account (``nobody``; Dovecot refuses UID 0 for mail) and the
login / internal processes run as Debian's ``dovenull`` / ``dovecot`` users; as another user everything
runs as that user.  Outside CI a missing Dovecot raises `ServiceUnavailable` (the fixture turns it into a
skip with the reason); in CI (``CI=true``) the fixture fails instead.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.services import ServiceUnavailable, apt_install, free_port, wait_for

USER = "regbot"
PASSWORD = "regbot-test-password"
_INSTALL_MARKER = Path(tempfile.gettempdir()) / "regbot-dovecot-apt-tried"


def _dovecot_binary() -> str | None:
    return shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)


def _install_dovecot() -> None:
    """``apt-get update`` + ``apt-get install -y dovecot-imapd``, once per machine boot (a marker file)."""
    if _INSTALL_MARKER.exists():
        raise ServiceUnavailable("apt-get install dovecot-imapd was already tried and left no dovecot")
    _INSTALL_MARKER.touch()
    apt_install("dovecot-imapd")


def _account(name: str) -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


@dataclass
class DovecotServer:
    """One running private Dovecot.  ``restart()`` stops it and starts it again on the same port."""

    binary: str
    root: Path
    config: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    host: str = "127.0.0.1"
    user: str = USER
    password: str = PASSWORD

    @property
    def url(self) -> str:
        """The REGBOT_IMAP_URL for the test user's INBOX."""
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"

    @property
    def log(self) -> Path:
        return self.root / "dovecot.log"

    def start(self) -> None:
        with self.log.open("ab") as log_file:
            self.process = subprocess.Popen(
                [self.binary, "-F", "-c", str(self.config)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self.process

        def accepting() -> bool:
            if process.poll() is not None:
                raise ServiceUnavailable(f"dovecot exited: {self.log.read_text(errors='replace')[-800:]}")
            return _greets(self.host, self.port)

        try:
            wait_for(accepting, timeout=20, what="Dovecot to accept IMAP connections")
        except TimeoutError as exc:
            self.stop()
            raise ServiceUnavailable(f"{exc}: {self.log.read_text(errors='replace')[-800:]}") from None

    def stop(self) -> None:
        """Stop this Dovecot like a server going down: the master, then whatever of its process group is
        left (open IMAP sessions outlive the master), so clients see their connections drop."""
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        # Its own session (start_new_session): the group holds only this Dovecot's processes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        wait_for(lambda: not _group_alive(process.pid), timeout=10, what="Dovecot's processes to exit")
        wait_for(lambda: not _greets(self.host, self.port), timeout=10, what="Dovecot's port to close")

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _greets(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


def _configuration(root: Path, port: int) -> str:
    """A complete dovecot.conf: nothing from /etc/dovecot is included."""
    me = pwd.getpwuid(os.geteuid())
    if os.geteuid() == 0:
        mail_account = _account("nobody")
        if mail_account is None:
            raise ServiceUnavailable("no 'nobody' account to access mail as (Dovecot refuses UID 0)")
        login_user = (_account("dovenull") or mail_account).pw_name
        internal_user = (_account("dovecot") or mail_account).pw_name
    else:
        mail_account = me
        login_user = internal_user = me.pw_name
    home = root / "home"
    home.mkdir()
    os.chown(home, mail_account.pw_uid, mail_account.pw_gid)
    passwd = root / "passwd"
    passwd.write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    return f"""\
base_dir = {root}/run
state_dir = {root}/state
instance_name = regbot-test-{port}
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = 1
mail_location = maildir:{home}/%u/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {passwd}
}}
userdb {{
  driver = static
  args = uid={mail_account.pw_uid} gid={mail_account.pw_gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


def ensure_dovecot() -> DovecotServer:
    """Start a private Dovecot with one test user; raise `ServiceUnavailable` when it cannot be had."""
    binary = _dovecot_binary()
    if binary is None:
        if os.geteuid() != 0:
            raise ServiceUnavailable("no dovecot binary and not root to apt-get install dovecot-imapd")
        _install_dovecot()
        binary = _dovecot_binary()
        if binary is None:
            raise ServiceUnavailable("apt-get install dovecot-imapd left no dovecot binary")
    root = Path(tempfile.mkdtemp(prefix="regbot-dovecot-"))
    root.chmod(0o755)  # the mail and login users must reach their folders
    port = free_port()
    config = root / "dovecot.conf"
    try:
        config.write_text(_configuration(root, port))
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    server = DovecotServer(binary=binary, root=root, config=config, port=port)
    try:
        server.start()
    except BaseException:
        server.remove()
        raise
    return server


@contextlib.contextmanager
def dovecot_server() -> Iterator[DovecotServer]:
    server = ensure_dovecot()
    try:
        yield server
    finally:
        server.remove()
