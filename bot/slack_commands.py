"""``/regbot``: the person's own words (register, status, resend, cancel) become a turn in their DM; the
staff forms (a conversation named after the word, takeover, release) go to the help desk (SPEC §6).

Every answer is ephemeral and carries no personal value.  A staff command is answered in the ack when its
work is quick, else later in the staff member's DM; Slack wants the ack within 3 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Coroutine
from typing import Any, Protocol

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_ports import CHANNEL, HelpdeskPort, SlackTurn
from conversations.render import render_msg
from conversations.types import Inbound, Msg, Start, Text

# /regbot <word>: what the person's own conversation gets.  Staff forms (with a conversation named
# after the word, takeover, release) belong to the help desk (SPEC §6).
_COMMANDS: dict[str, Inbound] = {
    "register": Start(CHANNEL),
    "start": Start(CHANNEL),
    "登録": Start(CHANNEL),
    "status": Text("状況"),
    "状況": Text("状況"),
    "resend": Text("再送"),
    "再送": Text("再送"),
    "cancel": Text("キャンセル"),
    "キャンセル": Text("キャンセル"),
}
_STAFF_COMMANDS = frozenset({"takeover", "release"})


class CommandHost(Protocol):
    """What the command needs of the channel (bot.slack.SlackChannel)."""

    client: AsyncWebClient
    helpdesk: HelpdeskPort | None

    def spawn(self, work: Coroutine[Any, Any, Any], *, what: str) -> asyncio.Task[Any]: ...
    async def committed(self, turn: asyncio.Task[Any]) -> None: ...
    async def turn(self, address: str, inbound: Inbound, message_id: str) -> SlackTurn | None: ...
    async def open_dm(self, user: str) -> str: ...


class SlashCommand:
    """The ``/regbot`` listener of one channel; ``staff`` is the configured help-desk staff (user ids)."""

    def __init__(self, host: CommandHost, *, staff: Collection[str]) -> None:
        self._host = host
        self._staff = staff

    async def on_command(
        self, ack: Callable[..., Awaitable[None]], command: dict[str, Any], *, answer_within: float
    ) -> None:
        """``answer_within``: how long a staff command may take to be answered in the ack."""
        host = self._host
        word, _, rest = str(command.get("text") or "").strip().partition(" ")
        word = word.lower()
        user = str(command.get("user_id") or "")
        helpdesk = host.helpdesk
        if helpdesk is not None and helpdesk.handles(word, rest):
            if not helpdesk.is_staff(user):  # nothing happens: a private refusal only
                await ack(text=render_msg(Msg("slack.command.staff_only"), "ja"), response_type="ephemeral")
                return
            command_id = str(command.get("trigger_id") or command.get("command_ts") or "")
            await self._staff_command(ack, helpdesk, user, word, rest.strip(), command_id, answer_within)
            return
        inbound = _COMMANDS.get(word)
        if inbound is None or rest.strip():
            staff = user in self._staff
            if (word in _STAFF_COMMANDS or rest.strip()) and not staff:
                await ack(text=render_msg(Msg("slack.command.staff_only"), "ja"), response_type="ephemeral")
            else:
                await ack(text=render_msg(Msg("slack.command.usage"), "ja"), response_type="ephemeral")
            return
        answer = render_msg(
            Msg("slack.command.dm" if isinstance(inbound, Start) else "slack.command.sent"), "ja"
        )
        await ack(text=answer, response_type="ephemeral")
        message_id = f"command:{command.get('trigger_id') or command.get('command_ts') or ''}"
        await host.committed(host.spawn(self._command(user, inbound, message_id), what="command"))

    async def _staff_command(
        self,
        ack: Callable[..., Awaitable[None]],
        helpdesk: HelpdeskPort,
        user: str,
        word: str,
        argument: str,
        command_id: str,
        answer_within: float,
    ) -> None:
        """Answer in the ack when the work is quick (it usually is); else ack now, answer in a DM."""
        work = self._host.spawn(
            helpdesk.command(user, word, argument, command_id=command_id), what="staff command"
        )
        done, _ = await asyncio.wait({work}, timeout=answer_within)
        if work not in done:
            await ack(text=render_msg(Msg("slack.command.staff_later"), "ja"), response_type="ephemeral")
            self._host.spawn(self._staff_answer_later(work, user), what="staff command answer")
            return
        answer = render_msg(Msg("slack.command.failed"), "ja") if work.exception() else work.result()
        await ack(text=answer, response_type="ephemeral")

    async def _staff_answer_later(self, work: asyncio.Task[str], user: str) -> None:
        try:
            answer = await work
        except Exception:  # logged by the task's own callback (type only)
            answer = render_msg(Msg("slack.command.failed"), "ja")
        await self._host.client.chat_postMessage(channel=await self._host.open_dm(user), text=answer)

    async def _command(self, user: str, inbound: Inbound, message_id: str) -> None:
        await self._host.turn(await self._host.open_dm(user), inbound, message_id)
