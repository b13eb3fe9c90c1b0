"""The bot's own mails in an email conversation: the prompts, and the short notices to senders it will not
take a turn from (SPEC §5 Email, §8).

Every prompt threads under the person's last mail (``In-Reply-To``, a capped ``References`` chain, ``Re:``
and their subject, or `FIRST_SUBJECT` for the first one), is sent From the bot's address with ``Reply-To:
register+<key>@domain`` — the key is how the reply finds its conversation — and carries
``X-Regbot-Awaiting: <field id>`` exactly when it waits for an answer.  The body is
`conversations.render.render_text` under a first line holding `mail.quotes.MARKERS`' marker, so whatever
a client quotes under the person's answer is cut off again; an HTML alternative shows the same text.

Pure: the Message-ID and the date are passed in.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from email.header import Header
from email.message import Message
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime, formataddr, parseaddr
from typing import cast

from conversations.render import LIST_OPTIONS_FOR, render_msg, render_text
from conversations.types import Reply
from mail.quotes import MARKERS

FIRST_SUBJECT = "【総合ポータルサイト】新規ユーザー登録のご案内"
NOTICE_SUBJECT = "【総合ポータルサイト】新規ユーザー登録の受付について"
MARKER_LINE = f"━━━━━━ {MARKERS[0]} ━━━━━━"
AWAITING_HEADER = "X-Regbot-Awaiting"
_POLICY = compat32.clone(linesep="\r\n")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
MAX_REFERENCES = 20  # the thread root and the newest ones: enough for every client to thread

# Prompts whose options the text never lists and need not: 47 prefectures are typed, not picked.
_UNLISTED_OPTIONS = frozenset({"prefecture"})
_REPLY_PREFIX = re.compile(r"^(?:\s*(?:re|fw|fwd|aw|返信|転送)\s*(?:\[\d+\])?\s*[:：])+\s*", re.I)

_FOOTER = {
    "ja": (
        "医療機関等向け総合ポータルサイト 新規ユーザー登録の受付です。",
        "このメールにそのまま返信すると、登録の手続きが続きます（宛先は変えないでください）。",
        "パスワードはメールに書かないでください。確認メールのリンク先のページで設定します。",
    ),
    "en": (
        "Registration desk of the 医療機関等向け総合ポータルサイト (medical portal).",
        "Reply to this mail as it is to continue the registration (keep the address it replies to).",
        "Never write your password in a mail: you set it on the page the confirmation mail links to.",
    ),
}
_OPTIONS_INTRO = {"ja": "選べる値：", "en": "Choices:"}
_RESUME = {
    "ja": (
        "※このメールアドレスからの登録手続きが、{since}から途中のままになっています。",
        "続きから進める場合は、前回お送りしたメールに返信するか、{address} 宛てにお送りください。",
        "このメールに返信すると、新しく最初から手続きを進めます（前回の手続きは期限が来ると終了します）。",
    ),
    "en": (
        "Note: a registration from this address, started {since}, is still unfinished.",
        "To continue it, reply to our last mail about it or write to {address}.",
        "Replying to this mail starts afresh (the unfinished one ends when it expires).",
    ),
}


def reply_address(bot_address: str, reply_key: str) -> str:
    """``register@example.jp`` + key → ``register+<key>@example.jp``."""
    local, _, domain = bot_address.strip().rpartition("@")
    return f"{local.partition('+')[0]}+{reply_key}@{domain}"


def bot_domain(bot_address: str) -> str:
    return bot_address.strip().rpartition("@")[2].lower()


def thread_subject(person_subject: str | None, *, first: bool) -> str:
    """``Re: `` + the person's subject without its own Re:/Fwd:/返信: prefixes; the first mail (or an
    empty subject) gets `FIRST_SUBJECT`."""
    base = _REPLY_PREFIX.sub("", person_subject or "").strip()
    if first or not base:
        return FIRST_SUBJECT if first else f"Re: {FIRST_SUBJECT}"
    return f"Re: {base}"


def references_chain(references: Sequence[str], parent: str | None) -> list[str]:
    """The parent's References plus the parent, without repeats, capped to the root and the newest."""
    chain = list(dict.fromkeys([*references, *([parent] if parent else [])]))
    if len(chain) > MAX_REFERENCES:
        chain = chain[:1] + chain[-(MAX_REFERENCES - 1) :]
    return chain


def prompt_text(reply: Reply, lang: str) -> str:
    """`render_text`, plus the options when the text does not already name them."""
    text = render_text(reply, lang)
    if reply.options and reply.awaiting not in LIST_OPTIONS_FOR | _UNLISTED_OPTIONS:
        labels = [render_msg(option.label, lang) for option in reply.options]
        if any(label not in text for label in labels):
            separator = "、" if lang == "ja" else ", "
            text += f"\n{_OPTIONS_INTRO.get(lang, _OPTIONS_INTRO['ja'])}{separator.join(labels)}"
    return text


