"""mail/imap.py against a real Dovecot (tests/dovecot.py): IDLE, catching up by UID, reconnecting."""

from __future__ import annotations

import asyncio
import imaplib
import os
import pwd
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import aiosmtplib
import pytest

from bot.config import Config, load_config
from bot.service import Service
from mail.channel import MailChannel, Outcome, start_email_channel
from mail.imap import IDLE_SECONDS, ImapReader, ImapSettings
from mail.inbound import MAX_MAIL_BYTES
from storage import mail_threads
from tests.dovecot import DovecotServer, ensure_dovecot
from tests.mail.mail_client import MailClient, Outbox, empty_mail_tables, text_of
from tests.services import ServiceUnavailable, free_port, unavailable

pytestmark = pytest.mark.dovecot
TARO = "taro@example.jp"


@pytest.fixture(scope="module")
def dovecot() -> Iterator[DovecotServer]:
    try:
        server = ensure_dovecot()
    except ServiceUnavailable as exc:
        unavailable("Dovecot", exc)
    try:
        yield server
    finally:
        server.remove()


@pytest.fixture
def db_kind() -> str:
    return "sqlite"


@pytest.fixture
def folder(dovecot: DovecotServer) -> str:
    """A folder of this test's own, so tests never see each other's mail."""
    name = "t" + uuid.uuid4().hex[:12]
    with _imap(dovecot) as client:
        assert client.create(name)[0] == "OK"
    return name


def _reader(
    channel: MailChannel,
    dovecot: DovecotServer,
    folder: str,
    *,
    idle_seconds: float = IDLE_SECONDS,
    max_bytes: int = MAX_MAIL_BYTES,
) -> ImapReader:
    settings = ImapSettings(dovecot.host, dovecot.port, dovecot.user, dovecot.password, folder, tls=False)
    return ImapReader(
        channel,
        channel.service.db,
        settings,
        clock=channel.service.clock,
        idle_seconds=idle_seconds,
        timeout=5.0,
        backoff_first=0.05,
        backoff_max=0.5,
        max_bytes=max_bytes,
    )


@pytest.fixture
async def reader(channel: MailChannel, dovecot: DovecotServer, folder: str) -> AsyncIterator[ImapReader]:
    imap = _reader(channel, dovecot, folder)
    imap.start()
    try:
        await poll(imap.connected.is_set, what="the reader to connect")
        yield imap
    finally:
        await imap.stop()


class _Imap:
    def __init__(self, server: DovecotServer) -> None:
        self.client = imaplib.IMAP4(server.host, server.port, timeout=10)
        self.client.login(server.user, server.password)

    def __enter__(self) -> imaplib.IMAP4:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.logout()


def _imap(server: DovecotServer) -> _Imap:
    return _Imap(server)


async def append(dovecot: DovecotServer, folder: str, raw: bytes, *, seen: bool = False) -> None:
    """A mail arrives in the mailbox (IMAP APPEND, as a delivery agent would store it)."""

    def run() -> None:
        with _imap(dovecot) as client:
            assert client.append(folder, r"(\Seen)" if seen else None, None, raw)[0] == "OK"

    await asyncio.to_thread(run)


def flags(dovecot: DovecotServer, folder: str) -> list[bytes]:
    with _imap(dovecot) as client:
        client.select(folder)
        _, data = client.uid("fetch", "1:*", "(FLAGS)")
    return [item for item in data if isinstance(item, bytes)]


async def poll(predicate: Callable[[], bool], *, timeout: float = 15.0, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


async def collect(channel: MailChannel, count: int, *, what: str) -> list[Outcome]:
    """Process stored mail until ``count`` outcomes arrived (the reader stores asynchronously)."""
    outcomes: list[Outcome] = []
    deadline = time.monotonic() + 15
    while len(outcomes) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}: {outcomes}")
        outcomes.extend(await channel.drain())
        await asyncio.sleep(0.02)
    return outcomes


