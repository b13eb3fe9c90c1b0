"""mail/channel.py: which conversation a mail belongs to, what is never answered, limits, the thread mails."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from bot.config import Config
from bot.service import Service
from mail.channel import MailChannel, Outcome, new_reply_key
from mail.prompts import AWAITING_HEADER, FIRST_SUBJECT
from storage import conversations, mail_threads
from storage.tables import mail_inbox
from storage.tables import mail_threads as mail_threads_table
from tests.conftest import FakeClock
from tests.mail.mail_client import BOT, MailClient, Outbox, empty_mail_tables, text_of

TARO = "taro@example.jp"
MALLORY = "mallory@evil.example"


@pytest.fixture
async def channel(service: Service, config: Config) -> AsyncIterator[MailChannel]:
    await empty_mail_tables(service.db)
    mail_channel = MailChannel(service, config, flood_limit=5)
    mail_channel.register()
    yield mail_channel


@pytest.fixture
def outbox(config: Config) -> Outbox:
    return Outbox(config.outbox_dir)


async def send(channel: MailChannel, raw: bytes, *, envelope_sender: str | None = TARO) -> Outcome:
    """One mail through the listener's door: stored, processed, the outbox delivered."""
    await channel.accept(raw, envelope_sender=envelope_sender, source="smtp")
    [outcome] = await channel.drain()
    await channel.service.deliver_outbox()
    return outcome


async def start(channel: MailChannel, outbox: Outbox, person: MailClient) -> EmailMessage:
    outcome = await send(channel, person.first_mail())
    assert outcome.action == "turn"
    [first] = outbox.new()
    return first


async def state_of(service: Service, reply_key: str) -> tuple[int, dict[str, object]]:
    async with service.db.read() as conn:
        conversation = await conversations.find(conn, "email", reply_key)
    assert conversation is not None
    return conversation.version, conversation.state


def key_of(message: EmailMessage) -> str:
    reply_to = str(message["Reply-To"])
    return reply_to.split("+", 1)[1].split("@", 1)[0]


def test_reply_keys_are_random_lowercase_and_address_safe() -> None:
    keys = {new_reply_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(len(key) == 16 and key.isalnum() and key == key.lower() for key in keys)  # 80 bits


async def test_first_mail_starts_a_conversation_and_answers_in_its_thread(
    channel: MailChannel, outbox: Outbox
) -> None:
    """A mail to the bare address opens a conversation bound to the sender; the answer threads under it."""
    person = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, person)
    assert first["To"] == TARO
    assert first["From"] == BOT
    assert first["Subject"] == FIRST_SUBJECT
    assert first["In-Reply-To"] == person.sent[-1]
    assert first[AWAITING_HEADER] == "family_name"
    assert first["Reply-To"] == f"register+{key_of(first)}@localhost"
    assert "姓：" in text_of(first)  # the fill-in template
    _, state = await state_of(channel.service, key_of(first))
    assert state["channel"] == "email" and state["awaiting"] == "family_name"


async def test_reply_by_key_and_by_in_reply_to_reach_the_same_conversation(
    channel: MailChannel, outbox: Outbox
) -> None:
    """The key in the recipient finds the conversation; without it, In-Reply-To of a bot mail does."""
    person = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, person)
    key = key_of(first)
    assert (await send(channel, person.reply(first, "基金"))).action == "turn"
    [second] = outbox.new()
    assert second[AWAITING_HEADER] == "given_name"
    # The client dropped the +key (replied to From): the Message-ID threading still finds it.
    assert (await send(channel, person.reply(second, "太郎", to=BOT))).action == "turn"
    [third] = outbox.new()
    assert third[AWAITING_HEADER] == "institution_type"
    assert key_of(third) == key
    _, state = await state_of(channel.service, key)
    assert state["values"] == {"family_name": "基金", "given_name": "太郎"}


async def test_a_new_mail_from_the_same_sender_never_resumes_by_address_alone(
    channel: MailChannel, outbox: Outbox
) -> None:
    """A fresh mail starts afresh; its first mail (to the bound address) names the open one's address."""
    person = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, person)
    await send(channel, person.reply(first, "基金"))
    outbox.new()
    again = await start(channel, outbox, person)
    assert key_of(again) != key_of(first)
    assert f"register+{key_of(first)}@localhost" in text_of(again)
    _, old_state = await state_of(channel.service, key_of(first))
    assert old_state["values"] == {"family_name": "基金"}


