"""The email channel's ``reply`` deliverer: the engine's replies mailed back in the person's thread (SPEC §5
Email, issue 5).

The service writes every reply as an outbox row in the turn's transaction; `bot.outbox.Outbox` claims the
row and calls `MailReplies.deliver`, which finds the conversation's mail thread, records the mail as sent
and hands one prompt mail (`mail.prompts.prompt_mail`) to the deliverer, addressed to the sender the
thread belongs to and never to anyone else.  The first mail of a thread says how to continue the sender's
unfinished conversation, if there is one.

The Message-ID of a row's mail is derived from the row (`row_message_id`): a mail sent again after a crash
between sending and settling is recognisably the same mail.  Other mail the bot sends (notices) gets a
random one (`own_message_id`).  Both are ``<regbot.…@bot domain>``, so `mail.autoreply` knows them when
they come back.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from bot.config import Config
from bot.outbox import decode_reply
from bot.service import Service
from mail import prompts
from mail.autoreply import format_own_message_id
from mail.deliver import Deliverer, DeliveryError
from storage import mail_threads
from storage.outbox import OutboxItem


def own_message_id(bot_address: str) -> str:
    return format_own_message_id(secrets.token_hex(16), prompts.bot_domain(bot_address))


def row_message_id(item: OutboxItem, bot_address: str) -> str:
    """The Message-ID of the mail of one outbox row: the same on every attempt, so a mail sent again
    after a crash between sending and settling is recognisably the same mail (receivers drop the copy),
    and not guessable (the conversation id is never shown)."""
    seed = f"{item.conversation_id}:{item.id}".encode()
    return format_own_message_id(hashlib.sha256(seed).hexdigest()[:32], prompts.bot_domain(bot_address))


class MailReplies:
    """The ``reply`` deliverer of channel ``email``: one prompt mail per reply row, in the thread."""

    def __init__(self, service: Service, config: Config, deliverer: Deliverer) -> None:
        self._service = service
        self._config = config
        self._deliverer = deliverer

    async def deliver(self, item: OutboxItem) -> str | None:
        payload: dict[str, Any] = item.payload or {}
        if "reply" not in payload:
            raise DeliveryError("reply row without a reply", permanent=True)
        bot_address = self._config.mail_address
        message_id = row_message_id(item, bot_address)
        now = self._service.clock()
        # Recorded before sending (the Message-ID is the row's own, the same on every attempt), so nothing
        # but the outbox settle stands between the relay's 250 and the row being done: the window in which
        # a crash sends the mail a second time stays short.  "The first mail" is counted without this
        # row's own id, so a retried first mail is still the first.
        async with self._service.db.transaction() as conn:
            thread = await mail_threads.find_thread(conn, item.recipient)
            sent = resume_since = None
            if thread is not None and thread.sender is not None:
                sent = await mail_threads.sent_count(conn, thread.reply_key, excluding=message_id)
                if thread.resume_key and sent == 0:
                    older = await mail_threads.find_thread(conn, thread.resume_key)
                    resume_since = None if older is None else older.created_at.strftime("%Y-%m-%d")
                await mail_threads.record_sent(conn, thread.reply_key, message_id, now)
        if thread is None or thread.sender is None or sent is None:
            raise DeliveryError("no mail thread for this conversation (purged?)", permanent=True)
        message = prompts.prompt_mail(
            decode_reply(payload["reply"]),
            lang=str(payload.get("lang") or "ja"),
            to=thread.sender,
            bot_address=bot_address,
            reply_key=thread.reply_key,
            message_id=message_id,
            in_reply_to=thread.last_message_id,
            references=thread.references,
            person_subject=thread.subject,
            first=sent == 0,
            now=now,
            resume_key=thread.resume_key if sent == 0 else None,
            resume_since=resume_since,
        )
        return await self._deliverer.send(bytes(message), mail_from=bot_address, recipients=[thread.sender])