def _first_mail(address: str = TARO) -> bytes:
    return MailClient(address, style="japanese").first_mail()


async def test_a_new_mail_is_picked_up_by_idle_answered_and_flagged_seen(
    reader: ImapReader, channel: MailChannel, dovecot: DovecotServer, folder: str, config: Config
) -> None:
    await append(dovecot, folder, _first_mail())
    assert [o.action for o in await collect(channel, 1, what="the mail via IDLE")] == ["turn"]
    await channel.service.deliver_outbox()
    [answer] = Outbox(config.outbox_dir).new()
    assert answer["To"] == TARO and "姓" in text_of(answer)
    await poll(lambda: all(b"\\Seen" in line for line in flags(dovecot, folder)), what="\\Seen")
    assert reader.sessions == 1


async def test_idle_is_renewed_and_mail_still_arrives(
    channel: MailChannel, dovecot: DovecotServer, folder: str
) -> None:
    """IDLE is ended and restarted before the server's limit; the same session keeps working."""
    imap = _reader(channel, dovecot, folder, idle_seconds=0.2)
    imap.start()
    try:
        await poll(imap.connected.is_set, what="the reader to connect")
        await poll(lambda: imap.idles >= 3, what="three IDLE renewals")
        await append(dovecot, folder, _first_mail())
        assert [o.action for o in await collect(channel, 1, what="the mail")] == ["turn"]
        assert imap.sessions == 1
    finally:
        await imap.stop()


async def test_a_restart_mid_idle_reconnects_and_nothing_is_missed_or_doubled(
    reader: ImapReader, channel: MailChannel, dovecot: DovecotServer, folder: str
) -> None:
    """Dovecot goes down while the reader idles; mail delivered meanwhile (straight into the Maildir) and
    after it comes back is handed over exactly once."""
    await append(dovecot, folder, _first_mail("before@example.jp"))
    assert len(await collect(channel, 1, what="the mail before the restart")) == 1

    await asyncio.to_thread(dovecot.stop)
    await poll(lambda: not reader.connected.is_set(), what="the reader to notice")
    _deliver_to_maildir(dovecot, folder, _first_mail("down1@example.jp"))
    _deliver_to_maildir(dovecot, folder, _first_mail("down2@example.jp"))
    await asyncio.to_thread(dovecot.start)

    await poll(lambda: reader.sessions >= 2 and reader.connected.is_set(), what="the reconnect")
    await append(dovecot, folder, _first_mail("after@example.jp"))
    outcomes = await collect(channel, 3, what="the caught-up mail")
    assert [o.action for o in outcomes] == ["turn", "turn", "turn"]
    async with channel.service.db.read() as conn:
        assert await mail_threads.inbox_size(conn) == 0
    assert await channel.drain() == []  # nothing handed over twice
    assert all(b"\\Seen" in line for line in flags(dovecot, folder))


async def test_the_first_run_takes_unread_mail_only(
    channel: MailChannel, dovecot: DovecotServer, folder: str
) -> None:
    """Mail read before the bot was connected to the mailbox is history, not registrations."""
    await append(dovecot, folder, _first_mail("old@example.jp"), seen=True)
    await append(dovecot, folder, _first_mail("new@example.jp"))
    imap = _reader(channel, dovecot, folder)
    imap.start()
    try:
        outcomes = await collect(channel, 1, what="the unread mail")
    finally:
        await imap.stop()
    assert len(outcomes) == 1
    assert await channel.drain() == []


async def test_the_same_mail_by_smtp_and_by_imap_is_processed_once(
    reader: ImapReader, channel: MailChannel, dovecot: DovecotServer, folder: str, config: Config
) -> None:
    raw = _first_mail()
    await channel.accept(raw, envelope_sender=TARO, source="smtp")
    await append(dovecot, folder, raw)
    outcomes = await collect(channel, 2, what="both copies")
    assert sorted(o.action for o in outcomes) == ["duplicate", "turn"]
    await channel.service.deliver_outbox()
    assert len(Outbox(config.outbox_dir).new()) == 1


