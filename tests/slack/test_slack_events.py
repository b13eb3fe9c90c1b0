"""How the Slack channel treats what arrives at /slack/events: signatures, retries, bots and edits,
mentions in shared channels, the slash command, stale buttons, and the ack that comes before the work."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import load_config
from bot.slack import make_slack
from conversations.types import Inbound, Reply, Start, Text
from tests.slack import payloads
from tests.slack.conftest import Person, SlackBot
from tests.slack.mock_web_api import BOT_ID, BOT_USER_ID, MockSlack


def awaiting(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    return None if metadata is None else str(metadata["event_payload"]["awaiting"])


async def test_bad_or_old_signature_is_refused_and_nothing_happens(slack_bot: SlackBot) -> None:
    """A wrong signature or a timestamp older than five minutes gets 401; no Web API call, no turn."""
    body = payloads.event_body(payloads.dm_event("U0PERSON", "こんにちは"))
    wrong = payloads.sign(body, secret="not-the-secret")
    old = payloads.sign(body, timestamp=int(time.time()) - 600)
    for headers in (wrong, old, {}):
        response = await slack_bot.http.post(
            "/slack/events", data=body.encode(), headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status == 401
    await slack_bot.settled()
    assert slack_bot.mock.calls == []


async def test_a_retried_event_is_processed_once(slack_bot: SlackBot, person: Person) -> None:
    """Slack's retry (same event_id, X-Slack-Retry-Num) gets 200 and no second reply."""
    event = payloads.dm_event(person.user, "こんにちは")
    for retry in (None, 1, 2):
        response = await slack_bot.event(event, event_id="Ev0RETRIED", retry=retry)
        assert response.status == 200
    await slack_bot.settled()
    assert len(slack_bot.mock.posts(person.dm)) == 1


@pytest.mark.parametrize(
    "extra",
    [
        {"bot_id": BOT_ID},
        {"user": BOT_USER_ID},
        {"bot_id": "B0OTHER", "subtype": "bot_message"},
        {"subtype": "message_changed"},
        {"subtype": "message_deleted"},
        {"channel_type": "channel", "channel": "C0GENERAL"},
    ],
    ids=["own-bot", "own-user", "other-bot", "edit", "delete", "shared-channel"],
)
async def test_bots_edits_deletions_and_channel_messages_are_ignored(
    slack_bot: SlackBot, extra: dict[str, str]
) -> None:
    event = {**payloads.dm_event("U0PERSON", "こんにちは"), **extra}
    response = await slack_bot.event(event)
    assert response.status == 200
    await slack_bot.settled()
    assert slack_bot.mock.posts() == []


async def test_mention_in_a_channel_answers_in_the_thread_and_continues_in_a_dm(slack_bot: SlackBot) -> None:
    """An @mention: a note in the thread without any personal value, and the questions in the DM."""
    event = {
        "type": "app_mention",
        "channel": "C0GENERAL",
        "user": "U0PERSON",
        "text": f"<@{BOT_USER_ID}>\n姓: 基金",
        "ts": "1700000000.000200",
    }
    assert (await slack_bot.event(event)).status == 200
    await slack_bot.settled()
    (thread_note,) = slack_bot.mock.posts("C0GENERAL")
    assert thread_note["thread_ts"] == "1700000000.000200"
    assert "DM" in thread_note["text"]
    assert "基金" not in json.dumps(thread_note, ensure_ascii=False)
    assert "metadata" not in thread_note and "blocks" not in thread_note
    assert slack_bot.mock.of("conversations.open")[0].body["users"] == "U0PERSON"
    (greeting,) = slack_bot.mock.posts("D0PERSON")
    assert "姓「基金」" in greeting["text"]  # the mention's own lines count
    assert awaiting(greeting) == "given_name"


