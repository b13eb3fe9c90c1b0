"""What the reliability tests share: sizes (small in `make test`, large in `make soak`), figures, a
recording SMTP relay, `regbot serve` subprocesses, and people registering by mail.

``REGBOT_SOAK=1`` makes every test large; ``REGBOT_FIGURES=<file>`` collects each test's figures as JSON
lines (`python -m bench --soak` writes them into bench/RESULTS.md).  Figures are also printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import aiohttp
import aiosmtplib

from tests.mail.mail_client import MailClient

ROOT = Path(__file__).resolve().parents[2]
BOT = "register@bot.example.jp"
SOAK = os.environ.get("REGBOT_SOAK") == "1"


def size(small: int, large: int) -> int:
    return large if SOAK else small


def record(test: str, **figures: Any) -> None:
    """Report a test's figures: printed, and appended to REGBOT_FIGURES when set."""
    print(f"[figures] {test}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))
    target = os.environ.get("REGBOT_FIGURES")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps({"test": test, **figures}, ensure_ascii=False) + "\n")


async def until(check: Callable[[], Any], *, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``check`` (sync or async) until truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


# ------------------------------------------------------------------------------------------- relay


@dataclass
class Received:
    message_id: str
    to: str
    subject: str
    awaiting: str | None
    message: EmailMessage


@dataclass
class RecordingRelay:
    """An SMTP relay on loopback that keeps every mail it accepts (each DATA, even a repeat).  It runs
    in a process of its own (`tests.reliability.relay_process`); `stop` and `start` take it down and
    up again with what it received kept."""

    port: int
    process: subprocess.Popen[bytes] | None = None
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="regbot-relay-")))
    _parsed: dict[str, list[Received]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        weakref.finalize(self, shutil.rmtree, self.folder, True)  # what it received goes with it

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability.relay_process", str(self.port), str(self.folder)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdout is not None
        with self.process.stdout:
            if self.process.stdout.readline().strip() != b"ready":
                raise RuntimeError("the recording relay did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    @property
    def received(self) -> list[Received]:
        """Every accepted mail, once per recipient, in the order of acceptance."""
        names = sorted(p.name for p in self.folder.glob("*.mail"))
        for name in names:
            if name not in self._parsed:
                self._parsed[name] = _received((self.folder / name).read_bytes())
        return [r for name in names for r in self._parsed[name]]

    def to(self, address: str) -> list[Received]:
        return [r for r in self.received if r.to == address]

    def repeats(self) -> int:
        """Mails accepted more than once under the same Message-ID."""
        counts = Counter(r.message_id for r in self.received)
        return sum(n - 1 for n in counts.values() if n > 1)


def _received(stored: bytes) -> list[Received]:
    head, raw = stored.split(b"\n", 1)
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    awaiting = message["X-Regbot-Awaiting"]
    return [
        Received(
            message_id=str(message["Message-ID"]),
            to=rcpt,
            subject=str(message["Subject"]),
            awaiting=None if awaiting is None else str(awaiting),
            message=message,
        )
        for rcpt in head.decode().removeprefix("RCPT ").split(",")
    ]


# ------------------------------------------------------------------------------------------- serve


def regbot_command() -> list[str]:
    regbot = ROOT / ".venv" / "bin" / "regbot"
    return [str(regbot)] if regbot.exists() else [sys.executable, "-m", "bot.cli"]


def serve_env(**settings: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("REGBOT_", "SLACK_"))}
    return {**keep, "PYTHONPATH": str(ROOT), **settings}


def relay_serve_env(
    database_url: str, http_port: int, smtp_port: int, relay: RecordingRelay, **settings: str
) -> dict[str, str]:
    """serve taking mail on ``smtp_port`` and sending through ``relay``, polling and retrying quickly."""
    return serve_env(
        REGBOT_DATABASE_URL=database_url,
        REGBOT_HTTP_PORT=str(http_port),
        REGBOT_SMTP_PORT=str(smtp_port),
        REGBOT_MAIL_ADDRESS=BOT,
        REGBOT_SMTP_RELAY=f"smtp://127.0.0.1:{relay.port}",
        REGBOT_OUTBOX_POLL_SECONDS="0.2",
        REGBOT_OUTBOX_RETRY_SECONDS="0.5",
        **settings,
    )


class ServeProcess:
    """`regbot serve` in a subprocess; its output appended to ``log``."""

    def __init__(
        self, env: dict[str, str], http_port: int, cwd: Path, log: Path, *, smtp_port: int = 0
    ) -> None:
        self.env = env
        self.http_port = http_port
        self.smtp_port = smtp_port
        self.cwd = cwd
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    async def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [*regbot_command(), "serve"], cwd=self.cwd, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )
        self.starts += 1
        url = f"http://127.0.0.1:{self.http_port}/healthz"

        async def healthy() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited: {self.log.read_text(errors='replace')[-3000:]}")
            try:
                async with aiohttp.ClientSession() as http, http.get(url) as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False

        await until(healthy, timeout=60, what="regbot serve to answer /healthz", interval=0.1)

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def terminate(self) -> int | None:
        if self.process is None:
            return None
        self.process.terminate()
        try:
            code = self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


