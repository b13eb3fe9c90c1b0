"""Abuse, refused and counted: forged Slack signatures, replayed timestamps and requests, mail to a
reply key from another sender, token guessing on the verification page, and a mail flood from one
sender."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import secrets
import shutil
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.config import Config
from bot.service import Service
from bot.web import make_web_app
from mail.channel import FLOOD_LIMIT, MailChannel
from storage import conversations
from tests.mail.mail_client import MailClient, empty_mail_tables
from tests.reliability.harness import BOT, record, size
from tests.slack import payloads
from tests.slack.conftest import slack_config, start_bot
from tests.slack.mock_web_api import MockSlack


async def test_forged_and_replayed_slack_requests_are_refused(tmp_path: Path, sqlite_template: Path) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "regbot.sqlite3")
    mock = MockSlack()
    await mock.start()
    config = slack_config(tmp_path, mock, f"sqlite+aiosqlite:///{tmp_path / 'regbot.sqlite3'}")
    service, slack, http = await start_bot(config, mock)
    attempts = size(20, 500)
    statuses: dict[str, list[int]] = {"forged": [], "stale": [], "unsigned": [], "replayed": []}
    try:

        async def post(body: str, headers: dict[str, str]) -> int:
            response = await http.post(
                "/slack/events", data=body.encode(), headers={**headers, "Content-Type": "application/json"}
            )
            await response.read()
            return response.status

        for i in range(attempts):
            body = payloads.event_body(payloads.dm_event("UVICTIM", f"キャンセル {i}"))
            statuses["forged"].append(await post(body, payloads.sign(body, secret=secrets.token_hex(8))))
            stale = int(time.time()) - 6 * 60  # Slack's window is five minutes
            statuses["stale"].append(await post(body, payloads.sign(body, timestamp=stale)))
            statuses["unsigned"].append(await post(body, {}))
        legit = payloads.event_body(payloads.dm_event("UVICTIM", "こんにちは"), event_id="EvLEGIT")
        for _ in range(attempts):  # the same signed request again and again (a replay, or Slack's retries)
            statuses["replayed"].append(await post(legit, payloads.sign(legit)))
        await slack.drain(5.0)
        await service.deliver_outbox()
    finally:
        await slack.stop()
        await http.close()
        await service.close()
        await mock.stop()
    assert set(statuses["forged"]) == set(statuses["stale"]) == set(statuses["unsigned"]) == {401}
    assert set(statuses["replayed"]) == {200}
    assert len(mock.posts("DVICTIM")) == 1  # one turn for the one real event, nothing for the rest
    record(
        "abuse: Slack requests",
        forged_signatures_refused=f"{statuses['forged'].count(401)}/{attempts}",
        stale_timestamps_refused=f"{statuses['stale'].count(401)}/{attempts}",
        unsigned_refused=f"{statuses['unsigned'].count(401)}/{attempts}",
        replays_processed=f"1/{attempts}",
    )


async def _bot_mail(path: str | None) -> EmailMessage:
    assert path is not None
    message = email.message_from_bytes(Path(path).read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_spoofed_senders_and_floods_are_refused(service: Service, config: Config) -> None:
    await empty_mail_tables(service.db)
    channel = MailChannel(service, dataclasses.replace(config, mail_address=BOT))
    channel.register()
    victim = MailClient("victim@example.jp")
    mallory = MailClient("mallory@example.org")

    await channel.accept(victim.first_mail(), envelope_sender=victim.address, source="smtp")
    [started] = await channel.drain()
    [delivery] = [d for d in await service.deliver_outbox() if d.kind == "reply"]
    first = await _bot_mail(delivery.location)
    async with service.db.read() as conn:
        before = await conversations.get(conn, str(started.conversation_id))

    spoofs = size(10, 200)
    outcomes = []
    for i in range(spoofs):  # to the victim's reply key, with its Message-ID in In-Reply-To
        raw = mallory.reply(first, "キャンセル" if i % 2 else "family_name: 偽名")
        await channel.accept(raw, envelope_sender=mallory.address, source="smtp")
        outcomes += [o.action for o in await channel.drain()]
    notices = [d for d in await service.deliver_outbox()]
    async with service.db.read() as conn:
        after = await conversations.get(conn, str(started.conversation_id))
    # Refused as foreign; past the flood limit the same sender is refused as a flood.
    assert set(outcomes[:FLOOD_LIMIT]) == {"foreign"} and set(outcomes) <= {"foreign", "flood"}
    assert before is not None and after is not None and after.version == before.version
    assert after.state == before.state
    # One notice a day per kind to the spoofing sender, showing nothing of the victim's conversation.
    assert len(notices) == (1 if spoofs <= FLOOD_LIMIT else 2)
    for notice in notices:
        body = (await _bot_mail(notice.location)).get_body(("plain",))
        assert body is not None and "victim" not in body.get_content() and "偽名" not in body.get_content()

    flood = size(FLOOD_LIMIT + 10, FLOOD_LIMIT + 200)
    flooder = MailClient("flooder@example.jp")
    for _ in range(flood):
        await channel.accept(flooder.first_mail(), envelope_sender=flooder.address, source="smtp")
    flood_outcomes = [o.action for o in await channel.drain()]
    flood_notices = [d for d in await service.deliver_outbox() if d.kind == "mail_notice"]
    assert flood_outcomes.count("flood") == flood - FLOOD_LIMIT
    assert len(flood_notices) == 1
    record(
        f"abuse: mail ({service.db.dialect})",
        spoofed_reply_key_mails_refused=f"{len(outcomes)}/{spoofs}",
        refused_as_foreign=outcomes.count("foreign"),
        refused_as_flood=outcomes.count("flood"),
        victim_conversation_changed=False,
        notices_to_spoofer=len(notices),
        flood_mails=flood,
        flood_answered=FLOOD_LIMIT,
        flood_refused=flood - FLOOD_LIMIT,
        flood_notices=1,
    )


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the limits live in the web process, not the database


async def test_token_guessing_on_the_verification_page_is_rate_limited(
    service: Service, config: Config
) -> None:
    app = make_web_app(service.verification, public_url=config.public_url, portal_url=config.portal_url)
    client = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    guesses = size(60, 2000)
    statuses = []
    try:
        for _ in range(guesses):
            response = await client.get(f"/verify/{secrets.token_urlsafe(32)}")
            await response.read()
            statuses.append(response.status)
    finally:
        await client.close()
    allowed = len(statuses) - statuses.index(429) if 429 in statuses else 0
    assert 429 in statuses and all(s == 429 for s in statuses[statuses.index(429) :])
    record(
        "abuse: verification token guessing (one client)",
        guesses=guesses,
        answered_before_limit=statuses.index(429),
        refused_429=allowed,
        valid_tokens_found=0,
    )
