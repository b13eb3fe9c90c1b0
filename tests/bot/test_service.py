"""The service: one transaction per inbound message, processed once, no lost update, effects in the
outbox.  Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, load_config
from bot.outbox import decode_reply
from bot.passwords import Passwords, is_argon2id
from bot.service import Service
from conversations.render import render_text
from conversations.types import Reply, Start, Text
from storage import conversations, outbox
from tests.conftest import (
    BRANCH_A,
    EMAIL,
    PASSWORD,
    FakeClock,
    database_text,
    empty_postgres_database,
    fill_in,
    token_in,
)
from tests.services import PostgresServer


async def _conversation(service: Service, channel: str, address: str) -> conversations.Conversation:
    async with service.db.read() as conn:
        found = await conversations.find(conn, channel, address)
    assert found is not None
    return found


async def _rows(service: Service, sql: str) -> list[tuple[object, ...]]:
    async with service.db.read() as conn:
        return [tuple(row) for row in await conn.exec_driver_sql(sql)]


async def test_first_message_creates_the_conversation_and_asks_the_first_field(service: Service) -> None:
    """A new address gets a conversation at version 1 and the first question."""
    turn = await service.handle("console", "s1", Start(channel="console"))
    assert not turn.duplicate
    assert turn.replies[-1].awaiting == "family_name"
    stored = await _conversation(service, "console", "s1")
    assert (stored.id, stored.version, stored.phase) == (turn.conversation_id, 1, "asking")


async def test_console_replies_are_returned_and_other_channels_are_queued(service: Service) -> None:
    """Console turns print their replies; a Slack turn's replies are also reply rows in the outbox."""
    await service.handle("console", "s1", Start(channel="console"))
    turn = await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    rows = await _rows(service, "SELECT kind, channel, recipient, payload FROM outbox ORDER BY id")
    assert [(kind, channel, recipient) for kind, channel, recipient, _ in rows] == [("reply", "slack", "D1")]
    payload = rows[0][3]
    if isinstance(payload, str):
        payload = json.loads(payload)
    assert isinstance(payload, dict)
    assert decode_reply(payload["reply"]) == turn.replies[0]


async def test_a_repeated_message_id_is_processed_once(service: Service) -> None:
    """The same inbound id (a Slack retry, a re-read mail) changes nothing the second time."""
    await service.handle("slack", "D1", Start(channel="slack"), message_id="Ev1")
    first = await service.handle("slack", "D1", Text("基金"), message_id="Ev2")
    again = await service.handle("slack", "D1", Text("基金"), message_id="Ev2")
    assert not first.duplicate and first.replies
    assert again.duplicate and again.replies == () and again.conversation_id == first.conversation_id
    stored = await _conversation(service, "slack", "D1")
    assert stored.version == 2
    assert await _rows(service, "SELECT count(*) FROM outbox") == [(2,)]


async def test_two_concurrent_messages_for_one_conversation_are_both_applied(
    config: Config, clock: FakeClock
) -> None:
    """Two service instances (two connection pools) answer one conversation at once: both turns land."""
    first = await Service.open(config, clock=clock, passwords=Passwords.cheap(), migrate=False)
    second = await Service.open(config, clock=clock, passwords=Passwords.cheap(), migrate=False)
    try:
        await first.handle("slack", "D1", Start(channel="slack"), message_id="start")
        answers = [(first, "a", "基金"), (second, "b", "太郎")] * 4
        turns = await asyncio.gather(
            *(
                svc.handle("slack", "D1", Text(text), message_id=f"{mid}{n}")
                for n, (svc, mid, text) in enumerate(answers)
            )
        )
        assert not any(turn.duplicate for turn in turns)
        stored = await _conversation(first, "slack", "D1")
        assert stored.version == 1 + len(answers)
        assert await _rows(first, "SELECT count(*) FROM processed_messages") == [(1 + len(answers),)]
    finally:
        await first.close()
        await second.close()


_WORKER = """
import asyncio, sys
from bot.config import load_config
from bot.passwords import Passwords
from bot.service import Service
from conversations.types import Text

async def main(url, prefix, count):
    service = await Service.open(load_config({"REGBOT_DATABASE_URL": url}), passwords=Passwords.cheap(),
                                 migrate=False)
    print("ready", flush=True)
    sys.stdin.readline()  # start together with the other process
    try:
        for n in range(count):
            await service.handle("slack", "D1", Text("状況"), message_id=f"{prefix}{n}")
    finally:
        await service.close()

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
"""


@pytest.fixture
def postgres_config(postgres: PostgresServer) -> Config:
    return load_config({"REGBOT_DATABASE_URL": empty_postgres_database(postgres)})


