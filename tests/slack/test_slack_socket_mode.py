"""Socket Mode: with SLACK_APP_TOKEN the bot opens a WebSocket (URL from apps.connections.open), acks
each envelope and runs the same listeners; no HTTP route is added."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import web

from bot.passwords import Passwords
from bot.service import Service
from bot.slack import make_slack
from bot.slack_delivery import ChannelPacer
from storage.db import Database
from tests.slack import payloads
from tests.slack.conftest import slack_config
from tests.slack.mock_web_api import MockSlack


async def test_an_events_api_envelope_is_acked_and_answered_in_the_dm(
    mock_slack: MockSlack, slack_db_url: str, tmp_path: Path
) -> None:
    config = slack_config(tmp_path, mock_slack, slack_db_url, SLACK_APP_TOKEN="xapp-test-token")
    service = Service(config, Database.open(config.database_url), passwords=Passwords.cheap())
    slack = make_slack(config, service, pacer=ChannelPacer(0))
    assert slack is not None and slack.socket_mode
    web_app = web.Application()
    slack.add_routes(web_app)
    assert not [r for r in web_app.router.routes() if r.resource and r.resource.canonical == "/slack/events"]
    stop = asyncio.Event()
    delivery = asyncio.create_task(service.outbox.run(stop))
    try:
        await slack.start()
        await mock_slack.wait_for(
            lambda: bool(mock_slack.of("apps.connections.open")), what="connections.open"
        )
        assert mock_slack.of("apps.connections.open")[0].headers["Authorization"] == "Bearer xapp-test-token"
        envelope = {
            "envelope_id": "env-0001",
            "type": "events_api",
            "accepts_response_payload": False,
            "retry_attempt": 0,
            "retry_reason": "",
            "payload": json.loads(payloads.event_body(payloads.dm_event("U0PERSON", "こんにちは"))),
        }
        await mock_slack.send_envelope(envelope)
        await mock_slack.wait_for(lambda: bool(mock_slack.socket_acks), what="the envelope's ack")
        assert mock_slack.socket_acks[0]["envelope_id"] == "env-0001"
        (greeting,) = await mock_slack.wait_posts(1, channel="D0PERSON")
        assert greeting["metadata"]["event_payload"] == {"awaiting": "family_name"}
    finally:
        stop.set()
        await delivery
        await slack.stop()
        await service.close()
