"""Registering only by mail: replies from real-looking clients, the verification link from the .eml outbox,
the page's completion, and the completion announced in the thread (issue 5 "done when")."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

from bot.config import Config
from bot.service import Service
from mail.channel import MailChannel
from mail.prompts import AWAITING_HEADER, FIRST_SUBJECT
from storage import registrations
from tests.conftest import PASSWORD
from tests.mail.mail_client import MailClient, Outbox, text_of

pytestmark = pytest.mark.slow


@pytest.fixture
def db_kind() -> str:
    return "sqlite"  # the same turns on PostgreSQL are covered by the service's own tests


class Registration:
    """A person at their mail client, the bot behind the SMTP door, and the .eml outbox between them."""

    def __init__(self, channel: MailChannel, outbox: Outbox, person: MailClient) -> None:
        self.channel = channel
        self.outbox = outbox
        self.person = person
        self.thread: list[EmailMessage] = []  # the bot's mails to the person, in order

    async def _send(self, raw: bytes) -> list[EmailMessage]:
        await self.channel.accept(raw, envelope_sender=self.person.address, source="smtp")
        assert [o.action for o in await self.channel.drain()] == ["turn"]
        await self.channel.service.deliver_outbox()
        mails = self.outbox.new()
        self.thread.extend(m for m in mails if _in_thread(m, self.person))
        return mails

    async def start(self) -> EmailMessage:
        await self._send(self.person.first_mail())
        return self.thread[-1]

    async def answer(self, text: str) -> EmailMessage:
        before = len(self.thread)
        await self._send(self.person.reply(self.thread[-1], text))
        assert len(self.thread) == before + 1, "one answer, one mail"
        return self.thread[-1]

    async def answer_with_mails(self, text: str) -> list[EmailMessage]:
        return await self._send(self.person.reply(self.thread[-1], text))


def _in_thread(mail: EmailMessage, person: MailClient) -> bool:
    """A conversation mail (it carries the reply key), not the verification or completion mail."""
    return mail["To"] == person.address and str(mail["Reply-To"] or "").startswith("register+")


def _assert_threaded(thread: list[EmailMessage], person: MailClient) -> None:
    """Every bot mail answers the person's previous mail, keeps the key, and (after the first) Re: subject."""
    keys = {str(m["Reply-To"]) for m in thread}
    assert len(keys) == 1 and next(iter(keys)).startswith("register+")
    assert thread[0]["Subject"] == FIRST_SUBJECT
    for mail, sent in zip(thread, person.sent, strict=False):
        assert mail["In-Reply-To"] == sent
        assert str(mail["References"]).split()[-1] == sent
        assert mail["Auto-Submitted"] == "auto-replied"
    assert all(str(m["Subject"]) == f"Re: {FIRST_SUBJECT}" for m in thread[1:])


def _token(verification: EmailMessage) -> str:
    import re

    found = re.search(r"/verify/([A-Za-z0-9_-]+)", text_of(verification))
    assert found is not None
    return found.group(1)


async def _complete(
    service: Service, outbox: Outbox, verification: EmailMessage, registration: Registration
) -> None:
    result = await service.verification.complete(_token(verification), PASSWORD, PASSWORD)
    assert result.completed
    await service.deliver_outbox()
    mails = outbox.new()
    completion = [m for m in mails if "アカウント登録完了メール" in str(m["Subject"])]
    assert len(completion) == 1 and completion[0]["To"] == str(verification["To"])
    assert PASSWORD not in completion[0].as_string()
    [announcement] = [m for m in mails if _in_thread(m, registration.person)]
    registration.thread.append(announcement)
    assert announcement[AWAITING_HEADER] is None
    assert "ユーザー登録が完了" in text_of(announcement)
    assert announcement["In-Reply-To"] == registration.person.sent[-1]
    async with service.db.read() as conn:
        assert await registrations.registered_among(conn, frozenset({str(verification["To"])}))


