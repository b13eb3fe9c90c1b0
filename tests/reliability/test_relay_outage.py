"""The outbound SMTP relay down for a while, then back (SPEC §7): every mail is delivered once, a
conversation's mails in the order they were written, and the back-off (doubling delays) is in the logs."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
from collections import defaultdict
from pathlib import Path

import pytest

from bot.config import Config, load_config
from bot.passwords import Passwords
from bot.service import Service
from conversations.types import Text
from mail.channel import MailChannel
from storage import mail_threads
from tests.mail.mail_client import MailClient, empty_mail_tables
from tests.reliability.harness import BOT, RecordingRelay, record, size, template_answer, until
from tests.services import free_port


@pytest.fixture
def outage_config(db_url: str, tmp_path: Path) -> tuple[Config, int]:
    port = free_port()
    config = load_config(
        {
            "REGBOT_DATABASE_URL": db_url,
            "REGBOT_MAIL_ADDRESS": BOT,
            "REGBOT_SMTP_RELAY": f"smtp://127.0.0.1:{port}",  # nothing listens there yet
            "REGBOT_OUTBOX_RETRY_SECONDS": "0.2",
            "REGBOT_OUTBOX_POLL_SECONDS": "0.1",
            "REGBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    return config, port


async def test_relay_down_then_up_every_mail_once_in_order_with_backoff(
    outage_config: tuple[Config, int], caplog: pytest.LogCaptureFixture
) -> None:
    config, port = outage_config
    caplog.set_level(logging.INFO, logger="bot.outbox")
    service = await Service.open(config, passwords=Passwords.cheap(), migrate=False)
    await empty_mail_tables(service.db)
    channel = MailChannel(service, config)
    channel.register()
    relay = RecordingRelay(port=port)
    stop = asyncio.Event()
    delivery = asyncio.create_task(service.outbox.run(stop))
    people = [MailClient(f"outage.{i}@example.jp") for i in range(size(4, 30))]
    outage = size(2, 12)
    try:
        # While the relay is down, each person's conversation writes four mails: the first answer, the
        # summary, the verification mail and the "mail sent" answer.
        keys = {}
        for person in people:
            await channel.accept(person.first_mail(), envelope_sender=person.address, source="smtp")
        assert {o.action for o in await channel.drain()} == {"turn"}
        async with service.db.read() as conn:
            for person in people:
                threads = await mail_threads.open_threads(conn, person.address, ("asking",))
                keys[person.address] = threads[0][0].reply_key
        for person in people:
            await service.handle("email", keys[person.address], Text(template_answer(person.address)))
            await service.handle("email", keys[person.address], Text("OK"))
        await asyncio.sleep(outage)
        assert relay.received == []
        relay.start()
        await until(
            lambda: len({r.message_id for r in relay.received}) == 4 * len(people),
            timeout=60,
            what="every mail after the relay came back",
        )
        await asyncio.sleep(0.5)  # a second copy would arrive now
    finally:
        stop.set()
        await delivery
        relay.stop()
        await service.close()

    assert relay.repeats() == 0
    for person in people:
        thread = [r.awaiting for r in relay.to(person.address) if "登録確認メール" not in r.subject]
        assert thread == ["family_name", "confirm", None], person.address  # in the order written
        assert sum("登録確認メール" in r.subject for r in relay.to(person.address)) == 1

    delays: dict[int, list[float]] = defaultdict(list)
    for message in caplog.messages:
        found = re.match(r"outbox (\d+) \(\w+\) attempt \d+ failed, retrying in ([\d.]+)s", message)
        if found:
            delays[int(found.group(1))].append(float(found.group(2)))
    assert delays, "no back-off in the logs"
    longest = max(delays.values(), key=len)
    assert len(longest) >= 3 and all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(longest))
    record(
        "relay outage (in-process, " + service.db.dialect + ")",
        conversations=len(people),
        mails=4 * len(people),
        outage_seconds=outage,
        delivered_once=True,
        in_order=True,
        failed_attempts_logged=sum(len(d) for d in delays.values()),
        longest_backoff=" → ".join(f"{d:g}s" for d in longest),
    )
