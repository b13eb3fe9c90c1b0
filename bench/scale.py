"""Scale: the time of a turn with 100, 10 000 and 100 000 stored conversations, SQLite and PostgreSQL side
by side; and the memory of a `regbot serve` process serving 10 000 open conversations.

Conversations are seeded in bulk with SQL (executemany), not through the service: each is a Slack DM in
the middle of a registration (awaiting 名, 姓 already given), as the engine itself would have left it.
A turn is `Service.handle`, in-process, 16 at a time, on a stored conversation: one transaction (load,
step, save, outbox row, processed id, audit).  Each measured conversation is told 名 and then 戻る, so
that every round and every size measure the same turns.  One database per size, the sizes measured in
turn, round after round.

"Open" for the memory figure: conversations in progress in the database that the running server serves.
The server keeps no per-conversation state in memory (every turn loads it); what it does cache is bounded
(Slack's user → DM channel map, ≤ 10 000 entries; per-DM locks only while a turn runs).  The figure is
the RSS of `regbot serve` after it has served a turn for each of them (bounded run: a sample, see the
table), next to its RSS before.

    python -m bench.scale [--sizes 100,10000,100000] [--turns 2000] [--no-postgres]
    python -m bench.scale --rss [--open 10000] [--serve 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from bench.common import ROUNDS, Figures, Rounds, median_run, rss_mb
from bench.mock_slack import BenchSlack
from bot.config import load_config
from bot.passwords import Passwords
from bot.service import Service
from conversations.engine import new_state, step
from conversations.state import dump_state
from conversations.types import Text
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import conversations

DEFAULT_SIZES = (100, 10_000, 100_000)
_CHUNK = 5_000
CONCURRENCY = 16
MIN_SPREAD = 4
WARM_UP = MIN_SPREAD * CONCURRENCY  # conversations beside the measured ones
TURNS = 2_000
"""Turns per size and round (a turn takes under a millisecond on SQLite: fewer would time the machine's
moods, not the size)."""
TURN_SECONDS = 60.0


def seeded_state() -> dict[str, Any]:
    """A Slack conversation awaiting 名 (given_name), made by the engine itself."""
    now = datetime.now(UTC)
    state = new_state("slack")
    for text in ("こんにちは", "基金"):
        state = step(state, Text(text), now).state
    assert state.awaiting == "given_name", state.awaiting
    return dump_state(state)


def address(index: int) -> str:
    return f"D{index:08d}"


async def seed(db: Database, start: int, stop: int) -> None:
    """Conversations ``start`` … ``stop`` - 1, in chunks of one executemany each."""
    state = seeded_state()
    at = datetime.now(UTC) - timedelta(minutes=30)
    for low in range(start, stop, _CHUNK):
        rows = [
            {
                "id": uuid.uuid4().hex,
                "channel": "slack",
                "address": address(i),
                "state": state,
                "phase": str(state["phase"]),
                "reminded": False,
                "version": 2,
                "password_hash": None,
                "created_at": at,
                "updated_at": at,
                "last_activity_at": at,
            }
            for i in range(low, min(stop, low + _CHUNK))
        ]
        async with db.transaction() as conn:
            await conn.execute(insert(conversations), rows)


ANSWERS = ("太郎", "戻る")
"""What each measured conversation is told, in turn: 名 (accepted; the next field is asked), then 戻る
(back to 名, which stays among its values).  After one untimed pass every pass leaves a conversation as
it found it, so every round measures the same two kinds of turn at every size."""


def script(picked: Sequence[int], turn_count: int) -> list[tuple[str, str]]:
    """About ``turn_count`` (address, text) turns over the ``picked`` conversations: each is told
    `ANSWERS` in order, a whole pass over the others between two of its turns (with at least
    `MIN_SPREAD` × the concurrency conversations, a turn would have to outlast that many others to meet
    its conversation's next one), and every conversation as often as the others (so each ends where it
    started)."""
    if len(picked) < MIN_SPREAD * CONCURRENCY:
        raise ValueError(f"at least {MIN_SPREAD * CONCURRENCY} conversations per size are needed")
    passes = max(1, round(turn_count / (2 * len(picked))))
    plan: list[tuple[str, str]] = []
    for _ in range(passes):
        for text in ANSWERS:
            plan += [(address(i), text) for i in picked]
    return plan


async def turns(
    service: Service, plan: Sequence[tuple[str, str]], *, concurrency: int = CONCURRENCY
) -> Figures:
    latencies: list[float] = []
    queue = iter(plan)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + TURN_SECONDS

    async def worker() -> None:
        for target, text in queue:
            if loop.time() > deadline:
                return
            started = time.perf_counter()
            await service.handle("slack", target, Text(text), message_id=uuid.uuid4().hex)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Figures("turns", len(latencies), time.perf_counter() - began, tuple(latencies))


async def prepared(url: str, folder: Path, size: int) -> Service:
    """A migrated database holding ``size`` conversations and `WARM_UP` more, warmed up on those; on
    SQLite the seeding's WAL is copied into the file first (else the first measured turns pay for it)."""
    config = load_config({"REGBOT_DATABASE_URL": url, "REGBOT_OUTBOX_DIR": str(folder / "outbox")})
    db = Database.open(url)
    await upgrade(db)
    service = Service(config, db, passwords=Passwords.cheap())
    await seed(db, 0, size + WARM_UP)
    await db.checkpoint()
    await turns(service, script(range(size, size + WARM_UP), 2 * WARM_UP))
    return service