# --------------------------------------------------------------------------------- people by mail


async def submit(ports: list[int], raw: bytes, sender: str, *, attempts: int = 40) -> int:
    """Hand a mail to the first listener that takes it, as a sending MTA with two MX hosts would: a refused
    connection or a failure before 250 is tried again (elsewhere); returns the port that took it."""
    last: Exception | None = None
    for attempt in range(attempts):
        port = ports[attempt % len(ports)]
        try:
            await aiosmtplib.send(
                raw, sender=sender, recipients=[BOT], hostname="127.0.0.1", port=port, timeout=10
            )
            return port
        except (aiosmtplib.SMTPException, OSError) as exc:
            last = exc
            await asyncio.sleep(0.1)
    raise AssertionError(f"no listener took the mail: {type(last).__name__}")


def template_answer(email_address: str) -> str:
    """Every Branch A field in one reply, as `label: value` lines (SPEC §1.3)."""
    values = {
        "family_name": "基金",
        "given_name": "太郎",
        "institution_type": "1",
        "prefecture": "北海道",
        "institution_code": "0113719",
        "institution_name": "基金クリニック",
        "founder_name": "医療法人基金会",
        "phone": "0312345678",
        "email": email_address,
        "terms_agreed": "同意します",
    }
    return "\n".join(f"{key}: {value}" for key, value in values.items())


# What a person by mail goes through: (what they send, what the bot's next mail awaits).
MAIL_STEPS = ("start", "template", "ok")
EXPECTED_AWAITING = {"start": "family_name", "template": "confirm", "ok": None}


@dataclass
class MailPerson:
    """Someone registering by mail: first mail, the fill-in template in one reply, then OK."""

    client: MailClient
    step: int = 0  # how many of MAIL_STEPS are answered by the bot

    @property
    def address(self) -> str:
        return self.client.address

    def done(self) -> bool:
        return self.step >= len(MAIL_STEPS)

    def prompts(self, relay: RecordingRelay) -> list[Received]:
        """The bot's thread mails to this person (not the verification mail), each Message-ID once."""
        seen: dict[str, Received] = {}
        for mail in relay.to(self.address):
            if "メールアドレス登録確認メール" not in mail.subject:
                seen.setdefault(mail.message_id, mail)
        return list(seen.values())

    def next_mail(self, relay: RecordingRelay) -> bytes | None:
        """The mail to send now, or None while the bot's answer to the last one has not arrived."""
        prompts = self.prompts(relay)
        if len(prompts) < self.step:
            return None
        if self.step == 0:
            return self.client.first_mail()
        last = prompts[self.step - 1].message
        text = template_answer(self.address) if MAIL_STEPS[self.step] == "template" else "OK"
        return self.client.reply(last, text)

    async def register(
        self, relay: RecordingRelay, send: Callable[[bytes], Awaitable[object]], *, timeout: float
    ) -> None:
        """Each mail handed to ``send`` as soon as the bot has answered the one before, to the end."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.done():
            assert loop.time() < deadline, f"{self.address} stuck after step {self.step}"
            raw = self.next_mail(relay)
            if raw is None:
                await asyncio.sleep(0.05)
                continue
            await send(raw)
            self.step += 1


def unique_people(count: int, prefix: str) -> list[MailPerson]:
    return [MailPerson(MailClient(f"{prefix}{i}@example.jp", style="japanese")) for i in range(count)]


@contextlib.contextmanager
def relay_on(port: int) -> Any:
    relay = RecordingRelay(port=port)
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
