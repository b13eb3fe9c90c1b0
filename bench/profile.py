"""Where a turn's time goes: `regbot serve` under cProfile while Slack events (or mails) arrive.

    python -m bench.profile [--events 600] [--concurrency 16]

Prints the share of the server's CPU time per area (our packages, SQLAlchemy, aiosqlite, bolt, aiohttp …)
and the top functions by own time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pstats
import signal
import tempfile
from collections import defaultdict
from pathlib import Path

from bench.common import PYTHON, child, free_port, wait_port
from bench.mail_turn import eml_count, regbot_mail_env, send_mails
from bench.mock_slack import BenchSlack
from bench.slack_turn import drive, regbot_serve, warm_up

AREAS = (
    ("/conversations/", "regbot engine (conversations/)"),
    ("/storage/", "regbot storage/"),
    ("/bot/", "regbot bot/"),
    ("/mail/", "regbot mail/"),
    ("sqlalchemy", "SQLAlchemy"),
    ("aiosqlite", "aiosqlite"),
    ("asyncpg", "asyncpg"),
    ("sqlite3", "sqlite3"),
    ("slack_bolt", "slack_bolt"),
    ("slack_sdk", "slack_sdk"),
    ("aiohttp", "aiohttp"),
    ("aiosmtpd", "aiosmtpd"),
    ("argon2", "argon2"),
    ("/email/", "stdlib email"),
    ("/json/", "stdlib json"),
    ("/logging/", "stdlib logging"),
    ("/asyncio/", "asyncio"),
    ("threading", "threads (aiosqlite's worker)"),
)


def area_of(filename: str) -> str:
    for marker, name in AREAS:
        if marker in filename:
            return name
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    return "other"


def summarise(path: Path, *, top: int = 15) -> list[str]:
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]
    by_area: dict[str, float] = defaultdict(float)
    total = 0.0
    rows = []
    for (filename, line, name), (_cc, calls, tottime, _cumtime, _callers) in raw.items():
        # Time spent waiting in the selector is idle time, not work.
        if name in ("select", "poll", "epoll.poll") or ("selectors.py" in filename and name == "select"):
            continue
        if filename == "~" and "method 'poll'" in name:
            continue
        total += tottime
        by_area[area_of(filename)] += tottime
        rows.append((tottime, calls, f"{Path(filename).name}:{line}({name})" if filename != "~" else name))
    lines = ["| area | share of busy CPU time |", "|---|---:|"]
    for name, seconds in sorted(by_area.items(), key=lambda item: -item[1]):
        lines.append(f"| {name} | {seconds / total * 100:.1f} % |")
    lines += ["", "| own time | calls | function |", "|---:|---:|---|"]
    for tottime, calls, where in sorted(rows, reverse=True)[:top]:
        lines.append(f"| {tottime / total * 100:.1f} % | {calls:,} | `{where}` |")
    return lines


async def profile_slack(events: int, concurrency: int, folder: Path) -> Path:
    path = folder / "serve.prof"
    mock = BenchSlack()
    await mock.start()
    try:
        async with regbot_serve(mock, folder, profile=path) as (url, pid):
            await warm_up(url, mock)
            os.kill(pid, signal.SIGUSR1)
            figures = await drive(url, mock, concurrency=concurrency, count=events, label="profile")
            print(
                f"profiled {figures.count} Slack turns at {concurrency} concurrent "
                f"({figures.rate:.0f}/s under cProfile)"
            )
    finally:
        await mock.stop()
    return path


async def profile_mail(mails: int, concurrency: int, folder: Path) -> Path:
    path = folder / "serve.prof"
    smtp_port, outbox = free_port(), folder / "outbox"
    env = regbot_mail_env(folder, smtp_port, outbox)
    args = [PYTHON, "-m", "bench.serve_profiled", str(path)]
    with child(args, env, folder / "serve.log", cwd=folder) as process:
        await wait_port(smtp_port, process=process)
        counter = eml_count(outbox)
        await send_mails(smtp_port, count=20, concurrency=concurrency, done=counter)
        os.kill(process.pid, signal.SIGUSR1)
        already = counter()
        figures = await send_mails(
            smtp_port, count=mails, concurrency=concurrency, done=lambda: counter() - already
        )
        print(
            f"profiled {figures.count} mail turns at {concurrency} senders "
            f"({figures.rate:.0f}/s under cProfile)"
        )
    return path


def run(events: int = 600, concurrency: int = 16, *, mail: bool = False) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="regbot-bench-profile-") as tmp:
        if mail:
            path = asyncio.run(profile_mail(events, concurrency, Path(tmp)))
        else:
            path = asyncio.run(profile_slack(events, concurrency, Path(tmp)))
        return summarise(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--mail", action="store_true", help="mails into the SMTP listener instead of Slack")
    args = parser.parse_args()
    print("\n".join(run(args.events, args.concurrency, mail=args.mail)))


if __name__ == "__main__":
    main()