async def test_oversize_mail_is_fetched_as_its_header_and_refused_once(
    channel: MailChannel, dovecot: DovecotServer, folder: str, config: Config
) -> None:
    imap = _reader(channel, dovecot, folder, max_bytes=2000)
    await append(dovecot, folder, MailClient(TARO, style="gmail").first_mail("x" * 70 + "\ny" * 4000))
    imap.start()
    try:
        assert [o.action for o in await collect(channel, 1, what="the oversize mail")] == ["oversize"]
    finally:
        await imap.stop()
    await channel.service.deliver_outbox()
    [refusal] = Outbox(config.outbox_dir).new()
    assert refusal["To"] == TARO


def test_settings_from_url_hide_the_password() -> None:
    settings = ImapSettings.from_url("imaps://bot%40example.jp:s%3Acret@mail.example.jp/Registrations")
    assert (settings.user, settings.password, settings.port, settings.mailbox, settings.tls) == (
        "bot@example.jp",
        "s:cret",
        993,
        "Registrations",
        True,
    )
    assert "s:cret" not in repr(settings) and "bot@" not in repr(settings)
    assert ImapSettings.from_url("imap://u:p@127.0.0.1:1143").mailbox == "INBOX"
    with pytest.raises(ValueError):
        ImapSettings.from_url("http://u:p@host/")


def _deliver_to_maildir(dovecot: DovecotServer, folder: str, raw: bytes) -> None:
    """What a delivery agent does while the IMAP server is down: a file in the folder's Maildir new/."""
    maildir = dovecot.root / "home" / dovecot.user / "Maildir" / f".{folder}"
    owner = Path(maildir).stat()
    name = f"{time.time_ns()}.{uuid.uuid4().hex}.regbot-test"
    temporary, final = maildir / "tmp" / name, maildir / "new" / name
    temporary.write_bytes(raw)
    if os.geteuid() == 0:
        os.chown(temporary, owner.st_uid, owner.st_gid)
    os.replace(temporary, final)
    assert pwd.getpwuid(final.stat().st_uid)  # readable by the mail user


async def test_the_serve_starter_runs_smtp_and_imap_and_stops_cleanly(
    service: Service, dovecot: DovecotServer, folder: str, tmp_path: Path
) -> None:
    """`start_email_channel`: SMTP always, IMAP when configured, both feeding one processing task; the
    returned stopper closes the port and ends the reader."""
    await empty_mail_tables(service.db)
    port = free_port()
    config = load_config(
        {
            "REGBOT_DATABASE_URL": service.config.database_url,
            "REGBOT_OUTBOX_DIR": str(tmp_path / "serve-outbox"),
            "REGBOT_SMTP_PORT": str(port),
            "REGBOT_IMAP_URL": f"imap://{dovecot.user}:{dovecot.password}@{dovecot.host}:{dovecot.port}/{folder}",
        }
    )
    served = await Service.open(config, clock=service.clock, migrate=False)
    stop_outbox = asyncio.Event()
    delivering = asyncio.create_task(served.outbox.run(stop_outbox))
    stop = await start_email_channel(served, config)
    outbox = Outbox(config.outbox_dir)
    try:
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=10) as client:
            await client.sendmail(TARO, ["register@localhost"], _first_mail())
        await append(dovecot, folder, _first_mail("hanako@example.jp"))
        answers: list[object] = []

        def both_answered() -> bool:
            answers.extend(outbox.new())
            return len(answers) >= 2

        await poll(both_answered, what="answers by SMTP and IMAP")
        assert sorted(str(m["To"]) for m in answers) == ["hanako@example.jp", TARO]  # type: ignore[index]
    finally:
        await stop()
        stop_outbox.set()
        await delivering
        await served.close()
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