@dataclass(frozen=True)
class SizeRounds:
    """Each size's runs, round by round."""

    runs: tuple[tuple[Figures, ...], ...]

    def median(self, index: int) -> Figures:
        return median_run(self.runs[index])

    def flatness(self) -> str:
        """The largest size's throughput as a share of the smallest's: the median of the rounds (range),
        as a comparison's throughput ratio with the smallest size in the bare framework's place."""
        return Rounds(bare=self.runs[0], ours=self.runs[-1]).throughput_ratio()


async def scale_one(urls: Sequence[str], folder: Path, sizes: Sequence[int], turn_count: int) -> SizeRounds:
    """One database per size; `ROUNDS` rounds, each measuring every size in turn, so that whatever else the
    machine does falls on all sizes alike."""
    rng = random.Random(8)
    picks = [rng.sample(range(size), min(turn_count // 2, size)) for size in sizes]
    plans = [script(picked, turn_count) for picked in picks]
    services: list[Service] = []
    runs: list[list[Figures]] = [[] for _ in sizes]
    try:
        for url, size, picked in zip(urls, sizes, picks, strict=True):
            services.append(await prepared(url, folder, size))
            # One untimed pass: a conversation told 名 and 戻る keeps 名 among its values, so the first
            # timed round would otherwise measure other turns than the next ones.
            await turns(services[-1], script(picked, 2 * len(picked)))
        for round_number in range(ROUNDS):
            order = list(range(len(sizes)))
            order = order[round_number % len(order) :] + order[: round_number % len(order)]
            for index in order:  # each round starts with another size (a checkpoint left running falls
                figures = await turns(services[index], plans[index])  # on a different one each time)
                if figures.count < len(plans[index]):
                    print(
                        f"  scale: size {sizes[index]:,} cut short at {figures.count} of {len(plans[index])}"
                    )
                runs[index].append(figures)
    finally:
        for service in services:
            await service.close()
    return SizeRounds(tuple(tuple(size_runs) for size_runs in runs))


@contextlib.contextmanager
def postgres_databases(count: int) -> Iterator[list[str]]:
    """A private PostgreSQL (tests/services.py) with ``count`` empty databases."""
    from tests.services import ServiceUnavailable, ensure_postgres

    try:
        server = ensure_postgres()
    except ServiceUnavailable as exc:
        raise RuntimeError(f"PostgreSQL unavailable: {exc}") from exc
    try:
        names = [f"bench_{index}" for index in range(count)]
        for name in names:
            subprocess.run(
                ["psql", "-X", "-q", server.dsn("postgres"), "-c", f"CREATE DATABASE {name}"],
                check=True,
                capture_output=True,
            )
        yield [server.url(name) for name in names]
    finally:
        server.stop()


async def measure(sizes: Sequence[int], turn_count: int, *, postgres: bool = True) -> dict[str, SizeRounds]:
    results: dict[str, SizeRounds] = {}
    with tempfile.TemporaryDirectory(prefix="regbot-bench-scale-") as tmp:
        folder = Path(tmp)
        files = [f"sqlite+aiosqlite:///{folder / f'scale-{size}.sqlite3'}" for size in sizes]
        results["SQLite"] = await scale_one(files, folder, sizes, turn_count)
        if postgres:
            with postgres_databases(len(sizes)) as urls:
                results["PostgreSQL"] = await scale_one(urls, folder, sizes, turn_count)
    return results


def table(results: dict[str, SizeRounds], sizes: Sequence[int]) -> list[str]:
    kinds = list(results)
    header = "| stored conversations | " + " | ".join(f"{k}: turns/s (p50, p99)" for k in kinds) + " |"
    rows = [header, "|---:|" + "---|" * len(kinds)]
    for index, size in enumerate(sizes):
        cells = []
        for kind in kinds:
            f = results[kind].median(index)
            cells.append(f"{f.rate:,.0f}/s ({f.p50_ms:.1f} ms, {f.p99_ms:.1f} ms, n={f.count})")
        rows.append(f"| {size:,} | " + " | ".join(cells) + " |")
    rows.append("")
    rows.append(
        f"Throughput at {sizes[-1]:,} as a share of {sizes[0]:,} (flat = 100 %): "
        + ", ".join(f"{kind} {results[kind].flatness()}" for kind in kinds)
        + f".  One database per size; {ROUNDS} rounds, each measuring every size in turn, starting with"
        " another size each round; shown: each size's median run, and the median of the per-round shares"
        " with their range."
    )
    return rows


# ---------------------------------------------------------------------------------------------- memory


async def rss(open_count: int = 10_000, serve_count: int = 2_000) -> dict[str, float]:
    """RSS of `regbot serve` (SQLite) holding ``open_count`` open conversations, before and after serving
    a Slack turn for ``serve_count`` of them (64 at a time)."""
    from bench.slack_turn import drive, regbot_serve

    mock = BenchSlack()
    await mock.start()
    figures: dict[str, float] = {"open": open_count, "served": 0}
    try:
        with tempfile.TemporaryDirectory(prefix="regbot-bench-rss-") as tmp:
            folder = Path(tmp)
            url = f"sqlite+aiosqlite:///{folder / 'regbot.sqlite3'}"
            db = Database.open(url)
            await upgrade(db)
            await seed(db, 0, open_count)
            await db.dispose()
            async with regbot_serve(mock, folder, database_url=url) as (events, pid):
                await asyncio.sleep(1.0)
                figures["rss_started_mb"] = rss_mb(pid)[0]
                users = ["U" + address(i)[1:] for i in range(serve_count)]
                done = await drive(
                    events, mock, concurrency=64, count=serve_count, users=users, text="太郎", seconds=600
                )
                figures["served"] = done.count
                figures["served_per_s"] = done.rate
                figures["rss_mb"], figures["peak_rss_mb"] = rss_mb(pid)
    finally:
        await mock.stop()
    return figures


def rss_table(figures: dict[str, float]) -> list[str]:
    verdict = "met" if figures.get("peak_rss_mb", 1e9) < 200 else "missed"
    return [
        "| open conversations in the database | served a turn (64 at a time) | RSS after start "
        "| RSS after serving | peak RSS | target < 200 MB |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {figures['open']:,.0f} | {figures['served']:,.0f} ({figures.get('served_per_s', 0):.0f}/s) "
        f"| {figures.get('rss_started_mb', 0):.0f} MB | {figures.get('rss_mb', 0):.0f} MB "
        f"| {figures.get('peak_rss_mb', 0):.0f} MB | {verdict} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    parser.add_argument("--turns", type=int, default=TURNS, help="per size and round (at least 128)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--rss", action="store_true", help="the memory figure instead")
    parser.add_argument("--open", type=int, default=10_000)
    parser.add_argument("--serve", type=int, default=2_000)
    args = parser.parse_args()
    if args.rss:
        print("\n".join(rss_table(asyncio.run(rss(args.open, args.serve)))))
        return
    sizes = tuple(int(s) for s in args.sizes.split(","))
    least = 2 * MIN_SPREAD * CONCURRENCY
    if args.turns < least or min(sizes) < least // 2:
        parser.error(f"--turns must be at least {least} and every size at least {least // 2}")
    print("\n".join(table(asyncio.run(measure(sizes, args.turns, postgres=not args.no_postgres)), sizes)))


if __name__ == "__main__":
    main()
