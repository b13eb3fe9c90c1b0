"""A turn's replies are claimed in the turn's own transaction and sent straight after its commit, without
the delivery loop (bench/NOTES.md) — but never out of order, never twice, and never lost."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from bot.outbox import decode_reply
from bot.service import Service
from conversations.types import Start, Text
from mail.deliver import DeliveryError
from storage import conversations, outbox
from storage.outbox import OutboxItem
from tests.conftest import FakeClock


class Recording:
    """A reply deliverer that records row ids; fails the first ``failures`` calls; waits for ``gate``."""

    def __init__(self, failures: int = 0, gate: asyncio.Event | None = None) -> None:
        self.calls: list[int] = []
        self.failures = failures
        self.gate = gate

    async def deliver(self, item: OutboxItem) -> str | None:
        self.calls.append(item.id)
        if self.gate is not None:
            await self.gate.wait()
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("slack ratelimited", permanent=False)
        return None


async def _statuses(service: Service) -> dict[str, int]:
    async with service.db.read() as conn:
        return await outbox.status_counts(conn)


async def test_a_turns_reply_is_sent_after_its_commit_without_the_loop(service: Service) -> None:
    slack = Recording()
    service.register_deliverer("reply", slack, channel="slack")
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    (delivery,) = await service.outbox.sent_claimed()  # the loop never ran
    assert (delivery.kind, delivery.conversation_id is not None) == ("reply", True)
    assert slack.calls == [delivery.outbox_id]
    assert await _statuses(service) == {"delivered": 1}


async def test_replies_wait_behind_an_earlier_queued_row_and_leave_in_order(
    service: Service, clock: FakeClock
) -> None:
    """The first reply fails (back-off); the next turn's reply is not sent past it, but after it."""
    slack = Recording(failures=1)
    service.register_deliverer("reply", slack, channel="slack")
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    assert await service.outbox.sent_claimed() == []
    await service.handle("slack", "D1", Text("基金"), message_id="Ev2")
    assert await service.outbox.sent_claimed() == []
    assert len(slack.calls) == 1  # the second reply was left to the loop, behind the first
    assert await service.deliver_outbox() == []  # the first is in back-off, the second waits for it
    clock.advance(seconds=31)
    deliveries = await service.deliver_outbox()
    first = slack.calls[0]
    assert [d.outbox_id for d in deliveries] == [first, first + 1]
    assert slack.calls == [first, first, first + 1]
    assert await _statuses(service) == {"delivered": 2}


async def test_a_failed_send_releases_the_rest_of_its_turn_behind_it(
    service: Service, clock: FakeClock
) -> None:
    """Two rows claimed at one commit: if the first cannot be sent, the second is not sent before it,
    and both leave in order once the first goes through."""
    slack = Recording(failures=1)
    service.register_deliverer("reply", slack, channel="slack")
    now = clock()
    items = []
    async with service.db.transaction() as conn:
        conversation = await conversations.create(conn, "slack", "D1", {"phase": "new"}, now)
        for text in ("one", "two"):
            payload: dict[str, Any] = {"reply": {"lines": [], "text": text}}
            outbox_id = await outbox.enqueue(
                conn,
                kind="reply",
                channel="slack",
                recipient="D1",
                now=now,
                conversation_id=conversation.id,
                payload=payload,
                claimed_until=now + service.outbox.claim_lease,
            )
            items.append(OutboxItem(outbox_id, conversation.id, "reply", "slack", "D1", payload, None, 1))
    service.outbox.send_claimed(items)
    assert await service.outbox.sent_claimed() == []
    rows = [item.id for item in items]
    assert slack.calls == [rows[0]]
    assert await service.deliver_outbox() == []  # the first in back-off, the second behind it
    clock.advance(seconds=31)
    deliveries = await service.deliver_outbox()
    assert [d.outbox_id for d in deliveries] == rows
    assert slack.calls == [rows[0], *rows]


async def test_rows_claimed_by_a_process_that_died_are_sent_after_the_short_lease(
    service: Service, clock: FakeClock, config: object
) -> None:
    """The process dies between the commit and the send: the rows are leased briefly, then any process
    sends them — once."""
    died = Recording()
    service.register_deliverer("reply", died, channel="slack")

    def dies_before_sending(items: Sequence[OutboxItem]) -> None:
        return None

    service.outbox.send_claimed = dies_before_sending  # type: ignore[method-assign]
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    restarted = Recording()
    service.register_deliverer("reply", restarted, channel="slack")
    assert await service.deliver_outbox() == []  # still leased to the dead sender
    clock.advance(seconds=service.outbox.claim_lease.total_seconds() + 1)
    (delivery,) = await service.deliver_outbox()
    assert restarted.calls == [delivery.outbox_id] and died.calls == []
    clock.advance(hours=1)
    assert await service.deliver_outbox() == []


async def test_the_loop_never_takes_a_row_this_process_is_still_sending(
    service: Service, clock: FakeClock
) -> None:
    """A slow send (Slack rate limit) outlasting the short lease: the delivery loop leaves it alone."""
    gate = asyncio.Event()
    slack = Recording(gate=gate)
    service.register_deliverer("reply", slack, channel="slack")
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    await asyncio.sleep(0)
    clock.advance(seconds=service.outbox.claim_lease.total_seconds() + 1)
    assert await service.outbox.deliver_due() == []
    gate.set()
    (delivery,) = await service.outbox.sent_claimed()
    assert slack.calls == [delivery.outbox_id]
    assert decode_reply((await _payload(service, delivery.outbox_id))["reply"]).awaiting == "family_name"
    assert await _statuses(service) == {"delivered": 1}


async def _payload(service: Service, outbox_id: int) -> dict[str, Any]:
    from sqlalchemy import select

    from storage.tables import outbox as table

    async with service.db.read() as conn:
        payload = (await conn.execute(select(table.c.payload).where(table.c.id == outbox_id))).scalar_one()
    assert isinstance(payload, dict)
    return payload
