"""mail.parse: reading inbound mail — the client corpus, charsets, headers, and bytes that are not mail."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mail.parse import (
    MAX_BOUNDARY_LINES,
    InboundMail,
    MailParseError,
    decode_header_text,
    decode_text,
    normalise_message_id,
    parse_mail,
    unflow,
)

CORPUS = Path(__file__).parent / "corpus"
INDEX: list[dict[str, Any]] = json.loads((CORPUS / "index.json").read_text(encoding="utf-8"))
BOT = "register@regbot.example.jp"


def _mail(*headers: str, body: bytes | str = "本文\n", bot: str = BOT, **kwargs: Any) -> InboundMail:
    data = body.encode() if isinstance(body, str) else body
    return parse_mail("\r\n".join(headers).encode() + b"\r\n\r\n" + data, bot_address=bot, **kwargs)


# ------------------------------------------------------------------------------------------ corpus


@pytest.mark.parametrize("case", INDEX, ids=[case["name"] for case in INDEX])
def test_corpus_mail_reads_as_indexed(case: dict[str, Any]) -> None:
    """Every fixture gives its expected reply, sender, reply key, auto reason (and subject, ids, date)."""
    raw = (CORPUS / f"{case['name']}.eml").read_bytes()
    if case.get("error"):
        with pytest.raises(MailParseError):
            parse_mail(raw, bot_address=BOT)
        return
    mail = parse_mail(raw, bot_address=BOT)
    expected = (CORPUS / f"{case['name']}.expected.txt").read_text(encoding="utf-8").removesuffix("\n")
    assert mail.text == expected
    assert (mail.sender, mail.reply_key, mail.auto) == (case["sender"], case["reply_key"], case["auto"])
    assert mail.size == len(raw)
    if "subject" in case:
        assert mail.subject == case["subject"]
    if "in_reply_to" in case:
        assert mail.in_reply_to == case["in_reply_to"]
        assert mail.references == (case["in_reply_to"],)
    if "date" in case:
        assert mail.date == datetime.fromisoformat(case["date"])
    if "references_count" in case:
        assert len(mail.references) == case["references_count"]
        assert mail.references[-1] == case["last_reference"]


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it is being executed
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_corpus_is_what_the_generator_makes(tmp_path: Path) -> None:
    """The committed fixtures are exactly what make_corpus.py writes (it is deterministic)."""
    _generator().main(tmp_path)
    made = sorted(path.name for path in tmp_path.iterdir())
    committed = sorted(path.name for path in CORPUS.iterdir() if path.suffix in (".eml", ".txt", ".json"))
    assert made == committed
    for name in made:
        assert (tmp_path / name).read_bytes() == (CORPUS / name).read_bytes(), name


def test_corpus_covers_the_clients_and_reasons_the_issue_names() -> None:
    names = {case["name"] for case in INDEX}
    assert {"gmail-reply", "gmail-ja", "outlook-desktop", "outlook-web", "iphone", "thunderbird"} <= names
    assert {"becky-iso2022jp", "shift-jis", "euc-jp", "html-only", "forwarded", "interleaved"} <= names
    reasons = {case.get("auto") for case in INDEX}
    assert {"auto-submitted", "ooo-subject", "bounce-null-sender", "precedence", "own-address"} <= reasons


# ------------------------------------------------------------------------------------------ charsets

# ①㈱髙 as Windows mailers write ISO-2022-JP: NEC row 13 (`-!` ①, `-j` ㈱) and NEC-selected IBM row 92
# (`|b` 髙) under ESC $ B, rows the strict iso2022_jp codec refuses.
NEC_JIS = b"\x1b$B-!-j|b\x1b(B"


def test_iso2022jp_with_cp932_extensions_decodes() -> None:
    with pytest.raises(UnicodeDecodeError):
        NEC_JIS.decode("iso2022_jp")
    assert decode_text(NEC_JIS, "ISO-2022-JP") == "①㈱髙"
    assert decode_text(b"abc " + NEC_JIS + b" \x1b$B4pIU\x1b(B", "iso-2022-jp") == "abc ①㈱髙 基付"


def test_iso2022jp_body_and_subject_with_nec_characters() -> None:
    import base64

    word = "=?ISO-2022-JP?B?" + base64.b64encode(NEC_JIS).decode() + "?="
    mail = _mail(
        "From: a@example.jp",
        f"Subject: {word}",
        "Content-Type: text/plain; charset=iso-2022-jp",
        body=b"\x1b$B3+@_<T\x1b(B: " + NEC_JIS + b"\r\n",
    )
    assert mail.subject == "①㈱髙"
    assert mail.text == "開設者: ①㈱髙"


@pytest.mark.parametrize(
    ("data", "charset", "expected"),
    [
        ("①～ｶﾞ".encode("cp932"), "Shift_JIS", "①～ｶﾞ"),  # Shift_JIS is read as cp932
        ("①～".encode("cp932"), "x-sjis", "①～"),
        ("あい".encode("euc_jp"), "EUC-JP", "あい"),
        (b"\xad\xa1", "euc-jp", "①"),  # eucJP-ms NEC row 13
        ("全角ＡＢＣ".encode(), "utf-8", "全角ＡＢＣ"),
        ("日本語".encode(), "iso-8859-1", "日本語"),  # UTF-8 under a Latin-1 label
        ("日本語です".encode("cp932"), "utf-8", "日本語です"),  # cp932 under a UTF-8 label
        ("日本語です".encode("euc_jp"), None, "日本語です"),  # undeclared EUC-JP
        ("日本語です".encode("cp932"), None, "日本語です"),
        ("日本語です".encode(), None, "日本語です"),
        ("日本語です".encode(), "x-no-such-charset", "日本語です"),
        ("日本語".encode(), "base64", "日本語"),  # a codec that is not a charset
        (b"\x1b$B4pIU\x1b(B", None, "基付"),  # undeclared JIS
        ("ｷｷﾝ".encode("iso2022_jp_ext"), "iso-2022-jp", "ｷｷﾝ"),  # ESC ( I half-width kana
        (b"ok", None, "ok"),
        ("姓: 基金 ".encode() + b"\xff", "utf-8", "姓: 基金 \ufffd"),  # UTF-8 with a broken byte
        (b"\xff\xfe\xfa", "utf-8", "\ufffd\ufffd\ufffd"),
    ],
)
def test_decode_text(data: bytes, charset: str | None, expected: str) -> None:
    assert decode_text(data, charset) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("=?UTF-8?B?5Z+66YeRIOWkqumDjg==?=", "基金 太郎"),
        ("=?utf-8?q?=E5=9F=BA=E9=87=91_x?=", "基金 x"),
        ("Re: =?ISO-2022-JP?B?GyRCNHA2YhsoQg==?= san", "Re: 基金 san"),
        # one ISO-2022-JP character split over two words, as some Japanese mailers do
        ("=?ISO-2022-JP?B?GyRCNHA2?= =?ISO-2022-JP?B?YhsoQg==?=", "基金"),
        ("=?x-unknown?B?5Z+66YeR?=", "基金"),
        ("=?utf-8?B?!!!?=", ""),
        ("=?utf-8?B?5Z+66YeR", "=?utf-8?B?5Z+66YeR"),  # not closed: left as written
        ("plain\r\n folded", "plain folded"),
        ("生のUTF-8".encode().decode("ascii", "surrogateescape"), "生のUTF-8"),  # RFC 6532 raw bytes
    ],
)
def test_decode_header_text(raw: str, expected: str) -> None:
    assert decode_header_text(raw) == expected


def test_format_flowed_is_joined() -> None:
    assert unflow("a long \nline\n> quoted \n> more\nend", delsp=False) == "a long line\n> quoted more\nend"
    assert unflow("日本語の \n続き\n-- \nsig", delsp=True) == "日本語の続き\n-- \nsig"


# ------------------------------------------------------------------------------------------ headers


def test_message_ids_keep_angle_brackets() -> None:
    mail = _mail(
        "From: a@example.jp",
        "Message-ID: no-brackets@example.jp",
        "In-Reply-To: <one@example.jp> (from someone)",
        "References: <root@x>\r\n <one@example.jp>  <one@example.jp>",
    )
    assert mail.message_id == "<no-brackets@example.jp>"
    assert mail.in_reply_to == "<one@example.jp>"
    assert mail.references == ("<root@x>", "<one@example.jp>")
    assert normalise_message_id(" <a@b> ") == "<a@b>"
    assert normalise_message_id("") is None


def test_sender_and_recipients_are_lower_cased() -> None:
    mail = _mail(
        "From: =?UTF-8?B?5Z+66YeRIOWkqumDjg==?= <Taro@Example.JP>",
        "To: A <a@x.jp>, b@x.jp",
        "Cc: A <A@X.JP>",
        "Delivered-To: register+Key9@regbot.example.jp",
    )
    assert (mail.sender, mail.sender_name) == ("taro@example.jp", "基金 太郎")
    assert mail.recipients == ("a@x.jp", "b@x.jp", "register+key9@regbot.example.jp")
    assert mail.reply_key == "Key9"  # the key keeps its case


def test_a_from_without_an_address_is_no_sender() -> None:
    mail = _mail("From: Undisclosed sender", "To: register+k@regbot.example.jp")
    assert (mail.sender, mail.auto) == (None, "no-sender")


@pytest.mark.parametrize(
    ("recipient", "key"),
    [
        ("register+abc123@regbot.example.jp", "abc123"),
        ("REGISTER+abc123@REGBOT.EXAMPLE.JP", "abc123"),
        ("register@regbot.example.jp", None),
        ("register+@regbot.example.jp", None),
        ("register+abc123@other.example.jp", None),
        ("someone+abc123@regbot.example.jp", None),
        ("register+a<b@regbot.example.jp", None),
    ],
)
def test_reply_key(recipient: str, key: str | None) -> None:
    assert _mail("From: a@example.jp", f"To: {recipient}").reply_key == key


def test_reply_key_with_a_named_bot_address() -> None:
    mail = _mail("From: a@x.jp", "To: register+k1@localhost", bot="Regbot <register@localhost>")
    assert mail.reply_key == "k1"


def test_date() -> None:
    assert _mail("From: a@x.jp", "Date: Wed, 25 Nov 2026 10:00:00 +0900").date == datetime(
        2026, 11, 25, 10, tzinfo=timezone(timedelta(hours=9))
    )
    assert _mail("From: a@x.jp", "Date: Wed, 25 Nov 2026 10:00:00 -0000").date == datetime(
        2026, 11, 25, 10, tzinfo=UTC
    )
    assert _mail("From: a@x.jp", "Date: 昨日").date is None
    assert _mail("From: a@x.jp").date is None


def test_envelope_sender_of_a_bounce() -> None:
    assert _mail("From: a@x.jp", envelope_sender="").auto == "bounce-null-sender"
    assert _mail("From: a@x.jp", envelope_sender="a@x.jp").auto is None


# ------------------------------------------------------------------------------------------ bodies


def test_html_alternative_is_used_only_without_plain_text() -> None:
    boundary = "b1"
    body = (
        f"--{boundary}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>html</p>\r\n"
        f"--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain\r\n--{boundary}--\r\n"
    )
    mail = _mail("From: a@x.jp", f'Content-Type: multipart/alternative; boundary="{boundary}"', body=body)
    assert mail.text == "plain"


def test_text_attachments_and_attached_mails_are_not_the_reply() -> None:
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\n姓: 基金\r\n"
        '--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="a.txt"\r\n\r\nfile\r\n'
        "--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@y\r\n\r\nattached mail\r\n--b--\r\n"
    )
    mail = _mail("From: a@x.jp", 'Content-Type: multipart/mixed; boundary="b"', body=body)
    assert mail.text == "姓: 基金"


def test_a_one_megabyte_line_is_kept_quickly() -> None:
    line = "あ" * (1 << 19)  # 1.5 MB of UTF-8 on one line
    mail = _mail("From: a@x.jp", "Content-Type: text/plain; charset=utf-8", body=line + "\r\n")
    assert mail.text == line


def test_huge_headers_are_survived() -> None:
    mail = _mail(
        "From: a@x.jp",
        "To: " + ", ".join(f"u{n}@x.jp" for n in range(20000)) + ", register+k@regbot.example.jp",
        "Subject: " + "件" * 200_000,
        "X-Junk: " + "j" * 1_000_000,
    )
    assert mail.reply_key == "k"
    assert len(mail.subject) == 200_000


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"   \r\n\r\n",
        b"\x89PNG\r\n\x1a\n\x00\x01\x02",
        b"\r\n\r\nbody without headers",
        "日本語だけの行\n".encode(),
    ],
)
def test_bytes_without_any_header_raise_mail_parse_error(raw: bytes) -> None:
    with pytest.raises(MailParseError):
        parse_mail(raw, bot_address=BOT)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: a@x.jp\r\n",  # headers only
        b"From: a@x.jp\r\nContent-Type: multipart/mixed\r\n\r\nno boundary",
        b'From: a@x.jp\r\nContent-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\nunterminated',
        b"From: a@x.jp\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!not base64===\r\n",
        b'From: a@x.jp\r\nContent-Type: text/plain; charset="\r\n\r\nx',
        b"From: a@x.jp\r\nContent-Type: ;;;===\r\n\r\nx",
        b"From: <<<@>>>\r\nTo: ,,,@,,\r\nMessage-ID: <<>>\r\n\r\nx",
        b'From: a@x.jp\r\nContent-Type: multipart/mixed; boundary="a"\r\n\r\n' + b"--a\r\n" * 900,
    ],
)
def test_malformed_mail_still_reads(raw: bytes) -> None:
    assert isinstance(parse_mail(raw, bot_address=BOT), InboundMail)


def test_thousands_of_mime_parts_raise_mail_parse_error() -> None:
    parts = "".join(
        f"--b\r\nContent-Type: text/plain\r\n\r\npart{n}\r\n" for n in range(MAX_BOUNDARY_LINES + 1)
    )
    raw = f'From: a@x.jp\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n{parts}--b--\r\n'.encode()
    with pytest.raises(MailParseError):
        parse_mail(raw, bot_address=BOT)


def test_deeply_nested_multipart_is_survived() -> None:
    depth = 60
    head = "".join(
        f'--b{n}\r\nContent-Type: multipart/mixed; boundary="b{n + 1}"\r\n\r\n' for n in range(depth)
    )
    tail = "".join(f"--b{n}--\r\n" for n in reversed(range(depth)))
    body = head + f"--b{depth}\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" + tail
    raw = ('From: a@x.jp\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n' + body).encode()
    try:
        mail = parse_mail(raw, bot_address=BOT)
    except MailParseError:
        return
    assert mail.text in ("", "deep")  # too deep to be a person's reply: either is fine


# ------------------------------------------------------------------------------------------ properties

_FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_mail_or_mail_parse_error(raw: bytes) -> None:
    try:
        mail = parse_mail(raw, bot_address=BOT)
    except MailParseError:
        return
    assert isinstance(mail.text, str) and mail.size == len(raw)


_HEADER_NAMES = st.sampled_from(
    [
        "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References", "Date", "Content-Type",
        "Content-Transfer-Encoding", "Content-Disposition", "Return-Path", "Auto-Submitted", "Precedence",
        "X-Auto-Response-Suppress", "Delivered-To", "MIME-Version", "X-Regbot-Awaiting", "List-Id",
    ]
)  # fmt: skip
_HEADER_VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "multipart/mixed; boundary=b",
            'multipart/alternative; boundary="b"',
            "multipart/report; report-type=delivery-status; boundary=b",
            "text/plain; charset=iso-2022-jp",
            "text/plain; charset=utf-8; format=flowed; delsp=yes",
            "text/html; charset=shift_jis",
            'text/plain; charset="x-bogus"',
            "message/rfc822",
            "base64",
            "quoted-printable",
            "=?ISO-2022-JP?B?GyRCLSEtahsoQg==?=",
            "=?utf-8?q?=E5=9F?= =?bogus?b?////?=",
            "<a@b> <c@d",
            "register+k@regbot.example.jp",
            '"x" <register@regbot.example.jp>',
            "<>",
            "auto-replied",
        ]
    ),
)
_PART_TYPES = st.sampled_from(["text/plain", "text/html", "message/rfc822", "multipart/mixed; boundary=b"])


def _multipart(parts: list[tuple[str, bytes]]) -> bytes:
    body = b"".join(
        b"--b\r\nContent-Type: " + ctype.encode() + b"\r\n\r\n" + data + b"\r\n" for ctype, data in parts
    )
    return body + b"--b--\r\n"


_BODIES = st.one_of(
    st.binary(max_size=500),
    st.text(max_size=300).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.lists(st.tuples(_PART_TYPES, st.binary(max_size=80)), max_size=4).map(_multipart),
)


@_FAST
@given(st.lists(st.tuples(_HEADER_NAMES, _HEADER_VALUES), max_size=12), _BODIES)
def test_structured_junk_gives_a_mail_or_mail_parse_error(
    headers: list[tuple[str, str]], body: bytes
) -> None:
    head = b"".join(f"{name}: {value}\r\n".encode("utf-8", "surrogatepass") for name, value in headers)
    try:
        mail = parse_mail(head + b"\r\n" + body, bot_address=BOT)
    except MailParseError:
        return
    assert mail.auto is None or isinstance(mail.auto, str)