@pytest.mark.postgres
async def test_two_processes_handle_one_conversation_without_losing_a_turn(postgres_config: Config) -> None:
    """This process and another OS process send messages to one conversation at once: all turns land.
    (PostgreSQL is the database for several processes; SQLite shares its file with `regbot serve` in
    tests/bot/test_serve.py.)"""
    service = await Service.open(postgres_config, passwords=Passwords.cheap(), migrate=False)
    try:
        await _two_processes(service, postgres_config)
    finally:
        await service.close()


async def _two_processes(service: Service, config: Config) -> None:
    await service.handle("slack", "D1", Start(channel="slack"), message_id="start")
    root = str(Path(__file__).resolve().parents[2])
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _WORKER,
        config.database_url,
        "w",
        "15",
        cwd=root,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert worker.stdin is not None and worker.stdout is not None
    assert await asyncio.wait_for(worker.stdout.readline(), timeout=60) == b"ready\n"
    worker.stdin.write(b"go\n")
    await worker.stdin.drain()
    for n in range(15):
        await service.handle("slack", "D1", Text("状況"), message_id=f"t{n}")
    assert await asyncio.wait_for(worker.wait(), timeout=60) == 0
    stored = await _conversation(service, "slack", "D1")
    assert stored.version == 31
    assert await _rows(service, "SELECT count(*) FROM processed_messages") == [(31,)]


async def test_ok_writes_pending_registration_token_hash_and_mail_in_one_go(service: Service) -> None:
    """OK at the summary: a pending registration, one token (hash only) and the mail in the outbox."""
    turn = await fill_in(service)
    text = render_text(turn.replies[0], "ja")
    assert "迷惑メール" in text
    assert await _rows(service, "SELECT email FROM pending_registrations") == [(EMAIL,)]
    tokens = await _rows(service, "SELECT token_hash, email FROM verification_tokens")
    assert len(tokens) == 1 and len(str(tokens[0][0])) == 64
    assert await _rows(service, "SELECT kind, recipient, status FROM outbox") == [
        ("verification_mail", EMAIL, "queued")
    ]
    deliveries = await service.deliver_outbox()
    assert [d.kind for d in deliveries] == ["verification_mail"]
    token = token_in(deliveries[0].location)
    assert len(token) >= 43  # 256 random bits, URL-safe
    stored = await database_text(service.db)
    assert token not in stored
    assert PASSWORD not in stored


async def test_password_is_kept_as_argon2id_hash_apart_from_the_state(service: Service) -> None:
    """The password given out of band is hashed (Argon2id) into its own column; the state has none."""
    await fill_in(service, ok=False)
    stored = await _conversation(service, "console", "s1")
    assert stored.password_hash is not None and is_argon2id(stored.password_hash)
    assert service.passwords.verify(stored.password_hash, PASSWORD)
    assert stored.state["password_set"] is True
    assert PASSWORD not in await database_text(service.db)


async def test_a_registered_address_is_refused(service: Service, clock: FakeClock) -> None:
    """An email that already has an account is refused when typed (SPEC §3.2)."""
    await fill_in(service)
    (delivery,) = await service.deliver_outbox()
    assert (await service.verification.complete(token_in(delivery.location), None, None)).completed
    await service.handle("console", "s2", Start(channel="console"))
    for answer in [
        "基金",
        "花子",
        "1",
        "北海道",
        "0113719",
        "基金クリニック",
        "医療法人基金会",
        "0312345678",
    ]:
        await service.handle("console", "s2", Text(answer))
    turn = await service.handle("console", "s2", Text(EMAIL))
    assert turn.replies[-1].awaiting == "email"
    assert "email" not in (await _conversation(service, "console", "s2")).state["values"]


async def test_resend_supersedes_and_cancel_kills_the_links(service: Service) -> None:
    """再送 issues a new token and kills the old one; キャンセル cancels what is left."""
    await fill_in(service)
    await service.handle("console", "s1", Text("再送"))
    tokens = await _rows(
        service,
        "SELECT superseded_at IS NOT NULL, cancelled_at IS NOT NULL FROM verification_tokens ORDER BY id",
    )
    assert tokens == [(True, False), (False, False)]
    mails = await service.deliver_outbox()
    assert [m.kind for m in mails] == ["verification_mail", "verification_mail"]
    await service.handle("console", "s1", Text("キャンセル"))
    tokens = await _rows(service, "SELECT cancelled_at IS NOT NULL FROM verification_tokens ORDER BY id")
    assert tokens == [(False,), (True,)]


