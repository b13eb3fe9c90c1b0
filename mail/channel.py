"""The email channel: stored raw mail → the right conversation → `Service.handle` (SPEC §5 Email, issue 5).
Its ``reply`` deliverer is in `mail.replies`; the listeners and tasks of `regbot serve` are in `mail.serve`.

Inbound mail reaches `MailChannel.accept` from the SMTP listener (`mail.inbound`) or the IMAP reader
(`mail.imap`): one INSERT into ``mail_inbox`` and nothing else, so the listener can acknowledge at once.
`MailChannel.run` processes the stored mails in the background, a bounded number at a time; a mail that
fails unexpectedly is logged by id and tried again later, and never stops the others.

Finding the conversation (never by the sender alone):

1. the reply key in a recipient (``register+<key>@domain``), else a Message-ID the bot sent named in
   ``In-Reply-To`` / ``References``;
2. the thread found must belong to the sender — the address its key was issued to.  Otherwise nothing in
   that conversation changes, nothing of it is shown, and the sender gets a short notice (one a day);
3. no thread: a new conversation, under a new random reply key bound to the sender.  When the sender has
   an unfinished one, its first mail says so and how to continue it (to the bound address only).

Mail that must never be answered (`InboundMail.auto`: auto-replies, bounces, loops) changes nothing and is
logged by reason id.  A sender sending more than `FLOOD_LIMIT` mails in `FLOOD_WINDOW` is paused, with one
notice a day.  The Message-ID is the ``message_id`` of the turn, so a mail delivered twice (SMTP and IMAP,
or a retry) is processed once.  Logs carry ids and reasons, never addresses, subjects or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.keyed_locks import KeyedLocks
from bot.leader import Leadership
from bot.outbox import REPLY, MailDeliverer, wait_any
from bot.service import Service
from conversations.types import Start, Text
from mail import prompts
from mail.deliver import Deliverer, deliverer_from_settings
from mail.inbound import MAX_MAIL_BYTES
from mail.parse import InboundMail, MailParseError, parse_mail
from mail.replies import MailReplies, own_message_id
from mail.serve import serve_channel
from storage import conversations, mail_threads, outbox
from storage.conversations import Conversation
from storage.mail_threads import InboxItem, MailThread

log = logging.getLogger(__name__)

CHANNEL = "email"
NOTICE = "mail_notice"  # outbox kind of the notices to senders the bot takes no turn from
FLOOD_LIMIT = 20
FLOOD_WINDOW = timedelta(minutes=10)
NOTICE_EVERY = timedelta(days=1)
OPEN_PHASES = ("new", "asking", "summary", "verifying")
MAX_ATTEMPTS = 3
_RETRY = timedelta(seconds=30)
_POLL_SECONDS = 2.0
_SWEEP_SECONDS = 3600.0
_STOP_GRACE_SECONDS = 10.0
_REFUSED = {
    "oversize": "mail over the size limit: refused",
    "flood": "mail from a flooding sender: not answered",
}


def new_reply_key() -> str:
    """80 random bits, lower-case base32: safe in an address local part and a URL."""
    return base64.b32encode(secrets.token_bytes(10)).decode("ascii").lower()


def message_key(mail: InboundMail, raw: bytes) -> str:
    """What the service records as processed: the Message-ID; a hash for a missing or overlong one."""
    if mail.message_id and len(mail.message_id) <= mail_threads.MAX_ID_LENGTH:
        return mail.message_id
    source = mail.message_id.encode("utf-8", "replace") if mail.message_id else raw
    return f"<sha256.{hashlib.sha256(source).hexdigest()}@regbot.invalid>"


@dataclass(frozen=True)
class Outcome:
    """What one inbound mail did: ``turn``, ``duplicate``, ``auto`` (``reason`` says why), ``foreign``,
    ``flood``, ``oversize`` or ``unreadable``.  ``conversation_id`` is set for turns."""

    action: str
    conversation_id: str | None = None
    reason: str | None = None


class MailChannel:
    def __init__(
        self,
        service: Service,
        config: Config,
        *,
        mail: Deliverer | None = None,
        concurrency: int = 8,
        flood_limit: int = FLOOD_LIMIT,
    ) -> None:
        self.service = service
        self.config = config
        self.bot_address = config.mail_address
        self.concurrency = concurrency
        self.flood_limit = flood_limit
        deliverer = mail or deliverer_from_settings(config.smtp_relay.reveal(), config.outbox_dir)
        self.replies = MailReplies(service, config, deliverer)
        self.notices = MailDeliverer(deliverer, config.mail_address)
        self._wake = asyncio.Event()
        # One mail at a time per Message-ID in this process (the same mail by SMTP and IMAP at once).
        self._locks = KeyedLocks()
        self._tasks: set[asyncio.Task[Outcome | None]] = set()
        self._running = False  # `run` is processing: `accept` may hand mail to it directly
        self._reserved = 0  # slots `accept` has taken for mails it is still storing

    def register(self) -> None:
        """Plug the outbound side into the service's outbox."""
        self.service.register_deliverer(REPLY, self.replies, channel=CHANNEL)
        self.service.register_deliverer(NOTICE, self.notices)

    # ---------------------------------------------------------------------------------- storing

    async def accept(
        self, raw: bytes, *, envelope_sender: str | None, source: str, oversize: bool = False
    ) -> int:
        """Store one raw mail durably (a single INSERT) for `run` to process; returns the inbox id.  While
        `run` has room the row is stored already claimed and processed at once (no inbox claim)."""
        now = self.service.clock()
        # The slot is taken before the INSERT yields, so concurrent sessions never exceed `concurrency`.
        direct = self._running and len(self._tasks) + self._reserved < self.concurrency
        self._reserved += direct
        try:
            lease_until = now + timedelta(seconds=self.config.lease_seconds)  # REGBOT_LEASE_SECONDS
            async with self.service.db.transaction() as conn:
                inbox_id = await mail_threads.store_inbound(
                    conn,
                    source=source,
                    raw=raw,
                    envelope_sender=envelope_sender,
                    oversize=oversize,
                    now=now,
                    claimed_until=lease_until if direct else None,
                )
        finally:
            self._reserved -= direct
        if direct and self._running:
            sender = None if envelope_sender is None else envelope_sender[: mail_threads.MAX_ID_LENGTH]
            self._start(InboxItem(inbox_id, source, sender, raw, oversize, attempts=1))
        elif direct:  # processing stopped meanwhile: the next start takes it at once, not after the lease
            async with self.service.db.transaction() as conn:
                await mail_threads.retry_inbound(conn, inbox_id, now)
        else:
            self._wake.set()
        return inbox_id

    # ------------------------------------------------------------------------------- processing

    async def run(self, stop: asyncio.Event) -> None:
        """Process stored mail until ``stop`` is set, at most `concurrency` at a time; leftovers of a
        previous run are processed first.  Mail still being processed at stop gets a grace period."""
        next_sweep = 0.0
        self._running = True
        try:
            while not stop.is_set():
                self._wake.clear()
                if time.monotonic() >= next_sweep:
                    await self._sweep()
                    next_sweep = time.monotonic() + _SWEEP_SECONDS
                free = self.concurrency - len(self._tasks)
                claimed: list[InboxItem] = []
                if free > 0:
                    try:
                        claimed = await self._claim(free)
                    except Exception as exc:  # the database is away: try again at the next poll
                        log.error("mail inbox: claiming failed (%s)", type(exc).__name__)
                for item in claimed:
                    self._start(item)
                if not claimed:
                    await wait_any(stop, self._wake, _POLL_SECONDS)
        finally:
            self._running = False
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=_STOP_GRACE_SECONDS)

    def _start(self, item: InboxItem) -> None:
        task = asyncio.create_task(self._process_item(item), name=f"mail-inbox-{item.id}")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Outcome | None]) -> None:
        self._tasks.discard(task)
        self._wake.set()

    async def drain(self) -> list[Outcome]:
        """Process every stored mail now, in order (tests, `regbot` tools); returns what each did."""
        outcomes: list[Outcome] = []
        while items := await self._claim(self.concurrency):
            for item in items:
                outcome = await self._process_item(item)
                if outcome is not None:
                    outcomes.append(outcome)
        return outcomes

    async def _claim(self, limit: int) -> list[InboxItem]:
        now = self.service.clock()
        async with self.service.db.transaction() as conn:
            lease = timedelta(seconds=self.config.lease_seconds)  # REGBOT_LEASE_SECONDS
            return await mail_threads.claim_inbound(conn, now, now + lease, limit=limit)

    async def _process_item(self, item: InboxItem) -> Outcome | None:
        try:
            outcome = await self.process(
                item.raw, envelope_sender=item.envelope_sender, oversize=item.oversize, inbox_id=item.id
            )
        except Exception as exc:  # a bug or an outage must not stop the listener: retried, then dropped
            give_up = item.attempts >= MAX_ATTEMPTS
            log.error(
                "mail inbox %d: processing failed (%s) on attempt %d%s",
                item.id,
                type(exc).__name__,
                item.attempts,
                ", giving up" if give_up else ", will retry",
            )
            with contextlib.suppress(Exception):
                async with self.service.db.transaction() as conn:
                    if give_up:
                        await mail_threads.finish_inbound(conn, item.id)
                    else:
                        retry_at = self.service.clock() + _RETRY * 2 ** (item.attempts - 1)
                        await mail_threads.retry_inbound(conn, item.id, retry_at)
            return None
        # A turn removed the stored mail in its own transaction (`within` runs exactly in the committed
        # attempt of a turn that is not a duplicate); anything else is removed here.
        if outcome.action != "turn":
            async with self.service.db.transaction() as conn:
                await mail_threads.finish_inbound(conn, item.id)
        return outcome

    async def process(
        self,
        raw: bytes,
        *,
        envelope_sender: str | None = None,
        oversize: bool = False,
        inbox_id: int | None = None,
    ) -> Outcome:
        """One mail, start to end (see the module docstring).  ``inbox_id``: its stored row, removed in
        the turn's transaction."""
        try:
            mail = parse_mail(raw, bot_address=self.bot_address, envelope_sender=envelope_sender)
        except MailParseError:
            log.info("mail dropped: unreadable")
            return Outcome("unreadable")
        if mail.auto is not None or mail.sender is None:
            reason = mail.auto or "no-sender"
            log.info("mail not answered: %s", reason)
            return Outcome("auto", reason=reason)
        sender = mail.sender
        message_id = message_key(mail, raw)
        async with self._locks.hold(message_id):
            refused, thread = await self._admit(mail, sender, message_id, oversize)
            if refused == "duplicate":
                log.info("mail already processed")
                return Outcome("duplicate")
            if refused is not None:
                await self._notify(sender, refused, mail)
                if thread is not None:
                    log.warning("conversation %s: mail from another sender refused", thread.conversation_id)
                else:
                    log.info(_REFUSED[refused])
                return Outcome(refused)
            return await self._turn(mail, sender, message_id, thread, inbox_id)

    async def _admit(
        self, mail: InboundMail, sender: str, message_id: str, oversize: bool
    ) -> tuple[str | None, MailThread | None]:
        """In one transaction: processed before (``duplicate``)?  Too big (``oversize``)?  Counted, and
        one too many from this sender (``flood``)?  Its thread, if any, and whether that thread is the
        sender's (else ``foreign``).  None and the thread: take the turn."""
        now = self.service.clock()
        async with self.service.db.transaction() as conn:
            if await conversations.seen(conn, CHANNEL, message_id):
                return "duplicate", None
            if oversize:
                return "oversize", None
            if await mail_threads.count_arrival(conn, sender, now, FLOOD_WINDOW) > self.flood_limit:
                return "flood", None
            thread = await self._thread_of(conn, mail)
            if thread is None:  # opened by this very mail in an earlier version's separate transaction
                thread = await mail_threads.thread_by_first_message(conn, message_id, sender)
        if thread is not None and not thread.belongs_to(sender):
            return "foreign", thread
        return None, thread

    async def _turn(
        self,
        mail: InboundMail,
        sender: str,
        message_id: str,
        thread: MailThread | None,
        inbox_id: int | None,
    ) -> Outcome:
        """The turn, with the thread's bookkeeping (a new thread, or the person's latest mail noted) and
        the stored mail's removal in the same transaction."""
        now = self.service.clock()
        references = list(mail.references)
        own_id = mail.message_id if mail.message_id == message_id else None

        async def finish(conn: AsyncConnection) -> None:
            if inbox_id is not None:
                await mail_threads.finish_inbound(conn, inbox_id)

        if thread is None:
            key = new_reply_key()

            async def open_thread(conn: AsyncConnection, conversation: Conversation) -> None:
                unfinished = await mail_threads.open_threads(conn, sender, OPEN_PHASES)
                await mail_threads.create_thread(
                    conn,
                    reply_key=key,
                    conversation_id=conversation.id,
                    sender=sender,
                    message_id=own_id,
                    references=references,
                    subject=mail.subject,
                    resume_key=unfinished[0][0].reply_key if unfinished else None,
                    now=now,
                )
                await finish(conn)

            turn = await self.service.handle(
                CHANNEL, key, Start(CHANNEL, text=mail.text), message_id=message_id, within=open_thread
            )
            if not turn.duplicate:
                log.info("conversation %s: opened by mail", turn.conversation_id)
        else:
            reply_key = thread.reply_key

            async def note_mail(conn: AsyncConnection, conversation: Conversation) -> None:
                await mail_threads.record_inbound(
                    conn, reply_key, message_id=own_id, references=references, subject=mail.subject, now=now
                )
                await finish(conn)

            turn = await self.service.handle(
                CHANNEL, reply_key, Text(mail.text), message_id=message_id, within=note_mail
            )
        action = "duplicate" if turn.duplicate else "turn"
        log.info("conversation %s: mail %s", turn.conversation_id, action)
        return Outcome(action, conversation_id=turn.conversation_id)

    async def _thread_of(self, conn: AsyncConnection, mail: InboundMail) -> MailThread | None:
        if mail.reply_key:
            thread = await mail_threads.find_thread(conn, mail.reply_key.lower())
            if thread is not None:
                return thread
        named = [ident for ident in (mail.in_reply_to, *reversed(mail.references)) if ident]
        return await mail_threads.thread_by_sent_ids(conn, named)

    async def _notify(self, sender: str, kind: str, mail: InboundMail) -> None:
        """Queue notice ``kind`` for ``sender``, unless they had one of that kind in the last day."""
        now = self.service.clock()
        async with self.service.db.transaction() as conn:
            if not await mail_threads.claim_notice(conn, sender, kind, now, NOTICE_EVERY):
                return
            message = prompts.notice_mail(
                kind,
                to=sender,
                bot_address=self.bot_address,
                message_id=own_message_id(self.bot_address),
                in_reply_to=mail.message_id,
                references=mail.references,
                now=now,
                limit_text=f"{MAX_MAIL_BYTES // (1024 * 1024)}MB",
            )
            await outbox.enqueue(conn, kind=NOTICE, recipient=sender, now=now, body=bytes(message))
        self.service.outbox.wake()

    async def _sweep(self) -> None:
        """Purge the personal columns of purged conversations' threads; forget old limits."""
        now = self.service.clock()
        try:
            async with self.service.db.transaction() as conn:
                purged = await mail_threads.purge_threads(conn)
                await mail_threads.forget_limits(conn, now - NOTICE_EVERY)
        except Exception as exc:
            log.error("mail sweep failed (%s)", type(exc).__name__)
            return
        if purged:
            log.info("mail threads purged: %d", purged)


async def start_email_channel(
    service: Service, config: Config, *, leadership: Leadership | None = None
) -> Callable[[], Awaitable[None]]:
    """`regbot serve`'s email channel (a `bot.app.ChannelStarter`): the reply / notice deliverers, and
    `mail.serve.serve_channel` for the rest.  Returns how to stop all of it."""
    channel = MailChannel(service, config)
    channel.register()
    return await serve_channel(channel, service, config, leadership, stop_seconds=_STOP_GRACE_SECONDS + 5)
