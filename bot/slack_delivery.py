"""Slack's outbox deliverer: ``reply`` rows of the ``slack`` channel → ``chat.postMessage`` in the DM.

The service writes every reply as an outbox row in the turn's transaction; `bot.outbox.Outbox` claims the
row and calls `SlackReplies.deliver`.  So a crash before the post leaves the row to be sent again, and a
crash after the post but before the row is settled is caught here: each message's first block carries the
outbox id (`bot.slack_blocks.message_for` ``marker``), and a second attempt first looks at the DM's
recent history for it, so the person never gets the same reply twice.

Rate limits: the Web API client retries HTTP 429 after ``Retry-After`` (the SDK's retry handlers, added
by `add_retry_handlers`), and `ChannelPacer` keeps to Slack's "about one message per second per channel"
with a small burst, so a busy DM is never throttled in the first place.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.keyed_locks import KeyedLocks
from bot.outbox import decode_reply
from bot.slack_blocks import first_block_marker, message_for
from mail.deliver import DeliveryError
from storage.outbox import OutboxItem

log = logging.getLogger(__name__)

# Web API errors after which the same post can never succeed.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        "account_inactive",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "invalid_blocks",
        "invalid_metadata_format",
        "invalid_metadata_schema",
        "msg_too_long",
        "too_many_attachments",
        "user_not_found",
        "cannot_dm_bot",
    }
)
HISTORY_LOOKBACK = 30  # messages of the DM searched for an earlier attempt's post


def add_retry_handlers(client: AsyncWebClient, *, rate_limit_retries: int = 3) -> None:
    """HTTP 429 (after Retry-After), connection resets and 5xx are retried by the SDK itself (in place of
    its default, a single connection retry)."""
    client.retry_handlers = [
        AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        AsyncConnectionErrorRetryHandler(max_retry_count=2),
        AsyncServerErrorRetryHandler(max_retry_count=2),
    ]


class ChannelPacer:
    """At most ``burst`` messages at once per channel, then one every ``interval`` seconds (token bucket).

    ``clock`` and ``sleep`` are injectable for tests; the real ones are the monotonic clock and
    ``asyncio.sleep`` (waiting here is the point, not a timing guess).
    """

    def __init__(
        self,
        interval: float = 1.0,
        burst: int = 3,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, tuple[float, float]] = {}  # channel → (tokens, at)

    async def wait(self, channel: str) -> float:
        """Take one slot for ``channel``; returns how long it waited."""
        if self.interval <= 0:
            return 0.0
        now = self._clock()
        tokens, at = self._buckets.get(channel, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) / self.interval)
        waited = 0.0
        if tokens < 1.0:
            waited = (1.0 - tokens) * self.interval
            tokens = 1.0
            now += waited
        self._buckets[channel] = (tokens - 1.0, now)
        self._forget_idle(now)
        if waited > 0:
            await self._sleep(waited)
        return waited

    def _forget_idle(self, now: float) -> None:
        if len(self._buckets) < 1024:
            return
        full_after = self.burst * self.interval
        for channel, (_, at) in list(self._buckets.items()):
            if now - at > full_after:
                del self._buckets[channel]


class SlackReplies:
    """The outbox deliverer for ``reply`` rows of the ``slack`` channel (recipient: the DM channel id)."""

    def __init__(self, client: AsyncWebClient, *, pacer: ChannelPacer | None = None) -> None:
        self._client = client
        self._pacer = pacer or ChannelPacer()
        self._locks = KeyedLocks()

    async def deliver(self, item: OutboxItem) -> str | None:
        payload = item.payload or {}
        if "reply" not in payload:
            raise DeliveryError("slack reply row without a reply", permanent=True)
        channel = item.recipient
        lang = str(payload.get("lang") or "ja")
        message = message_for(decode_reply(payload["reply"]), lang, marker=str(item.id))
        try:
            async with self._locks.hold(channel):  # keeps a DM's replies in order
                if item.attempts > 1 and await self._already_posted(channel, str(item.id)):
                    log.info("outbox %d: already in the DM from an earlier attempt", item.id)
                    return None
                await self._pacer.wait(channel)
                response = await self._client.chat_postMessage(**message.post_arguments(channel))
        except SlackApiError as exc:
            error = str(exc.response.get("error", "unknown_error"))
            raise DeliveryError(f"slack {error}", permanent=error in PERMANENT_ERRORS) from None
        except (TimeoutError, SlackClientError, OSError) as exc:
            raise DeliveryError(f"slack {type(exc).__name__}", permanent=False) from None
        log.debug("outbox %d: posted to Slack (ts %s)", item.id, response.get("ts"))
        return None

    async def _already_posted(self, channel: str, marker: str) -> bool:
        """Whether an earlier attempt's post is in the DM (found by the first block's id)."""
        try:
            history = await self._client.conversations_history(channel=channel, limit=HISTORY_LOOKBACK)
        except SlackApiError:
            return False  # cannot look: posting again is better than never
        messages: list[dict[str, Any]] = history.get("messages") or []
        return any(first_block_marker(message) == marker for message in messages)
