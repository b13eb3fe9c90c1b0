"""mail.autoreply: auto-replies, bounces, list mail and our own mail are never answered (RFC 3834)."""

from __future__ import annotations

import base64
from email.parser import BytesParser
from email.policy import default
from email.utils import make_msgid

import pytest

from mail.autoreply import REASONS, auto_reason, format_own_message_id, is_own_message_id
from mail.parse import parse_mail

BOT = "register@regbot.example.jp"
PERSON = "From: 基金 太郎 <kikin@example.jp>"


def _reason(*headers: str, body: str = "本文\r\n", envelope_sender: str | None = None) -> str | None:
    raw = ("\r\n".join(headers) + "\r\n\r\n" + body).encode()
    msg = BytesParser(policy=default).parsebytes(raw)
    return auto_reason(msg, bot_address=BOT, envelope_sender=envelope_sender)


def _jis(text: str) -> str:
    return f"=?ISO-2022-JP?B?{base64.b64encode(text.encode('iso2022_jp')).decode()}?="


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ((PERSON, "Subject: Re: 【総合ポータルサイト】ユーザー登録のご案内"), None),
        ((PERSON, "Auto-Submitted: no"), None),
        ((PERSON, "Auto-Submitted: No (a person typed this)"), None),
        ((PERSON, "Auto-Submitted: auto-replied"), "auto-submitted"),
        ((PERSON, "Auto-Submitted: auto-generated; owner-email=x@y"), "auto-submitted"),
        ((PERSON, "Auto-Submitted: auto-notified"), "auto-submitted"),
        ((PERSON, "X-Autoreply: yes"), "x-autoreply"),
        ((PERSON, "X-Autorespond: vacation"), "x-autoreply"),
        ((PERSON, "X-Auto-Response-Suppress: All"), "x-auto-response-suppress"),
        ((PERSON, "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply"), "x-auto-response-suppress"),
        ((PERSON, "X-Auto-Response-Suppress: RN, NRN"), None),
        ((PERSON, "Precedence: bulk"), "precedence"),
        ((PERSON, "Precedence: junk"), "precedence"),
        ((PERSON, "Precedence: List"), "precedence"),
        ((PERSON, "Precedence: first-class"), None),
        ((PERSON, "List-Id: news <news.lists.example.jp>"), "list-id"),
        ((PERSON, "Return-Path: <>"), "bounce-null-sender"),
        ((PERSON, "Return-Path: <kikin@example.jp>"), None),
        (("From: MAILER-DAEMON@mx.example.jp (Mail Delivery System)",), "mailer-daemon"),
        (("From: Mailer-Daemon <mailer-daemon@googlemail.com>",), "mailer-daemon"),
        (("From: postmaster@example.jp",), "mailer-daemon"),
        (("From: MAILER-DAEMON",), "mailer-daemon"),
        ((PERSON, "Return-Path: <MAILER-DAEMON@mx.example.jp>"), "mailer-daemon"),
        (
            (PERSON, 'Content-Type: multipart/report; report-type=delivery-status; boundary="b"'),
            "multipart-report",
        ),
        ((PERSON, "X-Failed-Recipients: nobody@example.jp"), "x-failed-recipients"),
        ((f"From: {BOT}",), "own-address"),
        (("From: 登録受付 <Register@REGBOT.example.jp>",), "own-address"),
        (("From: register+k7@regbot.example.jp",), "own-address"),
        (("From: register@other.example.jp",), None),
        ((PERSON, "X-Regbot-Awaiting: family_name"), "own-header"),
        ((PERSON, "X-Regbot: 1"), "own-header"),
        ((PERSON, "Message-ID: <regbot.0a1b2c@regbot.example.jp>"), "own-message-id"),
        ((PERSON, "Message-ID: <regbot.0a1b2c@other.example.jp>"), None),
        ((PERSON, "In-Reply-To: <regbot.0a1b2c@regbot.example.jp>"), None),  # a reply to us: answered
        (("To: register@regbot.example.jp",), "no-sender"),
    ],
)
def test_auto_reason_from_headers(headers: tuple[str, ...], reason: str | None) -> None:
    assert _reason(*headers) == reason


