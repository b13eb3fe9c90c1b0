"""Slack turn: signed ``message.im`` events POSTed to ``/slack/events`` until the reply's
``chat.postMessage`` reaches the mock Web API — `regbot serve` against a bare bolt echo, same run.

Two kinds of turn, each against the echo:

- *first message*: each event is the first message of a new person — a conversation created, and two
  posts (the greeting, then the first question); the most a turn costs, timed until the first post;
- *answer*: each event is the next answer of a person part-way through the form (`Answers`) — state
  saved with its outbox row in one transaction, one post: what most turns of a registration are.

A person is used at most once per run, and runs are seconds apart, so Slack's per-channel pacing (one
message a second after a burst of three) never holds a reply back.

    python -m bench.slack_turn [--events 1:200,16:1500,64:2000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp

from bench.common import (
    BOT_TOKEN,
    LOOPBACK,
    PYTHON,
    ROUNDS,
    SIGNING_SECRET,
    Figures,
    Rounds,
    child,
    child_env,
    free_port,
    measured_cpu,
    wait_port,
)
from bench.mock_slack import BenchSlack

DEFAULT_LEVELS = ((1, 200), (16, 1000), (64, 1500))
# The manual's Branch A answers up to the e-mail address, each one valid where it comes.
BRANCH_A = ("基金", "太郎", "1", "北海道", "0113719", "基金クリニック", "医療法人基金会", "0312345678")
LEVEL_SECONDS = 30.0  # each level stops after this long, whatever is left
_runs = itertools.count(1)


def signed(body: str, secret: str = SIGNING_SECRET) -> dict[str, str]:
    stamp = str(int(time.time()))
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/json",
    }


def dm_event_body(user: str, text: str, event_id: str) -> str:
    channel = "D" + user[1:]
    return json.dumps(
        {
            "token": "legacy",
            "team_id": "T0001",
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": channel,
                "channel_type": "im",
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
            },
            "authorizations": [{"team_id": "T0001", "user_id": "UBOT", "is_bot": True}],
        },
        ensure_ascii=False,
    )


async def drive(
    url: str,
    mock: BenchSlack,
    *,
    concurrency: int,
    count: int,
    users: Iterable[str] | None = None,
    text: str | Callable[[str], str] = "こんにちは",
    seconds: float = LEVEL_SECONDS,
    label: str = "",
) -> Figures:
    """``count`` events, ``concurrency`` at a time, each timed until its reply is posted.  ``users``: who
    sends them (default: a new person each); ``text``: what they say, or how to find it for a person."""
    run = next(_runs)
    queue = iter(users) if users is not None else (f"U{run:03d}{i:07d}" for i in itertools.count())
    sequence = itertools.count()
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    left = count
    failures = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal left, failures
        while left > 0 and loop.time() < deadline:
            left -= 1
            user = next(queue, None)
            if user is None:
                return
            said = text(user) if callable(text) else text
            body = dm_event_body(user, said, f"Ev{run:03d}{user}.{next(sequence)}")
            reply = mock.expect("D" + user[1:])
            started = loop.time()
            async with http.post(url, data=body.encode(), headers=signed(body)) as response:
                await response.read()
                if response.status != 200:
                    failures += 1
                    continue
            try:
                arrived = await asyncio.wait_for(reply, timeout=max(1.0, deadline - loop.time() + 10))
            except TimeoutError:
                failures += 1
                continue
            latencies.append(arrived - started)

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        began = loop.time()
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
        elapsed = loop.time() - began
    if failures:
        print(f"  {label}: {failures} events failed or timed out")
    return Figures(label, len(latencies), elapsed, tuple(latencies))


class Answers:
    """People part-way through the form: `users` gives each once, round the pool, while they have
    answers left; `next_answer` is what that person says next."""

    def __init__(self, count: int, prefix: str = "UANS") -> None:
        self.people = [f"{prefix}{i:06d}" for i in range(count)]
        self._said: dict[str, int] = dict.fromkeys(self.people, 0)
        self._position = 0

    def users(self, count: int) -> list[str]:
        """``count`` people (each at most once) who still have an answer to give."""
        chosen: list[str] = []
        for _ in range(len(self.people)):
            person = self.people[self._position % len(self.people)]
            self._position += 1
            if self._said[person] < len(BRANCH_A):
                chosen.append(person)
                if len(chosen) == count:
                    break
        return chosen

    def next_answer(self, person: str) -> str:
        answer = BRANCH_A[self._said[person]]
        self._said[person] += 1
        return answer


@asynccontextmanager
async def bare_bolt(mock: BenchSlack, folder: Path) -> AsyncIterator[tuple[str, int]]:
    """The bare bolt echo in a subprocess; yields its events URL and its pid."""
    port = free_port()
    args = [PYTHON, "-m", "bench.bare_slack", str(port), mock.url, SIGNING_SECRET]
    with child(args, child_env(), folder / "bare_slack.log") as process:
        await wait_port(port, process=process)
        yield f"http://{LOOPBACK}:{port}/slack/events", process.pid


def regbot_env(
    folder: Path, mock_url: str, http_port: int, *, database_url: str | None = None
) -> dict[str, str]:
    return child_env(
        REGBOT_DATABASE_URL=database_url or f"sqlite+aiosqlite:///{folder / 'regbot.sqlite3'}",
        REGBOT_HTTP_PORT=str(http_port),
        REGBOT_SMTP_PORT=str(free_port()),
        REGBOT_OUTBOX_DIR=str(folder / "outbox"),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=mock_url,
    )


@asynccontextmanager
async def regbot_serve(
    mock: BenchSlack, folder: Path, *, profile: Path | None = None, database_url: str | None = None
) -> AsyncIterator[tuple[str, int]]:
    """`regbot serve` in a subprocess; yields the events URL and its pid.  With ``profile`` it runs under
    cProfile, switched on by SIGUSR1 (bench.serve_profiled)."""
    port = free_port()
    env = regbot_env(folder, mock.url, port, database_url=database_url)
    args = ["-m", "bench.serve_profiled", str(profile)] if profile else ["-m", "bot.cli", "serve"]
    with child([PYTHON, *args], env, folder / "serve.log", cwd=folder) as process:
        await wait_port(port, process=process)
        yield f"http://{LOOPBACK}:{port}/slack/events", process.pid


async def warm_up(url: str, mock: BenchSlack) -> None:
    await drive(url, mock, concurrency=4, count=40, seconds=10, label="warm-up")


async def measure(levels: Sequence[tuple[int, int]] = DEFAULT_LEVELS) -> dict[str, list[Rounds]]:
    """Both servers up at once (an idle one costs nothing); for each kind of turn and level, `ROUNDS`
    rounds of the bare echo, then regbot."""
    mock = BenchSlack()
    await mock.start()
    results: dict[str, list[Rounds]] = {"first": [], "answer": []}
    # Enough people that nobody is used twice in a run, with answers for every round of every level.
    largest = max(count for _, count in levels)
    answers = Answers(max(largest, ROUNDS * sum(count for _, count in levels) // (len(BRANCH_A) - 1) + 1))
    try:
        with tempfile.TemporaryDirectory(prefix="regbot-bench-slack-") as tmp:
            folder = Path(tmp)
            async with (
                bare_bolt(mock, folder) as (bare_url, bare_pid),
                regbot_serve(mock, folder) as (
                    our_url,
                    our_pid,
                ),
            ):
                await warm_up(bare_url, mock)
                await warm_up(our_url, mock)
                for kind in ("first", "answer"):
                    if kind == "answer":  # everybody's first message, so that each has a conversation
                        await drive(
                            our_url,
                            mock,
                            concurrency=64,
                            count=len(answers.people),
                            users=answers.people,
                            seconds=600,
                            label="conversations for the answer turns",
                        )
                        await asyncio.sleep(1.5)  # past the per-channel pacing of those greetings
                    for concurrency, count in levels:
                        runs: dict[str, list[Figures]] = {"bare": [], "regbot": []}
                        for _ in range(ROUNDS):
                            for name, url, pid in (
                                ("bare", bare_url, bare_pid),
                                ("regbot", our_url, our_pid),
                            ):
                                users: list[str] | None = None
                                text: str | Callable[[str], str] = "こんにちは"
                                if kind == "answer" and name == "bare":
                                    text = BRANCH_A[0]  # the echo: an answer's words, from anybody
                                elif kind == "answer":
                                    users, text = answers.users(count), answers.next_answer
                                run = drive(
                                    url,
                                    mock,
                                    concurrency=concurrency,
                                    count=count,
                                    users=users,
                                    text=text,
                                    label=f"{name} {kind} c={concurrency}",
                                )
                                runs[name].append(await measured_cpu(pid, run))
                        results[kind].append(Rounds(tuple(runs["bare"]), tuple(runs["regbot"])))
    finally:
        await mock.stop()
    return results


TITLES = {
    "first": "First message of a new person (a conversation created; greeting and first question: two posts)",
    "answer": "An answer part-way through the form (state saved, one post)",
}


def table(results: Sequence[Rounds], levels: Sequence[tuple[int, int]]) -> list[str]:
    rows = [
        "| concurrent | bare bolt echo: events/s, p50, p99 | regbot serve: events/s, p50, p99 "
        "| throughput ratio (target ≥ 50 %) | p99 ratio (target ≤ 2×) "
        "| server CPU per event: echo / regbot |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for (concurrency, _), rounds in zip(levels, results, strict=True):
        bare, ours = rounds.bare_median, rounds.ours_median
        rows.append(
            f"| {concurrency} "
            f"| {bare.rate:,.0f}/s, {bare.p50_ms:.1f} ms, {bare.p99_ms:.1f} ms (n={bare.count}) "
            f"| {ours.rate:,.0f}/s, {ours.p50_ms:.1f} ms, {ours.p99_ms:.1f} ms (n={ours.count}) "
            f"| {rounds.throughput_ratio()} | {rounds.p99_ratio()} | {rounds.cpu()} |"
        )
    return rows


def tables(results: dict[str, list[Rounds]], levels: Sequence[tuple[int, int]]) -> list[str]:
    lines: list[str] = []
    for kind, title in TITLES.items():
        lines += [f"**{title}**", "", *table(results[kind], levels), ""]
    lines.append(
        f"Each level ran {ROUNDS} times, the echo and regbot alternating; shown: each side's median run, and"
        " the median of the per-round ratios with their range.  Server CPU: the server process's CPU time"
        " per event, median over the rounds, read from /proc (the driver and the mock Web API, on the same"
        " two cores, left out)."
    )
    return lines


def parse_levels(text: str) -> tuple[tuple[int, int], ...]:
    return tuple((int(c), int(n)) for c, n in (part.split(":") for part in text.split(",")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=parse_levels, default=DEFAULT_LEVELS, help="concurrency:count,…")
    args = parser.parse_args()
    results = asyncio.run(measure(args.events))
    print("\n".join(tables(results, args.events)))


if __name__ == "__main__":
    main()
