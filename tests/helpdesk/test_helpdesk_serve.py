"""`regbot serve` installs the help desk with the Slack channel — and without Slack, so escalations are
still settled (logged) rather than left queued."""

from __future__ import annotations

from aiohttp import web

from bot.app import _channels
from bot.config import Config
from bot.service import Service
from storage.outbox import Route


async def test_serve_installs_the_helpdesk_with_slack_off(service: Service, config: Config) -> None:
    assert not config.slack_bot_token
    slack_starter = _channels(config)[-1]
    assert await slack_starter(service, config, web.Application()) is None
    assert {Route("helpdesk"), Route("helpdesk_relay")} <= set(service.outbox.routes)