async def test_someone_elses_key_changes_nothing_and_shows_nothing(
    channel: MailChannel, outbox: Outbox, clock: FakeClock
) -> None:
    """A spoofed reply (another sender, Taro's key) leaves Taro's conversation as it was; the real sender
    gets one short explanation a day, with none of Taro's data."""
    taro = MailClient(TARO, name="基金 太郎", style="gmail")
    first = await start(channel, outbox, taro)
    await send(channel, taro.reply(first, "基金"))
    [taro_mail] = outbox.new()
    key = key_of(taro_mail)
    before = await state_of(channel.service, key)

    mallory = MailClient(MALLORY, name="Mallory", style="gmail")
    spoof = mallory.reply(taro_mail, "修正 メールアドレス")
    assert (await send(channel, spoof, envelope_sender=MALLORY)).action == "foreign"
    assert await state_of(channel.service, key) == before
    [notice] = outbox.new()
    assert notice["To"] == MALLORY
    assert notice[AWAITING_HEADER] is None and notice["Reply-To"] is None
    leaked = notice.as_string() + text_of(notice)
    for secret in (key, TARO, "基金", "太郎"):
        assert secret not in leaked

    # Only In-Reply-To pointing at Taro's thread: the same.
    assert (await send(channel, mallory.reply(taro_mail, "x", to=BOT), envelope_sender=MALLORY)).action == (
        "foreign"
    )
    assert outbox.new() == []  # one notice a day
    clock.advance(hours=25)
    await send(channel, mallory.reply(taro_mail, "y"), envelope_sender=MALLORY)
    assert len(outbox.new()) == 1
    assert await state_of(channel.service, key) == before


async def test_a_forged_from_with_the_right_key_cannot_read_data_either(
    channel: MailChannel, outbox: Outbox
) -> None:
    """A mail claiming to be Taro is answered to Taro's address only: the forger never sees a reply."""
    taro = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, taro)
    forger = MailClient(MALLORY, style="gmail")
    await send(channel, forger.reply(first, "状況", sender=TARO), envelope_sender=MALLORY)
    assert all(message["To"] == TARO for message in outbox.new())


def _auto_reply(person: MailClient, previous: EmailMessage, header: tuple[str, str]) -> bytes:
    raw = person.reply(previous, "I am out of the office.")
    name, value = header
    return f"{name}: {value}\r\n".encode() + raw


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("auto-submitted", "auto-submitted"),
        ("ooo-subject", "ooo-subject"),
        ("null-sender", "bounce-null-sender"),
        ("report", "multipart-report"),
        ("from-bot", "own-address"),
        ("own-message-id", "own-message-id"),
    ],
)
async def test_auto_replies_bounces_and_loops_are_never_answered(
    channel: MailChannel, outbox: Outbox, case: str, reason: str
) -> None:
    """Nothing is sent, nothing changes, no conversation is opened; the log names the reason only."""
    taro = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, taro)
    key = key_of(first)
    before = await state_of(channel.service, key)
    envelope: str | None = TARO
    if case == "auto-submitted":
        raw = _auto_reply(taro, first, ("Auto-Submitted", "auto-replied"))
    elif case == "ooo-subject":
        raw = taro.reply(first, "不在です").replace(
            b"Subject: Re:", b"Subject: [\xe4\xb8\x8d\xe5\x9c\xa8] Re:", 1
        )
    elif case == "null-sender":
        raw, envelope = taro.reply(first, "基金"), ""
    elif case == "report":
        raw = (
            b"From: MAILER <postmaster-x@example.jp>\r\nTo: " + f"register+{key}@localhost".encode() + b"\r\n"
            b"Subject: Delivery report\r\nMessage-ID: <r1@example.jp>\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
            b"--b\r\nContent-Type: text/plain\r\n\r\nfailed\r\n--b--\r\n"
        )
    elif case == "from-bot":
        raw = bytes(first)  # our own mail delivered back to us
    else:
        raw = taro.reply(first, "基金").replace(
            b"Message-ID: <", b"Message-ID: <regbot.deadbeef@localhost>\r\nX-Old-Message-ID: <", 1
        )
    outcome = await send(channel, raw, envelope_sender=envelope)
    assert outcome == Outcome("auto", reason=reason)
    assert outbox.new() == []
    assert await state_of(channel.service, key) == before
    async with channel.service.db.read() as conn:
        threads = (await conn.execute(select(mail_threads_table.c.reply_key))).all()
    assert len(threads) == 1