async def test_regbot_register_acks_at_once_and_continues_in_the_dm(slack_bot: SlackBot) -> None:
    response = await slack_bot.command("U0PERSON", "register")
    assert response.status == 200
    assert "DM" in (await response.json())["text"]
    await slack_bot.settled()
    assert slack_bot.mock.posts("C0GENERAL") == []
    (greeting,) = slack_bot.mock.posts("D0PERSON")
    assert awaiting(greeting) == "family_name"


@pytest.mark.parametrize(
    ("text", "says"),
    [("", "使い方"), ("help", "使い方"), ("takeover", "担当者のみ"), ("status D0SOMEONE", "担当者のみ")],
)
async def test_regbot_other_words_answer_privately(slack_bot: SlackBot, text: str, says: str) -> None:
    response = await slack_bot.command("U0PERSON", text)
    assert says in (await response.json())["text"]
    await slack_bot.settled()
    assert slack_bot.mock.posts() == []


async def test_regbot_status_answers_in_the_dm(slack_bot: SlackBot, person: Person) -> None:
    await person.says("こんにちは")
    response = await slack_bot.command(person.user, "status")
    assert response.status == 200
    await slack_bot.settled()
    assert len(slack_bot.mock.posts(person.dm)) == 2


async def test_an_old_prompts_button_answers_politely(slack_bot: SlackBot, person: Person) -> None:
    """A button of a prompt that is no longer current changes nothing; the engine says so."""
    await person.says("こんにちは")
    await person.says("基金")
    old = await person.says("太郎")
    assert awaiting(old) == "institution_type"
    await person.says("1")
    message = await person.clicks("3: 歯科", message=old)
    assert "以前の質問" in message["text"]
    assert awaiting(message) == "prefecture"


async def test_every_prompt_carries_metadata_and_others_none(slack_bot: SlackBot, person: Person) -> None:
    await person.says("こんにちは")
    await person.says("基金")
    message = await person.says("キャンセル")
    assert awaiting(message) is None and "metadata" not in message
    assert all(awaiting(post) is not None for post in slack_bot.mock.posts(person.dm)[:-1])


async def test_clicks_outside_a_dm_are_ignored(slack_bot: SlackBot) -> None:
    button = {"type": "button", "action_id": "regbot_choice:0", "value": '{"awaiting":"x","value":"1"}'}
    payload = payloads.block_action("U0PERSON", "C0GENERAL", {"ts": "1.0"}, button)
    assert (await slack_bot.interaction(payload)).status == 200
    await slack_bot.settled()
    assert [c.path for c in slack_bot.mock.calls] == ["auth.test"]


async def test_rate_limited_post_is_retried_after_retry_after(slack_bot: SlackBot, person: Person) -> None:
    slack_bot.mock.rate_limit("chat.postMessage", times=1, retry_after=0)
    message = await person.says("こんにちは")
    assert awaiting(message) == "family_name"
    assert len(slack_bot.mock.of("chat.postMessage")) == 2  # the 429, then the post
    assert [c.status for c in slack_bot.mock.of("chat.postMessage")] == [429, 200]
    await slack_bot.settled()
    assert slack_bot.mock.posts(person.dm) == [message]


# ------------------------------------------------------------------------- with a slow fake service


class GatedService:
    """Holds every turn until the test opens the gate; records what it was given."""

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.handled: list[tuple[str, Inbound, str | None]] = []
        self.registered: list[str] = []

    async def handle(
        self, channel: str, address: str, inbound: Inbound, *, message_id: str | None = None
    ) -> Any:
        await self.gate.wait()
        self.handled.append((address, inbound, message_id))

        class Turn:
            replies: tuple[Reply, ...] = ()
            duplicate = False

        return Turn()

    def register_deliverer(self, kind: str, deliverer: Any, *, channel: str | None = None) -> None:
        self.registered.append(f"{kind}/{channel}")


