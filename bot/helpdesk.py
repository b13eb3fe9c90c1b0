"""The help desk in a shared Slack channel (SPEC §6, issue 7): escalation threads and the relay to them.

How a conversation reaches staff:

* **Escalation.**  The engine's `NotifyHelpdesk` (the person sent 「担当者」, or failed one field three
  times) becomes a ``helpdesk`` outbox row in the turn's transaction (bot/turns.py); so does a reminder
  that went out (`after_turn`: the person has been idle, reason ``idle``).  `Helpdesk.deliver` opens ONE
  thread per conversation in REGBOT_HELPDESK_CHANNEL — the thread's ts is kept in ``helpdesk_threads``,
  reserved before posting so two processes never open two — and posts later escalations into it.
* **Person → thread.**  While a person is involved (the state is ``escalated``: asked, three failures,
  or staff wrote / took over) and until the conversation ends, every message the person sends is copied
  to the thread as a ``helpdesk_relay`` row, masked (bot.helpdesk_mask): an address, digit runs, values
  the conversation holds, the whole answer while a personal field is awaited; password-looking text never.
  ``release`` hands the questions back to the bot but keeps the copy going — staff stay involved until the
  conversation ends.  The engine keeps validating the answers meanwhile unless staff took over.
* **Reasons.**  When the engine answers 「不正な操作」 or 「メールが届かない」 in such a conversation, the
  thread gets the state of the newest verification link (expired, superseded, completed, cancelled) and
  whether its mail bounced (the outbox row failed for good).
* **Staff → person** and staff commands: bot.helpdesk_staff.

With no REGBOT_HELPDESK_CHANNEL (or Slack off) escalations are logged (ids only) and settled; nothing is
copied.  Everything posted is built from masked values; nothing here logs a value.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import helpdesk_text as texts
from bot.helpdesk_mask import mask_message
from bot.keyed_locks import KeyedLocks
from bot.outbox import HELPDESK
from bot.service import Service
from bot.slack import SlackChannel
from bot.slack_blocks import first_block_id
from bot.slack_delivery import PERMANENT_ERRORS, ChannelPacer
from bot.turns import enqueue_escalation
from conversations.state import load_state
from conversations.turn import ENDED, awaited_field
from conversations.types import Choice, Inbound, Msg, Remind, State, Step, Text
from mail.deliver import DeliveryError
from storage import conversations, helpdesk, outbox
from storage.conversations import Conversation
from storage.db import Conflict
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

HELPDESK_RELAY = "helpdesk_relay"
IDLE = "idle"
TAKEOVER = "takeover"  # staff took over a conversation that had no thread yet
FAQ_KEYS = frozenset(texts.FAQS)
MARKER_PREFIX = "regbot-hd-"  # block id of a thread's first message: which conversation it is
ROW_MARKER_PREFIX = "regbot-hd-row-"  # block id of a post in a thread: which outbox row posted it
_OPENING_LEASE = timedelta(minutes=5)
_HISTORY_LOOKBACK = 100
_THREAD_PAGE = 200
_THREAD_PAGES = 10  # a conversation's thread never holds 2 000 posts


class Helpdesk:
    """Outbox deliverer of ``helpdesk`` and ``helpdesk_relay`` rows, and the service's turn hook."""

    def __init__(
        self, service: Service, *, client: AsyncWebClient | None, pacer: ChannelPacer | None = None
    ) -> None:
        self.service = service
        self.config = service.config
        self.channel_id = self.config.helpdesk_channel
        self.client = client
        self.staff = frozenset(self.config.helpdesk_staff)
        self._pacer = pacer or ChannelPacer()
        self._locks = KeyedLocks()

    @property
    def live(self) -> bool:
        """Threads are posted: a help-desk channel is configured and Slack is on."""
        return bool(self.channel_id) and self.client is not None

    def install(self) -> None:
        self.service.register_deliverer(HELPDESK, self)
        self.service.register_deliverer(HELPDESK_RELAY, self)
        self.service.add_turn_hook(self.after_turn)
        if self.live:
            log.info("help desk on: threads in %s, %d staff member(s)", self.channel_id, len(self.staff))
        else:
            why = "REGBOT_HELPDESK_CHANNEL is empty" if not self.channel_id else "Slack is off"
            log.info("help desk threads off (%s): escalations are logged only", why)

    # ---------------------------------------------------------------------------------- the hook

    async def after_turn(
        self,
        conn: AsyncConnection,
        conversation: Conversation,
        before: State,
        inbound: Inbound,
        step: Step,
        now: datetime,
    ) -> None:
        """Inside the turn's transaction: idle escalation, and the person's message copied to the thread."""
        if isinstance(inbound, Remind) and step.replies:
            field_id = awaited_field(before)
            await self.enqueue_escalation(conn, conversation, IDLE, field_id, before.last_error, now)
            await conversations.record_audit(conn, conversation.id, [(f"helpdesk.{IDLE}", field_id)], now)
        if not self.live or not before.escalated or before.phase in ENDED:
            return
        if (
            step.state.phase != before.phase
            and step.state.phase in ENDED
            and not isinstance(inbound, Text | Choice)
        ):
            phase = texts.PHASES.get(step.state.phase, step.state.phase)
            await self._enqueue_relay(
                conn, conversation.id, {"text": f":checkered_flag: 会話の状態：{phase}"}, now
            )
        if isinstance(inbound, Text | Choice):
            said = inbound.text if isinstance(inbound, Text) else inbound.value
            masked = mask_message(said, awaiting=awaited_field(before), values=before.values)
            if isinstance(inbound, Choice):
                masked = f"（ボタン）{masked}"
            text = texts.relay_text(masked, outcome=outcome_of(before, step))
            await self._enqueue_relay(conn, conversation.id, {"text": text}, now)
        for reply in step.replies:
            for line in reply.lines:
                if line.key in FAQ_KEYS:
                    await self._enqueue_relay(conn, conversation.id, {"faq": line.key}, now)

    async def enqueue_escalation(
        self,
        conn: AsyncConnection,
        conversation: Conversation,
        reason: str,
        field_id: str | None,
        error_key: str | None,
        now: datetime,
    ) -> None:
        """The same row bot/turns.py writes for `NotifyHelpdesk`."""
        await enqueue_escalation(
            conn, conversation, reason, field_id, error_key, now, recipient=self.channel_id or "helpdesk"
        )

    async def enqueue_note(
        self, conn: AsyncConnection, conversation_id: str, text: str, now: datetime
    ) -> None:
        """A line for the conversation's thread (a staff action), if it has one and threads are on."""
        if self.live and await helpdesk.thread_of(conn, conversation_id) is not None:
            await self._enqueue_relay(conn, conversation_id, {"text": text}, now)

    async def _enqueue_relay(
        self, conn: AsyncConnection, conversation_id: str, content: dict[str, Any], now: datetime
    ) -> None:
        await outbox.enqueue(
            conn,
            kind=HELPDESK_RELAY,
            recipient=self.channel_id,
            now=now,
            conversation_id=conversation_id,
            payload={"conversation_id": conversation_id, **content},
        )

    # ------------------------------------------------------------------------------- delivering

    async def deliver(self, item: OutboxItem) -> str | None:
        payload = item.payload or {}
        conversation_id = str(payload.get("conversation_id") or item.conversation_id or "")
        if not self.live:
            log.info(
                "outbox %d: help desk %s of conversation %s not posted (no help-desk channel or Slack off)",
                item.id,
                payload.get("reason") or item.kind,
                conversation_id,
            )
            return None
        async with self._locks.hold(conversation_id):  # one conversation's posts in order
            if item.kind == HELPDESK:
                await self._escalate(item, conversation_id, str(payload.get("reason") or "asked"))
            else:
                await self._relay(item, conversation_id, payload)
        return None

    async def case(self, conversation_id: str, now: datetime) -> texts.Case | None:
        """The conversation as staff see it (masked), or None when it is gone."""
        async with self.service.db.read() as conn:
            conversation = await conversations.get(conn, conversation_id)
            if conversation is None:
                return None
            link = await helpdesk.link_status(conn, conversation_id, now)
        return texts.case_of(
            conversation.id,
            conversation.channel,
            load_state(conversation.state),
            started_at=conversation.created_at,
            last_activity_at=conversation.last_activity_at,
            link=link,
        )

    async def _escalate(self, item: OutboxItem, conversation_id: str, reason: str) -> None:
        now = self.service.clock()
        case = await self.case(conversation_id, now)
        if case is None:
            log.info("outbox %d: conversation %s is gone; no help-desk thread", item.id, conversation_id)
            return
        try:
            async with self.service.db.transaction() as conn:
                reservation = await helpdesk.reserve_thread(
                    conn, conversation_id, self.channel_id, now, now - _OPENING_LEASE
                )
        except Conflict:
            reservation = helpdesk.Reservation(helpdesk.BUSY)
        if reservation.status == helpdesk.BUSY:
            raise DeliveryError("help-desk thread being opened elsewhere", permanent=False)
        if reservation.status == helpdesk.OPEN:
            assert reservation.thread is not None and reservation.thread.thread_ts is not None
            channel = reservation.thread.channel_id
            post = texts.escalation_post(case, reason, now)
            await self._post_in_thread(item, channel, post, reservation.thread.thread_ts)
            async with self.service.db.transaction() as conn:
                await helpdesk.note_posted(conn, conversation_id, now, escalation=True)
            log.info(
                "outbox %d: escalation (%s) of %s posted in its thread", item.id, reason, conversation_id
            )
            return
        marker = MARKER_PREFIX + conversation_id
        thread_ts = await self._earlier_opening(marker) if reservation.stale else None
        if thread_ts is None:
            post = texts.opening_post(case, reason, now, marker=marker)
            try:
                thread_ts = await self._post(self.channel_id, post.arguments(), None)
            except DeliveryError:
                async with self.service.db.transaction() as conn:
                    await helpdesk.release_reservation(conn, conversation_id)
                raise
        async with self.service.db.transaction() as conn:
            await helpdesk.open_thread(conn, conversation_id, thread_ts, now)
        log.info("outbox %d: help-desk thread opened for %s (%s)", item.id, conversation_id, reason)

    async def _relay(self, item: OutboxItem, conversation_id: str, payload: dict[str, Any]) -> None:
        now = self.service.clock()
        async with self.service.db.read() as conn:
            thread = await helpdesk.thread_of(conn, conversation_id)
            link = await helpdesk.link_status(conn, conversation_id, now) if "faq" in payload else None
        if thread is None or thread.thread_ts is None:
            raise DeliveryError("help-desk thread not open yet", permanent=False)
        if "faq" in payload:
            text = texts.faq_text(str(payload["faq"]), link)
        else:
            text = str(payload.get("text") or "")
        await self._post_in_thread(item, thread.channel_id, texts.text_post(text), thread.thread_ts)
        async with self.service.db.transaction() as conn:
            await helpdesk.note_posted(conn, conversation_id, now, escalation=False)

    async def _post_in_thread(self, item: OutboxItem, channel: str, post: texts.Post, thread_ts: str) -> None:
        """Post once: a row tried before (its post may have reached Slack just before a crash) first
        looks for its marker among the thread's posts."""
        marker = ROW_MARKER_PREFIX + str(item.id)
        if item.attempts > 1 and await self._in_thread(channel, thread_ts, marker):
            log.info("outbox %d: already in the help-desk thread, not posted again", item.id)
            return
        await self._post(channel, post.marked(marker).arguments(), thread_ts)

    async def _in_thread(self, channel: str, thread_ts: str, marker: str) -> bool:
        """Whether a post with ``marker`` is in the thread (every page of it, oldest first)."""
        assert self.client is not None
        cursor: str | None = None
        for _ in range(_THREAD_PAGES):
            try:
                replies = await self.client.conversations_replies(
                    channel=channel, ts=thread_ts, limit=_THREAD_PAGE, cursor=cursor
                )
            except (SlackApiError, SlackClientError, OSError):
                return False  # cannot look: posting again is better than never
            if any(first_block_id(message) == marker for message in replies.get("messages") or []):
                return True
            cursor = (replies.get("response_metadata") or {}).get("next_cursor")
            if not replies.get("has_more") or not cursor:
                return False
        return False

    async def _post(self, channel: str, arguments: dict[str, Any], thread_ts: str | None) -> str:
        assert self.client is not None
        try:
            await self._pacer.wait(channel)
            response = await self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False, **arguments
            )
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            raise DeliveryError(f"slack {error}", permanent=error in PERMANENT_ERRORS) from None
        except (TimeoutError, SlackClientError, OSError) as exc:
            raise DeliveryError(f"slack {type(exc).__name__}", permanent=False) from None
        return str(response.get("ts") or "")

    async def _earlier_opening(self, marker: str) -> str | None:
        """An opening posted by an attempt that died before it could record the thread."""
        assert self.client is not None
        try:
            history = await self.client.conversations_history(
                channel=self.channel_id, limit=_HISTORY_LOOKBACK
            )
        except (SlackApiError, SlackClientError, OSError):
            return None
        for message in history.get("messages") or []:
            if first_block_id(message) == marker:
                return str(message.get("ts"))
        return None

    async def thread_ts_of(self, conversation_id: str) -> str | None:
        async with self.service.db.read() as conn:
            thread = await helpdesk.thread_of(conn, conversation_id)
        return None if thread is None else thread.thread_ts


