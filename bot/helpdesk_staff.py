"""What help-desk staff do from Slack (SPEC §6, issue 7): reply in a thread, and staff commands.

* A staff member's reply in a conversation's thread reaches the person in their own channel:
  ``Service.handle(channel, address, StaffMessage(text))`` — the engine signs it 「【ヘルプデスク】」 and
  its reply leaves through the outbox as a DM or a threaded mail.  A ✅ reaction says it went.  Replies
  starting with ``//`` or ``メモ:`` are notes among staff and stay in the thread.
* Commands, as ``/regbot <command> <conversation id|email>`` or as a bare word in the thread:
  ``status`` (masked), ``resend`` (a new link, older ones die), ``cancel``, ``takeover`` (the bot
  pauses; staff talk), ``release`` (the bot resumes at the current field), and ``/regbot stats [days]``.
* Only REGBOT_HELPDESK_STAFF may do any of it: others get a private refusal and nothing changes.  Each
  staff action is on the audit trail as ``staff.<action>`` with the staff member's user id.

An address given to find a conversation is used for the look-up only and never echoed unmasked.
"""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError

from bot import helpdesk_text as texts
from bot.helpdesk import TAKEOVER, Helpdesk
from bot.helpdesk_mask import mask_email, mask_text
from bot.stats import format_funnel, funnel_for_days
from bot.turns import TurnWriter
from conversations.rules import email as email_rule
from conversations.rules.errors import RuleError
from conversations.state import load_state
from conversations.turn import ENDED, awaited_field
from conversations.types import (
    Inbound,
    Msg,
    Release,
    ResendVerification,
    StaffMessage,
    State,
    Step,
    Takeover,
    Text,
)
from conversations.types import Reply as EngineReply
from storage import conversations, helpdesk
from storage.db import Conflict

log = logging.getLogger(__name__)

TARGETED = ("status", "resend", "cancel", "takeover", "release")
STAFF_WORDS = frozenset({*TARGETED, "stats"})
THREAD_WORDS: dict[str, str] = {
    **{word: word for word in TARGETED},
    "状況": "status",
    "再送": "resend",
    "キャンセル": "cancel",
    "引き継ぎ": "takeover",
    "引継ぎ": "takeover",
    "解除": "release",
}
NOTE_PREFIXES = ("//", "メモ:", "メモ：")
DEFAULT_STATS_DAYS = 7.0
_ID = re.compile(r"^[0-9a-f]{32}$")
_ATTEMPTS = 8

NOT_STAFF_IN_THREAD = (
    "このスレッドで利用者とやり取りできるのはヘルプデスク担当者のみです（中継していません）。"
)
USAGE = (
    "使い方：`/regbot status|resend|cancel|takeover|release <会話ID または メールアドレス>`、"
    "`/regbot stats [日数]`"
)


@dataclass(frozen=True)
class Target:
    conversation_id: str
    channel: str
    address: str
    state: State


