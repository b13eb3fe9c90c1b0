"""People registering in their Slack DM with a `regbot serve` (events POSTed, signed, to /slack/events;
replies read at the mock Web API), retrying an event the way Slack does when no 200 came back."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.slack_blocks import first_block_marker
from tests.slack import payloads
from tests.slack.mock_web_api import MockSlack


def slack_answers(email_address: str) -> list[tuple[str, str]]:
    """(what the person types, what the bot then awaits) up to the password modal."""
    return [
        ("こんにちは", "family_name"),
        ("基金", "given_name"),
        ("太郎", "institution_type"),
        ("1", "prefecture"),
        ("北海道", "institution_code"),
        ("0113719", "institution_name"),
        ("基金クリニック", "founder_name"),
        ("医療法人基金会", "phone"),
        ("0312345678", "email"),
        (email_address, "password"),
    ]


def awaiting_of(post: dict[str, Any]) -> str | None:
    metadata = post.get("metadata")
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    if not metadata:
        return None
    return str((metadata.get("event_payload") or {}).get("awaiting"))


@dataclass
class SlackPerson:
    user: str
    email: str
    step: int = 0
    retries: int = 0

    @property
    def dm(self) -> str:
        return "D" + self.user.lstrip("U")

    def answers(self) -> list[tuple[str, str]]:
        return slack_answers(self.email)

    def done(self) -> bool:
        return self.step >= len(self.answers())

    def replies(self, mock: MockSlack) -> list[dict[str, Any]]:
        """The bot's posts in the DM, each outbox row (marker) once, in order."""
        seen: dict[str | None, dict[str, Any]] = {}
        for post in mock.posts(self.dm):
            blocks = post.get("blocks")
            if isinstance(blocks, str):
                post = {**post, "blocks": json.loads(blocks)}
            seen.setdefault(first_block_marker(post) or f"unmarked:{len(seen)}", post)
        return list(seen.values())

    def duplicates(self, mock: MockSlack) -> int:
        return len(mock.posts(self.dm)) - len(self.replies(mock))

    async def say(
        self, http: aiohttp.ClientSession, url: str, text: str, event_id: str, deadline: float
    ) -> None:
        """POST the event until a 200 comes back (Slack retries the same event_id)."""
        body = payloads.event_body(payloads.dm_event(self.user, text), event_id=event_id)
        loop = asyncio.get_running_loop()
        while True:
            assert loop.time() < deadline, f"{self.user}: the event never got a 200"
            headers = {**payloads.sign(body), "Content-Type": "application/json"}
            try:
                async with http.post(url, data=body.encode(), headers=headers) as response:
                    await response.read()
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, OSError):
                pass
            self.retries += 1
            await asyncio.sleep(0.2)

    async def register(self, url: str, mock: MockSlack, *, timeout: float) -> None:
        """Each answer once the bot has answered the last one (by marker), up to the password."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with aiohttp.ClientSession() as http:
            while not self.done():
                text, _ = self.answers()[self.step]
                await self.say(http, url, text, f"Ev{self.user}x{self.step}", deadline)
                while len(self.replies(mock)) <= self.step:
                    assert loop.time() < deadline, f"{self.user} stuck at step {self.step}"
                    await asyncio.sleep(0.05)
                self.step += 1
