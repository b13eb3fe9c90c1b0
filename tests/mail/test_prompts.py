"""mail/prompts.py: the bot's prompt mails and notices, as headers and text."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TypedDict

import pytest

from conversations.types import Msg, Option, Reply
from mail import prompts
from mail.autoreply import is_own_message_id
from mail.parse import parse_mail
from mail.quotes import MARKERS, extract_reply

NOW = datetime(2025, 4, 1, 0, 0, tzinfo=UTC)
BOT = "register@example.jp"
OWN_ID = "<regbot.0123abcd@example.jp>"


def _prompt(reply: Reply, *, first: bool = False, **overrides: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "lang": "ja",
        "to": "taro@example.jp",
        "bot_address": BOT,
        "reply_key": "abcdefgh23456789",
        "message_id": OWN_ID,
        "in_reply_to": "<p2@example.jp>",
        "references": ["<p1@example.jp>", "<regbot.1@example.jp>"],
        "person_subject": "Re: Re: 【総合ポータルサイト】新規ユーザー登録のご案内",
        "first": first,
        "now": NOW,
    }
    arguments.update(overrides)
    message = prompts.prompt_mail(reply, **arguments)  # type: ignore[arg-type]
    parsed = email.message_from_bytes(bytes(message), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


ASKING = Reply(lines=(Msg("field.family_name.prompt"),), awaiting="family_name", progress=(1, 10))
ENDED = Reply(lines=(Msg("verification.sent", {"email": "taro@example.jp"}),))


def test_prompt_threads_under_the_persons_last_mail() -> None:
    """In-Reply-To is the person's mail, References its chain plus it, the subject is Re: without stacking."""
    message = _prompt(ASKING)
    assert message["In-Reply-To"] == "<p2@example.jp>"
    assert message["References"].split() == ["<p1@example.jp>", "<regbot.1@example.jp>", "<p2@example.jp>"]
    assert message["Subject"] == "Re: 【総合ポータルサイト】新規ユーザー登録のご案内"
    assert message["From"] == BOT
    assert message["To"] == "taro@example.jp"
    assert message["Reply-To"] == "register+abcdefgh23456789@example.jp"
    assert message["Auto-Submitted"] == "auto-replied"


def test_first_mail_has_the_fixed_subject() -> None:
    assert _prompt(ASKING, first=True, person_subject="登録したい")["Subject"] == prompts.FIRST_SUBJECT


def test_our_message_id_is_recognised_as_our_own() -> None:
    """The loop check of mail/autoreply.py knows the ids the channel gives its mails."""
    from mail.channel import own_message_id

    ident = own_message_id(BOT)
    assert ident.startswith("<regbot.") and ident.endswith("@example.jp>")
    assert is_own_message_id(ident, BOT)
    assert _prompt(ASKING, message_id=ident)["Message-ID"] == ident


@pytest.mark.parametrize(
    ("reply", "header"),
    [
        (ASKING, "family_name"),
        (Reply(lines=(Msg("summary.title"),), awaiting="confirm"), "confirm"),
        (ENDED, None),
    ],
)
def test_awaiting_header_exactly_when_the_reply_waits(reply: Reply, header: str | None) -> None:
    assert _prompt(reply)[prompts.AWAITING_HEADER] == header


def test_body_starts_with_the_marker_quotes_cuts_at() -> None:
    """The first line holds the marker of mail/quotes.py, so a client's unquoted copy is cut there."""
    text = _text(_prompt(ASKING))
    first_line = text.split("\n", 1)[0]
    assert MARKERS[0] in first_line
    assert extract_reply("基金\n\n" + text) == "基金"


def test_body_is_utf8_text_with_an_html_alternative() -> None:
    message = _prompt(ASKING)
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html_part = message.get_body(("html",))
    assert plain is not None and plain.get_content_charset() == "utf-8"
    assert html_part is not None and "登録者" in html_part.get_content()


