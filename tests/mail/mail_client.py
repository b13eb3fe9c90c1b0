"""Test helpers for the email channel: a person's mail client, and the ``.eml`` outbox it reads.

`MailClient` writes the mails a person would: a first mail to the bot, and replies that quote the bot's
previous mail the way real clients do — a Japanese client (ISO-2022-JP, ``＞`` quotes, a Japanese
attribution line) or a Gmail-style one (UTF-8, ``>`` quotes, ``On … wrote:``).  `Outbox` reads what the
bot sent, oldest first.
"""

from __future__ import annotations

import base64
import email
import email.policy
import re
import unicodedata
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import delete

from storage.db import Database
from storage.tables import mail_cursors, mail_inbox, mail_notices, mail_senders

BOT = "register@localhost"


async def empty_mail_tables(db: Database) -> None:
    """The tables without a foreign key to conversations survive the shared PostgreSQL's per-test DELETE."""
    async with db.transaction() as conn:
        for table in (mail_inbox, mail_senders, mail_notices, mail_cursors):
            await conn.execute(delete(table))


def read_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@dataclass
class Outbox:
    """The ``.eml`` files the bot wrote, read once each, in order."""

    directory: Path
    seen: set[Path] = field(default_factory=set)

    def new(self) -> list[EmailMessage]:
        paths = (
            sorted(p for p in self.directory.glob("*.eml") if p not in self.seen)
            if self.directory.exists()
            else []
        )
        self.seen.update(paths)
        return [read_eml(path) for path in paths]

    def new_to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.new() if address in str(m["To"])]


def _jis_safe(text: str) -> str:
    """What a Japanese client can put in ISO-2022-JP: half-width kana and the like made full-width."""
    out = []
    for ch in text:
        try:
            ch.encode("iso2022_jp")
        except UnicodeEncodeError:
            ch = unicodedata.normalize("NFKC", ch)
            try:
                ch.encode("iso2022_jp")
            except UnicodeEncodeError:
                ch = "?"
        out.append(ch)
    return "".join(out)


@dataclass
class MailClient:
    """One person's mail client.  ``style``: ``japanese`` (ISO-2022-JP) or ``gmail`` (UTF-8)."""

    address: str
    name: str = "基金 太郎"
    style: str = "japanese"
    domain: str = "example.jp"
    sent: list[str] = field(default_factory=list)

    def first_mail(
        self, text: str = "新規ユーザー登録をお願いします。", *, subject: str = "登録希望"
    ) -> bytes:
        return self._mail(subject=subject, to=BOT, text=text)

    def reply(
        self, previous: EmailMessage, text: str, *, to: str | None = None, sender: str | None = None
    ) -> bytes:
        """Answer ``previous`` (a bot mail) with ``text`` on top and the whole mail quoted below."""
        subject = str(previous["Subject"])
        subject = subject if re.match(r"(?i)re:", subject) else f"Re: {subject}"
        parent = str(previous["Message-ID"])
        return self._mail(
            subject=subject,
            to=to or str(previous["Reply-To"] or previous["From"]),
            text=f"{text}\n\n{self._quote(previous)}",
            sender=sender,
            in_reply_to=parent,
            references=[*str(previous["References"] or "").split(), parent],
        )

    def _mail(
        self,
        *,
        subject: str,
        to: str,
        text: str,
        sender: str | None = None,
        in_reply_to: str | None = None,
        references: list[str] | None = None,
    ) -> bytes:
        message_id = make_msgid(domain=self.domain)
        self.sent.append(message_id)
        if self.style != "japanese":
            message = EmailMessage(policy=email.policy.SMTP)
            message["From"] = f"{self.name} <{sender or self.address}>"
            message["To"] = to
            message["Subject"] = subject
            message["Date"] = "Tue, 01 Apr 2025 09:00:00 +0900"
            message["Message-ID"] = message_id
            if in_reply_to:
                message["In-Reply-To"] = in_reply_to
                message["References"] = " ".join(references or [])
            message.set_content(text, charset="utf-8")
            return message.as_bytes()
        # A Japanese client (Becky!-like): 7-bit ISO-2022-JP body, encoded-word headers in the same charset.
        headers = [
            f"From: {_encoded_jis(self.name)} <{sender or self.address}>",
            f"To: {to}",
            f"Subject: {_encoded_jis(_jis_safe(subject))}",
            "Date: Tue, 01 Apr 2025 09:00:00 +0900",
            f"Message-ID: {message_id}",
        ]
        if in_reply_to:
            headers += [f"In-Reply-To: {in_reply_to}", f"References: {' '.join(references or [])}"]
        headers += [
            "X-Mailer: Becky! ver. 2.81.04",
            "MIME-Version: 1.0",
            'Content-Type: text/plain; charset="ISO-2022-JP"',
            "Content-Transfer-Encoding: 7bit",
        ]
        body = _jis_safe(text).replace("\n", "\r\n").encode("iso2022_jp")
        return "\r\n".join(headers).encode("ascii") + b"\r\n\r\n" + body + b"\r\n"

    def _quote(self, previous: EmailMessage) -> str:
        lines = text_of(previous).rstrip("\n").split("\n")
        if self.style == "japanese":
            attribution = f"2025年4月1日(火) 8:55 {previous['From']}:"
            return "\n".join([attribution, *(f"＞{line}" for line in lines)])
        attribution = f"On Tue, Apr 1, 2025 at 8:55 AM <{previous['From']}> wrote:"
        return "\n".join([attribution, *(f"> {line}" if line else ">" for line in lines)])


def _encoded_jis(text: str) -> str:
    if text.isascii():
        return text
    data = base64.b64encode(text.encode("iso2022_jp")).decode("ascii")
    return f"=?ISO-2022-JP?B?{data}?="