@pytest.mark.parametrize(
    ("subject", "reason"),
    [
        ("不在通知：Re: ユーザー登録のご案内", "ooo-subject"),
        ("【不在】ユーザー登録のご案内", "ooo-subject"),
        ("[不在] 12/1まで", "ooo-subject"),
        ("Re: ユーザー登録のご案内（不在のお知らせ）", "ooo-subject"),
        ("自動応答: ユーザー登録のご案内", "ooo-subject"),
        ("【自動返信】お問い合わせありがとうございます", "ooo-subject"),
        ("Out of Office: Re: registration", "ooo-subject"),
        ("Automatic reply: Re: registration", "ooo-subject"),
        ("Auto: Re: registration", "ooo-subject"),
        ("AutoReply: registration", "ooo-subject"),
        (_jis("不在通知"), "ooo-subject"),
        ("Undeliverable: ユーザー登録のご案内", "bounce-subject"),
        ("配信不能: ユーザー登録のご案内", "bounce-subject"),
        ("Delivery Status Notification (Failure)", "bounce-subject"),
        ("Mail delivery failed: returning message to sender", "bounce-subject"),
        ("Re: ユーザー登録のご案内", None),
        ("Re: 不正な操作が行われました と表示されます", None),
        ("Re: Automobile clinic registration", None),
        ("", None),
    ],
)
def test_auto_reason_from_subject(subject: str, reason: str | None) -> None:
    assert _reason(PERSON, f"Subject: {subject}") == reason


def test_loops_come_before_bounces_and_auto_replies() -> None:
    """Our own mail back carries Auto-Submitted too; the reason names the loop."""
    headers = (
        f"From: {BOT}",
        "Auto-Submitted: auto-replied",
        "X-Regbot-Awaiting: confirm",
        "Return-Path: <>",
    )
    assert _reason(*headers) == "own-address"


def test_null_envelope_sender() -> None:
    assert _reason(PERSON, envelope_sender="") == "bounce-null-sender"
    assert _reason(PERSON, envelope_sender="<>") == "bounce-null-sender"
    assert _reason(PERSON, envelope_sender="MAILER-DAEMON@mx.example.jp") == "mailer-daemon"
    assert _reason(PERSON, envelope_sender="kikin@example.jp") is None


def test_reasons_are_the_documented_ids() -> None:
    assert "auto-submitted" in REASONS and "own-address" in REASONS and None not in REASONS


def test_parse_mail_fills_auto() -> None:
    raw = f"{PERSON}\r\nAuto-Submitted: auto-replied\r\n\r\n不在です\r\n".encode()
    assert parse_mail(raw, bot_address=BOT).auto == "auto-submitted"


def test_hostile_headers_do_not_raise() -> None:
    assert _reason("From: <<<", "Content-Type: ;;;", "Auto-Submitted:", "Return-Path: <<>") is not None


# ------------------------------------------------------------------------------------------ Message-IDs


def test_own_message_id_round_trip() -> None:
    message_id = format_own_message_id("5f0c2a9e71d84b3c", "regbot.example.jp")
    assert message_id == "<regbot.5f0c2a9e71d84b3c@regbot.example.jp>"
    assert is_own_message_id(message_id, "regbot.example.jp")
    assert is_own_message_id(message_id.upper().replace("REGBOT.5F", "regbot.5f"), "regbot.example.jp")
    assert is_own_message_id("regbot.x@regbot.example.jp", "REGBOT.example.jp")  # brackets forgotten


@pytest.mark.parametrize(
    ("message_id", "own"),
    [
        ("<regbot.abc@regbot.example.jp>", True),
        (make_msgid(idstring="regbot", domain="regbot.example.jp"), True),  # the stdlib's form
        ("<regbot.abc@other.example.jp>", False),
        ("<abc@regbot.example.jp>", False),
        ("<notregbot.abc@regbot.example.jp>", False),
        ("<regbot.abc@>", False),
        ("", False),
        (None, False),
    ],
)
def test_is_own_message_id(message_id: str | None, own: bool) -> None:
    assert is_own_message_id(message_id, "regbot.example.jp") is own


def test_own_message_id_accepts_an_address_for_the_domain() -> None:
    assert format_own_message_id("a1", "register@Regbot.Example.JP") == "<regbot.a1@regbot.example.jp>"


@pytest.mark.parametrize(("unique", "domain"), [("", "x.jp"), ("a b", "x.jp"), ("a@b", "x.jp"), ("a", "")])
def test_own_message_id_refuses_bad_parts(unique: str, domain: str) -> None:
    with pytest.raises(ValueError):
        format_own_message_id(unique, domain)
