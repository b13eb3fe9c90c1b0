"""Outbox delivery: a real SMTP relay (aiosmtpd) that is down then up, back-off, giving up, deliverers
per kind and channel, and logs without personal data."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from bot.config import Config
from bot.outbox import decode_reply
from bot.passwords import Passwords
from bot.service import Service
from conversations.types import Start, Text
from mail.deliver import DeliveryError, deliverer_from_settings
from storage import outbox
from storage.outbox import OutboxItem
from tests.conftest import EMAIL, PASSWORD, FakeClock, fill_in, token_in
from tests.services import free_port


@dataclass
class Relay:
    """An SMTP relay on loopback that keeps what it receives."""

    port: int
    received: list[Envelope] = field(default_factory=list)
    controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.received.append(envelope)
        return "250 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def relay() -> Iterator[Relay]:
    relay = Relay(port=free_port())
    yield relay
    relay.stop()


async def _statuses(service: Service) -> dict[str, int]:
    async with service.db.read() as conn:
        return await outbox.status_counts(conn)


async def test_relay_down_then_up_delivers_once(config: Config, clock: FakeClock, relay: Relay) -> None:
    """While the relay is down the mail waits (back-off); once it is up the mail arrives exactly once."""
    mailer = deliverer_from_settings(f"smtp://127.0.0.1:{relay.port}", config.outbox_dir)
    service = await Service.open(config, clock=clock, mail=mailer, passwords=Passwords.cheap(), migrate=False)
    try:
        await fill_in(service)
        assert await service.deliver_outbox() == []  # connection refused: retry in 30 s
        relay.start()
        assert await service.deliver_outbox() == []  # not due yet
        clock.advance(seconds=31)
        (delivery,) = await service.deliver_outbox()
        assert (delivery.kind, delivery.location) == ("verification_mail", None)
        clock.advance(hours=1)
        assert await service.deliver_outbox() == []
        assert len(relay.received) == 1
        assert relay.received[0].rcpt_tos == [EMAIL]
        assert await _statuses(service) == {"delivered": 1}
    finally:
        await service.close()


class Flaky:
    """A deliverer that fails ``failures`` times (transiently, or for good) and then works."""

    def __init__(self, failures: int, *, permanent: bool = False, crash: bool = False) -> None:
        self.failures = failures
        self.permanent = permanent
        self.crash = crash
        self.calls: list[OutboxItem] = []

    async def deliver(self, item: OutboxItem) -> str | None:
        self.calls.append(item)
        if len(self.calls) <= self.failures:
            if self.crash:
                raise RuntimeError(f"bug while sending to {item.recipient}")
            raise DeliveryError("relay refused the mail: 550", permanent=self.permanent)
        return None


async def test_back_off_doubles_and_gives_up_after_max_attempts(service: Service, clock: FakeClock) -> None:
    """Retries wait 30 s, 60 s, 120 s …; after REGBOT_OUTBOX_MAX_ATTEMPTS the row is failed."""
    flaky = Flaky(failures=100)
    service.register_deliverer("helpdesk", flaky)
    await service.handle("console", "s1", Start(channel="console"))
    await service.handle("console", "s1", Text("担当者"))
    waits = []
    for _ in range(service.config.outbox_max_attempts):
        await service.deliver_outbox()
        async with service.db.read() as conn:
            due = await outbox.next_due(conn, service.outbox.routes)
        if due is None:
            break
        waits.append((due - clock()).total_seconds())
        clock.advance(seconds=waits[-1])
    assert waits[:3] == [30, 60, 120]
    assert len(flaky.calls) == service.config.outbox_max_attempts
    assert await _statuses(service) == {"failed": 1}


async def test_a_permanent_error_fails_at_once(service: Service) -> None:
    """A 5xx refusal is not retried."""
    flaky = Flaky(failures=1, permanent=True)
    service.register_deliverer("helpdesk", flaky)
    await service.handle("console", "s1", Start(channel="console"))
    await service.handle("console", "s1", Text("担当者"))
    assert await service.deliver_outbox() == []
    assert await _statuses(service) == {"failed": 1}


async def test_a_crashing_deliverer_is_retried_and_logs_no_personal_data(
    service: Service, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception in a deliverer does not stop delivery; the log names only ids."""
    caplog.set_level(logging.DEBUG)
    flaky = Flaky(failures=1, crash=True)
    service.register_deliverer("reply", flaky, channel="slack")
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    assert await service.deliver_outbox() == []
    clock.advance(seconds=30)
    (delivery,) = await service.deliver_outbox()
    assert delivery.kind == "reply"
    assert decode_reply(flaky.calls[-1].payload["reply"]).awaiting == "family_name"  # type: ignore[index]
    assert "D1" not in caplog.text and "RuntimeError" in caplog.text


async def test_rows_without_a_deliverer_stay_queued(service: Service) -> None:
    """Slack replies wait in the outbox until a Slack deliverer is registered."""
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    assert await service.deliver_outbox() == []
    assert await _statuses(service) == {"queued": 1}


async def test_no_personal_value_reaches_the_logs(service: Service, caplog: pytest.LogCaptureFixture) -> None:
    """A whole registration, completion included, logs ids only: no name, address, password or token."""
    caplog.set_level(logging.DEBUG)
    await fill_in(service)
    (mail,) = await service.deliver_outbox()
    token = token_in(mail.location)
    await service.verification.inspect(token)
    await service.verification.complete(token, None, None)
    await service.deliver_outbox()
    for secret in ("基金", "太郎", EMAIL, PASSWORD, token, "0312345678", "0113719"):
        assert secret not in caplog.text


class Counting:
    """Counts what it is asked to deliver, yielding to the loop so claimers interleave."""

    def __init__(self, seen: list[int]) -> None:
        self.seen = seen

    async def deliver(self, item: OutboxItem) -> str | None:
        await asyncio.sleep(0.001)
        self.seen.append(item.id)
        return None


async def test_two_deliverers_never_send_one_row_twice(config: Config, clock: FakeClock) -> None:
    """Two processes' delivery loops (two connection pools) racing over 40 rows: each row sent once
    (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: claims serialised by the write lock)."""
    services = [
        await Service.open(config, clock=clock, passwords=Passwords.cheap(), migrate=False) for _ in range(2)
    ]
    seen: list[int] = []
    try:
        for service in services:
            service.register_deliverer("helpdesk", Counting(seen))
        async with services[0].db.transaction() as conn:
            for _ in range(40):
                await outbox.enqueue(conn, kind="helpdesk", recipient="C1", now=clock(), payload={})
        results = await asyncio.gather(*(service.deliver_outbox() for service in services))
    finally:
        for service in services:
            await service.close()
    assert sorted(seen) == sorted(set(seen)) and len(seen) == 40
    assert sum(len(result) for result in results) == 40
