"""`kill -9` of `regbot serve` at random moments while people register by mail and in Slack (SPEC §7):
after each restart nothing is lost and nothing is doubled — every answer gets its reply, every mail
reaches the relay under one Message-ID, no Slack reply is posted twice — and every conversation is
exactly where its person left it."""

from __future__ import annotations

import asyncio
import random
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.db import Database
from storage.tables import conversations
from tests.reliability.harness import (
    EXPECTED_AWAITING,
    MAIL_STEPS,
    MailPerson,
    RecordingRelay,
    ServeProcess,
    record,
    relay_on,
    relay_serve_env,
    size,
    submit,
    unique_people,
    until,
)
from tests.reliability.slack_people import SlackPerson, awaiting_of
from tests.services import free_port
from tests.slack import payloads
from tests.slack.mock_web_api import MockSlack

TIMEOUT = 120.0


async def mail_person(person: MailPerson, relay: RecordingRelay, port: int) -> None:
    async def send(raw: bytes) -> None:
        await submit([port], raw, person.address, attempts=300)  # retried while serve is down

    await person.register(relay, send, timeout=TIMEOUT)


@pytest.fixture
async def mock_slack() -> AsyncIterator[MockSlack]:
    mock = MockSlack()
    await mock.start()
    try:
        yield mock
    finally:
        await mock.stop()


async def test_kill_9_at_random_moments_loses_and_doubles_nothing(
    tmp_path: Path, sqlite_template: Path, mock_slack: MockSlack
) -> None:
    database = tmp_path / "regbot.sqlite3"
    shutil.copyfile(sqlite_template, database)
    url = f"sqlite+aiosqlite:///{database}"
    rng = random.Random()
    seed = rng.randrange(1_000_000)
    rng.seed(seed)
    mail_people = unique_people(size(3, 20), "crash.mail.")
    slack_people = [SlackPerson(f"UCRASH{i:04d}", f"crash.slack.{i}@example.jp") for i in range(size(3, 20))]
    kills = size(2, 8)
    with relay_on(free_port()) as relay:
        http_port, smtp_port = free_port(), free_port()
        env = relay_serve_env(
            url,
            http_port,
            smtp_port,
            relay,
            REGBOT_LEASE_SECONDS="2",
            SLACK_BOT_TOKEN="xoxb-test-token",
            SLACK_SIGNING_SECRET=payloads.SIGNING_SECRET,
            SLACK_API_URL=mock_slack.url,
        )
        server = ServeProcess(env, http_port, tmp_path, tmp_path / "serve.log")
        await server.start()
        events = f"http://127.0.0.1:{http_port}/slack/events"
        try:
            load = asyncio.gather(
                *(mail_person(p, relay, smtp_port) for p in mail_people),
                *(p.register(events, mock_slack, timeout=TIMEOUT) for p in slack_people),
            )
            killed_at: list[str] = []
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(0.3, 2.0))
                if load.done():
                    break
                progress = sum(p.step for p in mail_people) + sum(p.step for p in slack_people)
                killed_at.append(str(progress))
                server.kill()
                await asyncio.sleep(rng.uniform(0.0, 0.5))
                await server.start()
            await load

            def everything_answered() -> bool:
                return all(len(p.prompts(relay)) == len(MAIL_STEPS) for p in mail_people) and all(
                    any("登録確認メール" in m.subject for m in relay.to(p.address)) for p in mail_people
                )

            await until(everything_answered, timeout=60, what="the last mails")
            await asyncio.sleep(1.0)  # a copy would arrive now
            assert server.terminate() == 0
        finally:
            server.kill()

    # Slack: every answer got exactly its reply, in order, none posted twice (the marker check).
    for slack_person in slack_people:
        replies = slack_person.replies(mock_slack)
        assert [awaiting_of(r) for r in replies] == [a for _, a in slack_person.answers()], slack_person.user
        assert slack_person.duplicates(mock_slack) == 0, slack_person.user
    # Mail: every expected mail under one Message-ID; a copy of the same Message-ID is counted.
    for person in mail_people:
        assert [m.awaiting for m in person.prompts(relay)] == [EXPECTED_AWAITING[s] for s in MAIL_STEPS]
        verification = {m.message_id for m in relay.to(person.address) if "登録確認メール" in m.subject}
        assert len(verification) == 1
    expected_mails = len(mail_people) * (len(MAIL_STEPS) + 1)
    assert len({r.message_id for r in relay.received}) == expected_mails
    # Every conversation where its person left it.
    db = Database.open(url)
    try:
        async with db.read() as conn:
            rows = (await conn.execute(select(conversations.c.channel, conversations.c.state))).all()
    finally:
        await db.dispose()
    by_channel: dict[str, list[str]] = {}
    for channel, state in rows:
        by_channel.setdefault(channel, []).append(f"{state['phase']}/{state['awaiting']}")
    assert sorted(by_channel["slack"]) == ["asking/password"] * len(slack_people)
    assert sorted(by_channel["email"]) == ["verifying/None"] * len(mail_people)
    record(
        "kill -9 of regbot serve at random moments (SQLite, mail + Slack)",
        seed=seed,
        kills=len(killed_at),
        mail_registrations=len(mail_people),
        slack_registrations=len(slack_people),
        mails_out=expected_mails,
        slack_replies=sum(len(p.replies(mock_slack)) for p in slack_people),
        lost=0,
        slack_duplicates=0,
        same_message_id_resent=relay.repeats(),
        slack_events_retried=sum(p.retries for p in slack_people),
    )
