"""The funnel (issue 7 §4) on a seeded database: per channel, counts only; and `regbot stats`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import cli
from bot.jobs import Housekeeping
from bot.service import Service
from bot.stats import ABANDONED_AT_START, format_funnel, funnel
from conversations.types import Start, Text
from storage import conversations
from storage.db import Database
from tests.conftest import FakeClock

T0 = datetime(2025, 4, 1, 0, 0, tzinfo=UTC)


async def seed(db: Database, now: datetime = T0) -> None:
    """Slack: 4 started — 2 completed (30 and 90 minutes), one expired at 電話番号 (the older audit form:
    the field only on the turn's inbound event), one cancelled at メールアドレス (field on the phase
    event); 2 escalations.  Email: 2 started — one redirected, one still going.  One Slack conversation
    from before the period completes inside it."""
    plans: list[tuple[str, timedelta, list[tuple[str, str | None, timedelta]]]] = [
        ("slack", timedelta(0), [("phase.completed", None, timedelta(minutes=30))]),
        (
            "slack",
            timedelta(hours=1),
            [
                ("helpdesk.asked", "phone", timedelta(minutes=5)),
                ("phase.completed", None, timedelta(minutes=90)),
            ],
        ),
        (
            "slack",
            timedelta(hours=2),
            [
                ("helpdesk.failures", "phone", timedelta(minutes=3)),
                ("inbound.expire", "phone", timedelta(hours=72)),
                ("phase.expired", None, timedelta(hours=72)),
            ],
        ),
        ("slack", timedelta(hours=3), [("phase.cancelled", "email", timedelta(minutes=10))]),
        ("email", timedelta(hours=4), [("phase.redirected", None, timedelta(minutes=1))]),
        ("email", timedelta(hours=5), []),
        ("slack", -timedelta(days=20), [("phase.completed", None, timedelta(days=20, minutes=1))]),
    ]
    async with db.transaction() as conn:
        for index, (channel, started, events) in enumerate(plans):
            created = await conversations.create(
                conn, channel, f"addr{index}", {"phase": "asking"}, now + started
            )
            for event, field_id, after in events:
                await conversations.record_audit(conn, created.id, [(event, field_id)], now + started + after)


async def test_funnel_figures_per_channel(db: Database) -> None:
    await seed(db)
    result = await funnel(db, T0, T0 + timedelta(days=7))
    slack, mail = result.channels["slack"], result.channels["email"]
    assert (slack.started, slack.completed, slack.expired, slack.cancelled, slack.redirected) == (
        4,
        3,
        1,
        1,
        0,
    )
    assert dict(slack.abandoned_at) == {"phone": 1, "email": 1}
    assert dict(slack.escalations) == {"asked": 1, "failures": 1}
    assert slack.median_minutes == 90.0  # of 30 min, 90 min and 20 days (started before the period)
    assert (mail.started, mail.completed, mail.redirected, mail.median_minutes) == (2, 0, 1, None)
    total = result.total()
    assert (total.started, total.completed, sum(total.escalations.values())) == (6, 3, 2)


async def test_funnel_text_and_json_hold_no_value(db: Database) -> None:
    await seed(db)
    result = await funnel(db, T0, T0 + timedelta(days=7))
    text = format_funnel(result)
    assert "■ Slack（DM）" in text and "開始 4 / 完了 3 / 中止 1 / 放置終了 1" in text
    assert (
        "離脱した項目：電話番号 1、メールアドレス 1" in text
        or "離脱した項目：メールアドレス 1、電話番号 1" in text
    )
    assert "ヘルプデスク依頼：2（担当者希望 1、3回エラー 1）" in text
    assert "addr" not in text
    data = result.as_json()
    assert data["channels"]["slack"]["abandoned_by_field"] == {"email": 1, "phone": 1}
    assert data["total"]["started"] == 6
    assert ABANDONED_AT_START not in json.dumps(data, ensure_ascii=False)


async def test_an_empty_period(db: Database) -> None:
    await seed(db)
    result = await funnel(db, T0 - timedelta(days=100), T0 - timedelta(days=90))
    assert result.channels == {}
    assert "この期間の会話はありません。" in format_funnel(result)


def test_regbot_stats_cli(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import asyncio
    import shutil

    path = tmp_path / "regbot.sqlite3"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"

    async def seeded() -> None:
        database = Database.open(url)
        try:
            await seed(database, datetime.now(UTC) - timedelta(days=3))
        finally:
            await database.dispose()

    asyncio.run(seeded())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGBOT_DATABASE_URL", url)
    assert cli.main(["stats", "--days", "7", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["channels"]["slack"]["started"] == 4 and data["total"]["completed"] == 3
    assert cli.main(["stats"]) == 0
    assert "登録ファネル" in capsys.readouterr().out
    assert cli.main(["stats", "--days", "0"]) == 2


async def test_expiry_and_cancellation_record_the_field_they_left_at(
    service: Service, clock: FakeClock
) -> None:
    """The audit's phase.expired / phase.cancelled carry the awaited field (verification after the link)."""
    await service.handle("console", "a", Start("console"))
    await service.handle("console", "a", Text("山田"))
    await service.handle("console", "b", Start("console"))
    await service.handle("console", "b", Text("キャンセル"))
    clock.advance(hours=100)
    assert (await Housekeeping(service).run_once()).expired == 1
    result = await funnel(service.db, clock() - timedelta(days=30), clock() + timedelta(seconds=1))
    assert dict(result.channels["console"].abandoned_at) == {"given_name": 1, "family_name": 1}
    async with service.db.read() as conn:
        trail = await conversations.audit_trail(conn, (await conversations.find(conn, "console", "a")).id)  # type: ignore[union-attr]
    assert ("phase.expired", "given_name") in trail
