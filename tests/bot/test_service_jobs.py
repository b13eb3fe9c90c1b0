"""Abandoned conversations (SPEC §7): one reminder, expiry, personal values purged after retention.
The clock is injected: a day passes in a line."""

from __future__ import annotations

from bot.jobs import Housekeeping, JobReport
from bot.service import Service
from conversations.render import render_text
from conversations.types import Start, Text
from storage import conversations
from tests.conftest import EMAIL, FakeClock, database_text, fill_in, token_in


async def _phase(service: Service, address: str = "s1") -> str:
    async with service.db.read() as conn:
        found = await conversations.find(conn, "console", address)
    assert found is not None
    return found.phase


async def _notes(service: Service, address: str = "s1") -> str:
    return "\n".join(render_text(r, "ja") for r in await service.pending_notifications("console", address))


async def test_one_reminder_then_expiry(service: Service, clock: FakeClock) -> None:
    """Idle 24 h: one reminder (never two); idle 72 h: expired, and the person is told."""
    jobs = Housekeeping(service)
    await service.handle("console", "s1", Start(channel="console"))
    await service.handle("console", "s1", Text("基金"))
    clock.advance(hours=23)
    assert await jobs.run_once() == JobReport()
    clock.advance(hours=1)
    assert await jobs.run_once() == JobReport(reminded=1)
    assert await _notes(service)
    clock.advance(hours=24)
    assert await jobs.run_once() == JobReport()
    clock.advance(hours=24)
    assert await jobs.run_once() == JobReport(expired=1)
    assert await _phase(service) == "expired"
    assert await _notes(service)
    assert await jobs.run_once() == JobReport()


async def test_activity_resets_the_idle_clock(service: Service, clock: FakeClock) -> None:
    """A message before the deadline moves it: reminders count from the last message."""
    jobs = Housekeeping(service)
    await service.handle("console", "s1", Start(channel="console"))
    clock.advance(hours=20)
    await service.handle("console", "s1", Text("基金"))
    clock.advance(hours=20)
    assert await jobs.run_once() == JobReport()
    clock.advance(hours=5)
    assert (await jobs.run_once()).reminded == 1


async def test_a_conversation_waiting_for_the_link_is_not_expired(service: Service, clock: FakeClock) -> None:
    """After OK the link has its own lifetime; the conversation is left alone until retention."""
    jobs = Housekeeping(service)
    await fill_in(service)
    clock.advance(hours=100)
    assert await jobs.run_once() == JobReport()
    assert await _phase(service) == "verifying"


async def test_personal_values_are_purged_after_retention(service: Service, clock: FakeClock) -> None:
    """30 days after it ended, an abandoned registration keeps no name, address, hash or link."""
    jobs = Housekeeping(service)
    await fill_in(service)
    await service.deliver_outbox()
    await service.handle("console", "s1", Text("キャンセル"))
    clock.advance(days=29)
    assert (await jobs.run_once()).purged == 0
    assert "基金" in await database_text(service.db)
    clock.advance(days=2)
    assert (await jobs.run_once()).purged == 1
    text = await database_text(service.db)
    for value in ("基金", "太郎", EMAIL, "0312345678", "argon2"):
        assert value not in text
    async with service.db.read() as conn:
        for table in ("pending_registrations", "verification_tokens", "processed_messages"):
            assert (await conn.exec_driver_sql(f"SELECT count(*) FROM {table}")).scalar() == 0
    assert (await jobs.run_once()).purged == 0


async def test_accounts_survive_the_purge(service: Service, clock: FakeClock) -> None:
    """A completed registration's conversation is emptied; the account stays."""
    jobs = Housekeeping(service)
    await fill_in(service)
    (mail,) = await service.deliver_outbox()
    assert (await service.verification.complete(token_in(mail.location), None, None)).completed
    clock.advance(days=31)
    assert (await jobs.run_once()).purged == 1
    async with service.db.read() as conn:
        emails = [row[0] for row in await conn.exec_driver_sql("SELECT email FROM accounts")]
    assert emails == [EMAIL]
