"""The IMAP reader: a mailbox read with aioimaplib and IDLE, when REGBOT_IMAP_URL is set (SPEC §5, §8).

One connection at a time: log in, select the folder, hand every mail not yet handed over to the channel
(`MailChannel.accept`: the same inbox and processing as SMTP), then IDLE until the server announces new mail
or `IDLE_SECONDS` pass (servers drop an IDLE after 30 minutes, RFC 2177, so it is renewed before 29).
Every network wait has a timeout; a lost or failed connection is retried with exponential back-off.

Where it got to is kept per mailbox in the database (``mail_cursors``: UIDVALIDITY and the last UID
handed over), so after a reconnect or a restart it catches up by UID: nothing missed, and a mail handed
over twice (a crash between storing and the cursor) is still processed once, by its Message-ID.  On the
very first run, or when the server's UIDVALIDITY changes, the unread (not ``\\Seen``) mail is taken.
Handed-over mail is flagged ``\\Seen``.  Mail over the size limit is handed over as its header only,
which is enough for one polite refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from aioimaplib import aioimaplib

from mail.inbound import MAX_MAIL_BYTES, InboundStore
from storage import mail_threads
from storage.db import Database

log = logging.getLogger(__name__)

# aioimaplib logs what it sends and receives (user names, whole mails) at DEBUG and stray lines at INFO.
logging.getLogger("aioimaplib.aioimaplib").setLevel(logging.WARNING)

IDLE_SECONDS = 25 * 60  # < 29 minutes (RFC 2177)
TIMEOUT_SECONDS = 30.0
BACKOFF_FIRST = 1.0
BACKOFF_MAX = 60.0


class ImapError(Exception):
    """The server said NO/BAD, or the connection went away: reconnect."""


@dataclass(frozen=True)
class ImapSettings:
    """REGBOT_IMAP_URL read: ``imaps://user:pass@host:993/INBOX`` (``imap://`` only for loopback tests).
    ``repr`` hides the password."""

    host: str
    port: int
    user: str
    password: str
    mailbox: str = "INBOX"
    tls: bool = True

    @classmethod
    def from_url(cls, url: str) -> ImapSettings:
        parts = urlsplit(url.strip())
        if parts.scheme not in ("imap", "imaps"):
            raise ValueError("REGBOT_IMAP_URL must start with imaps:// (or imap:// for tests)")
        if not parts.hostname or parts.username is None:
            raise ValueError("REGBOT_IMAP_URL needs a user and a host")
        tls = parts.scheme == "imaps"
        mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if tls else 143),
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            mailbox=mailbox,
            tls=tls,
        )

    @property
    def mailbox_id(self) -> str:
        """The key of this mailbox's cursor (a hash: the user name is an address)."""
        where = f"{self.user}@{self.host}:{self.port}/{self.mailbox}"
        return hashlib.sha256(where.encode("utf-8")).hexdigest()

    def __repr__(self) -> str:
        scheme = "imaps" if self.tls else "imap"
        return f"ImapSettings('{scheme}://***@{self.host}:{self.port}/{self.mailbox}')"


