"""Fuzz, counted: the engine (hypothesis), the mail path (hypothesis into the parser; the corpus of real
and malformed mail plus mutations of it — huge headers, binary junk, invalid UTF-8 and ISO-2022-JP, 1 MB
lines — over a socket into the SMTP listener and on through processing) and Slack (random JSON and
random event shapes, correctly signed, into /slack/events).  Nothing crashes, nothing is left stuck:
afterwards every conversation still answers 状況."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import shutil
import string
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.config import Config
from bot.service import Service
from conversations.engine import mentioned_emails, step
from conversations.types import Text
from mail.channel import MailChannel
from mail.inbound import SmtpListener
from mail.parse import MailParseError, parse_mail
from storage.tables import conversations
from tests.conversations.test_engine_properties import events
from tests.conversations.transcript import NOW, Chat
from tests.mail.mail_client import empty_mail_tables
from tests.reliability.harness import BOT, SOAK, record, size
from tests.slack import payloads
from tests.slack.conftest import slack_config, start_bot
from tests.slack.mock_web_api import MockSlack

CORPUS = Path(__file__).resolve().parents[1] / "mail" / "corpus"
_counts: dict[str, int] = {"engine": 0, "parser": 0}


@pytest.fixture
def db_kind() -> str:
    return "sqlite"


@settings(max_examples=size(150, 3000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["console", "slack", "email"]), st.lists(events, max_size=30))
def test_engine_never_crashes_and_always_answers_status(channel: str, inbound_events: list[Any]) -> None:
    chat = Chat(channel).start()
    for inbound in inbound_events:
        chat.send(inbound)
    status = step(chat.state, Text("状況"), NOW)
    assert status.replies, "a conversation must always answer 状況"
    _counts["engine"] += 1


mailish = st.builds(
    lambda headers, body, sep: (
        "\r\n".join(f"{k}: {v}" for k, v in headers).encode("utf-8", "surrogatepass") + sep + body
    ),
    st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "From",
                    "To",
                    "Subject",
                    "Message-ID",
                    "In-Reply-To",
                    "References",
                    "Content-Type",
                    "Content-Transfer-Encoding",
                    "Auto-Submitted",
                    "Precedence",
                    "MIME-Version",
                    "X-Junk",
                ]
            ),
            st.text(max_size=200).filter(lambda t: "\x00" not in t),
        ),
        max_size=12,
    ),
    st.binary(max_size=4000),
    st.sampled_from([b"\r\n\r\n", b"\n\n", b"\r\n", b""]),
)


@settings(max_examples=size(300, 5000), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=3000), mailish))
def test_the_mail_parser_only_ever_says_not_a_mail(raw: bytes) -> None:
    with contextlib.suppress(MailParseError):
        parse_mail(raw, bot_address=BOT)
    _counts["parser"] += 1


def test_a_damaged_charset_label_in_a_header_is_no_crash() -> None:
    """Found by the mutations below: 8-bit bytes in an encoded word's charset name made codecs.lookup
    raise UnicodeEncodeError, and the mail was retried and dropped."""
    raw = b"From: =?\xf0\x9f?B?QQ==?= <a@example.jp>\r\nTo: " + BOT.encode() + b"\r\n\r\nx"
    assert parse_mail(raw, bot_address=BOT).sender == "a@example.jp"


def test_a_long_message_without_an_address_is_read_in_one_pass() -> None:
    """Found by the Slack fuzz below: a 37 000-character message held the event loop for 15 s in the
    search for mentioned addresses (a backtracking pattern); the search is now bounded around each @."""
    assert mentioned_emails("x" * 40_000) == frozenset()
    assert mentioned_emails("a@" * 20_000) == frozenset()
    assert mentioned_emails("x" * 40_000 + " Kikin.Taro＠example.jp") == {"kikin.taro@example.jp"}


def test_fuzz_counts_are_reported() -> None:
    record(
        "fuzz: engine and mail parser (hypothesis)",
        engine_runs=_counts["engine"],
        parser_inputs=_counts["parser"],
        crashes=0,
    )


def mutations(rng: random.Random, originals: list[bytes], count: int) -> list[bytes]:
    """Damaged mail: flipped bytes, cut short, headers repeated thousands of times, a 1 MB line, invalid
    UTF-8 and broken ISO-2022-JP escapes, binary junk."""
    out: list[bytes] = []
    for i in range(count):
        base = bytearray(rng.choice(originals))
        kind = i % 7
        if kind == 0 and base:
            for _ in range(rng.randint(1, 40)):
                base[rng.randrange(len(base))] = rng.randrange(256)
        elif kind == 1:
            base = base[: rng.randrange(len(base) + 1)]
        elif kind == 2:
            base = bytearray(b"X-Repeat: " + b"a" * 50 + b"\r\n") * rng.randint(500, 3000) + base
        elif kind == 3:
            base = base + b"\r\n" + b"x" * (1024 * 1024) + b"\r\n"
        elif kind == 4:
            base = base.replace(b"\r\n\r\n", b"\r\n\r\n\xff\xfe\xc3\x28\xa0\xa1 ", 1)
        elif kind == 5:
            base = base.replace(b"\x1b$B", b"\x1b$B\x7f\x80\xff\x1b(", 3)
        else:
            base = bytearray(b"From: junk@example.jp\r\nTo: " + BOT.encode() + b"\r\n\r\n") + rng.randbytes(
                rng.randint(1, 20000)
            )
        out.append(bytes(base))
    return out


async def test_smtp_listener_and_processing_survive_the_corpus_and_its_mutations(
    service: Service, config: Config, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    await empty_mail_tables(service.db)
    rng = random.Random(8)
    originals = [path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))]
    mails = originals + mutations(rng, originals, size(70, 1500))
    channel = MailChannel(service, Config(**{**config.__dict__, "mail_address": BOT}))
    channel.register()
    listener = SmtpListener(channel, bot_address=BOT, host="127.0.0.1", port=0)
    await listener.start()
    accepted = refused = 0
    try:
        for index, raw in enumerate(mails):
            sender = f"fuzz{index % 17}@example.jp"
            try:
                await aiosmtplib.send(
                    raw, sender=sender, recipients=[BOT], hostname="127.0.0.1", port=listener.port, timeout=30
                )
                accepted += 1
            except aiosmtplib.SMTPException:
                refused += 1  # e.g. a line over the SMTP limit: the sender hears why
        outcomes = await channel.drain()
        await service.deliver_outbox()
    finally:
        await listener.stop()
    failures = [
        r for r in caplog.records if "processing failed" in r.getMessage() or r.levelno >= logging.ERROR
    ]
    assert failures == []
    stuck = await _conversations_not_answering_status(service, "email")
    assert stuck == []
    actions: dict[str, int] = {}
    for outcome in outcomes:
        actions[outcome.action] = actions.get(outcome.action, 0) + 1
    record(
        "fuzz: SMTP listener → processing (corpus + mutations)",
        mails=len(mails),
        accepted=accepted,
        refused_by_smtp=refused,
        outcomes=json.dumps(actions, sort_keys=True),
        crashes=0,
        stuck_conversations=0,
    )


async def _conversations_not_answering_status(service: Service, channel: str) -> list[str]:
    async with service.db.read() as conn:
        addresses = (
            (await conn.execute(select(conversations.c.address).where(conversations.c.channel == channel)))
            .scalars()
            .all()
        )
    stuck = []
    for address in addresses:
        turn = await service.handle(channel, address, Text("状況"))
        if not turn.replies:
            stuck.append(address)
    return stuck


def random_json(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.randint(-(2**40), 2**40)
    if kind == 1:
        return "".join(
            rng.choice(string.printable + "あ登録\u200b\x00\ud7ff") for _ in range(rng.randint(0, 60))
        )
    if kind == 2:
        return rng.choice([None, True, False, 1.5])
    if kind == 3:
        return rng.choice(
            ["message", "im", "event_callback", "D0001", "U0001", "block_actions", "url_verification"]
        )
    if kind in (4, 5):
        keys = [
            "type",
            "event",
            "channel",
            "user",
            "text",
            "channel_type",
            "event_id",
            "subtype",
            "payload",
            "actions",
            "view",
            "challenge",
        ]
        return {
            rng.choice([*keys, "x", "team_id"]): random_json(rng, depth + 1) for _ in range(rng.randint(0, 6))
        }
    return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))]


def random_event(rng: random.Random, index: int) -> str:
    user = f"UFUZZ{rng.randrange(8)}"
    event: dict[str, Any] = {
        "type": rng.choice(["message", "app_mention", "message", "reaction_added"]),
        "channel": rng.choice([f"D{user[1:]}", "C0GENERAL", "", f"D{user[1:]}"]),
        "channel_type": rng.choice(["im", "channel", "im", None]),
        "user": rng.choice([user, user, "", None, "UBOT"]),
        "text": rng.choice([random_json(rng, 5), "状況", "x" * rng.randint(0, 40000), "登録", "\x00\ud7ff"]),
        "ts": rng.choice([f"{index}.0001", "", None]),
    }
    if rng.random() < 0.2:
        event["subtype"] = rng.choice(["bot_message", "message_changed", "x"])
    return json.dumps(
        {"type": "event_callback", "team_id": "T0001", "event_id": f"EvFUZZ{index}", "event": event}
    )


async def test_random_signed_slack_bodies_never_crash_the_bot(
    tmp_path: Path, sqlite_template: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    shutil.copyfile(sqlite_template, tmp_path / "regbot.sqlite3")
    mock = MockSlack()
    await mock.start()
    config = slack_config(tmp_path, mock, f"sqlite+aiosqlite:///{tmp_path / 'regbot.sqlite3'}")
    service, slack, http = await start_bot(config, mock)
    rng = random.Random(8 if not SOAK else None)
    count = size(150, 3000)
    statuses: dict[int, int] = {}
    try:
        for index in range(count):
            if index % 3 == 0:
                body, content_type = json.dumps(random_json(rng)), "application/json"
            elif index % 3 == 1:
                body, content_type = random_event(rng, index), "application/json"
            else:
                body = payloads.interaction_body(random_json(rng) or {})
                content_type = "application/x-www-form-urlencoded"
            response = await http.post(
                "/slack/events",
                data=body.encode("utf-8", "surrogatepass"),
                headers={**payloads.sign(body), "Content-Type": content_type},
            )
            await response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
        assert await slack.drain(10.0)
        await service.deliver_outbox()
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("bot")]
        assert errors == [], [r.getMessage() for r in errors]
        stuck = await _conversations_not_answering_status(service, "slack")
    finally:
        await slack.stop()
        await http.close()
        await service.close()
        await mock.stop()
    assert all(status < 500 for status in statuses)
    assert stuck == []
    record(
        "fuzz: signed random Slack bodies into /slack/events",
        bodies=count,
        statuses=json.dumps(statuses, sort_keys=True),
        server_errors=0,
        crashes=0,
        stuck_conversations=0,
    )
