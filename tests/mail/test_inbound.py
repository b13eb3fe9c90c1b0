"""mail/inbound.py: the SMTP listener over a real loopback socket (aiosmtplib as the sending server)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import aiosmtplib
import pytest

from bot.config import Config
from bot.service import Service
from mail.channel import MailChannel
from mail.inbound import BotRecipients, SmtpListener
from storage import mail_threads
from tests.mail.mail_client import BOT, MailClient, Outbox, text_of

TARO = "taro@example.jp"
LIMIT = 64 * 1024


@pytest.fixture
def db_kind() -> str:
    """The listener does one INSERT; the database behaviour is covered in test_channel.py."""
    return "sqlite"


@pytest.fixture
async def listener(channel: MailChannel, config: Config) -> AsyncIterator[SmtpListener]:
    smtp = SmtpListener(
        channel, bot_address=config.mail_address, host="127.0.0.1", port=0, data_size_limit=LIMIT
    )
    await smtp.start()
    try:
        yield smtp
    finally:
        await smtp.stop()


async def deliver(listener: SmtpListener, raw: bytes, recipients: list[str], sender: str = TARO) -> None:
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=listener.port, start_tls=False, timeout=10
    ) as client:
        await client.sendmail(sender, recipients, raw)


async def inbox_size(channel: MailChannel) -> int:
    async with channel.service.db.read() as conn:
        return await mail_threads.inbox_size(conn)


async def poll(predicate: Callable[[], bool], *, timeout: float = 10.0, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("address", "accepted"),
    [
        ("register@localhost", True),
        ("Register@LOCALHOST", True),
        ("register+abc23@localhost", True),
        ("<register+abc@localhost>", True),
        ("someone@localhost", False),
        ("register@other.example", False),
        ("registerx@localhost", False),
        ("", False),
    ],
)
def test_bot_recipients(address: str, accepted: bool) -> None:
    assert (address in BotRecipients(BOT)) is accepted


async def test_the_session_only_stores_and_acknowledges(listener: SmtpListener, channel: MailChannel) -> None:
    """After the 250 the raw mail is in the inbox; no conversation exists until the channel processes it."""
    raw = MailClient(TARO).first_mail()
    await deliver(listener, raw, [BOT])
    assert await inbox_size(channel) == 1
    async with channel.service.db.read() as conn:
        [item] = await mail_threads.claim_inbound(conn, channel.service.clock(), channel.service.clock())
    assert item.raw == raw and item.envelope_sender == TARO and item.source == "smtp"


async def test_greeting_names_the_real_host(listener: SmtpListener) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", listener.port)
    try:
        banner = await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()
        await writer.wait_closed()
    assert banner.startswith(b"220 ") and socket.getfqdn().encode() in banner


async def test_a_foreign_recipient_is_refused_at_rcpt(listener: SmtpListener, channel: MailChannel) -> None:
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await deliver(listener, MailClient(TARO).first_mail(), ["postmaster@example.jp"])
    assert [r.code for r in refused.value.recipients] == [550]
    assert await inbox_size(channel) == 0


async def test_only_bot_recipients_of_a_mixed_envelope_are_accepted(listener: SmtpListener) -> None:
    async with aiosmtplib.SMTP(
        hostname="127.0.0.1", port=listener.port, start_tls=False, timeout=10
    ) as client:
        errors, _ = await client.sendmail(TARO, [BOT, "other@localhost"], MailClient(TARO).first_mail())
    assert {address: code for address, (code, _) in errors.items()} == {"other@localhost": 550}


async def test_oversize_mail_is_refused_with_552(listener: SmtpListener, channel: MailChannel) -> None:
    raw = MailClient(TARO, style="gmail").first_mail("x" * 70 + ("\n" + "y" * 70) * 1200)
    assert len(raw) > LIMIT
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await deliver(listener, raw, [BOT])
    assert refused.value.code == 552
    assert await inbox_size(channel) == 0


async def test_a_storage_failure_is_a_temporary_451(
    listener: SmtpListener, channel: MailChannel, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: object, **kwargs: object) -> int:
        raise OSError("disk full")

    monkeypatch.setattr(channel, "accept", broken)
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await deliver(listener, MailClient(TARO).first_mail(), [BOT])
    assert refused.value.code == 451


async def test_the_same_mail_twice_over_smtp_gets_one_answer(
    listener: SmtpListener, channel: MailChannel, config: Config
) -> None:
    """A sending server's retry after a lost 250 repeats the Message-ID: processed once."""
    raw = MailClient(TARO).first_mail()
    await deliver(listener, raw, [BOT])
    await deliver(listener, raw, [BOT])
    assert [o.action for o in await channel.drain()] == ["turn", "duplicate"]
    await channel.service.deliver_outbox()
    assert len(Outbox(config.outbox_dir).new()) == 1


async def test_serving_processes_mail_in_the_background_and_leftovers_after_a_restart(
    listener: SmtpListener, service: Service, config: Config
) -> None:
    """A mail stored before a stop is processed by the next run; a new one is answered while running."""
    outbox = Outbox(config.outbox_dir)
    await deliver(listener, MailClient(TARO).first_mail(), [BOT])  # stored, nobody processing yet

    channel = MailChannel(service, config)
    channel.register()
    stop = asyncio.Event()
    workers = [asyncio.create_task(channel.run(stop)), asyncio.create_task(service.outbox.run(stop))]
    try:
        found: list[object] = []

        def leftover_answered() -> bool:
            found.extend(outbox.new())
            return bool(found)

        await poll(leftover_answered, what="the answer to the leftover mail")
        await deliver(
            listener, MailClient("hanako@example.jp").first_mail(), [BOT], sender="hanako@example.jp"
        )
        later: list[object] = []

        def new_answered() -> bool:
            later.extend(outbox.new())
            return bool(later)

        await poll(new_answered, what="the answer to a new mail")
    finally:
        stop.set()
        await asyncio.gather(*workers)
    assert "hanako@example.jp" in str(later[0]["To"])  # type: ignore[index]
    assert "姓" in text_of(later[0])  # type: ignore[arg-type]


async def test_stop_closes_the_port(channel: MailChannel, config: Config, tmp_path: Path) -> None:
    smtp = SmtpListener(channel, bot_address=config.mail_address, host="127.0.0.1", port=0)
    await smtp.start()
    port = smtp.port
    await smtp.stop()
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)


async def test_no_address_reaches_the_logs_even_at_debug(
    listener: SmtpListener, channel: MailChannel, caplog: pytest.LogCaptureFixture
) -> None:
    """aiosmtpd logs senders and recipients at INFO: its logger is kept quiet."""
    with caplog.at_level(logging.DEBUG):
        await deliver(listener, MailClient(TARO).first_mail(), [BOT])
        await channel.drain()
    assert "taro@" not in caplog.text and "register@" not in caplog.text
    assert "inbox" in caplog.text  # our own lines, by id
