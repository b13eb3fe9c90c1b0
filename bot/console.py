"""`regbot chat`: the engine in a terminal (SPEC §1, §8).

Interactive on a terminal, with the password asked through hidden input.  With stdin not a terminal it
reads one answer a line — the password too (that one line is taken as password and confirmation, since
piped input cannot mistype) — prints the bot's messages, and exits 0 when its input ends.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol, TextIO

from conversations.engine import new_state, step
from conversations.render import render_msg, render_text
from conversations.types import Inbound, IssueVerification, Msg, Reply, Secret, Start, State, Text

log = logging.getLogger(__name__)
NOTIFICATION_POLL_SECONDS = 2.0


class Conversation(Protocol):
    """What the console needs from whoever runs the engine: in memory, or the service with a database."""

    async def send(self, inbound: Inbound) -> list[Reply]: ...

    async def notifications(self) -> list[Reply]: ...

    async def close(self) -> None: ...


class MemoryConversation:
    """The engine alone, state in memory: for trying the questions without a database."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.state: State = new_state("console")
        self.clock = clock

    async def send(self, inbound: Inbound) -> list[Reply]:
        result = step(self.state, inbound, self.clock())
        self.state = result.state
        replies = list(result.replies)
        for effect in result.effects:
            if isinstance(effect, IssueVerification):
                replies.append(Reply((Msg("console.memory_mode"),)))
        return replies

    async def notifications(self) -> list[Reply]:
        return []

    async def close(self) -> None:
        return None


class Console:
    def __init__(
        self, conversation: Conversation, *, stdin: TextIO, stdout: TextIO, lang: str = "ja"
    ) -> None:
        self.conversation = conversation
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty()
        self.lang = lang
        self.awaiting_secret = False

    def show(self, replies: list[Reply]) -> None:
        for reply in replies:
            self.stdout.write(render_text(reply, self.lang) + "\n\n")
            self.awaiting_secret = reply.secret
        self.stdout.flush()

    def read_line(self, prompt: str) -> str | None:
        if self.interactive:
            try:
                return input(prompt)
            except EOFError:
                return None
        line = self.stdin.readline()
        if not line:
            return None
        return line.rstrip("\r\n")

    def read_secret(self) -> Secret | None:
        if not self.interactive:
            line = self.read_line("")
            return None if line is None else Secret(line, line)
        try:
            first = getpass.getpass(render_msg(Msg("console.password"), self.lang))
            second = getpass.getpass(render_msg(Msg("console.password_confirmation"), self.lang))
        except EOFError:
            return None
        return Secret(first, second)

    async def run(self) -> int:
        self.show(await self.conversation.send(Start(channel="console", lang=self.lang)))
        poller = asyncio.create_task(self._poll_notifications()) if self.interactive else None
        try:
            while True:
                inbound: Inbound | None
                if self.awaiting_secret:
                    inbound = await asyncio.to_thread(self.read_secret)
                else:
                    line = await asyncio.to_thread(self.read_line, "> ")
                    inbound = None if line is None else Text(line)
                if inbound is None:
                    self.show(await self.conversation.notifications())
                    return 0
                try:
                    replies = await self.conversation.send(inbound)
                    notifications = await self.conversation.notifications()
                except Exception:  # e.g. the database is locked: say so, keep the conversation going
                    log.warning("console: a turn failed", exc_info=True)
                    self.show([Reply((Msg("console.turn_failed"),), secret=self.awaiting_secret)])
                    continue
                self._follow_language(inbound)
                self.show(replies)
                self.show(notifications)
        finally:
            if poller is not None:
                poller.cancel()

    async def _poll_notifications(self) -> None:
        """On a terminal, show the completion notice while the person is not typing (the link is
        used in a browser, perhaps served by another process)."""
        while True:
            await asyncio.sleep(NOTIFICATION_POLL_SECONDS)
            try:
                replies = await self.conversation.notifications()
            except Exception:  # a passing database error must not end the conversation
                log.warning("console: notifications could not be read", exc_info=True)
                continue
            if replies:
                self.stdout.write("\n")
                self.show(replies)
                self.stdout.write("> ")
                self.stdout.flush()

    def _follow_language(self, inbound: Inbound) -> None:
        if isinstance(inbound, Text):
            word = inbound.text.strip().lower()
            if word in ("english", "英語"):
                self.lang = "en"
            elif word in ("日本語", "japanese"):
                self.lang = "ja"


async def run_console(conversation: Conversation, *, lang: str = "ja") -> int:
    console = Console(conversation, stdin=sys.stdin, stdout=sys.stdout, lang=lang)
    try:
        return await console.run()
    finally:
        await conversation.close()


def new_session_id() -> str:
    return uuid.uuid4().hex


def main_memory(lang: str = "ja") -> int:
    return asyncio.run(run_console(MemoryConversation(), lang=lang))