async def test_ack_comes_before_the_turn_and_stop_waits_for_it(mock_slack: MockSlack, tmp_path: Path) -> None:
    """The HTTP answer does not wait for the service; shutting down waits for the turn in flight."""
    config = load_config(
        {
            "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": payloads.SIGNING_SECRET,
            "SLACK_API_URL": mock_slack.url,
        }
    )
    service = GatedService()
    slack = make_slack(config, service)  # type: ignore[arg-type]
    assert slack is not None and service.registered == ["reply/slack"]
    web_app = web.Application()
    slack.add_routes(web_app)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as http:
        await slack.start()
        body = payloads.event_body(payloads.dm_event("U0PERSON", "こんにちは"), event_id="Ev0GATED")
        headers = {**payloads.sign(body), "Content-Type": "application/json"}
        response = await http.post("/slack/events", data=body.encode(), headers=headers)
        assert response.status == 200
        assert service.handled == []  # acknowledged while the turn still waits
        stopping = asyncio.create_task(slack.stop())
        await asyncio.sleep(0)
        assert not stopping.done()
        service.gate.set()
        await stopping
    assert service.handled == [("D0PERSON", Text("こんにちは"), "Ev0GATED")]


class BrokenService(GatedService):
    async def handle(
        self, channel: str, address: str, inbound: Inbound, *, message_id: str | None = None
    ) -> Any:
        raise RuntimeError("database is down: 基金 太郎")


async def test_a_failed_turn_gets_an_apology_and_a_log_line_without_values(
    mock_slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    config = load_config(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": mock_slack.url}
    )
    slack = make_slack(config, BrokenService())  # type: ignore[arg-type]
    assert slack is not None
    web_app = web.Application()
    slack.add_routes(web_app)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as http:
        await slack.start()
        body = payloads.event_body(payloads.dm_event("U0PERSON", "基金"))
        headers = {**payloads.sign(body, secret="s"), "Content-Type": "application/json"}
        assert (await http.post("/slack/events", data=body.encode(), headers=headers)).status == 200
        await slack.stop()
        assert (await http.post("/slack/events", data=body.encode(), headers=headers)).status == 503
    (apology,) = mock_slack.posts("D0PERSON")
    assert "もう一度" in apology["text"] and "metadata" not in apology
    assert "RuntimeError" in caplog.text and "基金" not in caplog.text


def test_slack_is_off_without_a_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.slack")
    service = GatedService()
    assert make_slack(load_config({}), service) is None  # type: ignore[arg-type]
    assert [r.getMessage() for r in caplog.records] == ["Slack is off: SLACK_BOT_TOKEN is empty"]
    assert service.registered == []


def test_http_mode_needs_the_signing_secret(caplog: pytest.LogCaptureFixture) -> None:
    config = load_config({"SLACK_BOT_TOKEN": "xoxb-test"})
    assert make_slack(config, GatedService()) is None  # type: ignore[arg-type]
    assert "SLACK_SIGNING_SECRET" in caplog.text
    assert "xoxb-test" not in caplog.text


async def test_register_from_a_command_is_a_start(mock_slack: MockSlack) -> None:
    """/regbot register restarts an ended conversation: it is a `Start`, not text."""
    config = load_config(
        {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": mock_slack.url}
    )
    service = GatedService()
    service.gate.set()
    slack = make_slack(config, service)  # type: ignore[arg-type]
    assert slack is not None
    web_app = web.Application()
    slack.add_routes(web_app)
    async with TestClient(TestServer(web_app, host="127.0.0.1")) as http:
        await slack.start()
        body = payloads.command_body("U0PERSON", "register")
        headers = {**payloads.sign(body, secret="s"), "Content-Type": "application/x-www-form-urlencoded"}
        assert (await http.post("/slack/events", data=body.encode(), headers=headers)).status == 200
        await slack.stop()
    ((address, inbound, message_id),) = service.handled
    assert (address, inbound) == ("D0PERSON", Start("slack"))
    assert message_id is not None and message_id.startswith("command:trigger.")