def test_options_are_listed_only_when_the_text_lacks_them() -> None:
    """Choices the catalogue text does not name are appended; prefectures never are."""
    yes_no = Reply(
        lines=(Msg("custom"),), awaiting="x", options=(Option("a", Msg("choice.ok")), Option("b", Msg("b")))
    )
    assert "選べる値：" in prompts.prompt_text(yes_no, "ja")
    prefecture = Reply(lines=(Msg("custom"),), awaiting="prefecture", options=(Option("01", Msg("北海道")),))
    assert "選べる値" not in prompts.prompt_text(prefecture, "ja")


def test_resume_note_names_the_older_key_in_the_first_mail_only() -> None:
    text = _text(_prompt(ASKING, first=True, resume_key="olderkey23456789", resume_since="2025-03-30"))
    assert "register+olderkey23456789@example.jp" in text and "2025-03-30" in text
    assert "olderkey" not in _text(_prompt(ASKING, first=False, resume_key=None))


def test_english_conversation_gets_an_english_footer() -> None:
    assert "Reply to this mail" in _text(_prompt(ASKING, lang="en"))


def test_a_prompt_coming_back_is_a_loop_never_answered() -> None:
    """Our own mail delivered to us again (forwarding loop) is recognised by parse_mail."""
    arguments = _arguments()
    arguments["message_id"] = OWN_ID
    raw = bytes(prompts.prompt_mail(ASKING, **arguments))
    assert parse_mail(raw, bot_address=BOT).auto in {"own-address", "own-header", "own-message-id"}


class PromptArguments(TypedDict):
    """The keyword arguments of ``prompts.prompt_mail`` after the reply."""

    lang: str
    to: str
    bot_address: str
    reply_key: str
    message_id: str
    in_reply_to: str | None
    references: Sequence[str]
    person_subject: str | None
    first: bool
    now: datetime


def _arguments() -> PromptArguments:
    return {
        "lang": "ja",
        "to": "taro@example.jp",
        "bot_address": BOT,
        "reply_key": "k",
        "message_id": OWN_ID,
        "in_reply_to": None,
        "references": [],
        "person_subject": None,
        "first": True,
        "now": NOW,
    }


@pytest.mark.parametrize("kind", sorted(prompts.NOTICES))
def test_notices_wait_for_nothing_and_name_no_key(kind: str) -> None:
    message = prompts.notice_mail(
        kind,
        to="x@example.jp",
        bot_address=BOT,
        message_id=OWN_ID,
        in_reply_to="<m@x>",
        references=[],
        now=NOW,
    )
    assert message[prompts.AWAITING_HEADER] is None
    assert message["Reply-To"] is None
    assert message["Auto-Submitted"] == "auto-replied"
    assert message["In-Reply-To"] == "<m@x>"


def test_references_chain_is_capped_to_root_and_newest() -> None:
    chain = prompts.references_chain([f"<{i}@x>" for i in range(50)], "<new@x>")
    assert len(chain) == prompts.MAX_REFERENCES
    assert chain[0] == "<0@x>" and chain[-1] == "<new@x>"


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: RE: 返信: 登録", "Re: 登録"),
        ("", "Re: " + prompts.FIRST_SUBJECT),
        ("Fwd: 相談", "Re: 相談"),
    ],
)
def test_thread_subject(subject: str, expected: str) -> None:
    assert prompts.thread_subject(subject, first=False) == expected


@pytest.mark.parametrize(
    "subject",
    ["hello\nworld", "hello\r\nworld", "受付\nX-Injected: yes", "\n", "tab\there\x00and\x7fnul"],
)
def test_a_subject_with_line_breaks_cannot_break_the_header(subject: str) -> None:
    """The person's subject (decoded from RFC 2047 words, so it may hold any character) is repeated in
    every prompt: line breaks and other control characters become spaces, never a new header line."""
    message = _prompt(ASKING, person_subject=subject)
    assert not message.defects
    assert str(message["Reply-To"]) == "register+abcdefgh23456789@example.jp"
    assert message["X-Injected"] is None
    assert not any(ch in str(message["Subject"]) for ch in "\r\n\x00\x7f")
    assert message["From"] and message["In-Reply-To"]
