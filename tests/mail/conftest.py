"""The email channel on the test's service, its mail tables emptied first."""

from __future__ import annotations

import pytest

from bot.config import Config
from bot.service import Service
from mail.channel import MailChannel
from tests.mail.mail_client import empty_mail_tables


@pytest.fixture
async def channel(service: Service, config: Config) -> MailChannel:
    await empty_mail_tables(service.db)
    mail_channel = MailChannel(service, config)
    mail_channel.register()
    return mail_channel