async def test_the_same_mail_delivered_twice_is_processed_once(channel: MailChannel, outbox: Outbox) -> None:
    """Same Message-ID (SMTP and IMAP, or a sender's retry): one turn, one answer."""
    person = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, person)
    raw = person.reply(first, "基金")
    assert (await send(channel, raw)).action == "turn"
    assert (await send(channel, b"Received: from relay.example.jp\r\n" + raw)).action == "duplicate"
    assert len(outbox.new()) == 1
    first_again = MailClient(TARO, style="gmail").first_mail()
    assert (await send(channel, first_again)).action == "turn"
    assert (await send(channel, first_again)).action == "duplicate"
    assert len(outbox.new()) == 1


async def test_a_flood_is_paused_with_one_notice(
    channel: MailChannel, outbox: Outbox, clock: FakeClock
) -> None:
    """More than the limit in the window: no turns, one notice a day; after the window, back to normal."""
    person = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, person)
    for answer in ["a", "b", "c", "d"]:
        assert (await send(channel, person.reply(first, answer))).action == "turn"
    outbox.new()
    version, _ = await state_of(channel.service, key_of(first))
    assert (await send(channel, person.reply(first, "e"))).action == "flood"
    assert (await send(channel, person.reply(first, "f"))).action == "flood"
    [notice] = outbox.new()
    assert notice["To"] == TARO and "10分" in text_of(notice)
    assert (await state_of(channel.service, key_of(first)))[0] == version
    clock.advance(minutes=11)
    assert (await send(channel, person.reply(first, "基金"))).action == "turn"


async def test_oversize_mail_gets_one_polite_refusal(channel: MailChannel, outbox: Outbox) -> None:
    person = MailClient(TARO, style="gmail")
    header_only = person.first_mail().split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    await channel.accept(header_only, envelope_sender=TARO, source="imap", oversize=True)
    await channel.accept(
        header_only.replace(b"Message-ID: <", b"Message-ID: <2", 1),
        envelope_sender=TARO,
        source="imap",
        oversize=True,
    )
    assert [o.action for o in await channel.drain()] == ["oversize", "oversize"]
    await channel.service.deliver_outbox()
    [refusal] = outbox.new()
    assert refusal["To"] == TARO and "10MB" in text_of(refusal)


