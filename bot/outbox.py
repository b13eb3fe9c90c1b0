"""Delivering the outbox: claim due rows, hand each to the deliverer registered for its kind, settle it.

Every side effect of a turn is an outbox row committed with the turn (SPEC §7); this module is the only
thing that sends them.  Mail goes through ``mail.deliver``; ``reply`` rows go to the deliverer of their
channel (Slack, email — registered by those adapters; the console polls instead); ``helpdesk`` rows wait
for the help-desk issue to register one.  A row whose kind has no deliverer stays queued.

Failures are retried with exponential back-off (``REGBOT_OUTBOX_RETRY_SECONDS`` × 2ⁿ, at most six hours)
and given up as ``failed`` after ``REGBOT_OUTBOX_MAX_ATTEMPTS`` or a permanent error.  Logs carry the
outbox id, the kind and the attempt number, never a recipient or a body.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.config import Config
from bot.tasks import TrackedTasks
from conversations.types import Msg, Option, Reply, SummaryRow
from mail.deliver import Deliverer, DeliveryError
from storage import outbox
from storage.db import Database
from storage.outbox import OutboxItem, Route

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

VERIFICATION_MAIL = "verification_mail"
COMPLETION_MAIL = "completion_mail"
REPLY = "reply"
HELPDESK = "helpdesk"
MAIL_KINDS = (VERIFICATION_MAIL, COMPLETION_MAIL)

_MAX_BACKOFF = timedelta(hours=6)
_DIRECT_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Delivery:
    outbox_id: int
    kind: str  # "verification_mail", "completion_mail", "reply", ...
    location: str | None  # the .eml path when there is no relay
    conversation_id: str | None = None


class OutboxDeliverer(Protocol):
    """Sends one outbox row; returns where it went (a path) or None.  Raise `DeliveryError` to retry
    (``permanent=True`` to give up at once)."""

    async def deliver(self, item: OutboxItem) -> str | None: ...


class MailDeliverer:
    """Outbox mail rows → ``mail.deliver`` (SMTP relay or ``.eml`` files)."""

    def __init__(self, deliverer: Deliverer, mail_from: str) -> None:
        self._deliverer = deliverer
        self._mail_from = mail_from

    async def deliver(self, item: OutboxItem) -> str | None:
        if item.body is None:
            raise DeliveryError("mail row without a body", permanent=True)
        return await self._deliverer.send(item.body, mail_from=self._mail_from, recipients=[item.recipient])


class Outbox:
    """The registry of deliverers and the delivery loop."""

    def __init__(self, db: Database, config: Config, clock: Clock, *, lease: timedelta | None = None) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        # REGBOT_LEASE_SECONDS (5 minutes): longer than any SMTP timeout, so a live sender settles first.
        self._lease = lease or timedelta(seconds=config.lease_seconds)
        self._deliverers: dict[Route, OutboxDeliverer] = {}
        self._wake = asyncio.Event()
        self._sending: set[int] = set()  # rows this process is sending right after their turn
        self._senders = TrackedTasks(log, "outbox")
        # What those sends delivered, for `sent_claimed` callers (tests, the console); bounded, since
        # `regbot serve` never asks.
        self._sent: deque[Delivery] = deque(maxlen=1000)
        self._settler = _Settler(db, clock)

    def register(self, kind: str, deliverer: OutboxDeliverer, *, channel: str | None = None) -> None:
        """Deliver rows of ``kind`` (for ``reply`` rows: of ``channel``) with ``deliverer``."""
        self._deliverers[Route(kind, channel)] = deliverer

    @property
    def routes(self) -> tuple[Route, ...]:
        return tuple(self._deliverers)

    def wake(self) -> None:
        """New rows were committed in this process: deliver now rather than at the next poll."""
        self._wake.set()

    def sends_directly(self, kind: str, channel: str | None) -> bool:
        """Whether rows of ``kind`` for ``channel`` have a deliverer here, so a turn may claim them at
        its commit (`send_claimed`) instead of leaving them to the loop."""
        return self._deliverer(kind, channel) is not None

    @property
    def claim_lease(self) -> timedelta:
        """How long rows claimed at a turn's commit stay leased: short, so that if this process dies
        before sending them, another (or this one, restarted) sends them soon."""
        return min(self._lease, _DIRECT_LEASE)

    def send_claimed(self, items: Sequence[OutboxItem]) -> None:
        """Send rows claimed in a committed turn, in order, in the background (a failure leaves the
        row to the loop's retries; the rows after it wait behind it there)."""
        if not items:
            return
        self._sending.update(item.id for item in items)
        self._senders.spawn(self._send_in_order(items), what="send")

    async def _send_in_order(self, items: Sequence[OutboxItem]) -> None:
        try:
            for position, item in enumerate(items):
                delivery = await self._deliver_one(item)
                if delivery is None:
                    await self._release(items[position + 1 :])
                    return
                self._sent.append(delivery)
        except Exception as exc:  # e.g. the database away while settling: the lease brings the rows back
            log.error("outbox: sending a turn's replies failed (%s)", type(exc).__name__)
        finally:
            self._sending.difference_update(item.id for item in items)

    async def _release(self, items: Sequence[OutboxItem]) -> None:
        """Rows claimed but not tried (an earlier one failed): due again at once, behind the failed one."""
        if not items:
            return
        async with self._db.transaction() as conn:
            for item in items:
                await outbox.schedule_retry(conn, item.id, self._clock(), "waits for an earlier row")
        self.wake()

    async def close(self, timeout: float = 10.0) -> None:
        """Before the database goes: let the sends after committed turns finish, for ``timeout`` at most
        (one still hanging is cancelled; its row stays queued and is sent again after its lease)."""
        if not await self._senders.drain(timeout):
            await self._senders.cancel()
        await self._settler.close(timeout)

    async def sent_claimed(self) -> list[Delivery]:
        """Until the rows being sent straight after their turns are sent (tests, shutdown); returns
        what such sends delivered since the last call."""
        await self._senders.drain()
        sent = list(self._sent)
        self._sent.clear()
        return sent

    def _deliverer(self, kind: str, channel: str | None) -> OutboxDeliverer | None:
        return self._deliverers.get(Route(kind, channel)) or self._deliverers.get(Route(kind))

    async def deliver_due(self, *, batch: int = 20) -> list[Delivery]:
        """Send every row that is due now; returns the ones delivered.

        A claim holds at most one row per conversation and recipient (`storage.outbox.claim_due`), so
        its rows are sent at the same time.  Each is settled as soon as it is sent: the window in which a
        crash makes a row go out twice (sent, not yet settled) stays one short transaction long."""
        delivered: list[Delivery] = []
        while True:
            now = self._clock()
            async with self._db.transaction() as conn:
                items = await outbox.claim_due(
                    conn, self.routes, now, now + self._lease, limit=batch, excluding=self._sending
                )
            if not items:
                return delivered
            results = await asyncio.gather(*(self._deliver_one(item) for item in items))
            delivered.extend(result for result in results if result is not None)

    async def _deliver_one(self, item: OutboxItem) -> Delivery | None:
        deliverer = self._deliverer(item.kind, item.channel)
        try:
            if deliverer is None:  # unregistered between claim and send: leave it for later
                raise DeliveryError("no deliverer registered", permanent=False)
            location = await deliverer.deliver(item)
        except DeliveryError as exc:
            await self._failed(item, str(exc), permanent=exc.permanent)
            return None
        except Exception as exc:  # a deliverer bug must not stop the loop; the row is retried
            await self._failed(item, type(exc).__name__, permanent=False)
            return None
        await self._settler.delivered(item.id, location)
        log.info("outbox %d (%s) delivered on attempt %d", item.id, item.kind, item.attempts)
        return Delivery(
            outbox_id=item.id, kind=item.kind, location=location, conversation_id=item.conversation_id
        )

    async def _failed(self, item: OutboxItem, error: str, *, permanent: bool) -> None:
        now = self._clock()
        give_up = permanent or item.attempts >= self._config.outbox_max_attempts
        async with self._db.transaction() as conn:
            if give_up:
                await outbox.mark_failed(conn, item.id, now, error)
            else:
                delay = self.backoff(item.attempts)
                await outbox.schedule_retry(conn, item.id, now + delay, error)
        if give_up:
            log.error(
                "outbox %d (%s) failed for good on attempt %d: %s", item.id, item.kind, item.attempts, error
            )
        else:
            log.warning(
                "outbox %d (%s) attempt %d failed, retrying in %gs: %s",
                item.id,
                item.kind,
                item.attempts,
                round(self.backoff(item.attempts).total_seconds(), 1),
                error,
            )

    def backoff(self, attempts: int) -> timedelta:
        seconds = self._config.outbox_retry_seconds * 2 ** max(attempts - 1, 0)
        return min(timedelta(seconds=seconds), _MAX_BACKOFF)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: at once when woken, else every REGBOT_OUTBOX_POLL_SECONDS (rows
        written by other processes) or when the earliest retry is due."""
        poll = self._config.outbox_poll_seconds
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.deliver_due()
                async with self._db.read() as conn:
                    due = await outbox.next_due(conn, self.routes)
            except Exception:
                log.exception("outbox delivery pass failed; trying again in %ss", poll)
                due = None
            timeout = poll
            if due is not None:
                timeout = max(0.0, min(poll, (due - self._clock()).total_seconds()))
            await wait_any(stop, self._wake, timeout)


class _Settler:
    """Marks sent rows delivered.  The first sender settles in its own task, at once (no hop through a
    busy event loop between the relay's or Slack's answer and the commit: a crash in between sends the
    message again); the rows sent meanwhile are settled together in its next commit, so under load one
    commit settles many.  Each caller returns once its own row is committed."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock
        self._waiting: list[tuple[int, str | None, asyncio.Future[None]]] = []
        self._flushing = False
        self._background = TrackedTasks(log, "outbox")

    async def delivered(self, outbox_id: int, location: str | None) -> None:
        settled = asyncio.get_running_loop().create_future()
        self._waiting.append((outbox_id, location, settled))
        if not self._flushing:
            await self._flush(until=settled)
        await asyncio.shield(settled)  # a cancelled sender does not take the batch down with it

    async def _flush(self, until: asyncio.Future[None] | None = None) -> None:
        """Settle the waiting rows batch by batch.  A sender (``until``: its own row) stops once its row
        is committed; what is left goes to a flush in the background."""
        self._flushing = True
        try:
            while self._waiting and not (until is not None and until.done()):
                batch, self._waiting = self._waiting, []
                try:
                    async with self._db.transaction(urgent=True) as conn:
                        await outbox.mark_delivered(conn, [(i, loc) for i, loc, _ in batch], self._clock())
                except Exception as exc:
                    for _, _, settled in batch:
                        if not settled.done():
                            settled.set_exception(exc)
                            settled.exception()  # retrieved here too: no "never retrieved" noise
                    continue
                except BaseException:  # the settling sender was cancelled: the batch is settled below
                    self._waiting[:0] = batch
                    raise
                for _, _, settled in batch:
                    if not settled.done():
                        settled.set_result(None)
        finally:
            self._flushing = False
            if self._waiting:
                self._background.spawn(self._flush(), what="settle")

    async def close(self, timeout: float) -> None:
        """Let settles still running in the background commit (rows not settled go out again)."""
        await self._background.drain(timeout)


async def wait_any(first: asyncio.Event, second: asyncio.Event, timeout: float) -> None:
    """Until either event is set or the timeout passes (a loop woken early by new work or a stop)."""
    waiters = [asyncio.create_task(first.wait()), asyncio.create_task(second.wait())]
    try:
        await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        await asyncio.gather(*waiters, return_exceptions=True)


# ------------------------------------------------------------------------------ replies as JSON


def _encode_value(value: Any) -> Any:
    if isinstance(value, Msg):
        return encode_msg(value)
    if isinstance(value, tuple | list):
        return {"$list": [_encode_value(v) for v in value]}
    if isinstance(value, Mapping):
        return {"$map": {str(k): _encode_value(v) for k, v in value.items()}}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict):
        if "$msg" in value:
            return decode_msg(value)
        if "$list" in value:
            return tuple(_decode_value(v) for v in value["$list"])
        if "$map" in value:
            return {k: _decode_value(v) for k, v in value["$map"].items()}
    return value


