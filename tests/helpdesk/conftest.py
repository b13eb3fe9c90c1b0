"""A bot with the help desk on: the real `Service` (fake clock) on its own SQLite copy, the Slack channel
served in-process against the mock Web API, the email channel writing ``.eml`` files, and the help desk
installed on both.  People are driven through `Service.handle` (what the channels call); staff through
signed Slack requests, as Slack sends them."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.helpdesk import Helpdesk, install_helpdesk
from bot.passwords import Passwords
from bot.service import Service, Turn
from bot.slack import SlackChannel, make_slack
from bot.slack_delivery import ChannelPacer
from conversations.types import Inbound, Secret, Start, Text
from mail.channel import MailChannel
from storage.db import Database
from tests.conftest import FakeClock
from tests.mail.mail_client import MailClient, Outbox, empty_mail_tables, read_eml
from tests.slack import payloads
from tests.slack.conftest import mock_slack, slack_config, slack_db_url  # noqa: F401  (fixtures)
from tests.slack.mock_web_api import MockSlack

HELP = "C0HELP"
STAFF = "U0STAFF"
OTHER = "U0OTHER"
PERSON = "U0PERSON"
PERSON_DM = "D0PERSON"

# The test registrations' personal values: none may ever reach the help-desk channel in full.
YAMADA = {
    "family_name": "山田",
    "given_name": "花子",
    "institution_type": "1",
    "prefecture": "東京都",
    "institution_code": "8814790",
    "institution_name": "山田内科クリニック",
    "founder_name": "医療法人山田会",
    "phone": "0398765432",
    "email": "yamada.hanako@example.jp",
}
SATO = {
    **YAMADA,
    "family_name": "佐藤",
    "given_name": "次郎",
    "email": "sato.jiro@example.jp",
    "phone": "0387654321",
    "institution_name": "佐藤歯科医院",
    "founder_name": "医療法人佐藤会",
}
PASSWORD = "Hanako2025Pass"
ANSWERS = (
    "family_name",
    "given_name",
    "institution_type",
    "prefecture",
    "institution_code",
    "institution_name",
    "founder_name",
    "phone",
    "email",
)
PERSONAL_VALUES = (
    *(
        value
        for person in (YAMADA, SATO)
        for key, value in person.items()
        if key not in ("institution_type", "prefecture")
    ),
    "1318814790",
    PASSWORD,
)


@dataclass
class Desk:
    mock: MockSlack
    http: TestClient[web.Request, web.Application]
    service: Service
    slack: SlackChannel
    mail: MailChannel
    helpdesk: Helpdesk
    config: Config
    clock: FakeClock
    outbox: Outbox

    # ------------------------------------------------------------------------------- people

    async def says(self, channel: str, address: str, inbound: Inbound | str) -> Turn:
        inbound = Text(inbound) if isinstance(inbound, str) else inbound
        turn = await self.service.handle(channel, address, inbound)
        await self.settled()
        return turn

    async def slack_person(self, person: dict[str, str] = YAMADA, *, upto: str = "phone") -> str:
        """A Slack person who answered up to (not including) ``upto``; returns the DM (address)."""
        await self.says("slack", PERSON_DM, Start("slack"))
        for key in ANSWERS[: ANSWERS.index(upto)]:
            await self.says("slack", PERSON_DM, person[key])
        return PERSON_DM

    async def email_person(self, person: dict[str, str] = SATO) -> str:
        """An email person whose first mail opened a conversation; returns its reply key (address)."""
        await empty_mail_tables(self.service.db)
        client = MailClient(person["email"], style="gmail")
        await self.mail.accept(client.first_mail(), envelope_sender=person["email"], source="smtp")
        await self.mail.drain()
        await self.settled()
        [first] = self.outbox.new()
        return str(first["Reply-To"]).split("+", 1)[1].split("@", 1)[0]

    async def registered_up_to_the_link(
        self, address: str = PERSON_DM, person: dict[str, str] = YAMADA
    ) -> None:
        await self.slack_person(person, upto="phone")
        for key in ("phone", "email"):
            await self.says("slack", address, person[key])
        await self.says("slack", address, Secret(PASSWORD, PASSWORD))
        await self.says("slack", address, "同意します")
        await self.says("slack", address, "OK")

    # ---------------------------------------------------------------------------------- staff

    async def staff_replies(self, thread_ts: str, text: str, *, user: str = STAFF) -> None:
        event = {
            "type": "message",
            "channel": HELP,
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": f"{1800000000 + len(self.mock.calls)}.000200",
            "thread_ts": thread_ts,
        }
        body = payloads.event_body(event)
        response = await self.http.post(
            "/slack/events",
            data=body.encode(),
            headers={**payloads.sign(body), "Content-Type": "application/json"},
        )
        assert response.status == 200
        await self.settled()

    async def command(self, text: str, *, user: str = STAFF) -> str:
        """``/regbot <text>``; returns the ephemeral answer (the ack's text)."""
        body = payloads.command_body(user, text, channel=HELP)
        response = await self.http.post(
            "/slack/events",
            data=body.encode(),
            headers={**payloads.sign(body), "Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 200
        answer = await response.text()
        await self.settled()
        if not answer:
            return ""
        data = json.loads(answer)
        assert data.get("response_type") == "ephemeral"
        return str(data.get("text") or "")

    async def settled(self) -> None:
        assert await self.slack.drain(5.0)
        await self.service.deliver_outbox()
        assert await self.slack.drain(5.0)

    # ------------------------------------------------------------------------------ the mock

    def helpdesk_posts(self) -> list[dict[str, Any]]:
        return self.mock.posts(HELP)

    def openings(self) -> list[dict[str, Any]]:
        return [post for post in self.helpdesk_posts() if not post.get("thread_ts")]

    def thread(self, thread_ts: str) -> list[str]:
        return [str(post["text"]) for post in self.helpdesk_posts() if post.get("thread_ts") == thread_ts]

    def opening_ts(self, index: int = 0) -> str:
        """The ts the mock gave the ``index``-th thread opening."""
        openings = [
            c
            for c in self.mock.of("chat.postMessage")
            if c.body.get("channel") == HELP and not c.body.get("thread_ts")
        ]
        text = openings[index].body["text"]
        for message in self.mock.messages[HELP]:
            if message["text"] == text:
                return str(message["ts"])
        raise AssertionError("no such opening")

    def dm_texts(self, dm: str = PERSON_DM) -> list[str]:
        return [str(post["text"]) for post in self.mock.posts(dm)]

    def helpdesk_calls_text(self) -> str:
        """Every call the bot made that concerns the help-desk channel, decoded (for "never appears")."""
        return "\n".join(
            json.dumps(call.body, ensure_ascii=False)
            for call in self.mock.calls
            if call.body.get("channel") == HELP
        )

    def new_mails(self) -> list[EmailMessage]:
        return self.outbox.new()


def awaiting_of(turn: Turn) -> str | None:
    return turn.replies[-1].awaiting if turn.replies else None


def conversation_id_in(text: str) -> str:
    found = re.search(r"`([0-9a-f]{32})`", text)
    assert found, text
    return found.group(1)


@pytest.fixture
async def desk(
    mock_slack: MockSlack,  # noqa: F811
    slack_db_url: str,  # noqa: F811
    tmp_path: Path,
) -> AsyncIterator[Desk]:
    config = slack_config(
        tmp_path,
        mock_slack,
        slack_db_url,
        REGBOT_HELPDESK_CHANNEL=HELP,
        REGBOT_HELPDESK_STAFF=f"{STAFF},U0STAFF2",
    )
    clock = FakeClock()
    service = Service(config, Database.open(config.database_url), clock=clock, passwords=Passwords.cheap())
    slack = make_slack(config, service, pacer=ChannelPacer(0))
    assert slack is not None
    mail = MailChannel(service, config)
    mail.register()
    helpdesk = install_helpdesk(service, slack, pacer=ChannelPacer(0))
    web_app = web.Application()
    slack.add_routes(web_app)
    http = TestClient(TestServer(web_app, host="127.0.0.1"))
    await http.start_server()
    await slack.start()
    try:
        yield Desk(mock_slack, http, service, slack, mail, helpdesk, config, clock, Outbox(config.outbox_dir))
    finally:
        await slack.stop()
        await http.close()
        await service.close()


def read(path: Path) -> EmailMessage:
    return read_eml(path)