async def test_a_failing_mail_is_retried_later_and_does_not_block_others(
    channel: MailChannel, outbox: Outbox, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error is logged by inbox id and error type; the next mail is processed; the failed
    one comes back after the retry delay."""
    service = channel.service
    real_handle = service.handle
    calls = {"n": 0}

    async def flaky(*args: object, **kwargs: object) -> object:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("boom with taro@example.jp inside")
        return await real_handle(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "handle", flaky)
    await channel.accept(MailClient(TARO).first_mail(), envelope_sender=TARO, source="smtp")
    await channel.accept(MailClient("hanako@example.jp").first_mail(), envelope_sender=None, source="smtp")
    with caplog.at_level(logging.INFO):
        outcomes = await channel.drain()
    assert [o.action for o in outcomes] == ["turn"]
    assert "RuntimeError" in caplog.text and "taro@" not in caplog.text
    channel.service.clock.advance(minutes=1)  # type: ignore[attr-defined]
    assert [o.action for o in await channel.drain()] == ["turn"]


async def test_a_turn_that_fails_leaves_no_thread_and_keeps_the_mail(
    channel: MailChannel, outbox: Outbox
) -> None:
    """The thread, the turn and the stored mail's removal are one transaction: a turn that fails half
    way leaves no thread without a conversation behind, and the mail is still there to be retried."""
    failures = {"left": 1}

    async def fail_once(*_: object) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("the turn failed")

    channel.service.add_turn_hook(fail_once)
    await channel.accept(MailClient(TARO).first_mail(), envelope_sender=TARO, source="smtp")
    assert await channel.drain() == []
    async with channel.service.db.read() as conn:
        assert (await conn.execute(select(mail_threads_table.c.reply_key))).all() == []
        assert await mail_threads.inbox_size(conn) == 1
    channel.service.clock.advance(minutes=1)  # type: ignore[attr-defined]
    [outcome] = await channel.drain()
    assert outcome.action == "turn"
    async with channel.service.db.read() as conn:
        assert len((await conn.execute(select(mail_threads_table.c.reply_key))).all()) == 1
        assert await mail_threads.inbox_size(conn) == 0
    await channel.service.deliver_outbox()
    assert len(outbox.new()) == 1


async def test_mail_accepted_while_running_is_processed_at_once(channel: MailChannel, outbox: Outbox) -> None:
    """With the processing loop running, a stored mail is answered without waiting for its poll."""
    stop = asyncio.Event()
    worker = asyncio.create_task(channel.run(stop))
    try:
        await asyncio.sleep(0.05)  # the loop is idle, waiting for its next poll (2 s)
        await channel.accept(MailClient(TARO).first_mail(), envelope_sender=TARO, source="smtp")
        async with channel.service.db.read() as conn:  # stored already claimed: no claim of its own
            attempts = (await conn.execute(select(mail_inbox.c.attempts))).scalars().all()
        assert list(attempts) in ([1], [])
        for _ in range(100):
            async with channel.service.db.read() as conn:
                if await mail_threads.inbox_size(conn) == 0:
                    break
            await asyncio.sleep(0.01)
        async with channel.service.db.read() as conn:
            assert await mail_threads.inbox_size(conn) == 0
            assert len((await conn.execute(select(mail_threads_table.c.reply_key))).all()) == 1
    finally:
        stop.set()
        await worker


async def test_logs_carry_ids_never_addresses_subjects_or_bodies(
    channel: MailChannel, outbox: Outbox, caplog: pytest.LogCaptureFixture
) -> None:
    person = MailClient(TARO, style="japanese")
    with caplog.at_level(logging.DEBUG):
        first = await start(channel, outbox, person)
        await send(channel, person.reply(first, "基金"))
        await send(channel, MailClient(MALLORY).reply(first, "x"), envelope_sender=MALLORY)
    for value in ("taro@", "mallory@", "基金", "登録希望", key_of(first)):
        assert value not in caplog.text


async def test_purged_conversations_lose_the_threads_personal_columns(
    channel: MailChannel, outbox: Outbox
) -> None:
    person = MailClient(TARO, style="gmail")
    first = await start(channel, outbox, person)
    async with channel.service.db.transaction() as conn:
        conversation = await conversations.find(conn, "email", key_of(first))
        assert conversation is not None
        await conversations.purge(conn, conversation, {"phase": "expired"}, channel.service.clock())
    await channel._sweep()
    async with channel.service.db.read() as conn:
        thread = await mail_threads.find_thread(conn, key_of(first))
    assert thread is not None and thread.sender is None and thread.subject is None
    # A late reply on a purged thread is not taken (nothing to bind it to) and nothing is shown.
    assert (await send(channel, person.reply(first, "基金"))).action == "foreign"


async def test_the_same_mail_processed_at_the_same_moment_opens_one_conversation(
    channel: MailChannel, outbox: Outbox
) -> None:
    """SMTP and IMAP copies of one first mail processed concurrently: one conversation, one answer."""
    raw = MailClient(TARO).first_mail()
    outcomes = await asyncio.gather(*(channel.process(raw, envelope_sender=TARO) for _ in range(3)))
    assert sorted(o.action for o in outcomes) == ["duplicate", "duplicate", "turn"]
    await channel.service.deliver_outbox()
    assert len(outbox.new()) == 1
    async with channel.service.db.read() as conn:
        assert len((await conn.execute(select(mail_threads_table.c.reply_key))).all()) == 1