def encode_msg(msg: Msg) -> dict[str, Any]:
    return {"$msg": msg.key, "params": {k: _encode_value(v) for k, v in msg.params.items()}}


def decode_msg(data: Mapping[str, Any]) -> Msg:
    return Msg(str(data["$msg"]), {k: _decode_value(v) for k, v in dict(data.get("params", {})).items()})


def encode_reply(reply: Reply) -> dict[str, Any]:
    """A `Reply` as JSON-able data, for ``reply`` outbox rows."""
    return {
        "lines": [encode_msg(line) for line in reply.lines],
        "awaiting": reply.awaiting,
        "options": [{"value": o.value, "label": encode_msg(o.label)} for o in reply.options],
        "secret": reply.secret,
        "progress": list(reply.progress) if reply.progress is not None else None,
        # A row's value may be a Msg (e.g. "set on the verification page") despite its str annotation.
        "summary": [{"label": encode_msg(r.label), "value": _encode_value(r.value)} for r in reply.summary],
    }


def decode_reply(data: Mapping[str, Any]) -> Reply:
    progress = data.get("progress")
    return Reply(
        lines=tuple(decode_msg(line) for line in data.get("lines", [])),
        awaiting=data.get("awaiting"),
        options=tuple(Option(str(o["value"]), decode_msg(o["label"])) for o in data.get("options", [])),
        secret=bool(data.get("secret", False)),
        progress=(int(progress[0]), int(progress[1])) if progress else None,
        summary=tuple(
            SummaryRow(decode_msg(r["label"]), _decode_value(r["value"])) for r in data.get("summary", [])
        ),
    )


def replies_of(items: Sequence[OutboxItem]) -> list[Reply]:
    return [decode_reply(item.payload["reply"]) for item in items if item.payload and "reply" in item.payload]
