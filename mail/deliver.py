"""Hand a composed mail to the outside world: an SMTP relay, or ``.eml`` files when there is none.

``REGBOT_SMTP_RELAY`` (SPEC §8) picks the way:

- empty → each mail is written as an ``.eml`` file in ``REGBOT_OUTBOX_DIR`` (local use, tests);
- ``smtp://user:pass@host:587`` → submission with STARTTLS (required, except on a loopback host where a
  plain connection is allowed for tests); AUTH when a user is given;
- ``smtps://user:pass@host:465`` → implicit TLS.

Failures are ``DeliveryError``: ``permanent`` when the relay refused the mail for good (5xx), otherwise
the caller (the outbox) retries later.  Neither addresses nor credentials appear in messages or logs.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

import aiosmtplib

from bot.tasks import TrackedTasks

log = logging.getLogger(__name__)

_QUIT_SECONDS = 5.0
_ADDRESS_RE = re.compile(r"[^\s<>\"']+@[^\s<>\"']+")


class DeliveryError(Exception):
    """The mail was not delivered.  ``permanent``: retrying will not help (the relay said 5xx)."""

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Deliverer(Protocol):
    async def send(self, message: bytes, *, mail_from: str, recipients: list[str]) -> str | None:
        """Deliver one mail; return where it went when that is a place (the ``.eml`` path), else None."""
        ...


def deliverer_from_settings(relay_url: str, outbox_dir: Path) -> Deliverer:
    """The deliverer for ``REGBOT_SMTP_RELAY`` (empty: ``.eml`` files in ``outbox_dir``)."""
    relay_url = relay_url.strip()
    if not relay_url:
        return EmlDirectoryDeliverer(Path(outbox_dir))
    return SmtpDeliverer(SmtpRelay.from_url(relay_url))


class EmlDirectoryDeliverer:
    """Writes each mail as ``<time>-<random>.eml``.

    Names sort by time; a file appears complete or not at all (temporary file, fsync, rename).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    async def send(self, message: bytes, *, mail_from: str, recipients: list[str]) -> str | None:
        try:
            path = await asyncio.to_thread(self._write, message)
        except OSError as exc:
            reason = f"cannot write to the outbox directory: {exc.strerror}"
            raise DeliveryError(reason, permanent=False) from None
        return str(path)

    def _write(self, message: bytes) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{secrets.token_hex(4)}.eml"
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"  # a dot file: readers globbing *.eml never see it
        try:
            with open(temporary, "xb") as file:
                file.write(message)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, final)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        return final


@dataclass(frozen=True)
class SmtpRelay:
    """Where and how to submit mail; ``repr`` hides the password."""

    host: str
    port: int
    implicit_tls: bool
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpRelay:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("REGBOT_SMTP_RELAY must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("REGBOT_SMTP_RELAY needs a host")
        implicit_tls = parts.scheme == "smtps"
        port = parts.port or (465 if implicit_tls else 587)
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password is not None else None
        return cls(parts.hostname, port, implicit_tls, username, password)

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def __repr__(self) -> str:
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = "***@" if self.username else ""
        return f"SmtpRelay('{scheme}://{user}{self.host}:{self.port}')"


class SmtpDeliverer:
    """One SMTP session per mail (the outbox sends few); errors translated to ``DeliveryError``.

    `send` returns as soon as the relay has accepted the mail (250 after DATA); the session's QUIT is
    sent in the background.  The caller settles the outbox row then, and everything between the relay's
    acceptance and that settle is a window in which a crash makes the mail go out a second time."""

    def __init__(self, relay: SmtpRelay) -> None:
        self.relay = relay

    async def send(self, message: bytes, *, mail_from: str, recipients: list[str]) -> str | None:
        relay = self.relay
        # STARTTLS is required off the machine (the password and the mail must not cross a network in
        # clear); on loopback it is used when offered, so a plain test relay works.
        start_tls: bool | None = None if relay.is_loopback else True
        client = aiosmtplib.SMTP(
            hostname=relay.host,
            port=relay.port,
            use_tls=relay.implicit_tls,
            start_tls=False if relay.implicit_tls else start_tls,
            timeout=relay.timeout,
        )
        try:
            await client.connect()
            if relay.username is not None:
                await client.login(relay.username, relay.password or "")
            errors, _ = await client.sendmail(
                _addr_spec(mail_from), [_addr_spec(r) for r in recipients], message
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [refused.code for refused in exc.recipients]
            permanent = bool(codes) and all(code >= 500 for code in codes)
            first_code = codes[0] if codes else None
            raise self._error("relay refused every recipient", first_code, "", permanent) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            # 535 is a 5xx, but it is our configuration, not this mail: keep the mail and retry.
            raise self._error("relay refused the credentials", exc.code, exc.message, False) from None
        except aiosmtplib.SMTPResponseException as exc:
            raise self._error("relay refused the mail", exc.code, exc.message, exc.code >= 500) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise self._error(f"relay unreachable ({type(exc).__name__})", None, "", False) from None
        finally:
            self._quit_later(client)
        if errors:
            log.warning("smtp relay accepted the mail for some recipients only: %d refused", len(errors))
        return None

    def _quit_later(self, client: aiosmtplib.SMTP) -> None:
        """End the session without the caller waiting for the relay's 221 (or for a relay that never
        sends it: the transport is closed after a few seconds anyway)."""
        if not client.is_connected:
            return
        _QUITTING.spawn(self._quit(client), what="quit")

    @staticmethod
    async def _quit(client: aiosmtplib.SMTP) -> None:
        try:
            await asyncio.wait_for(client.quit(), timeout=_QUIT_SECONDS)
        except (aiosmtplib.SMTPException, OSError, TimeoutError):
            pass
        finally:
            client.close()

    def _error(self, what: str, code: int | None, reply: str, permanent: bool) -> DeliveryError:
        reply = _ADDRESS_RE.sub("***", reply).strip()
        detail = f" {code}" if code is not None else ""
        detail += f" {reply[:200]}" if reply else ""
        log.warning("smtp delivery via %r failed: %s%s (permanent=%s)", self.relay, what, detail, permanent)
        # `from None`: the original exception's text may carry an address.
        return DeliveryError(f"{what}:{detail}" if detail else what, permanent=permanent)


_QUITTING = TrackedTasks(log, "smtp")


async def end_sessions(timeout: float = 2.0) -> None:
    """Wait for the SMTP sessions still being ended in the background (at shutdown)."""
    await _QUITTING.drain(timeout)


def _addr_spec(address: str) -> str:
    """The envelope wants ``a@example.jp``, not ``名前 <a@example.jp>`` (REGBOT_MAIL_FROM may be either)."""
    return parseaddr(address)[1] or address
