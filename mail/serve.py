"""Serving the email channel under `regbot serve`: the SMTP listener, the IMAP reader and the processing
task around one channel (`mail.channel.MailChannel`), and how to stop them again.

`mail.channel.start_email_channel` builds the channel and hands it here.  The channel is taken as the
`MailIntake` protocol (what the listeners store mail into and what processes it), not by its class, so
this module does not import `mail.channel`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.config import Config
from bot.leader import Leadership
from bot.service import Service
from mail.imap import ImapReader, ImapSettings
from mail.inbound import InboundStore, SmtpListener

log = logging.getLogger(__name__)


class MailIntake(InboundStore, Protocol):
    async def run(self, stop: asyncio.Event) -> None: ...


async def serve_channel(
    channel: MailIntake,
    service: Service,
    config: Config,
    leadership: Leadership | None,
    *,
    stop_seconds: float,
) -> Callable[[], Awaitable[None]]:
    """Start the SMTP listener on REGBOT_SMTP_HOST:PORT, the IMAP reader when REGBOT_IMAP_URL is set, and
    ``channel.run``.  Returns how to stop all of it: listeners first, then processing, which is waited
    for up to ``stop_seconds``.

    With ``leadership`` the IMAP reader is one of the leader's duties: of several processes on one
    PostgreSQL only one reads the mailbox (`bot.leader`); every process listens for SMTP."""
    listener = SmtpListener(
        channel, bot_address=config.mail_address, host=config.smtp_host, port=config.smtp_port
    )
    await listener.start()
    reader: ImapReader | None = None
    if config.imap_url:
        settings = ImapSettings.from_url(config.imap_url.reveal())
        imap = ImapReader(channel, service.db, settings, clock=service.clock)
        if leadership is None:
            reader = imap
            reader.start()
            log.info("imap reader started for %r", settings)
        else:

            async def start_reader() -> Callable[[], Awaitable[None]]:
                imap.start()
                log.info("imap reader started for %r", settings)
                return imap.stop

            leadership.add("imap reader", start_reader)
    stop = asyncio.Event()
    worker = asyncio.create_task(channel.run(stop), name="mail-inbox")

    async def stop_email_channel() -> None:
        await listener.stop()
        if reader is not None:
            await reader.stop()
        stop.set()
        try:
            await asyncio.wait_for(worker, timeout=stop_seconds)
        except TimeoutError:
            log.warning("mail processing did not stop in time; stored mail is processed at the next start")

    return stop_email_channel
