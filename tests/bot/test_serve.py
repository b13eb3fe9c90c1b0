"""`regbot migrate` and `regbot serve` as a person runs them: from any folder, stopped by signals,
killed outright — and every mail still delivered exactly once."""

from __future__ import annotations

import asyncio
import email
import email.policy
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot.app import StopChannel, migrate, serve
from bot.config import Config, load_config
from bot.passwords import Passwords
from bot.service import Service
from conversations.types import Text
from storage.db import Database
from storage.migrate import head_revision
from tests.bot.test_service_outbox import Relay
from tests.conftest import EMAIL, fill_in
from tests.reliability.harness import ServeProcess, regbot_command, serve_env, until
from tests.services import free_port

COMPLETION_SUBJECT = "【医療機関等向け総合ポータルサイト】アカウント登録完了メール"
VERIFICATION_SUBJECT = "【総合ポータルサイト】メールアドレス登録確認メール"


async def test_migrate_from_any_folder_is_idempotent(tmp_path: Path) -> None:
    """`regbot migrate` in a fresh folder creates ./var/regbot.sqlite3; migrating again is a no-op."""
    done = subprocess.run(
        [*regbot_command(), "migrate"],
        cwd=tmp_path,
        env=serve_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    path = tmp_path / "var" / "regbot.sqlite3"
    assert path.exists()
    await migrate(load_config({"REGBOT_DATABASE_URL": f"sqlite+aiosqlite:///{path}"}))
    database = Database.open(f"sqlite+aiosqlite:///{path}")
    try:
        async with database.read() as conn:
            revision = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert revision == [head_revision()]
    finally:
        await database.dispose()


@pytest.fixture
def serve_config(config: Config) -> Config:
    settings = {
        "REGBOT_DATABASE_URL": config.database_url,
        "REGBOT_HTTP_PORT": str(free_port()),
        "REGBOT_SMTP_PORT": str(free_port()),
        "REGBOT_OUTBOX_DIR": str(config.outbox_dir),
    }
    return load_config(settings)


async def test_serve_in_process_answers_and_stops_cleanly(serve_config: Config) -> None:
    """serve: migrates, answers /healthz and the link page, starts the channels (which may add routes)
    before listening, and stops them and itself when told to."""
    ready, stop = asyncio.Event(), asyncio.Event()
    events: list[str] = []

    async def channel(service: Service, config: Config, app: web.Application) -> StopChannel:
        async def pong(request: web.Request) -> web.Response:
            return web.Response(text="pong")

        app.router.add_get("/channel/ping", pong)
        events.append("started")

        async def stop_channel() -> None:
            events.append("stopped")

        return stop_channel

    task = asyncio.create_task(serve(serve_config, ready=ready, stop=stop, channels=[channel]))
    await asyncio.wait_for(ready.wait(), timeout=30)
    base = f"http://127.0.0.1:{serve_config.http_port}"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/healthz") as response:
            assert response.status == 200
        async with http.get(f"{base}/verify/{'x' * 43}") as response:
            assert "不正な操作が行われました" in await response.text()
        async with http.get(f"{base}/channel/ping") as response:
            assert await response.text() == "pong"
    stop.set()
    await asyncio.wait_for(task, timeout=15)
    assert events == ["started", "stopped"]


# ------------------------------------------------------------------------------------ crash safety


@pytest.fixture
def relay() -> Iterator[Relay]:
    relay = Relay(port=free_port())
    yield relay
    relay.stop()


@pytest.fixture
def sqlite_serve_config(tmp_path: Path, sqlite_template: Path) -> Config:
    """serve on the default kind of database (SQLite), migrated."""
    path = tmp_path / "regbot.sqlite3"
    shutil.copyfile(sqlite_template, path)
    return load_config(
        {
            "REGBOT_DATABASE_URL": f"sqlite+aiosqlite:///{path}",
            "REGBOT_HTTP_PORT": str(free_port()),
            "REGBOT_SMTP_PORT": str(free_port()),
            "REGBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )


async def _outbox(db: Database) -> list[tuple[str, str, int, bool]]:
    """(kind, status, attempts, waiting for a retry) of every mail row."""
    async with db.read() as conn:
        rows = await conn.execute(
            text("SELECT kind, status, attempts, last_error FROM outbox WHERE kind LIKE '%mail' ORDER BY id")
        )
        return [(row[0], row[1], row[2], row[3] is not None) for row in rows]


async def _token_in_outbox(db: Database) -> str:
    """The link of the queued verification mail (the mail is the only place the raw token exists)."""
    async with db.read() as conn:
        body = (await conn.execute(text("SELECT body FROM outbox WHERE kind = 'verification_mail'"))).scalar()
    assert isinstance(body, bytes)
    message = email.message_from_bytes(body, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    part = message.get_body(("plain",))
    assert part is not None
    found = re.search(r"/verify/([A-Za-z0-9_-]+)", part.get_content())
    assert found is not None
    return found.group(1)


async def _complete_on_the_page(base: str, token: str) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/verify/{token}") as page:
            form = await page.text()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert csrf is not None
        async with http.post(f"{base}/verify/{token}", data={"csrf_token": csrf.group(1)}) as done:
            assert "ユーザー登録が完了いたしました" in await done.text()


async def test_killed_between_commit_and_delivery_every_mail_arrives_once(
    sqlite_serve_config: Config, relay: Relay, tmp_path: Path
) -> None:
    """Mails committed while the relay is down survive a SIGKILL of serve and a restart, and arrive
    exactly once when the relay is back; SIGTERM then stops serve cleanly.  (On the default SQLite, which
    this process and serve share meanwhile; PostgreSQL's claim is tested in test_service_outbox.py.)"""
    serve_config = sqlite_serve_config
    db = Database.open(serve_config.database_url)
    env = serve_env(
        REGBOT_DATABASE_URL=serve_config.database_url,
        REGBOT_HTTP_PORT=str(serve_config.http_port),
        REGBOT_SMTP_PORT=str(serve_config.smtp_port),
        REGBOT_OUTBOX_DIR=str(serve_config.outbox_dir),
        REGBOT_SMTP_RELAY=f"smtp://127.0.0.1:{relay.port}",  # nothing listens there yet
        REGBOT_OUTBOX_RETRY_SECONDS="2",
        REGBOT_OUTBOX_POLL_SECONDS="0.2",
    )
    server = ServeProcess(env, serve_config.http_port, tmp_path, tmp_path / "serve.log")
    service = await Service.open(serve_config, passwords=Passwords.cheap(), migrate=False)
    try:
        # 1. A registration reaches OK in this process: its verification mail is committed, not sent.
        await fill_in(service)
        token = await _token_in_outbox(db)
        # 2. serve tries to deliver (relay down); the link is used on its page: completion mail committed.
        await server.start()
        await _complete_on_the_page(f"http://127.0.0.1:{serve_config.http_port}", token)

        async def both_waiting_for_retry() -> bool:
            # The verification mail failed and waits for its retry; the completion mail to the same
            # address waits behind it (a recipient gets a conversation's mails in order).
            rows = await _outbox(db)
            first_failed = bool(rows) and rows[0][2] >= 1 and rows[0][3]
            return len(rows) == 2 and all(s == "queued" for _, s, _, _ in rows) and first_failed

        await until(both_waiting_for_retry, timeout=30, what="both mails to wait for the relay")
        # 3. SIGKILL: no chance to clean up.  A third mail is committed while serve is down.
        server.kill()
        await fill_in(service, address="s2", mail="other@example.jp")
        await service.handle("console", "s3", Text("担当者"))  # a help-desk row: settled (logged) by serve
        # 4. The relay comes up, serve restarts: every mail arrives, once.
        relay.start()
        await server.start()

        async def all_delivered() -> bool:
            rows = await _outbox(db)
            return len(rows) == 3 and all(s == "delivered" for _, s, _, _ in rows)

        await until(all_delivered, timeout=30, what="every mail to be delivered")
        assert server.terminate() == 0  # SIGTERM: a clean stop
        async with db.read() as conn:
            queued = (await conn.execute(text("SELECT kind FROM outbox WHERE status = 'queued'"))).scalars()
            # console replies have no deliverer: kept, not lost; without REGBOT_HELPDESK_CHANNEL the
            # help desk logs the escalation and settles it
            assert sorted(queued) == ["reply"]
            delivered = (
                await conn.execute(text("SELECT status FROM outbox WHERE kind = 'helpdesk'"))
            ).scalars()
            assert list(delivered) == ["delivered"]
    finally:
        server.kill()
        await service.close()
        await db.dispose()

    subjects = sorted(
        str(
            email.message_from_bytes(bytes(e.original_content or b""), policy=email.policy.default)["Subject"]
        )
        for e in relay.received
    )
    assert subjects == sorted([VERIFICATION_SUBJECT, VERIFICATION_SUBJECT, COMPLETION_SUBJECT])
    assert sorted(r for e in relay.received for r in e.rcpt_tos) == sorted([EMAIL, EMAIL, "other@example.jp"])
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "stopped" in log
    assert EMAIL not in log and token not in log and "基金" not in log
