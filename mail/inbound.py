"""The SMTP listener: aiosmtpd on REGBOT_SMTP_HOST:PORT, in the bot's own event loop (SPEC §5, §8, §9).

Like aiosmtpd's ``Controller`` it serves `aiosmtpd.smtp.SMTP` sessions on a TCP socket, but on the running
loop rather than a thread of its own, so the handler can write to the same database engine.  The handler
implements only the hooks it needs:

- ``RCPT``: only the bot's address and its ``+key`` forms are accepted; anything else is ``550`` at once,
  so the bot is never an open relay and a sending server learns of a typo immediately;
- ``DATA``: the raw bytes (``decode_data=False``) are stored with one INSERT (`MailChannel.accept`) and
  acknowledged.  Parsing and the conversation happen later in the channel's task.  A failed INSERT is a
  ``451`` (try again later), never a lost mail.

Mail over `MAX_MAIL_BYTES` gets aiosmtpd's ``552`` (announced in EHLO as ``SIZE``), so the
sending server returns it to the sender with that reason.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, Protocol

from aiosmtpd.smtp import SMTP, Envelope, Session

from mail.parse import split_address

log = logging.getLogger(__name__)

# aiosmtpd logs every command line, sender and recipient address at INFO (and the data at DEBUG) on the
# "mail.log" logger.  Logs must never carry addresses (SPEC §7), whatever the root logger's level.
logging.getLogger("mail.log").setLevel(logging.WARNING)

MAX_MAIL_BYTES = 10 * 1024 * 1024


class InboundStore(Protocol):
    async def accept(
        self, raw: bytes, *, envelope_sender: str | None, source: str, oversize: bool = False
    ) -> int: ...


class BotRecipients:
    """Which envelope recipients are the bot: ``register@domain`` and ``register+anything@domain``."""

    def __init__(self, bot_address: str) -> None:
        self.local, self.domain = split_address(bot_address)

    def __contains__(self, address: object) -> bool:
        if not isinstance(address, str):
            return False
        local, _, domain = address.strip().strip("<>").rpartition("@")
        return domain.lower() == self.domain and local.partition("+")[0].lower() == self.local


class InboundHandler:
    """aiosmtpd handler hooks: check recipients, store the raw mail, acknowledge."""

    def __init__(self, store: InboundStore, bot_address: str) -> None:
        self.store = store
        self.recipients = BotRecipients(bot_address)

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if address not in self.recipients:
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        if not isinstance(raw, bytes | bytearray):
            return "554 5.6.0 No message content"
        try:
            inbox_id = await self.store.accept(bytes(raw), envelope_sender=envelope.mail_from, source="smtp")
        except Exception as exc:  # the database is away: the sending server keeps the mail and retries
            log.error("smtp: storing a mail failed (%s)", type(exc).__name__)
            return "451 4.3.0 Temporary failure, please try again later"
        log.info("smtp: mail stored as inbox %d", inbox_id)
        return "250 2.0.0 OK: queued"


class SmtpListener:
    """The listening socket and its sessions; `start` binds (port 0 picks a free one), `stop` closes."""

    def __init__(
        self,
        store: InboundStore,
        *,
        bot_address: str,
        host: str,
        port: int,
        data_size_limit: int = MAX_MAIL_BYTES,
        hostname: str | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.handler = InboundHandler(store, bot_address)
        self.host = host
        self.port = port
        self.data_size_limit = data_size_limit
        self.hostname = hostname or socket.getfqdn()
        self.timeout = timeout
        self._server: asyncio.AbstractServer | None = None

    def _session(self) -> SMTP:
        return SMTP(
            self.handler,
            data_size_limit=self.data_size_limit,
            enable_SMTPUTF8=True,
            decode_data=False,
            hostname=self.hostname,
            ident="regbot",
            timeout=self.timeout,
            loop=asyncio.get_running_loop(),
        )

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._session, host=self.host, port=self.port)
        sockets: Any = self._server.sockets
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        log.info("smtp listening on %s:%d", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=5)
        except TimeoutError:  # a session still open: its client will retry; the socket is closed
            log.info("smtp: sessions still open at stop")
        log.info("smtp listener stopped")
