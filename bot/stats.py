"""The registration funnel (issue 7 §4): where people drop off, per channel — counts only.

For a period (the last N days up to now): conversations started, completed, abandoned (expired or
cancelled) by the field they were at, redirected elsewhere (SPEC §2), escalations to the help desk by
reason, and the median time from start to completion.  Outcomes count in the period they happened in.
Used by ``/regbot stats [days]`` (staff only) and ``regbot stats [--days N] [--json]``.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.helpdesk_text import CHANNELS, JST, label_text
from storage import stats
from storage.db import Database

ABANDONED_AT_START = "(開始前)"


@dataclass
class ChannelFunnel:
    started: int = 0
    completed: int = 0
    redirected: int = 0
    expired: int = 0
    cancelled: int = 0
    abandoned_at: Counter[str] = field(default_factory=Counter)  # field id → expired + cancelled there
    escalations: Counter[str] = field(default_factory=Counter)  # reason → count
    completion_seconds: list[float] = field(default_factory=list)

    @property
    def median_minutes(self) -> float | None:
        if not self.completion_seconds:
            return None
        return round(statistics.median(self.completion_seconds) / 60, 1)

    def as_json(self) -> dict[str, Any]:
        return {
            "started": self.started,
            "completed": self.completed,
            "redirected": self.redirected,
            "expired": self.expired,
            "cancelled": self.cancelled,
            "abandoned_by_field": dict(sorted(self.abandoned_at.items())),
            "escalations": dict(sorted(self.escalations.items())),
            "median_minutes_to_complete": self.median_minutes,
        }


@dataclass(frozen=True)
class Funnel:
    since: datetime
    until: datetime
    channels: dict[str, ChannelFunnel]

    def total(self) -> ChannelFunnel:
        total = ChannelFunnel()
        for funnel in self.channels.values():
            total.started += funnel.started
            total.completed += funnel.completed
            total.redirected += funnel.redirected
            total.expired += funnel.expired
            total.cancelled += funnel.cancelled
            total.abandoned_at.update(funnel.abandoned_at)
            total.escalations.update(funnel.escalations)
            total.completion_seconds.extend(funnel.completion_seconds)
        return total

    def as_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "channels": {name: funnel.as_json() for name, funnel in sorted(self.channels.items())},
            "total": self.total().as_json(),
        }


async def funnel(db: Database, since: datetime, until: datetime) -> Funnel:
    async with db.read() as conn:
        started = await stats.started(conn, since, until)
        events = await stats.funnel_events(conn, since, until)
    channels: dict[str, ChannelFunnel] = {
        name: ChannelFunnel(started=count) for name, count in started.items()
    }
    for event in events:
        channel = channels.setdefault(event.channel, ChannelFunnel())
        if event.event == stats.COMPLETED:
            channel.completed += 1
            channel.completion_seconds.append((event.at - event.started_at).total_seconds())
        elif event.event == stats.REDIRECTED:
            channel.redirected += 1
        elif event.event in (stats.EXPIRED, stats.CANCELLED):
            if event.event == stats.EXPIRED:
                channel.expired += 1
            else:
                channel.cancelled += 1
            channel.abandoned_at[event.field_id or ABANDONED_AT_START] += 1
        elif event.event in stats.ESCALATIONS:
            channel.escalations[event.event.removeprefix("helpdesk.")] += 1
    return Funnel(since=since, until=until, channels=channels)


async def funnel_for_days(db: Database, days: float, now: datetime) -> Funnel:
    return await funnel(db, now - timedelta(days=days), now)


_REASONS = {"asked": "担当者希望", "failures": "3回エラー", "idle": "放置"}


def _field_name(field_id: str) -> str:
    if field_id == ABANDONED_AT_START:
        return field_id
    if field_id == "verification":
        return "確認メール送信後"
    label = label_text(field_id)
    return f"{label}" if label != f"field.{field_id}.label" else field_id


def format_funnel(result: Funnel) -> str:
    """Plain text (Japanese) for the CLI and the ephemeral Slack answer."""
    since = result.since.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    until = result.until.astimezone(JST).strftime("%Y-%m-%d %H:%M")
    lines = [f"登録ファネル {since} 〜 {until}（JST）"]
    rows = [*sorted(result.channels.items()), ("合計", result.total())]
    for name, channel in rows:
        median = channel.median_minutes
        lines.append(f"■ {CHANNELS.get(name, name)}")
        lines.append(
            f"  開始 {channel.started} / 完了 {channel.completed} / 中止 {channel.cancelled}"
            f" / 放置終了 {channel.expired} / 対象外案内 {channel.redirected}"
        )
        lines.append(f"  完了までの時間（中央値）：{'—' if median is None else f'{median}分'}")
        escalations = "、".join(
            f"{_REASONS.get(reason, reason)} {count}" for reason, count in sorted(channel.escalations.items())
        )
        lines.append(f"  ヘルプデスク依頼：{sum(channel.escalations.values())}（{escalations or 'なし'}）")
        if channel.abandoned_at:
            where = "、".join(
                f"{_field_name(field_id)} {count}" for field_id, count in channel.abandoned_at.most_common()
            )
            lines.append(f"  離脱した項目：{where}")
    if not result.channels:
        lines.append("この期間の会話はありません。")
    return "\n".join(lines)