class StaffDesk:
    """Staff's side of the help desk, attached to the Slack channel (``SlackChannel.helpdesk``)."""

    def __init__(self, desk: Helpdesk) -> None:
        self.desk = desk
        self.service = desk.service
        self._writer = TurnWriter(desk.config, desk.service.passwords)

    def is_staff(self, user: str) -> bool:
        return user in self.desk.staff

    def handles(self, word: str, argument: str) -> bool:
        """Whether ``/regbot <word> <argument>`` is a staff command (``status`` alone is the person's)."""
        return word in STAFF_WORDS and (bool(argument.strip()) or word in ("takeover", "release", "stats"))

    def is_helpdesk_channel(self, channel: str) -> bool:
        return bool(channel) and channel == self.desk.channel_id

    # ---------------------------------------------------------------------------------- commands

    async def command(self, user: str, word: str, argument: str, *, command_id: str) -> str:
        """``/regbot <word> <argument>`` by a staff member; returns the (ephemeral) answer."""
        if word == "stats":
            return await self.stats(user, argument)
        target_text = argument.strip().split()[0] if argument.strip() else ""
        if not target_text:
            return USAGE
        conversation_id, others = await self.resolve(target_text)
        if conversation_id is None:
            return f"「{_shown(target_text)}」に当たる会話は見つかりませんでした。"
        answer = await self.act(
            user, word, conversation_id, message_id=f"staff:{command_id}", in_thread=False
        )
        if others:
            answer += f"\n（同じ条件の会話がほかに{others}件あります。会話IDで指定してください。）"
        return answer

    async def stats(self, user: str, argument: str) -> str:
        try:
            days = float(argument.strip() or DEFAULT_STATS_DAYS)
        except ValueError:
            return "日数は数字で指定してください（例：`/regbot stats 30`）。"
        if not 0 < days <= 3660:
            return "日数は1〜3660で指定してください。"
        now = self.service.clock()
        result = await funnel_for_days(self.service.db, days, now)
        async with self.service.db.transaction() as conn:
            await helpdesk.record_staff_action(conn, None, "stats", user, now)
        return "```\n" + format_funnel(result) + "\n```"

    async def resolve(self, target: str) -> tuple[str | None, int]:
        """A conversation by id (or its first characters) or by an address; (id, how many others)."""
        text = _unwrap(target)
        async with self.service.db.read() as conn:
            if "@" in text or "＠" in text:
                try:
                    address = email_rule.normalise_email(text).value
                except RuleError:
                    address = text.strip().lower()
                found = await helpdesk.conversations_by_email(conn, address)
            elif _ID.match(text.lower()):
                found = [text.lower()] if await conversations.get(conn, text.lower()) else []
            else:
                found = await helpdesk.conversations_by_id_prefix(conn, text.lower())
                if len(found) > 1:
                    return None, 0
        if not found:
            return None, 0
        return found[0], len(found) - 1

    async def _target(self, conversation_id: str) -> Target | None:
        async with self.service.db.read() as conn:
            conversation = await conversations.get(conn, conversation_id)
        if conversation is None:
            return None
        return Target(
            conversation.id, conversation.channel, conversation.address, load_state(conversation.state)
        )

    async def act(
        self, user: str, word: str, conversation_id: str, *, message_id: str, in_thread: bool
    ) -> str:
        """One targeted command; returns what to tell the staff member."""
        target = await self._target(conversation_id)
        if target is None:
            return "この会話は見つかりませんでした。"
        now = self.service.clock()
        short = conversation_id[:8]
        if word == "status":
            answer = await self._status(target, user, now)
            await self._audit(conversation_id, "status", user, now, note=None)
            return answer
        state = target.state
        if word == "resend":
            answer = await self._resend(target, message_id, now)
        elif word == "cancel":
            if state.phase in ENDED:
                return (
                    f"会話 {short} はすでに終了しています（{texts.PHASES.get(state.phase, state.phase)}）。"
                )
            await self._handle(target, Text("キャンセル"), message_id)
            answer = f"会話 {short} を中止しました。利用者に中止をお知らせしました。"
        elif word == "takeover":
            if state.phase in ENDED:
                return f"会話 {short} は終了しているため引き継げません。"
            if state.paused:
                return f"会話 {short} はすでに引き継ぎ中です。"
            await self._handle(target, Takeover(), message_id)
            await self._open_thread_for(target, now)
            answer = (
                f"会話 {short} を引き継ぎました。ボットは質問を止めています。"
                "スレッドへの返信が利用者に届きます。終わったら `release` してください。"
            )
        elif word == "release":
            if not state.paused:
                return f"会話 {short} は引き継ぎ中ではありません。"
            await self._handle(target, Release(), message_id)
            answer = f"会話 {short} をボットに戻しました。ボットは現在の項目から再開します。"
        else:
            return USAGE
        await self._audit(conversation_id, word, user, now, note=None if in_thread else answer)
        return answer

    async def _open_thread_for(self, target: Target, now: datetime) -> None:
        """A conversation staff took over without an escalation gets its thread now, so the person's
        messages (copied while staff are involved) and staff replies have somewhere to go."""
        async with self.service.db.transaction() as conn:
            if await helpdesk.thread_of(conn, target.conversation_id) is not None:
                return
            conversation = await conversations.get(conn, target.conversation_id)
            if conversation is None:
                return
            state = load_state(conversation.state)
            await self.desk.enqueue_escalation(
                conn, conversation, TAKEOVER, awaited_field(state), state.last_error, now
            )
        self.service.outbox.wake()

    async def _status(self, target: Target, user: str, now: datetime) -> str:
        case = await self.desk.case(target.conversation_id, now)
        if case is None:
            return "この会話は見つかりませんでした。"
        async with self.service.db.read() as conn:
            actions = await helpdesk.staff_actions(conn, target.conversation_id)
        return texts.status_post(case, now, staff_actions=len(actions)).text

    async def _handle(self, target: Target, inbound: Inbound, message_id: str) -> None:
        await self.service.handle(target.channel, target.address, inbound, message_id=message_id)

    async def _resend(self, target: Target, message_id: str, now: datetime) -> str:
        """A new verification link straight from the service (works while staff have taken over too):
        the same effect and reply the engine gives to 「再送」."""
        short = target.conversation_id[:8]
        for _ in range(_ATTEMPTS):
            try:
                async with self.service.db.transaction() as conn:
                    conversation = await conversations.get(conn, target.conversation_id)
                    if conversation is None:
                        return "この会話は見つかりませんでした。"
                    state = load_state(conversation.state)
                    email = state.values.get("email", "")
                    if state.phase != "verifying" or not email:
                        phase = texts.PHASES.get(state.phase, state.phase)
                        return f"会話 {short} は確認メール送信後ではないため再送できません（{phase}）。"
                    if await conversations.seen(conn, conversation.channel, message_id):
                        return f"会話 {short}：この操作は処理済みです。"
                    await conversations.record_processed(
                        conn, conversation.channel, message_id, conversation.id, now
                    )
                    step = Step(
                        state,
                        replies=(EngineReply(lines=(Msg("resend.done"),)),),
                        effects=(ResendVerification(email),),
                    )
                    await self._writer.write(
                        conn,
                        conversation,
                        state,
                        Text("再送"),
                        step,
                        now,
                        activity=False,
                        queue_replies=True,
                    )
            except Conflict:
                continue
            self.service.outbox.wake()
            return f"会話 {short} に新しい確認メールを送りました（以前のリンクは無効になりました）。"
        return "ただいま処理できませんでした。もう一度お試しください。"

    async def _audit(
        self,
        conversation_id: str,
        action: str,
        user: str,
        now: datetime,
        *,
        note: str | None,
    ) -> None:
        """The action on the audit trail; ``note``: also say it in the conversation's thread."""
        async with self.service.db.transaction() as conn:
            await helpdesk.record_staff_action(conn, conversation_id, action, user, now)
            if note is not None:
                await self.desk.enqueue_note(conn, conversation_id, f"<@{user}>：`{action}` — {note}", now)
        self.service.outbox.wake()

    # ------------------------------------------------------------------------------ thread replies

    async def on_channel_message(self, event: dict[str, Any], message_id: str) -> None:
        """A message in the help-desk channel: a staff reply in a conversation's thread is relayed to the
        person or run as a command; anything else there is left alone."""
        client = self.desk.client
        channel = str(event.get("channel") or "")
        thread_ts = str(event.get("thread_ts") or "")
        ts = str(event.get("ts") or "")
        if client is None or not thread_ts or thread_ts == ts:
            return
        async with self.service.db.read() as conn:
            conversation_id = await helpdesk.conversation_of_thread(conn, channel, thread_ts)
        if conversation_id is None:
            return
        user = str(event.get("user") or "")
        text = plain_from_slack(str(event.get("text") or "")).strip()
        if not text or text.startswith(NOTE_PREFIXES):
            return
        if not self.is_staff(user):
            with contextlib.suppress(SlackApiError, SlackClientError, OSError):
                await client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, text=NOT_STAFF_IN_THREAD
                )
            return
        word = THREAD_WORDS.get(text.lower())
        if word is not None:
            answer = await self.act(
                user, word, conversation_id, message_id=f"staff:{message_id}", in_thread=True
            )
            await self._post_in_thread(channel, thread_ts, f"<@{user}>：`{word}` — {answer}")
            return
        target = await self._target(conversation_id)
        if target is None:
            return
        if target.channel == "console":
            await self._post_in_thread(
                channel, thread_ts, "コンソールでの会話のため、利用者には届けられません。"
            )
            return
        turn = await self.service.handle(
            target.channel, target.address, StaffMessage(text), message_id=message_id
        )
        if turn.duplicate:
            return
        await self._audit(conversation_id, "message", user, self.service.clock(), note=None)
        with contextlib.suppress(SlackApiError, SlackClientError, OSError):
            await client.reactions_add(channel=channel, timestamp=ts, name="white_check_mark")
        log.info("help desk: staff message relayed to conversation %s", conversation_id)

    async def _post_in_thread(self, channel: str, thread_ts: str, text: str) -> None:
        client = self.desk.client
        assert client is not None
        with contextlib.suppress(SlackApiError, SlackClientError, OSError):
            await client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)


_SLACK_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def plain_from_slack(text: str) -> str:
    """Slack's markup as the person should read it: <url|label> → label (url), mentions dropped,
    &amp; &lt; &gt; unescaped."""

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith(("@", "#", "!")):
            return label or ""
        if target.startswith("mailto:"):
            return label or target.removeprefix("mailto:")
        return f"{label} ({target})" if label and label != target else target

    plain = _SLACK_LINK.sub(link, text)
    return plain.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unwrap(target: str) -> str:
    """A slash command's argument without Slack's wrapping (<mailto:a@b|a@b>, `id`)."""
    return plain_from_slack(target).strip().strip("`").strip()


def _shown(target: str) -> str:
    """A target echoed back: an address masked, anything else cut short."""
    text = _unwrap(target)
    if "@" in text:
        return mask_email(text)
    return text if re.fullmatch(r"[0-9a-fA-F]{1,32}", text) else mask_text(text)