class ImapReader:
    def __init__(
        self,
        store: InboundStore,
        db: Database,
        settings: ImapSettings,
        *,
        clock: Callable[[], datetime],
        idle_seconds: float = IDLE_SECONDS,
        timeout: float = TIMEOUT_SECONDS,
        backoff_first: float = BACKOFF_FIRST,
        backoff_max: float = BACKOFF_MAX,
        max_bytes: int = MAX_MAIL_BYTES,
    ) -> None:
        self.store = store
        self.db = db
        self.settings = settings
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.timeout = timeout
        self.backoff_first = backoff_first
        self.backoff_max = backoff_max
        self.max_bytes = max_bytes
        self.connected = asyncio.Event()  # set while a session is selected (tests wait on it)
        self.sessions = 0  # how many sessions were opened (tests: a reconnect happened)
        self.idles = 0  # how many IDLE commands were started
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ---------------------------------------------------------------------------------- running

    def start(self) -> None:
        self._stop.clear()
        self._task = asyncio.create_task(self.run(), name="imap-reader")

    async def stop(self) -> None:
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=self.timeout)
            except TimeoutError:
                log.warning("imap: the reader did not stop in time")

    async def run(self) -> None:
        """Sessions until stopped; after a failure wait (1 s, 2 s, 4 s … at most a minute) and reconnect."""
        delay = self.backoff_first
        while not self._stop.is_set():
            started = asyncio.get_running_loop().time()
            try:
                await self._session()
            except Exception as exc:  # every failure of a session means: reconnect later
                log.warning("imap: session ended (%s); reconnecting in %.0fs", type(exc).__name__, delay)
            finally:
                self.connected.clear()
            if self._stop.is_set():
                break
            if asyncio.get_running_loop().time() - started > self.backoff_max:
                delay = self.backoff_first  # it ran a good while: a fresh failure, not a failing server
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=delay)
            delay = min(delay * 2, self.backoff_max)
        log.info("imap reader stopped")

    async def _session(self) -> None:
        lost = asyncio.Event()
        settings = self.settings
        client = aioimaplib.IMAP4(
            host=settings.host,
            port=settings.port,
            timeout=self.timeout,
            conn_lost_cb=lambda _exc: lost.set(),
            ssl_context=ssl.create_default_context() if settings.tls else None,
        )
        try:
            await client.wait_hello_from_server()
            _check(await client.login(settings.user, settings.password), "LOGIN")
            selected = _check(await client.select(settings.mailbox), "SELECT")
            uid_validity = _response_code(selected, b"UIDVALIDITY")
            uid_next = _response_code(selected, b"UIDNEXT")
            if uid_validity is None:
                raise ImapError("SELECT gave no UIDVALIDITY")
            self.sessions += 1
            self.connected.set()
            log.info("imap: connected, folder selected")
            await self._catch_up(client, uid_validity, uid_next)
            while not self._stop.is_set():
                # Also after a plain renewal: new mail announced while a FETCH or STORE was running comes
                # in that command's response, which aioimaplib drops; one SEARCH finds it.
                await self._idle(client, lost)
                if not self._stop.is_set():
                    await self._catch_up(client, uid_validity, None)
        finally:
            await self._close(client, lost)

    async def _idle(self, client: aioimaplib.IMAP4, lost: asyncio.Event) -> bool:
        """One IDLE: True when the server announced something (new mail), False when it timed out."""
        if lost.is_set():
            raise ImapError("connection lost")
        idle = await asyncio.wait_for(client.idle_start(timeout=self.idle_seconds), self.timeout)
        self.idles += 1
        push = asyncio.create_task(client.wait_server_push(timeout=self.idle_seconds + self.timeout))
        waits = [push, asyncio.create_task(lost.wait()), asyncio.create_task(self._stop.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waits[1:]:
                waiter.cancel()
        if lost.is_set():
            push.cancel()
            raise ImapError("connection lost during IDLE")
        if not push.done():  # stopping
            push.cancel()
            client.idle_done()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(idle, self.timeout)
            return False
        lines = push.result()  # raises TimeoutError when the server went silent: reconnect
        if client.has_pending_idle():
            client.idle_done()
        _check(await asyncio.wait_for(idle, self.timeout), "IDLE")
        if isinstance(lines, list) and any(b"BYE" in bytes(line) for line in lines):
            raise ImapError("server said BYE")
        return bool(lines != aioimaplib.STOP_WAIT_SERVER_PUSH)

    async def _close(self, client: aioimaplib.IMAP4, lost: asyncio.Event) -> None:
        if not lost.is_set():
            with contextlib.suppress(Exception):
                if client.has_pending_idle():
                    client.idle_done()
                await asyncio.wait_for(client.logout(), self.timeout)
        with contextlib.suppress(Exception):
            transport = client.protocol.transport
            if transport is not None:
                transport.close()

    # ---------------------------------------------------------------------------------- catching up

    async def _catch_up(self, client: aioimaplib.IMAP4, uid_validity: int, uid_next: int | None) -> None:
        """Hand over mail until a search finds none left, so mail that arrived while handing over (its
        announcement lost in a FETCH response) is not left waiting for the next IDLE renewal."""
        for _ in range(100):
            if not await self._catch_up_once(client, uid_validity, uid_next):
                return
            uid_next = None

    async def _catch_up_once(self, client: aioimaplib.IMAP4, uid_validity: int, uid_next: int | None) -> int:
        """Hand over every mail after the cursor (or, without a usable cursor, every unread one)."""
        async with self.db.read() as conn:
            cursor = await mail_threads.get_cursor(conn, self.settings.mailbox_id)
        fresh = cursor is None or cursor[0] != uid_validity
        if not fresh:
            assert cursor is not None
            last = cursor[1]
            uids = [uid for uid in await self._search(client, "UID", f"{last + 1}:*") if uid > last]
        else:
            if cursor is not None:
                log.warning("imap: UIDVALIDITY changed; taking the unread mail")
            uids = await self._search(client, "UNSEEN")
        for uid in uids:
            await self._hand_over(client, uid)
            await self._save_cursor(uid_validity, uid)
            _check(await client.uid("store", str(uid), r"+FLAGS.SILENT (\Seen)"), "STORE")
        if fresh:
            # Read mail below UIDNEXT was there before the bot: the cursor starts after all of it.
            await self._save_cursor(uid_validity, max([*uids, (uid_next or 1) - 1, 0]))
        if uids:
            log.info("imap: %d mail(s) handed over", len(uids))
        return len(uids)

    async def _search(self, client: aioimaplib.IMAP4, *criteria: str) -> list[int]:
        response = _check(await client.uid_search(*criteria, charset=None), "SEARCH")
        uids: list[int] = []
        for line in response.lines[:-1]:
            uids.extend(int(word) for word in bytes(line).split() if word.isdigit())
        return sorted(set(uids))

    async def _hand_over(self, client: aioimaplib.IMAP4, uid: int) -> None:
        sized = _check(await client.uid("fetch", str(uid), "(UID RFC822.SIZE)"), "FETCH")
        size = _fetched_size(sized)
        if size is None:
            return  # expunged meanwhile
        oversize = size > self.max_bytes
        part = "BODY.PEEK[HEADER]" if oversize else "BODY.PEEK[]"
        fetched = _check(await client.uid("fetch", str(uid), f"(UID {part})"), "FETCH")
        raw = _literal(fetched)
        if raw is None:
            return
        await self.store.accept(raw, envelope_sender=None, source="imap", oversize=oversize)

    async def _save_cursor(self, uid_validity: int, last_uid: int) -> None:
        async with self.db.transaction() as conn:
            await mail_threads.save_cursor(
                conn, self.settings.mailbox_id, uid_validity, last_uid, self.clock()
            )


def _check(response: Any, command: str) -> Any:
    if getattr(response, "result", None) != "OK":
        raise ImapError(f"{command} failed: {getattr(response, 'result', '?')}")
    return response


def _response_code(response: Any, name: bytes) -> int | None:
    for line in response.lines:
        match = re.search(rb"\[" + name + rb" (\d+)\]", bytes(line))
        if match:
            return int(match.group(1))
    return None


def _fetched_size(response: Any) -> int | None:
    for line in response.lines:
        match = re.search(rb"RFC822\.SIZE (\d+)", bytes(line))
        if match:
            return int(match.group(1))
    return None


def _literal(response: Any) -> bytes | None:
    for line in response.lines:
        if isinstance(line, bytearray):
            return bytes(line)
    return None
