"""Mail turn: 1 KB ISO-2022-JP mails into `regbot serve`'s SMTP listener until the bot's reply is written
as an ``.eml`` file (REGBOT_SMTP_RELAY empty) — against an aiosmtpd sink that only parses each mail, in
the same run, 8 senders at a time.  Each mail comes from a new address (a new conversation).

    python -m bench.mail_turn [--mails 600] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.header import Header
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import cast

import aiosmtplib

from bench.common import (
    LOOPBACK,
    PYTHON,
    ROUNDS,
    Figures,
    Rounds,
    child,
    child_env,
    free_port,
    measured_cpu,
    wait_port,
)

BOT = "register@bench.example.jp"
MAIL_SECONDS = 60.0
_BODY = (
    "医療機関の登録をお願いします。\n基金クリニックの事務担当です。よろしくお願いいたします。\n"
) * 9  # about 1 KB once encoded as ISO-2022-JP


def iso2022jp_mail(sender: str) -> bytes:
    message = MIMEText(_BODY, "plain", "iso-2022-jp")
    # compat32 messages take a Header for a header value; typeshed only allows str.
    message["Subject"] = cast(str, Header("ユーザー登録の依頼", "iso-2022-jp"))
    message["From"] = sender
    message["To"] = BOT
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain="client.example.jp")
    return message.as_bytes()


async def send_mails(
    port: int,
    *,
    count: int,
    concurrency: int,
    done: Callable[[], int] | None = None,
    seconds: float = MAIL_SECONDS,
    label: str = "",
) -> Figures:
    """Send ``count`` mails over ``concurrency`` SMTP connections; with ``done`` (how many replies exist so
    far) the time runs until that reaches ``count``.  Latencies are the SMTP transactions'."""
    run = next(_runs)
    senders = (f"sender{run}.{i}@client.example.jp" for i in itertools.count())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    latencies: list[float] = []
    left = count
    mails = [iso2022jp_mail(next(senders)) for _ in range(count)]

    async def worker() -> None:
        nonlocal left
        client = aiosmtplib.SMTP(hostname=LOOPBACK, port=port, timeout=30)
        await client.connect()
        try:
            while left > 0 and loop.time() < deadline:
                left -= 1
                raw = mails[left]
                sender = raw.split(b"From: ", 1)[1].split(b"\n", 1)[0].strip().decode()
                started = loop.time()
                await client.sendmail(sender, [BOT], raw)
                latencies.append(loop.time() - started)
        finally:
            await client.quit()

    began = loop.time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    if done is not None:
        while done() < len(latencies) and loop.time() < deadline + 30:
            await asyncio.sleep(0.01)
        finished = min(done(), len(latencies))
    else:
        finished = len(latencies)
    return Figures(label, finished, loop.time() - began, tuple(latencies))


_runs = itertools.count(1)


def eml_count(folder: Path) -> Callable[[], int]:
    def count() -> int:
        try:
            return sum(1 for entry in os.scandir(folder) if entry.name.endswith(".eml"))
        except FileNotFoundError:
            return 0

    return count


@asynccontextmanager
async def bare_sink(folder: Path) -> AsyncIterator[tuple[int, int]]:
    """The parsing sink in a subprocess; yields its SMTP port and its pid."""
    port = free_port()
    with child(
        [PYTHON, "-m", "bench.bare_smtp", str(port)], child_env(), folder / "bare_smtp.log"
    ) as process:
        await wait_port(port, process=process)
        yield port, process.pid


def regbot_mail_env(folder: Path, smtp_port: int, outbox: Path) -> dict[str, str]:
    """`regbot serve` on a SQLite file in ``folder``, taking mail on ``smtp_port``, replies as ``.eml``."""
    return child_env(
        REGBOT_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'regbot.sqlite3'}",
        REGBOT_HTTP_PORT=str(free_port()),
        REGBOT_SMTP_PORT=str(smtp_port),
        REGBOT_OUTBOX_DIR=str(outbox),
        REGBOT_MAIL_ADDRESS=BOT,
    )


@asynccontextmanager
async def regbot_mail(folder: Path) -> AsyncIterator[tuple[int, Path, int]]:
    """`regbot serve` taking mail; yields its SMTP port, its outbox folder and its pid."""
    smtp_port, outbox = free_port(), folder / "outbox"
    env = regbot_mail_env(folder, smtp_port, outbox)
    with child([PYTHON, "-m", "bot.cli", "serve"], env, folder / "serve.log", cwd=folder) as process:
        await wait_port(smtp_port, process=process)
        yield smtp_port, outbox, process.pid


async def measure(count: int = 600, concurrency: int = 8) -> Rounds:
    """Both up at once; `ROUNDS` rounds of the sink, then regbot."""
    bare: list[Figures] = []
    ours: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="regbot-bench-mail-") as tmp:
        folder = Path(tmp)
        async with bare_sink(folder) as (sink_port, sink_pid), regbot_mail(folder) as (port, outbox, pid):
            counter = eml_count(outbox)
            await send_mails(sink_port, count=40, concurrency=concurrency)
            await send_mails(port, count=40, concurrency=concurrency, done=counter)
            for _ in range(ROUNDS):
                sink_run = send_mails(sink_port, count=count, concurrency=concurrency, label="bare")
                bare.append(await measured_cpu(sink_pid, sink_run))
                ours.append(await measured_cpu(pid, _regbot_round(port, counter, count, concurrency)))
    return Rounds(tuple(bare), tuple(ours))


async def _regbot_round(port: int, counter: Callable[[], int], count: int, concurrency: int) -> Figures:
    already = counter()
    return await send_mails(
        port, count=count, concurrency=concurrency, done=lambda: counter() - already, label="regbot"
    )


def table(rounds: Rounds, concurrency: int) -> list[str]:
    bare, ours = rounds.bare_median, rounds.ours_median
    return [
        "| senders | bare aiosmtpd + parse: mails/s (SMTP p50) "
        "| regbot serve, until the reply .eml: mails/s (SMTP p50) | ratio (target ≥ 50 %) "
        "| server CPU per mail: sink / regbot |",
        "|---:|---|---|---:|---:|",
        f"| {concurrency} | {bare.rate:,.0f}/s ({bare.p50_ms:.1f} ms, n={bare.count}) "
        f"| {ours.rate:,.0f}/s ({ours.p50_ms:.1f} ms, n={ours.count}) | {rounds.throughput_ratio()} "
        f"| {rounds.cpu()} |",
        "",
        f"{ROUNDS} rounds, the sink and regbot alternating; shown: each side's median run, and the median"
        " of the per-round ratios with their range; server CPU per mail read from /proc.",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mails", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print("\n".join(table(asyncio.run(measure(args.mails, args.concurrency)), args.concurrency)))


if __name__ == "__main__":
    main()
