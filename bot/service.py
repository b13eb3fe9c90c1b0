"""The service: one transaction per inbound message (STYLE.md, SPEC §7).

``handle`` loads the conversation (creating it on first contact), skips a message id it has already
processed, looks up which mentioned addresses are registered, runs one engine step, and writes the
effects, the outbox rows, the processed id and the new state in a single commit.  If another turn saved
the same conversation meanwhile (another task, another process) the version check fails and the whole
turn runs again on the fresh state, so no message is lost and none is applied twice.

Replies of the console's own turns are returned only (the console prints them).  On every other channel
they are also queued as ``reply`` outbox rows for the deliverer registered for that channel, so a crash
between commit and sending neither loses nor doubles them: adapters with a registered deliverer must not
send ``Turn.replies`` themselves.  Replies that arise later (completion on the web page, reminders,
expiry) are always ``reply`` rows; the console collects its own with `pending_notifications`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import Config
from bot.outbox import MAIL_KINDS, REPLY, Delivery, MailDeliverer, Outbox, OutboxDeliverer, replies_of
from bot.passwords import Passwords
from bot.turns import Prehashed, TurnHook, TurnWriter, Written
from bot.verification import ServiceBusy, StorageVerification
from conversations.engine import mentioned_emails, new_state, step
from conversations.state import dump_state, load_state
from conversations.types import Context, Expire, Inbound, Remind, Reply, Secret, Start, Text
from mail.deliver import Deliverer, deliverer_from_settings, end_sessions
from storage import conversations, outbox, registrations
from storage.conversations import Conversation
from storage.db import Conflict, Database, Rollback
from storage.migrate import upgrade

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

CONSOLE = "console"
_ATTEMPTS = 8

__all__ = ["Clock", "Delivery", "Service", "ServiceBusy", "Turn", "TurnHook", "Within", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Turn:
    conversation_id: str
    replies: tuple[Reply, ...]
    duplicate: bool  # message_id already processed: nothing changed, no replies


Within = Callable[[AsyncConnection, Conversation], Awaitable[None]]
"""A channel's own writes for one inbound message, run in its turn's transaction (`Service.handle`)."""


class _AlreadyProcessed(Rollback):
    def __init__(self, conversation_id: str) -> None:
        super().__init__("message already processed")
        self.conversation_id = conversation_id


class Service:
    def __init__(
        self,
        config: Config,
        db: Database,
        *,
        clock: Clock = utc_now,
        mail: Deliverer | None = None,
        passwords: Passwords | None = None,
    ) -> None:
        self.config = config
        self.db = db
        # Escalations reach a person only through the help-desk channel in Slack (SPEC §6).
        self.helpdesk_available = bool(config.helpdesk_channel and config.slack_bot_token)
        self.clock = clock
        self.passwords = passwords or Passwords()
        self._turn_hooks: list[TurnHook] = []
        self._writer = TurnWriter(config, self.passwords, self._turn_hooks)
        self.outbox = Outbox(db, config, clock)
        mailer = MailDeliverer(
            mail or deliverer_from_settings(config.smtp_relay.reveal(), config.outbox_dir), config.mail_from
        )
        for kind in MAIL_KINDS:
            self.outbox.register(kind, mailer)
        self.verification = StorageVerification(
            db, config, clock, self.passwords, committed=self.outbox.wake, hooks=self._turn_hooks
        )

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        clock: Clock = utc_now,
        mail: Deliverer | None = None,
        passwords: Passwords | None = None,
        migrate: bool = True,
    ) -> Service:
        """Connect to REGBOT_DATABASE_URL and bring its schema up to date (``migrate``)."""
        db = Database.open(config.database_url)
        try:
            if migrate:
                await upgrade(db)
        except BaseException:
            await db.dispose()
            raise
        return cls(config, db, clock=clock, mail=mail, passwords=passwords)

    def register_deliverer(
        self, kind: str, deliverer: OutboxDeliverer, *, channel: str | None = None
    ) -> None:
        """Plug in a channel: e.g. ``register_deliverer("reply", slack_replies, channel="slack")``."""
        self.outbox.register(kind, deliverer, channel=channel)

    def add_turn_hook(self, hook: TurnHook) -> None:
        """Run ``hook`` in every turn's transaction (messages, reminders, expiry, completion)."""
        self._turn_hooks.append(hook)

    # ---------------------------------------------------------------------------------- inbound

    async def handle(
        self,
        channel: str,
        address: str,
        inbound: Inbound,
        *,
        message_id: str | None = None,
        within: Within | None = None,
    ) -> Turn:
        """One inbound message, in one transaction.  ``within`` runs inside that transaction (not for a
        duplicate) once the conversation exists: a channel's own bookkeeping of the same message (the
        mail thread, the raw mail's removal) then commits with the turn or not at all."""
        prehashed = None
        if isinstance(inbound, Secret):
            prehashed = Prehashed(inbound.password, await self.passwords.hash(inbound.password))
        for _ in range(_ATTEMPTS):
            try:
                turn, written = await self._handle(channel, address, inbound, message_id, prehashed, within)
            except Conflict:
                continue
            if written is not None:
                self.outbox.send_claimed(written.claimed)
                if written.other_rows:
                    self.outbox.wake()
            return turn
        log.error("%s conversation busy: %d conflicting attempts in a row", channel, _ATTEMPTS)
        raise ServiceBusy("the conversation changed too often; try again")

    async def _handle(
        self,
        channel: str,
        address: str,
        inbound: Inbound,
        message_id: str | None,
        prehashed: Prehashed | None,
        within: Within | None,
    ) -> tuple[Turn, Written | None]:
        now = self.clock()
        try:
            async with self.db.transaction() as conn:
                conversation = await conversations.find(conn, channel, address)
                if conversation is None:
                    lang = inbound.lang if isinstance(inbound, Start) else "ja"
                    conversation = await conversations.create(
                        conn, channel, address, dump_state(new_state(channel, lang)), now
                    )
                if message_id is not None and not await conversations.record_processed(
                    conn, channel, message_id, conversation.id, now
                ):
                    # Rolled back: a conversation this very transaction created for the repeat (a mail
                    # thread opened under a new key) must not stay behind.
                    raise _AlreadyProcessed(conversation.id)
                if within is not None:
                    await within(conn, conversation)
                text = inbound.text if isinstance(inbound, Start | Text) else ""
                mentioned = mentioned_emails(text) if text else frozenset()
                registered = await registrations.registered_among(conn, mentioned)
                before = load_state(conversation.state)
                context = Context(registered_emails=registered, helpdesk_available=self.helpdesk_available)
                result = step(before, inbound, now, context)
                direct = channel != CONSOLE and self.outbox.sends_directly(REPLY, channel)
                written = await self._writer.write(
                    conn,
                    conversation,
                    before,
                    inbound,
                    result,
                    now,
                    activity=True,
                    queue_replies=channel != CONSOLE,
                    prehashed=prehashed,
                    claim_until=now + self.outbox.claim_lease if direct else None,
                )
        except _AlreadyProcessed as repeat:
            async with self.db.read() as conn:
                original = await conversations.processed_in(conn, channel, message_id or "")
            conversation_id = original or repeat.conversation_id
            log.info("conversation %s: message already processed", conversation_id)
            return Turn(conversation_id=conversation_id, replies=(), duplicate=True), None
        return Turn(conversation_id=conversation.id, replies=result.replies, duplicate=False), written

    async def step_conversation(self, conversation_id: str, inbound: Remind | Expire) -> Turn | None:
        """A turn the person did not cause (reminder, expiry): replies go to the outbox for every channel,
        and the idle clock is not reset.  None when the conversation is gone."""
        for _ in range(_ATTEMPTS):
            try:
                now = self.clock()
                async with self.db.transaction() as conn:
                    conversation = await conversations.get(conn, conversation_id)
                    if conversation is None:
                        return None
                    before = load_state(conversation.state)
                    result = step(before, inbound, now)
                    if result.state == before and not result.replies and not result.effects:
                        return Turn(conversation_id=conversation_id, replies=(), duplicate=False)
                    await self._writer.write(
                        conn, conversation, before, inbound, result, now, activity=False, queue_replies=True
                    )
            except Conflict:
                continue
            self.outbox.wake()
            return Turn(conversation_id=conversation_id, replies=result.replies, duplicate=False)
        raise ServiceBusy("the conversation changed too often; try again")

    # --------------------------------------------------------------------------------- outbound

    async def pending_notifications(self, channel: str, address: str) -> list[Reply]:
        """Replies that arose outside a turn (completion, reminder, expiry) not yet shown; marks them
        delivered.  The console polls this."""
        async with self.db.transaction() as conn:
            items = await outbox.take_replies(conn, channel, address, self.clock())
        return replies_of(items)

    async def deliver_outbox(self) -> list[Delivery]:
        """Deliver every due outbox row now (console, tests); `bot.app.serve` runs this in a loop.
        Replies being sent straight after their turns are waited for first, and counted in."""
        sent = await self.outbox.sent_claimed()
        return sent + await self.outbox.deliver_due()

    async def close(self) -> None:
        await self.outbox.close()
        await end_sessions()
        await self.db.dispose()
