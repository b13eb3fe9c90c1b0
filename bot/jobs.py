"""Scheduled jobs for abandoned conversations (SPEC §7).

- **Reminder**: a conversation idle for ``REGBOT_REMIND_AFTER_HOURS`` (24) gets one `Remind()` step.
- **Expiry**: idle for ``REGBOT_EXPIRE_AFTER_HOURS`` (72) → `Expire()` (phase ``expired``).
- **Retention**: ``REGBOT_RETENTION_DAYS`` (30) after an ended conversation last changed, its personal
  values are purged: the state's values emptied, the password hash, pending registrations and tokens
  deleted, settled outbox rows (recipients, payloads) deleted.  Accounts are never touched; the audit
  trail holds no values and stays.  Processed message ids older than the retention period go too.

Replies of reminders and expiry are ``reply`` outbox rows (the console sees them through
``pending_notifications``).  Every job is safe to run in several processes at once: each conversation is
changed in its own transaction with the version check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from bot.service import Service
from conversations.state import dump_state, load_state
from conversations.types import Expire, Remind
from storage import conversations, outbox, registrations

log = logging.getLogger(__name__)

# The phases the engine reminds / expires (conversations.engine: Remind, Expire).
IDLE_PHASES = ("new", "asking", "summary")
# Purged after the retention period: ended conversations, and links sent but never used.
PURGE_PHASES = ("completed", "cancelled", "redirected", "expired", "verifying")
_BATCH = 200


@dataclass(frozen=True)
class JobReport:
    reminded: int = 0
    expired: int = 0
    purged: int = 0


class Housekeeping:
    def __init__(self, service: Service) -> None:
        self._service = service
        self._config = service.config

    async def run_once(self) -> JobReport:
        """One pass of every job; returns how many conversations each one changed."""
        expired = await self.expire()
        reminded = await self.remind()
        purged = await self.purge()
        if reminded or expired or purged:
            log.info("housekeeping: %d reminded, %d expired, %d purged", reminded, expired, purged)
        return JobReport(reminded=reminded, expired=expired, purged=purged)

    async def remind(self) -> int:
        cutoff = self._service.clock() - timedelta(hours=self._config.remind_after_hours)
        async with self._service.db.read() as conn:
            ids = await conversations.idle(conn, IDLE_PHASES, cutoff, unreminded_only=True, limit=_BATCH)
        count = 0
        for conversation_id in ids:
            turn = await self._service.step_conversation(conversation_id, Remind())
            count += bool(turn and turn.replies)
            # Whatever the engine made of it, this idle spell has had its one reminder.
            async with self._service.db.transaction() as conn:
                await conversations.mark_reminded(conn, conversation_id)
        return count

    async def expire(self) -> int:
        cutoff = self._service.clock() - timedelta(hours=self._config.expire_after_hours)
        async with self._service.db.read() as conn:
            ids = await conversations.idle(conn, IDLE_PHASES, cutoff, limit=_BATCH)
        count = 0
        for conversation_id in ids:
            turn = await self._service.step_conversation(conversation_id, Expire())
            count += bool(turn and turn.replies)
        return count

    async def purge(self) -> int:
        now = self._service.clock()
        cutoff = now - timedelta(days=self._config.retention_days)
        async with self._service.db.read() as conn:
            ids = await conversations.purgeable(conn, PURGE_PHASES, cutoff, limit=_BATCH)
        purged = 0
        for conversation_id in ids:
            async with self._service.db.transaction() as conn:
                conversation = await conversations.get(conn, conversation_id)
                if conversation is None or conversation.phase not in PURGE_PHASES:
                    continue  # gone, or the person came back since the selection
                state = load_state(conversation.state)
                emptied = replace(state, values={}, town_choices=(), warning=None, last_error=None)
                if not await conversations.purge(conn, conversation, dump_state(emptied), now):
                    continue
                purged += 1
                await registrations.purge_pending(conn, conversation_id)
                await outbox.purge_settled(conn, conversation_id)
                await conversations.record_audit(conn, conversation_id, [("purged", None)], now)
        async with self._service.db.transaction() as conn:
            await conversations.forget_processed(conn, cutoff)
        return purged

    async def run(self, stop: asyncio.Event) -> None:
        """Run every REGBOT_JOBS_INTERVAL_SECONDS until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:
                log.exception("housekeeping pass failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._config.jobs_interval_seconds)
