"""No personal value in any log line (SPEC §7): full registrations on every channel — the service as the
console drives it, Slack (DMs, the password modal), email (SMTP-stored mail, the fill-in template) — each
completed on the verification link, with the root logger at DEBUG, and not one log line (message, args,
traceback) holds a name, an address, a phone number, a code, a password, a token or a credential."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.config import Config
from bot.passwords import Passwords
from bot.service import Service
from conversations.types import Secret, Start, Text
from mail.channel import MailChannel
from storage import mail_threads
from tests.conftest import token_in
from tests.mail.mail_client import MailClient, empty_mail_tables
from tests.reliability.harness import record
from tests.slack import payloads
from tests.slack.conftest import Person, SlackBot, slack_config, start_bot
from tests.slack.mock_web_api import MockSlack
from tests.slack.test_slack_registration import verification_token

PASSWORD = "Himawari2025Pw"
NAMES = ("鈴木", "花子")
ANSWERS = ["鈴木", "花子", "1", "北海道", "0113719", "ひまわり診療所", "医療法人ひまわり会", "0398765432"]
SECRETS_COMMON = [
    *NAMES,
    "ひまわり診療所",
    "医療法人ひまわり会",
    "0398765432",
    "03-9876-5432",
    "0113719",
    "0110113719",
    PASSWORD,
]


def template(email_address: str) -> str:
    fields = ["family_name", "given_name", "institution_type", "prefecture", "institution_code"]
    fields += ["institution_name", "founder_name", "phone"]
    lines = [f"{f}: {v}" for f, v in zip(fields, ANSWERS, strict=True)]
    return "\n".join([*lines, f"email: {email_address}", "terms_agreed: 同意します"])


def leaked(records: list[logging.LogRecord], secrets: list[str]) -> list[str]:
    found = []
    for record_ in records:
        text = record_.getMessage() + (record_.exc_text or "") + repr(record_.args)
        found += [f"{record_.name}: {secret!r}" for secret in secrets if secret and secret in text]
    return found


async def console_registration(service: Service, email_address: str) -> str:
    await service.handle("console", "privacy", Start("console"))
    for answer in [*ANSWERS, email_address]:
        await service.handle("console", "privacy", Text(answer))
    await service.handle("console", "privacy", Secret(PASSWORD, PASSWORD))
    await service.handle("console", "privacy", Text("同意します"))
    await service.handle("console", "privacy", Text("OK"))
    deliveries = await service.deliver_outbox()
    token = token_in(next(d.location for d in deliveries if d.kind == "verification_mail"))
    assert (await service.verification.complete(token, None, None)).completed
    await service.deliver_outbox()
    return token


async def email_registration(service: Service, config: Config, email_address: str) -> str:
    await empty_mail_tables(service.db)
    channel = MailChannel(service, config)
    channel.register()
    person = MailClient(email_address, name="鈴木 花子")
    await channel.accept(person.first_mail(), envelope_sender=email_address, source="smtp")
    await channel.drain()
    async with service.db.read() as conn:
        key = (await mail_threads.open_threads(conn, email_address, ("asking",)))[0][0].reply_key
    await service.deliver_outbox()
    first = (config.outbox_dir / sorted(p.name for p in config.outbox_dir.glob("*.eml"))[-1]).read_bytes()
    import email as email_module
    import email.policy

    previous = email_module.message_from_bytes(first, policy=email.policy.default)
    for text in (template(email_address), "OK"):
        raw = person.reply(previous, text)  # type: ignore[arg-type]
        await channel.accept(raw, envelope_sender=email_address, source="smtp")
        await channel.drain()
        deliveries = await service.deliver_outbox()
    token = token_in(next(d.location for d in deliveries if d.kind == "verification_mail"))
    result = await service.verification.complete(token, PASSWORD, PASSWORD)
    assert result.completed, result
    await service.deliver_outbox()
    assert key
    return token


async def slack_registration(bot: SlackBot, email_address: str) -> str:
    person = Person(bot, user="UPRIVACY1")
    await person.says("登録をお願いします")
    for answer in [*ANSWERS, email_address]:
        await person.says(answer)
    view = await person.opens_password_modal()
    assert await person.submits_password(view, PASSWORD, PASSWORD) is None
    await person._next()
    await person.says("同意します")
    await person.says("OK")
    await bot.settled()
    token = await verification_token(bot.config.outbox_dir)
    assert (await bot.service.verification.complete(token, None, None)).completed
    await bot.settled()
    return token


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the log lines do not depend on the database


async def test_no_personal_value_in_any_log_line_on_any_channel(
    config: Config, tmp_path: Path, caplog: pytest.LogCaptureFixture, sqlite_template: Path
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger that does not set its own level
    secrets = list(SECRETS_COMMON)
    tokens = []

    service = await Service.open(config, passwords=Passwords.cheap(), migrate=False)
    try:
        mails = ["privacy.console@example.jp", "privacy.mail@example.jp"]
        secrets += mails
        tokens.append(await console_registration(service, mails[0]))
        tokens.append(await email_registration(service, config, mails[1]))
    finally:
        await service.close()

    mock = MockSlack()
    await mock.start()
    slack_dir = tmp_path / "slack"
    slack_dir.mkdir()
    import shutil

    shutil.copyfile(sqlite_template, slack_dir / "regbot.sqlite3")
    slack_settings = slack_config(slack_dir, mock, f"sqlite+aiosqlite:///{slack_dir / 'regbot.sqlite3'}")
    bot_service, slack, http = await start_bot(slack_settings, mock)
    stop = asyncio.Event()
    delivery = asyncio.create_task(bot_service.outbox.run(stop))
    try:
        secrets += ["privacy.slack@example.jp", "xoxb-test-token", payloads.SIGNING_SECRET]
        bot = SlackBot(mock, http, bot_service, slack, slack_settings)
        tokens.append(await slack_registration(bot, "privacy.slack@example.jp"))
    finally:
        stop.set()
        await delivery
        await slack.stop()
        await http.close()
        await bot_service.close()
        await mock.stop()

    secrets += tokens
    records = caplog.records
    assert len(records) > 50  # the registrations did log (ids, field ids, outcomes)
    found = leaked(records, secrets)
    assert found == [], found[:20]
    record(
        "privacy: registrations on console, email and Slack, root logger at DEBUG",
        registrations=3,
        log_lines=len(records),
        values_checked=len(secrets),
        leaks=0,
    )