def outcome_of(before: State, step: Step) -> str:
    """What the bot made of the person's message, in a few words for staff (no value)."""
    after = step.state
    if before.paused and after.paused:
        return "担当者が引き継ぎ中のため、ボットは応答していません。"
    if after.phase != before.phase:
        return f"ボット：状態が「{texts.PHASES.get(after.phase, after.phase)}」になりました。"
    if after.last_error and after.failures != before.failures:
        field_id = awaited_field(after) or ""
        count = after.failures.get(field_id, 0)
        label = texts.label_text(field_id)
        return f"ボット：「{label}」はエラー（{count}回目）— {texts.rendered(Msg(after.last_error))}"
    changed = [f for f in after.values if after.values.get(f) != before.values.get(f)]
    if changed:
        shown = [texts.label_text(f) for f in changed if not f.endswith(("_10", "_lookup"))]
        return "ボット：" + "、".join(f"「{label}」" for label in shown) + "を登録しました。" if shown else ""
    return ""


def install_helpdesk(
    service: Service, slack: SlackChannel | None, *, pacer: ChannelPacer | None = None
) -> Helpdesk:
    """Plug the help desk into the service (deliverers, turn hook) and, when Slack is on, into the Slack
    channel (the help-desk channel's thread replies, staff commands).  With Slack off, escalations are
    logged only.  `regbot serve` calls this once, after the channels are made."""
    from bot.helpdesk_staff import StaffDesk

    desk = Helpdesk(service, client=slack.client if slack is not None else None, pacer=pacer)
    desk.install()
    if slack is not None:
        slack.helpdesk = StaffDesk(desk)
    return desk