async def test_branch_a_from_a_japanese_client_answer_by_answer(
    channel: MailChannel, service: Service, config: Config
) -> None:
    """ISO-2022-JP replies with ＞ quotes under a Japanese attribution, one answer per mail, to the end."""
    outbox = Outbox(config.outbox_dir)
    person = MailClient("kikin.taro@example.jp", style="japanese")
    run = Registration(channel, outbox, person)
    first = await run.start()
    assert first[AWAITING_HEADER] == "family_name"

    answers = [
        ("基金", "given_name"),
        ("太郎", "institution_type"),
        ("１", "prefecture"),  # full-width, as Japanese IMEs type it
        ("北海道", "institution_code"),
        ("０１１３７１９", "institution_name"),
        ("基金クリニック", "founder_name"),
        ("医療法人基金会", "phone"),
        ("0312345678", "email"),
        ("kikin.taro@example.jp", "terms_agreed"),
        ("同意します", "confirm"),
    ]
    for text, awaiting in answers:
        mail = await run.answer(text)
        assert mail[AWAITING_HEADER] == awaiting, text_of(mail)
        assert "パスワード" not in str(mail[AWAITING_HEADER])
    summary = run.thread[-1]
    assert "0110113719" in text_of(summary)  # the derived 10-digit code

    mails = await run.answer_with_mails("ＯＫ")
    verification = next(m for m in mails if "メールアドレス登録確認メール" in str(m["Subject"]))
    waiting = run.thread[-1]
    assert waiting[AWAITING_HEADER] is None  # waits for the link, not for a mail
    assert "メールアドレス登録確認メール" in text_of(waiting)

    await _complete(service, outbox, verification, run)
    _assert_threaded(run.thread, person)


async def test_branch_b_with_the_fill_in_template_in_one_reply(
    channel: MailChannel, service: Service, config: Config
) -> None:
    """A Gmail-style UTF-8 reply answering everything through the first mail's template, then OK."""
    outbox = Outbox(config.outbox_dir)
    person = MailClient("hanako@example.jp", name="基金 花子", style="gmail")
    run = Registration(channel, outbox, person)
    first = await run.start()
    assert "所属機関選択：" in text_of(first)

    filled = "\n".join(
        [
            "よろしくお願いします。",
            "",
            "姓：基金",
            "名：花子",
            "所属機関選択：7",
            "都道府県：東京",
            "職域診療所名称（全角）：基金株式会社診療所",
            "職域診療所名称（カナ）：キキンカブシキガイシャシンリョウジョ",
            "郵便番号：100-0001",
            "所在地（全角）：１ー１ー１　基金ビル３階",
            "所在地（カナ）：1-1-1 キキンビル3カイ",
            "新設年月日：令和6年4月1日",
            "開設者（全角）：基金株式会社",
            "開設者（カナ）：キキンカブシキガイシャ",
            "電話番号：0312345678",
            "メールアドレス：hanako@example.jp",
            "利用規約・プライバシーポリシー：同意します",
        ]
    )
    summary = await run.answer(filled)
    assert summary[AWAITING_HEADER] == "confirm", text_of(summary)
    text = text_of(summary)
    assert "ｷｷﾝｶﾌﾞｼｷｶﾞｲｼｬｼﾝﾘｮｳｼﾞｮ" in text and "03-1234-5678" in text and "2024-04-01" in text

    mails = await run.answer_with_mails("OK")
    verification = next(
        m for m in mails if m["To"] == "hanako@example.jp" and "確認メール" in str(m["Subject"])
    )
    await _complete(service, outbox, verification, run)
    _assert_threaded(run.thread, person)


async def test_an_edit_by_mail_goes_back_to_the_summary(channel: MailChannel, config: Config) -> None:
    """修正 <項目> at the summary asks that field, then shows the summary again (awaiting confirm)."""
    outbox = Outbox(config.outbox_dir)
    person = MailClient("jiro@example.jp", style="japanese")
    run = Registration(channel, outbox, person)
    await run.start()
    lines = [
        "姓：基金",
        "名：次郎",
        "所属機関選択：1",
        "都道府県：北海道",
        "医療機関等・訪問看護ステーションコード（7桁）：0113719",
        "医療機関等・訪問看護ステーション名：基金クリニック",
        "開設者（全角）：医療法人基金会",
        "電話番号：0312345678",
        "メールアドレス：jiro@example.jp",
        "利用規約・プライバシーポリシー：同意します",
    ]
    assert (await run.answer("\n".join(lines)))[AWAITING_HEADER] == "confirm"
    assert (await run.answer("修正 電話番号"))[AWAITING_HEADER] == "phone"
    summary = await run.answer("0311112222")
    assert summary[AWAITING_HEADER] == "confirm" and "0311112222" in text_of(summary)
