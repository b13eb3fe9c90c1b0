"""A registration bot wired to a mock Slack: the real `Service` on a SQLite copy of its own, the Slack
channel's aiohttp route served in-process, the outbox loop delivering replies to the mock Web API."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from bot.config import Config, load_config
from bot.passwords import Passwords
from bot.service import Service
from bot.slack import SlackChannel, make_slack
from bot.slack_blocks import PASSWORD_ACTION, choice_from_value
from bot.slack_delivery import ChannelPacer
from storage.db import Database
from storage.tables import outbox
from tests.slack import payloads
from tests.slack.mock_web_api import MockSlack


@pytest.fixture
async def mock_slack() -> AsyncIterator[MockSlack]:
    mock = MockSlack()
    await mock.start()
    try:
        yield mock
    finally:
        await mock.stop()


def slack_config(tmp_path: Path, mock: MockSlack, database_url: str, **extra: str) -> Config:
    return load_config(
        {
            "REGBOT_DATABASE_URL": database_url,
            "REGBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
            "REGBOT_PUBLIC_URL": "http://127.0.0.1:8080",
            "REGBOT_MAIL_FROM": "from@mail.example.jp",
            "SLACK_BOT_TOKEN": "xoxb-test-token",
            "SLACK_SIGNING_SECRET": payloads.SIGNING_SECRET,
            "SLACK_API_URL": mock.url,
            **extra,
        }
    )


@dataclass
class SlackBot:
    mock: MockSlack
    http: TestClient[web.Request, web.Application]
    service: Service
    slack: SlackChannel
    config: Config

    async def post(self, body: str, *, content_type: str, headers: dict[str, str] | None = None) -> Any:
        signed = {**payloads.sign(body), "Content-Type": content_type, **(headers or {})}
        return await self.http.post("/slack/events", data=body.encode(), headers=signed)

    async def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None
    ) -> Any:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else {}
        body = payloads.event_body(event, event_id=event_id)
        return await self.post(body, content_type="application/json", headers=headers)

    async def interaction(self, payload: dict[str, Any]) -> Any:
        return await self.post(
            payloads.interaction_body(payload), content_type="application/x-www-form-urlencoded"
        )

    async def command(self, user: str, text: str, *, channel: str = "C0GENERAL") -> Any:
        return await self.post(
            payloads.command_body(user, text, channel=channel),
            content_type="application/x-www-form-urlencoded",
        )

    async def settled(self) -> None:
        """Every turn started by the requests so far is done and its replies are posted."""
        assert await self.slack.drain(5.0)
        await self.service.deliver_outbox()
        # The outbox loop may have claimed a row first and still be posting it: wait for it to settle.
        for _ in range(500):
            async with self.service.db.read() as conn:
                in_flight = (
                    await conn.execute(
                        select(func.count()).where(
                            outbox.c.kind == "reply", outbox.c.channel == "slack", outbox.c.status == "queued"
                        )
                    )
                ).scalar_one()
            if not in_flight:
                return
            await asyncio.sleep(0.01)
        raise AssertionError("Slack replies still queued after 5 s")


@dataclass
class Person:
    """Someone registering in their DM with the bot, as the tests drive them."""

    bot: SlackBot
    user: str = "U0PERSON"
    seen: int = 0
    responses: list[Any] = field(default_factory=list)

    @property
    def dm(self) -> str:
        return "D" + self.user.lstrip("U")

    def last(self) -> dict[str, Any]:
        return self.bot.mock.posts(self.dm)[-1]

    async def _next(self, count: int = 1) -> dict[str, Any]:
        posts = await self.bot.mock.wait_posts(self.seen + count, channel=self.dm)
        self.seen = len(posts)
        return posts[-1]

    async def says(self, text: str, *, event_id: str | None = None) -> dict[str, Any]:
        response = await self.bot.event(payloads.dm_event(self.user, text), event_id=event_id)
        assert response.status == 200
        return await self._next()

    def _elements(self, message: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        message = message or self.last()
        return [e for block in message["blocks"] if block["type"] == "actions" for e in block["elements"]]

    def buttons(self, message: dict[str, Any] | None = None) -> list[str]:
        return [e["text"]["text"] for e in self._elements(message) if e["type"] == "button"]

    async def clicks(
        self, label: str, *, message: dict[str, Any] | None = None, expect_reply: bool = True
    ) -> dict[str, Any]:
        message = message or self.last()
        button = next(
            e for e in self._elements(message) if e["type"] == "button" and e["text"]["text"] == label
        )
        await self.bot.interaction(payloads.block_action(self.user, self.dm, message, button))
        return await self._next() if expect_reply else message

    async def selects(self, value: str, *, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """Picks the option shown as ``value``, or whose `Choice` value is ``value``, from the select."""
        message = message or self.last()
        select = next(e for e in self._elements(message) if e["type"] == "static_select")
        option = next(
            o
            for o in select["options"]
            if o["text"]["text"] == value or ((c := choice_from_value(o["value"])) and c.value == value)
        )
        action = {"type": "static_select", "action_id": select["action_id"], "selected_option": option}
        await self.bot.interaction(payloads.block_action(self.user, self.dm, message, action))
        return await self._next()

    async def opens_password_modal(self) -> dict[str, Any]:
        button = next(e for e in self._elements() if e.get("action_id") == PASSWORD_ACTION)
        before = len(self.bot.mock.of("views.open"))
        response = await self.bot.interaction(payloads.block_action(self.user, self.dm, self.last(), button))
        assert response.status == 200
        await self.bot.mock.wait_for(lambda: len(self.bot.mock.of("views.open")) > before, what="views.open")
        call = self.bot.mock.of("views.open")[-1]
        assert call.body["trigger_id"]
        view = call.body["view"]
        return json.loads(view) if isinstance(view, str) else view

    async def submits_password(self, view: dict[str, Any], password: str, confirmation: str) -> Any:
        values = {"password": password, "password_confirmation": confirmation}
        response = await self.bot.interaction(payloads.view_submission(self.user, view, values))
        assert response.status == 200
        text = await response.text()
        return json.loads(text) if text else None


async def start_bot(
    config: Config, mock: MockSlack
) -> tuple[Service, SlackChannel, TestClient[web.Request, web.Application]]:
    service = Service(config, Database.open(config.database_url), passwords=Passwords.cheap())
    slack = make_slack(config, service, pacer=ChannelPacer(0))
    assert slack is not None
    web_app = web.Application()
    slack.add_routes(web_app)
    http = TestClient(TestServer(web_app, host="127.0.0.1"))
    await http.start_server()
    await slack.start()
    return service, slack, http


@pytest.fixture
def slack_db_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "regbot.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def slack_bot(mock_slack: MockSlack, slack_db_url: str, tmp_path: Path) -> AsyncIterator[SlackBot]:
    config = slack_config(tmp_path, mock_slack, slack_db_url)
    service, slack, http = await start_bot(config, mock_slack)
    stop = asyncio.Event()
    delivery = asyncio.create_task(service.outbox.run(stop))
    try:
        yield SlackBot(mock_slack, http, service, slack, config)
    finally:
        stop.set()
        await delivery
        await slack.stop()
        await http.close()
        await service.close()


@pytest.fixture
def person(slack_bot: SlackBot) -> Person:
    return Person(slack_bot)