async def test_help_desk_request_is_an_outbox_row_without_a_deliverer_yet(service: Service) -> None:
    """担当者 writes a helpdesk row, which stays queued until the help-desk channel registers."""
    await service.handle("console", "s1", Start(channel="console"))
    await service.handle("console", "s1", Text("担当者"))
    assert await _rows(service, "SELECT kind, status FROM outbox") == [("helpdesk", "queued")]
    assert await service.deliver_outbox() == []


async def test_completion_reaches_the_console_through_pending_notifications(service: Service) -> None:
    """After the web page completes, the console's next poll shows the completion message once."""
    await fill_in(service)
    (mail,) = await service.deliver_outbox()
    result = await service.verification.complete(token_in(mail.location), None, None)
    assert result.completed and result.username == EMAIL
    notes = await service.pending_notifications("console", "s1")
    assert "ユーザー登録が完了いたしました" in "\n".join(render_text(n, "ja") for n in notes)
    assert await service.pending_notifications("console", "s1") == []
    stored = await _conversation(service, "console", "s1")
    assert stored.phase == "completed" and stored.password_hash is None
    (completion,) = await service.deliver_outbox()
    assert completion.kind == "completion_mail"
    assert completion.location is not None
    message = email.message_from_bytes(Path(completion.location).read_bytes(), policy=email.policy.default)
    assert message["Subject"] == "【医療機関等向け総合ポータルサイト】アカウント登録完了メール"
    async with service.db.read() as conn:
        assert await outbox.status_counts(conn) == {
            "delivered": 3
        }  # link mail, completion reply, completion mail


async def test_queued_replies_decode_to_the_replies_of_the_turns(service: Service) -> None:
    """Every reply row of a whole email conversation decodes to exactly the reply its turn returned."""
    sent: list[Reply] = []
    sent.extend((await service.handle("email", "key1", Start(channel="email"))).replies)
    for answer in [*BRANCH_A, EMAIL, "同意します"]:
        sent.extend((await service.handle("email", "key1", Text(answer))).replies)
    payloads = await _rows(service, "SELECT payload FROM outbox WHERE kind = 'reply' ORDER BY id")
    decoded = [decode_reply(_json(payload)["reply"]) for (payload,) in payloads]
    assert decoded == sent
    assert decoded[-1].awaiting == "confirm"  # the summary, whose password row is a message


def _json(value: object) -> dict[str, Any]:
    loaded = json.loads(value) if isinstance(value, str) else value
    assert isinstance(loaded, dict)
    return loaded


async def test_a_repeated_message_under_a_new_address_leaves_no_conversation_behind(service: Service) -> None:
    """The same mail through SMTP and IMAP at once opens its thread under a new random key each time:
    the one that finds the message already processed must not leave its new conversation behind (it
    would be reminded and expired with nowhere to write to)."""
    first = await service.handle("email", "key-one", Start("email", text="登録したい"), message_id="<m1@x>")
    again = await service.handle("email", "key-two", Start("email", text="登録したい"), message_id="<m1@x>")
    assert again.duplicate and not first.duplicate
    assert again.conversation_id == first.conversation_id
    async with service.db.read() as conn:
        assert await conversations.find(conn, "email", "key-one") is not None
        assert await conversations.find(conn, "email", "key-two") is None


async def test_the_same_message_twice_at_once_is_processed_once(config: Config, clock: FakeClock) -> None:
    """A Slack retry racing the original through two connection pools: one turn, one duplicate."""
    services = [
        await Service.open(config, clock=clock, passwords=Passwords.cheap(), migrate=False) for _ in range(2)
    ]
    try:
        await services[0].handle("slack", "D1", Start(channel="slack"), message_id="Ev0")
        turns = await asyncio.gather(
            *(service.handle("slack", "D1", Text("基金"), message_id="Ev1") for service in services)
        )
        assert sorted(turn.duplicate for turn in turns) == [False, True]
        assert (await _conversation(services[0], "slack", "D1")).version == 2
    finally:
        for service in services:
            await service.close()


async def test_turn_hooks_run_inside_every_kind_of_turn(service: Service) -> None:
    """A turn hook sees messages, jobs' steps and the completion, and what it writes commits with them."""
    seen: list[str] = []

    async def hook(conn: Any, conversation: Any, before: Any, inbound: Any, step: Any, now: Any) -> None:
        seen.append(type(inbound).__name__)
        await conversations.record_audit(conn, conversation.id, [("hooked", None)], now)

    service.add_turn_hook(hook)
    await fill_in(service)
    (mail,) = await service.deliver_outbox()
    await service.verification.complete(token_in(mail.location), None, None)
    assert seen[0] == "Start" and seen[-1] == "VerificationCompleted" and "Secret" in seen
    hooked = await _rows(service, "SELECT count(*) FROM audit WHERE event = 'hooked'")
    assert hooked == [(len(seen),)]