def prompt_mail(
    reply: Reply,
    *,
    lang: str,
    to: str,
    bot_address: str,
    reply_key: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    person_subject: str | None,
    first: bool,
    now: datetime,
    resume_key: str | None = None,
    resume_since: str | None = None,
) -> Message:
    """One prompt in the thread of ``reply_key``; ``resume_key`` names an older open conversation of the
    same sender (said in the first mail only, to the bound address only)."""
    lang = lang if lang in _FOOTER else "ja"
    paragraphs = [prompt_text(reply, lang)]
    if first and resume_key:
        resume = "\n".join(_RESUME[lang]).format(
            since=resume_since or "", address=reply_address(bot_address, resume_key)
        )
        paragraphs.append(resume)
    paragraphs.append("\n".join(["--", *_FOOTER[lang]]))
    message = _message(
        subject=thread_subject(person_subject, first=first),
        to=to,
        bot_address=bot_address,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references_chain(references, in_reply_to),
        now=now,
    )
    message["Reply-To"] = _address_header(reply_address(bot_address, reply_key))
    if reply.awaiting:
        message[AWAITING_HEADER] = _one_line(reply.awaiting)
    _set_body(message, [MARKER_LINE, *paragraphs], lang)
    return message


# ------------------------------------------------------------------------------------------ notices

# Said to a sender whose mail the bot does not take as a turn.  Nothing in them comes from a conversation.
NOTICES: dict[str, tuple[str, ...]] = {
    "foreign": (
        "お送りいただいたメールは、登録の手続きに反映していません。",
        "返信先のアドレスが、お客様のメールアドレス宛てにお送りした手続きのものではないか、"
        "手続きの期限が切れています。",
        "新しく登録を始める場合は、{address} 宛てに新しいメールをお送りください。",
        "",
        "Your mail was not added to any registration: the address you replied to belongs to a",
        "registration mailed to another address, or that registration has ended.",
        "To start a registration, write a new mail to {address}.",
    ),
    "oversize": (
        "お送りいただいたメールは大きすぎるため（上限 {limit}）、読み取れませんでした。",
        "添付ファイルを付けずに、本文だけをお送りください。",
        "",
        "Your mail was too large to read (limit {limit}). Please send the text only, without attachments.",
    ),
    "flood": (
        "短い時間に多くのメールをお送りいただいたため、しばらくの間、返信を控えています。",
        "10分ほど時間をおいてから、もう一度お送りください。",
        "",
        "We received many mails from you in a short time and have paused our answers.",
        "Please wait about ten minutes and write again.",
    ),
}


def notice_mail(
    kind: str,
    *,
    to: str,
    bot_address: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    now: datetime,
    limit_text: str = "10MB",
) -> Message:
    """A short notice (`NOTICES` ``kind``) in Japanese and English; it waits for nothing."""
    lines = [line.format(address=bot_address, limit=limit_text) for line in NOTICES[kind]]
    message = _message(
        subject=NOTICE_SUBJECT,
        to=to,
        bot_address=bot_address,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references_chain(references, in_reply_to),
        now=now,
    )
    _set_body(message, ["\n".join(lines), "\n".join(["--", _FOOTER["ja"][0], _FOOTER["en"][0]])], "ja")
    return message


# ------------------------------------------------------------------------------------------ building


def _message(
    *,
    subject: str,
    to: str,
    bot_address: str,
    message_id: str,
    in_reply_to: str | None,
    references: Sequence[str],
    now: datetime,
) -> Message:
    # Built with the compat32 classes: `email.policy.default` parses every header as it is set and
    # again when the body becomes multipart — two thirds of a prompt's composing time (bench/NOTES.md).
    # Non-ASCII text is encoded explicitly (RFC 2047 words, base64 UTF-8 bodies).
    message = MIMEMultipart("alternative", policy=_POLICY)
    message["Subject"] = _text_header(subject)
    message["From"] = _address_header(bot_address)
    message["To"] = _address_header(to)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = _one_line(message_id)
    if in_reply_to:
        message["In-Reply-To"] = _one_line(in_reply_to)
    if references:
        message["References"] = _one_line(" ".join(references))
    message["Auto-Submitted"] = "auto-replied"  # RFC 3834: an answer to the person's mail
    message["X-Auto-Response-Suppress"] = "All"  # Exchange / Outlook out-of-office replies
    return message


def _one_line(value: str) -> str:
    """A header value never holds a line break or another control character: the person's subject and
    ids come from their mail (decoded, so anything), and a bare line break would end the header."""
    return _CONTROL.sub(" ", value).strip()


def _text_header(text: str) -> str:
    text = _one_line(text)
    # compat32 takes a `Header` as a value and encodes it when the mail is written; typeshed says str.
    return text if text.isascii() else cast(str, Header(text, "utf-8"))


def _address_header(address: str) -> str:
    name, addr = parseaddr(_one_line(address))
    return formataddr((name, addr), charset="utf-8") if name else (addr or _one_line(address))


def _set_body(message: Message, paragraphs: Sequence[str], lang: str) -> None:
    text = "\n\n".join(paragraphs)
    message.attach(MIMEText(text + "\n", "plain", "utf-8", policy=_POLICY))
    body = "".join(
        f"<p>{'<br>'.join(html.escape(line) for line in paragraph.split(chr(10)))}</p>\n"
        for paragraph in paragraphs
    )
    page = (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"></head>\n'
        f'<body style="font-family: sans-serif; line-height: 1.6;">\n{body}</body></html>\n'
    )
    message.attach(MIMEText(page, "html", "utf-8", policy=_POLICY))
    message["Content-Language"] = lang
