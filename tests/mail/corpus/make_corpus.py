"""Regenerate the inbound-mail corpus: ``python tests/mail/corpus/make_corpus.py [output dir]``.

Each case is a mail shaped like one real client writes it (headers, MIME structure, charset, transfer
encoding, quoting and attribution style), built with the stdlib ``email`` package so the encodings are
real, plus the reply a person would say they wrote (``<name>.expected.txt``) and what
``mail.parse.parse_mail`` must find in its headers (``index.json``).  The output is deterministic: fixed
dates, ids, boundaries and random seeds, so regenerating changes nothing unless a case changes.
"""

from __future__ import annotations

import base64
import json
import random
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage, Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import SMTP, compat32
from email.utils import format_datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOT = "register@regbot.example.jp"
BOT_NAME = "総合ポータルサイト 登録受付"
JST = timezone(timedelta(hours=9))
SENT = datetime(2026, 11, 25, 10, 0, tzinfo=JST)  # when the bot's mail went out
OUR_ID = "<regbot.5f0c2a9e71d84b3c@regbot.example.jp>"
SUBJECT = "【総合ポータルサイト】ユーザー登録のご案内"
MARKER = "##- この行より上にご返信ください -##"
COMPAT = compat32.clone(linesep="\r\n")

# The bot's first mail, as a person's client quotes it.
BOT_BODY = [
    MARKER,
    "",
    "医療機関等向け総合ポータルサイトのユーザー登録をメールで承ります。",
    "下のひな形の各項目の「:」の後ろにご記入のうえ、このメールにそのままご返信ください。",
    "パスワードはメールではお伺いしません（確認メールのリンク先で設定していただきます）。",
    "",
    "姓:",
    "名:",
    "所属機関選択:  （1:医科 3:歯科 4:調剤 6:訪問看護 7:職域診療所）",
    "都道府県:",
    "",
    "--",
    "医療機関等向け総合ポータルサイト 登録受付",
]


@dataclass
class Case:
    name: str
    raw: bytes
    expected: str | None  # the reply; None when parse_mail must raise MailParseError
    sender: str | None = None
    reply_key: str | None = None
    auto: str | None = None
    subject: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


CASES: list[Callable[[], Case]] = []


def case(builder: Callable[[], Case]) -> Callable[[], Case]:
    CASES.append(builder)
    return builder


# ------------------------------------------------------------------------------------------ helpers


def bot(key: str) -> str:
    return f"register+{key}@regbot.example.jp"


def quote(lines: list[str], mark: str = "> ") -> list[str]:
    return [f"{mark}{line}" if line else mark.rstrip() for line in lines]


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def received(by: str, source: str, when: datetime) -> str:
    return f"from {source} by {by} with ESMTPS; {format_datetime(when)}"


def modern(
    *, sender: str, to: str, subject: str, msgid: str, when: datetime, in_reply_to: str | None = OUR_ID
) -> EmailMessage:
    """A UTF-8 mail as current clients write it (EmailMessage encodes headers as RFC 2047 UTF-8)."""
    msg = EmailMessage(policy=SMTP)
    msg["Received"] = received("mx.regbot.example.jp", "mail-sor-f41.google.com", when + timedelta(seconds=2))
    msg["MIME-Version"] = "1.0"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = msgid
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = to
    return msg


def legacy(headers: list[tuple[str, str]]) -> Message:
    """A mail whose headers are written as given (pre-encoded), as older Japanese mailers do."""
    msg = Message(policy=compat32)
    for name, value in headers:
        msg[name] = value
    return msg


def sjis_to_jis(lead: int, trail: int) -> bytes:
    if lead >= 0xE0:
        lead -= 0x40
    first = (lead - 0x81) * 2 + 0x21
    if trail >= 0x9F:
        return bytes((first + 1, trail - 0x7E))
    return bytes((first, trail - 0x1F - (1 if trail >= 0x80 else 0)))


def nec_selected(ch: str) -> bytes:
    """cp932 bytes of a character, IBM extensions (0xFA40–) moved to the NEC-selected rows (0xED40–),
    which is what Windows mailers do before writing ISO-2022-JP."""
    data = ch.encode("cp932")
    if data[0] >= 0xFA:
        for lead in (0xED, 0xEE):
            for trail in range(0x40, 0xFD):
                try:
                    if bytes((lead, trail)).decode("cp932") == ch:
                        return bytes((lead, trail))
                except UnicodeDecodeError:
                    continue
    return data


def jis(value: str, *, kana_escape: bool = False) -> bytes:
    """ISO-2022-JP as Windows/Becky!/carriers write it: JIS X 0208 plus cp932's NEC row 13 (①, ㈱) and
    NEC-selected IBM rows (髙) under ``ESC $ B``; half-width kana under ``ESC ( I`` when asked."""
    out = bytearray()
    mode = "ascii"

    def switch(new: str) -> None:
        nonlocal mode
        if new != mode:
            out.extend({"ascii": b"\x1b(B", "kanji": b"\x1b$B", "kana": b"\x1b(I"}[new])
            mode = new

    for ch in value:
        if ch.isascii():
            if ch == "\n":
                switch("ascii")
            switch("ascii")
            out.extend(ch.encode("ascii"))
        elif kana_escape and "\uff61" <= ch <= "\uff9f":
            switch("kana")
            out.append(ch.encode("cp932")[0] - 0x80)
        else:
            try:
                pair = ch.encode("iso2022_jp")[3:5]
            except UnicodeEncodeError:
                sjis = nec_selected(ch)
                pair = sjis_to_jis(sjis[0], sjis[1])
            switch("kanji")
            out.extend(pair)
    switch("ascii")
    return bytes(out)


def jis_word(value: str, *, kana_escape: bool = False) -> str:
    """An RFC 2047 B word of ISO-2022-JP bytes (with cp932 extensions)."""
    data = jis(value, kana_escape=kana_escape)
    return f"=?ISO-2022-JP?B?{base64.b64encode(data).decode('ascii')}?="


def jis_body(msg: Message, body: str, *, kana_escape: bool = False) -> None:
    msg["Content-Type"] = 'text/plain; charset="ISO-2022-JP"'
    msg["Content-Transfer-Encoding"] = "7bit"
    msg.set_payload(jis(body.replace("\n", "\r\n"), kana_escape=kana_escape).decode("ascii"))


def smtp_bytes(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=SMTP)


def compat_bytes(msg: Message) -> bytes:
    return msg.as_bytes(policy=COMPAT)


# ------------------------------------------------------------------------------------------ cases


@case
def gmail_reply() -> Case:
    answer = ["姓: 基金", "名: 太郎", "所属機関選択: 1", "", "よろしくお願いいたします。"]
    key = "g7k2m9"
    attribution = ["On Wed, Nov 25, 2026 at 10:00 AM 総合ポータルサイト 登録受付 <", f"{bot(key)}> wrote:"]
    plain = text([*answer, "", *attribution, "", *quote(BOT_BODY)])
    html = (
        '<div dir="ltr"><div>姓: 基金</div><div>名: 太郎</div><div>所属機関選択: 1</div><div><br></div>'
        "<div>よろしくお願いいたします。</div></div><br>"
        '<div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">On Wed, Nov 25, '
        f'2026 at 10:00 AM {BOT_NAME} &lt;<a href="mailto:{bot(key)}">{bot(key)}</a>&gt; wrote:<br></div>'
        '<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid '
        'rgb(204,204,204);padding-left:1ex">' + "<br>".join(BOT_BODY) + "</blockquote></div>\n"
    )
    msg = modern(
        sender="基金 太郎 <Taro.Kikin@gmail.com>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"Re: {SUBJECT}",
        msgid="<CAJ8xK2pQ7v+Yw3Hn0r5Lm4sT9dE1fG6hB2cV8nZ0aX3qR7uW5k@mail.gmail.com>",
        when=SENT + timedelta(minutes=12, seconds=33),
    )
    msg.set_content(plain, charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    msg.set_boundary("000000000000a1c4e305f0b2d7c8")
    return Case(
        "gmail-reply",
        smtp_bytes(msg),
        text(answer),
        sender="taro.kikin@gmail.com",
        reply_key=key,
        subject=f"Re: {SUBJECT}",
        extra={"in_reply_to": OUR_ID, "date": "2026-11-25T10:12:33+09:00"},
    )


@case
def gmail_ja() -> Case:
    answer = ["都道府県: 東京都", "医療機関等・訪問看護ステーションコード（7桁）: ８８１４７９０"]
    key = "h3n8p2"
    attribution = [f"2026年11月25日(水) 10:00 {BOT_NAME} <", f"{bot(key)}>:"]
    plain = text([*answer, "", *attribution, "", *quote(BOT_BODY)])
    html = (
        '<div dir="ltr">都道府県: 東京都<div>'
        "医療機関等・訪問看護ステーションコード（7桁）: ８８１４７９０</div>"
        '</div><br><div class="gmail_quote gmail_quote_container"><div dir="ltr" class="gmail_attr">'
        f"2026年11月25日(水) 10:00 {BOT_NAME} &lt;{bot(key)}&gt;:<br></div>"
        '<blockquote class="gmail_quote">' + "<br>".join(BOT_BODY) + "</blockquote></div>\n"
    )
    msg = modern(
        sender="基金 花子 <hanako.kikin@gmail.com>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"Re: {SUBJECT}",
        msgid="<CAH4mP9sWq2Lx8Ve6Tb0Kc3Ny7Ud5Fg1Ri4Zo2Ja9Me8Xk@mail.gmail.com>",
        when=SENT + timedelta(hours=2),
    )
    msg.set_content(plain, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    msg.set_boundary("0000000000009b3e7205f0b3a1d2")
    return Case(
        "gmail-ja",
        smtp_bytes(msg),
        text(answer),
        sender="hanako.kikin@gmail.com",
        reply_key=key,
        subject=f"Re: {SUBJECT}",
    )


@case
def outlook_desktop() -> Case:
    answer = ["姓: 基金", "名: 太郎", "", "基金 太郎", "ほげ医院 事務"]
    key = "o1d5s8"
    header_block = [
        "-----Original Message-----",
        f"From: {BOT_NAME} <{bot(key)}>",
        "Sent: Wednesday, November 25, 2026 10:00 AM",
        "To: 基金 太郎 <kikin@hoge-iin.example.jp>",
        f"Subject: {SUBJECT}",
        "",
    ]
    plain = text([*answer, "", *header_block, *BOT_BODY])
    paragraphs = "".join(
        f'<p class="MsoNormal">{line or "<o:p>&nbsp;</o:p>"}<o:p></o:p></p>\n' for line in answer
    )
    html = (
        '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><meta http-equiv="Content-Type" '
        'content="text/html; charset=utf-8">'
        "<style><!-- p.MsoNormal {margin:0mm;font-size:10.5pt;} --></style>"
        '</head><body lang="JA" link="#0563C1"><div class="WordSection1">\n'
        f"{paragraphs}"
        '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>\n'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0mm 0mm 0mm">'
        f'<p class="MsoNormal"><b>From:</b> {BOT_NAME} &lt;{bot(key)}&gt; <br><b>Sent:</b> Wednesday, '
        "November 25, 2026 10:00 AM<br><b>To:</b> 基金 太郎 &lt;kikin@hoge-iin.example.jp&gt;<br>"
        f"<b>Subject:</b> {SUBJECT}<o:p></o:p></p></div>\n"
        + "".join(f'<p class="MsoNormal">{line}<o:p></o:p></p>\n' for line in BOT_BODY)
        + "</div></body></html>\n"
    )
    msg = modern(
        sender="基金 太郎 <Kikin@Hoge-Iin.example.jp>",
        to=f'"{BOT_NAME}" <{bot(key)}>',
        subject=f"RE: {SUBJECT}",
        msgid="<000301db3f2a$4c5d6e70$e5184b50$@hoge-iin.example.jp>",
        when=SENT + timedelta(minutes=40),
    )
    msg["X-Mailer"] = "Microsoft Outlook 16.0"
    msg["Thread-Index"] = "AQHbPyo0TF1ucOUYS1CNBq9Xqg=="
    msg["Content-Language"] = "ja"
    msg.set_content(plain, charset="utf-8", cte="base64")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="base64")
    msg.set_boundary("----=_NextPart_000_0004_01DB3F75.BC4D5E70")
    return Case(
        "outlook-desktop",
        smtp_bytes(msg),
        text(answer),
        sender="kikin@hoge-iin.example.jp",
        reply_key=key,
        subject=f"RE: {SUBJECT}",
    )


@case
def outlook_desktop_ja() -> Case:
    answer = [
        "お世話になっております。",
        "下記のとおり回答いたします。",
        "",
        "姓: 基金",
        "名: 花子",
        "所属機関選択: 歯科",
    ]
    key = "o2j6t4"
    header_block = [
        f"差出人: {BOT_NAME} <{bot(key)}>",
        "送信日時: 2026年11月25日 10:00",
        "宛先: kikin-shika@example.jp",
        f"件名: {SUBJECT}",
        "",
    ]
    plain = "\n".join([*answer, "", *header_block, *BOT_BODY]) + "\n"
    alternative = legacy(
        [
            ("Received", received("mx.regbot.example.jp", "mail.example.jp", SENT + timedelta(hours=1))),
            ("From", f"{jis_word('基金 花子')} <kikin-shika@example.jp>"),
            ("To", f'"{jis_word(BOT_NAME)}" <{bot(key)}>'),
            ("Subject", jis_word(f"RE: {SUBJECT}")),
            ("Date", format_datetime(SENT + timedelta(hours=1))),
            ("Message-ID", "<001501db3f30$2a3b4c50$7eb1e4f0$@example.jp>"),
            ("In-Reply-To", OUR_ID),
            ("References", OUR_ID),
            ("MIME-Version", "1.0"),
            ("Content-Type", 'multipart/alternative; boundary="----=_NextPart_000_0016_01DB3F7B.9A2C7E50"'),
            ("X-Mailer", "Microsoft Outlook 16.0"),
            ("Content-Language", "ja"),
        ]
    )
    plain_part = Message(policy=compat32)
    jis_body(plain_part, plain)
    html_part = MIMEText(
        "<html><body>"
        + "".join(f"<p class=MsoNormal>{line or '&nbsp;'}</p>" for line in answer)
        + "</body></html>",
        "html",
        "utf-8",
    )
    alternative.set_payload([plain_part, html_part])
    return Case(
        "outlook-desktop-ja",
        compat_bytes(alternative),
        text(answer),
        sender="kikin-shika@example.jp",
        reply_key=key,
        subject=f"RE: {SUBJECT}",
    )


@case
def outlook_web() -> Case:
    key = "w8e3b5"
    style = 'style="font-family: Aptos, Aptos_EmbeddedFont, Calibri, Helvetica, sans-serif; font-size: 12pt;"'
    answers = ["姓: 基金", "名: 太郎", "所属機関選択: 訪問看護", "<br>", "よろしくお願いします。"]
    html = (
        '<html><head>\n<meta http-equiv="Content-Type" content="text/html; charset=utf-8">\n'
        '<style type="text/css" style="display:none;"> P {margin-top:0;margin-bottom:0;} </style>\n'
        '</head>\n<body dir="ltr">\n'
        + "".join(f'<div class="elementToProof" {style}>\n{line}</div>\n' for line in answers)
        + '<div id="appendonsend"></div>\n<hr style="display:inline-block;width:98%" tabindex="-1">\n'
        '<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri, sans-serif" style="font-size:11pt" '
        f'color="#000000"><b>差出人:</b> {BOT_NAME} &lt;{bot(key)}&gt;<br>\n<b>送信日時:</b> 2026年11月25日 '
        "10:00<br>\n<b>宛先:</b> 基金 太郎 &lt;kikin@houkan.example.jp&gt;<br>\n"
        f"<b>件名:</b> {SUBJECT}</font>"
        "\n<div>&nbsp;</div>\n</div>\n<div>" + "<br>\n".join(BOT_BODY) + "</div>\n</body>\n</html>\n"
    )
    msg = modern(
        sender="基金 太郎 <kikin@houkan.example.jp>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"Re: {SUBJECT}",
        msgid="<TYCPR01MB8437A1B2C3D4E5F6A7B8C9D0E1F2A@TYCPR01MB8437.jpnprd01.prod.outlook.com>",
        when=SENT + timedelta(minutes=5),
    )
    msg["Accept-Language"] = "ja-JP, en-US"
    msg["X-MS-Has-Attach"] = ""
    msg.set_content(html, subtype="html", charset="utf-8", cte="quoted-printable")
    return Case(
        "outlook-web",
        smtp_bytes(msg),
        "姓: 基金\n名: 太郎\n所属機関選択: 訪問看護\n\nよろしくお願いします。\n",
        sender="kikin@houkan.example.jp",
        reply_key=key,
        subject=f"Re: {SUBJECT}",
    )


@case
def outlook_ios() -> Case:
    key = "m4q9r2"
    answer = ["姓: 基金", "名: 太郎"]
    plain = text(
        [
            *answer,
            "",
            "Outlook for iOS を入手",
            "________________________________",
            f"差出人: {BOT_NAME} <{bot(key)}>",
            "送信日時: Wednesday, November 25, 2026 10:00:00 AM",
            "宛先: kikin@example.jp <kikin@example.jp>",
            f"件名: {SUBJECT}",
            "",
            *BOT_BODY,
        ]
    )
    msg = modern(
        sender="kikin@example.jp",
        to=bot(key),
        subject=f"Re: {SUBJECT}",
        msgid="<OS3PR01MB6612F0E1D2C3B4A5968778695A4B3C2D1E0@OS3PR01MB6612.jpnprd01.prod.outlook.com>",
        when=SENT + timedelta(minutes=9),
    )
    msg.set_content(plain, charset="utf-8", cte="base64")
    return Case("outlook-ios", smtp_bytes(msg), text(answer), sender="kikin@example.jp", reply_key=key)


@case
def iphone() -> Case:
    key = "p5c1v7"
    answer = ["姓: 基金", "名: 太郎", "都道府県: 北海道"]
    body = [
        *answer,
        "",
        "iPhoneから送信",
        "",
        f"2026/11/25 10:00、{BOT_NAME} <{bot(key)}>のメール:",
        "",
        "\ufeff" + quote(BOT_BODY)[0],
        *quote(BOT_BODY)[1:],
    ]
    msg = modern(
        sender="基金 太郎 <kikin.taro@icloud.com>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"Re: {SUBJECT}",
        msgid="<8A3C5E7F-1B2D-4F6A-9C8E-0D1F2A3B4C5D@icloud.com>",
        when=SENT + timedelta(minutes=31),
    )
    msg["X-Mailer"] = "iPhone Mail (22B91)"
    msg.set_content(text(body), charset="utf-8", cte="quoted-printable")
    return Case(
        "iphone",
        smtp_bytes(msg),
        text(answer),
        sender="kikin.taro@icloud.com",
        reply_key=key,
        subject=f"Re: {SUBJECT}",
    )


@case
def thunderbird() -> Case:
    key = "t9y3u6"
    # format=flowed; delsp=yes: a line ending in a space continues on the next, the space deleted
    body = [
        f"On 2026/11/25 10:00, {BOT_NAME} wrote:",
        *quote(BOT_BODY),
        "",
        "姓: 基金",
        "名: 太郎",
        "医療機関等・訪問看護ステーション名: 医療法人社団ほげ会 ほげ内科 ",
        "クリニック（分院ではなく本院として登録します）",
        "",
        "-- ",
        "基金 太郎 <kikin@hoge-naika.example.jp>",
    ]
    msg = modern(
        sender="基金 太郎 <kikin@hoge-naika.example.jp>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"Re: {SUBJECT}",
        msgid="<4e6f8a1c-2b3d-4e5f-8a9b-0c1d2e3f4a5b@hoge-naika.example.jp>",
        when=SENT + timedelta(hours=3),
    )
    msg["User-Agent"] = "Mozilla Thunderbird"
    msg["Content-Language"] = "ja"
    msg.set_content(text(body), charset="utf-8", cte="8bit")
    msg.set_param("format", "flowed")
    msg.set_param("delsp", "yes")
    return Case(
        "thunderbird",
        smtp_bytes(msg),
        "姓: 基金\n名: 太郎\n医療機関等・訪問看護ステーション名: 医療法人社団ほげ会 ほげ内科クリニック"
        "（分院ではなく本院として登録します）\n",
        sender="kikin@hoge-naika.example.jp",
        reply_key=key,
    )


@case
def becky_iso2022jp() -> Case:
    key = "b4x7q1"
    answer = [
        "登録受付 御中",
        "",
        "お世話になります。髙橋クリニックの基金です。",
        "以下のとおり回答します。",
        "",
        "姓: 基金",
        "名: 太郎",
        "開設者: ㈱髙橋メディカル",
        "備考: ①医科 ②歯科 の両方があります",
    ]
    body = "\n".join(
        [
            *answer,
            "",
            "On Wed, 25 Nov 2026 10:00:00 +0900",
            f"{BOT_NAME} <{bot(key)}> wrote:",
            "",
            *quote(BOT_BODY, "＞"),
        ]
    )
    msg = legacy(
        [
            ("Received", received("mx.regbot.example.jp", "smtp.takahashi-cl.example.jp", SENT)),
            ("Date", "Wed, 25 Nov 2026 11:22:05 +0900"),
            ("From", f"{jis_word('基金 太郎')} <kikin@takahashi-cl.example.jp>"),
            ("To", f"{jis_word(BOT_NAME)} <{bot(key)}>"),
            ("Subject", jis_word(f"Re: {SUBJECT} ①")),
            ("Message-Id", "<20261125112205.8F3A.E8C2B1D4@takahashi-cl.example.jp>"),
            ("In-Reply-To", OUR_ID),
            ("References", OUR_ID),
            ("MIME-Version", "1.0"),
            ("X-Mailer", "Becky! ver. 2.81.04 [ja]"),
        ]
    )
    jis_body(msg, body + "\n")
    return Case(
        "becky-iso2022jp",
        compat_bytes(msg),
        text(answer),
        sender="kikin@takahashi-cl.example.jp",
        reply_key=key,
        subject=f"Re: {SUBJECT} ①",
    )


@case
def keitai_iso2022jp() -> Case:
    key = "k2f8d3"
    answer = ["姓: 基金", "名: 太郎", "ﾌﾘｶﾞﾅ: ｷｷﾝ ﾀﾛｳ"]
    body = "\n".join([*answer, "", *quote(BOT_BODY[6:10], "＞")])
    msg = legacy(
        [
            ("Received", received("mx.regbot.example.jp", "mfsmax.docomo.ne.jp", SENT)),
            ("Date", "Wed, 25 Nov 2026 12:03:41 +0900 (JST)"),
            ("From", "kikin-taro.0123@docomo.ne.jp"),
            ("To", bot(key)),
            ("Subject", jis_word("Re:ﾕｰｻﾞｰ登録", kana_escape=True)),
            ("Message-ID", "<mo3f8a2c1b0d9e@docomo.ne.jp>"),
            ("MIME-Version", "1.0"),
        ]
    )
    jis_body(msg, body + "\n", kana_escape=True)
    return Case(
        "keitai-iso2022jp",
        compat_bytes(msg),
        text(answer),
        sender="kikin-taro.0123@docomo.ne.jp",
        reply_key=key,
        subject="Re:ﾕｰｻﾞｰ登録",
    )


@case
def shift_jis() -> Case:
    key = "s6j2n5"
    answer = [
        "姓: 基金",
        "名: 太郎",
        "医療機関等・訪問看護ステーション名: ①番館クリニック",
        "電話番号: 0312345678",
        "連絡可能時間: 9:00～17:00",
    ]
    body = "\r\n".join([*answer, "", f"{BOT_NAME} さんは書きました:", *quote(BOT_BODY)]) + "\r\n"
    msg = legacy(
        [
            ("Received", received("mx.regbot.example.jp", "mail.ichibankan.example.jp", SENT)),
            ("Date", "Wed, 25 Nov 2026 13:15:00 +0900"),
            ("From", f"{jis_word('基金 太郎')} <kikin@ichibankan.example.jp>"),
            ("To", bot(key)),
            ("Subject", f"=?Shift_JIS?B?{base64.b64encode(f'Re: {SUBJECT}'.encode('cp932')).decode()}?="),
            ("Message-ID", "<20261125131500.0000A1B2@ichibankan.example.jp>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=Shift_JIS"),
            ("Content-Transfer-Encoding", "base64"),
            ("X-Mailer", "EdMax Free Version 3.2"),
        ]
    )
    msg.set_payload(base64.encodebytes(body.encode("cp932")).decode("ascii"))
    return Case(
        "shift-jis",
        compat_bytes(msg),
        text(answer),
        sender="kikin@ichibankan.example.jp",
        reply_key=key,
        subject=f"Re: {SUBJECT}",
    )


@case
def euc_jp() -> Case:
    key = "e3u7c1"
    answer = ["姓: 基金", "名: 太郎", "所在地: 東京都港区芝公園４－２－８", "備考: 受付は①番窓口です"]
    body = "\n".join([*answer, "", f"2026/11/25 10:00, {BOT_NAME} wrote:", *quote(BOT_BODY)]) + "\n"
    msg = legacy(
        [
            ("Received", received("mx.regbot.example.jp", "shell.example.jp", SENT)),
            ("Date", "Wed, 25 Nov 2026 14:00:00 +0900"),
            ("From", "kikin@shell.example.jp (Taro Kikin)"),
            ("To", bot(key)),
            ("Subject", f"Re: {jis_word(SUBJECT)}"),
            ("Message-ID", "<87h6ty3k2p.fsf@shell.example.jp>"),
            ("MIME-Version", "1.0"),
            ("Content-Type", "text/plain; charset=EUC-JP"),
            ("Content-Transfer-Encoding", "8bit"),
            ("User-Agent", "Wanderlust/2.15.9 (Almost Unreal) Emacs/29.1 Mule/6.0"),
        ]
    )
    msg.set_payload(body.replace("\n", "\r\n").encode("euc_jis_2004").decode("ascii", "surrogateescape"))
    return Case(
        "euc-jp",
        compat_bytes(msg),
        text(answer),
        sender="kikin@shell.example.jp",
        reply_key=key,
        subject=f"Re: {SUBJECT}",
    )


@case
def html_only() -> Case:
    key = "h8t2m6"
    html = (
        '<html><head><meta charset="utf-8"><title>Re: 登録</title><style>p { margin: 0 }</style>\n'
        '<script>var note = "<p>not text</p>";</script></head>\n<body>\n'
        "<p>姓: 基金<br>名: 太郎</p>\n"
        "<div>所属機関選択: 調剤</div>\n"
        "<p>Q&amp;A を読みました &lt;確認済み&gt;&nbsp;よろしくお願いします。</p>\n"
        "<ul>\n  <li>質問1</li>\n  <li>質問2</li>\n</ul>\n"
        '<blockquote type="cite"><p>' + "</p><p>".join(BOT_BODY) + "</p></blockquote>\n"
        "</body></html>\n"
    )
    msg = modern(
        sender="Kikin Yakkyoku <info@kikin-pharmacy.example.jp>",
        to=bot(key),
        subject=f"Re: {SUBJECT}",
        msgid="<5c0f1e2d3c4b5a69@webmail.kikin-pharmacy.example.jp>",
        when=SENT + timedelta(minutes=50),
    )
    msg["Content-Type"] = "text/html"  # no charset: the <meta> and the bytes tell
    msg["Content-Transfer-Encoding"] = "8bit"
    msg.set_payload(html.encode("utf-8").decode("ascii", "surrogateescape"))
    return Case(
        "html-only",
        smtp_bytes(msg),
        "姓: 基金\n名: 太郎\n所属機関選択: 調剤\n"
        "Q&A を読みました <確認済み> よろしくお願いします。\n質問1\n質問2\n",
        sender="info@kikin-pharmacy.example.jp",
        reply_key=key,
    )


@case
def forwarded() -> Case:
    answer = ["すみません、こちらの件で登録をお願いします。", "姓: 基金", "名: 太郎"]
    body = [
        *answer,
        "",
        "---------- Forwarded message ---------",
        f"From: {BOT_NAME} <{bot('f2w9c4')}>",
        "Date: 2026年11月25日(水) 10:00",
        f"Subject: {SUBJECT}",
        "To: <kikin@example.jp>",
        "",
        "",
        *BOT_BODY,
    ]
    msg = modern(
        sender="基金 太郎 <kikin.jimu@gmail.com>",
        to=BOT,
        subject=f"Fwd: {SUBJECT}",
        msgid="<CAB7zQ1nXr4Kp6Wd2Lc8Ve0Hf3Tg5Mj9Ns1Yo7Pa4Ub2Ic@mail.gmail.com>",
        when=SENT + timedelta(days=1),
        in_reply_to=None,
    )
    msg.set_content(text(body), charset="utf-8", cte="quoted-printable")
    return Case(
        "forwarded",
        smtp_bytes(msg),
        text(answer),
        sender="kikin.jimu@gmail.com",
        reply_key=None,
        subject=f"Fwd: {SUBJECT}",
    )


@case
def interleaved() -> Case:
    key = "i5r8t3"
    quoted = quote(BOT_BODY)
    body = [
        f"On Wed, Nov 25, 2026 at 10:00 AM {BOT_NAME} <{bot(key)}> wrote:",
        "",
        *quoted[:6],
        quoted[6],
        "基金",
        quoted[7],
        "太郎",
        quoted[8],
        "1",
        quoted[9],
        "東京都",
        "",
        "パスワードは確認メールで設定します。",
        "",
        *quoted[10:],
    ]
    msg = modern(
        sender="基金 太郎 <kikin@example.jp>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"Re: {SUBJECT}",
        msgid="<CAK2wN8rYt5Lm3Qp7Xs1Vb9Hd4Jf6Gc0Za2Ue8Io3Pk5@mail.gmail.com>",
        when=SENT + timedelta(minutes=20),
    )
    msg.set_content(text(body), charset="utf-8", cte="quoted-printable")
    return Case(
        "interleaved",
        smtp_bytes(msg),
        "姓: 基金\n名: 太郎\n所属機関選択: 1\n都道府県: 東京都\n\nパスワードは確認メールで設定します。\n",
        sender="kikin@example.jp",
        reply_key=key,
    )


@case
def template_reply() -> Case:
    key = "r7t1p4"
    answer = [
        "姓: 基金",
        "名: 太郎",
        "所属機関選択: 1",
        "都道府県: 東京",
        "――――――――――――――――",
        "医療機関等・訪問看護ステーションコード（7桁）: ８８１４７９０",
        "医療機関等・訪問看護ステーション名: 基金クリニック",
        "電話番号: ０３－１２３４－５６７８",
    ]
    signature = [
        "━━━━━━━━━━━━━━━━━━━━",
        "基金クリニック 事務長 基金 太郎",
        "〒105-0011 東京都港区芝公園",
        "TEL：03-1234-5678 / FAX：03-1234-5679",
        "Mail：kikin@kikin-clinic.example.jp",
        "━━━━━━━━━━━━━━━━━━━━",
    ]
    body = [
        *answer,
        "",
        *signature,
        "",
        "----- Original Message -----",
        f"From: {BOT_NAME} <{bot(key)}>",
        "To: kikin@kikin-clinic.example.jp",
        "Sent: Wednesday, November 25, 2026 10:00 AM",
        f"Subject: {SUBJECT}",
        "",
        *BOT_BODY,
    ]
    msg = modern(
        sender="基金クリニック 事務長 <kikin@kikin-clinic.example.jp>",
        to=bot(key),
        subject=f"Re: {SUBJECT}",
        msgid="<000c01db3f41$7d8e9fa0$78badee0$@kikin-clinic.example.jp>",
        when=SENT + timedelta(hours=5),
    )
    msg.set_content(text(body), charset="utf-8", cte="8bit")
    return Case(
        "template-reply",
        smtp_bytes(msg),
        text(answer),
        sender="kikin@kikin-clinic.example.jp",
        reply_key=key,
    )


@case
def ooo_auto_submitted() -> Case:
    key = "a3o8f6"
    body = [
        "基金です。",
        "11月30日まで不在にしております。",
        "ご用件は事務室（03-1234-5678）までお願いいたします。",
    ]
    msg = modern(
        sender="基金 太郎 <kikin@hospital.example.jp>",
        to=f"{BOT_NAME} <{bot(key)}>",
        subject=f"自動応答: {SUBJECT}",
        msgid="<a1b2c3d4e5f6478899aabbccddeeff00@hospital.example.jp>",
        when=SENT + timedelta(seconds=40),
    )
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg["Thread-Topic"] = SUBJECT
    msg.set_content(text(body), charset="utf-8", cte="base64")
    return Case(
        "ooo-auto-submitted",
        smtp_bytes(msg),
        text(body),
        sender="kikin@hospital.example.jp",
        reply_key=key,
        auto="auto-submitted",
        subject=f"自動応答: {SUBJECT}",
    )


@case
def ooo_subject_ja() -> Case:
    key = "n6t4z9"
    body = ["ただいま出張のため不在にしております。", "12月1日以降に確認いたします。"]
    msg = legacy(
        [
            ("Received", received("mx.regbot.example.jp", "mail.clinic.example.jp", SENT)),
            ("Date", "Wed, 25 Nov 2026 10:00:07 +0900"),
            ("From", f"{jis_word('基金 花子')} <hanako@clinic.example.jp>"),
            ("To", bot(key)),
            ("Subject", jis_word(f"不在通知：{SUBJECT}")),
            ("Message-ID", "<20261125100007.5E6F@clinic.example.jp>"),
            ("MIME-Version", "1.0"),
        ]
    )
    jis_body(msg, "\n".join(body) + "\n")
    return Case(
        "ooo-subject-ja",
        compat_bytes(msg),
        text(body),
        sender="hanako@clinic.example.jp",
        reply_key=key,
        auto="ooo-subject",
        subject=f"不在通知：{SUBJECT}",
    )


@case
def bounce() -> Case:
    human = [
        "This is the mail system at host mx.regbot.example.jp.",
        "",
        "I'm sorry to have to inform you that your message could not",
        "be delivered to one or more recipients. It's attached below.",
        "",
        "<nobody@kikin.example.jp>: host mx.kikin.example.jp[192.0.2.25] said: 550 5.1.1",
        "    <nobody@kikin.example.jp>: Recipient address rejected: User unknown",
    ]
    report = MIMEMultipart(
        "report", report_type="delivery-status", boundary="8A1C53E0F2.1795000000/mx.regbot"
    )
    for name, value in (
        ("Return-Path", "<>"),
        (
            "Received",
            "by mx.regbot.example.jp (Postfix) id 8A1C53E0F2; Wed, 25 Nov 2026 10:00:03 +0900 (JST)",
        ),
        ("Date", "Wed, 25 Nov 2026 10:00:03 +0900 (JST)"),
        ("From", "MAILER-DAEMON@mx.regbot.example.jp (Mail Delivery System)"),
        ("Subject", "Undelivered Mail Returned to Sender"),
        ("To", BOT),
        ("Auto-Submitted", "auto-replied"),
        ("Message-Id", "<20261125010003.8A1C53E0F2@mx.regbot.example.jp>"),
    ):
        report[name] = value
    report.attach(MIMEText(text(human), "plain", "us-ascii"))
    status = MIMEBase("message", "delivery-status")
    blocks: list[Message | str] = []
    for fields in (
        [("Reporting-MTA", "dns; mx.regbot.example.jp"), ("Arrival-Date", "Wed, 25 Nov 2026 10:00:01 +0900")],
        [
            ("Final-Recipient", "rfc822; nobody@kikin.example.jp"),
            ("Action", "failed"),
            ("Status", "5.1.1"),
            ("Diagnostic-Code", "smtp; 550 5.1.1 Recipient address rejected: User unknown"),
        ],
    ):
        block = Message()
        for name, value in fields:
            block[name] = value
        blocks.append(block)
    status.set_payload(blocks)
    report.attach(status)
    original = legacy(
        [
            ("From", BOT),
            ("To", "nobody@kikin.example.jp"),
            ("Subject", "=?utf-8?b?44CQ57eP5ZCI44Od44O844K/44Or44K144Kk44OI44CR?="),
            ("Message-ID", OUR_ID),
            ("Auto-Submitted", "auto-replied"),
            ("X-Regbot-Awaiting", "family_name"),
        ]
    )
    original.set_payload("(body omitted)\r\n")
    report.attach(MIMEMessage(original))
    return Case(
        "bounce",
        compat_bytes(report),
        text(human),
        sender="mailer-daemon@mx.regbot.example.jp",
        auto="bounce-null-sender",
        subject="Undelivered Mail Returned to Sender",
    )


@case
def mailing_list() -> Case:
    body = [
        "【医療情報化ニュース】第128号",
        "",
        "今月のお知らせです。",
        "配信停止はこちら: https://lists.example.jp/u",
    ]
    msg = modern(
        sender="医療情報化ニュース <news@lists.example.jp>",
        to=BOT,
        subject="【医療情報化ニュース】第128号",
        msgid="<list.128.3f2e1d0c@lists.example.jp>",
        when=SENT,
        in_reply_to=None,
    )
    msg["Precedence"] = "list"
    msg["List-Id"] = "医療情報化ニュース <news.lists.example.jp>"
    msg["List-Unsubscribe"] = "<https://lists.example.jp/u>, <mailto:leave@lists.example.jp>"
    msg.set_content(text(body), charset="utf-8", cte="base64")
    return Case(
        "mailing-list",
        smtp_bytes(msg),
        text(body),
        sender="news@lists.example.jp",
        auto="precedence",
        subject="【医療情報化ニュース】第128号",
    )


@case
def loop() -> Case:
    key = "l6z2v8"
    msg = modern(
        sender=f"{BOT_NAME} <{BOT}>",
        to=bot(key),
        subject=SUBJECT,
        msgid="<regbot.9f8e7d6c5b4a39281706@regbot.example.jp>",
        when=SENT,
        in_reply_to=None,
    )
    msg["Reply-To"] = bot(key)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Regbot-Awaiting"] = "family_name"
    msg.set_content(text(BOT_BODY), charset="utf-8")
    return Case(
        "loop",
        smtp_bytes(msg),
        "",  # the bot's own marker is the first line: nothing above it
        sender=BOT,
        reply_key=key,
        auto="own-address",
        subject=SUBJECT,
    )


@case
def loop_message_id() -> Case:
    msg = modern(
        sender="転送サービス <alias@hospital.example.jp>",
        to=BOT,
        subject=SUBJECT,
        msgid="<regbot.0a1b2c3d4e5f60718293@regbot.example.jp>",
        when=SENT,
        in_reply_to=None,
    )
    msg.set_content(text(["この行は転送サービスが付けました。", "", *BOT_BODY]), charset="utf-8")
    return Case(
        "loop-message-id",
        smtp_bytes(msg),
        "この行は転送サービスが付けました。\n",
        sender="alias@hospital.example.jp",
        auto="own-message-id",
        subject=SUBJECT,
    )


@case
def huge_header() -> Case:
    key = "z1h5g8"
    msg = modern(
        sender="kikin@example.jp",
        to=bot(key),
        subject=f"Re: {SUBJECT}",
        msgid="<huge.0001@example.jp>",
        when=SENT,
    )
    references = " ".join(f"<thread.{n:05d}@example.jp>" for n in range(3000)) + f" {OUR_ID}"
    del msg["References"]
    msg["References"] = references
    msg["X-Spam-Report"] = " ".join(f"rule_{n:06d}=0.{n % 10}" for n in range(20000))
    one_megabyte = "x" * (1 << 20)
    msg.set_content(f"姓: 基金\n\n> {one_megabyte}\n", charset="utf-8", cte="8bit")
    return Case(
        "huge-header",
        smtp_bytes(msg),
        "姓: 基金\n",
        sender="kikin@example.jp",
        reply_key=key,
        extra={"references_count": 100, "last_reference": OUR_ID},
    )


@case
def invalid_utf8() -> Case:
    key = "u2v6w0"
    body = "姓: 基金\n名: 太".encode() + b"\xe9\x83" + "郎\n所属機関選択: 1".encode() + b"\xff\n"
    msg = modern(
        sender="kikin@example.jp",
        to=bot(key),
        subject=f"Re: {SUBJECT}",
        msgid="<broken.utf8.0001@example.jp>",
        when=SENT,
    )
    msg["Content-Type"] = 'text/plain; charset="UTF-8"'
    msg["Content-Transfer-Encoding"] = "8bit"
    msg.set_payload(body.replace(b"\n", b"\r\n").decode("ascii", "surrogateescape"))
    return Case(
        "invalid-utf8",
        smtp_bytes(msg),
        "姓: 基金\n名: 太\ufffd郎\n所属機関選択: 1\ufffd\n",
        sender="kikin@example.jp",
        reply_key=key,
    )


@case
def binary_junk() -> Case:
    junk = b"\x89PNG\r\n\x1a\n" + random.Random(5).randbytes(4096)
    return Case("binary-junk", junk, None)


@case
def attachment_only() -> Case:
    key = "x4b8n2"
    msg = modern(
        sender="kikin@example.jp",
        to=bot(key),
        subject="資料",
        msgid="<attach.0001@example.jp>",
        when=SENT,
        in_reply_to=None,
    )
    msg.make_mixed()
    msg.add_attachment(random.Random(7).randbytes(3000), "application", "octet-stream", filename="scan.bin")
    msg.set_boundary("----=_Part_0_1234567890.1732496400000")
    return Case(
        "attachment-only",
        smtp_bytes(msg),
        "",
        sender="kikin@example.jp",
        reply_key=key,
        subject="資料",
    )


@case
def cc_reply_key() -> Case:
    answer = ["姓: 基金", "名: 太郎", "", "（事務長にも共有しています）"]
    body = [
        *answer,
        "",
        f"On Wed, Nov 25, 2026 at 10:00 AM {BOT_NAME} <{bot('abc123')}> wrote:",
        *quote(BOT_BODY),
    ]
    msg = modern(
        sender="基金 太郎 <kikin@hospital.example.jp>",
        to="事務長 <jimucho@hospital.example.jp>",
        subject=f"Re: {SUBJECT}",
        msgid="<CAL9qW3eRt6Yu1Io4Pa7Sd0Fg2Hj5Kl8Zx3Cv6Bn9Mq1We@mail.gmail.com>",
        when=SENT + timedelta(minutes=15),
    )
    msg["Cc"] = f'"{BOT_NAME}" <Register+abc123@REGBOT.Example.JP>'
    msg.set_content(text(body), charset="utf-8", cte="quoted-printable")
    return Case(
        "cc-reply-key",
        smtp_bytes(msg),
        text(answer),
        sender="kikin@hospital.example.jp",
        reply_key="abc123",
    )


# ------------------------------------------------------------------------------------------ output


def main(out: Path = HERE) -> None:
    out.mkdir(parents=True, exist_ok=True)
    index = []
    for builder in CASES:
        built = builder()
        (out / f"{built.name}.eml").write_bytes(built.raw)
        entry: dict[str, object] = {"name": built.name}
        if built.expected is None:
            entry["error"] = "MailParseError"
        else:
            (out / f"{built.name}.expected.txt").write_text(built.expected, encoding="utf-8")
            entry.update(sender=built.sender, reply_key=built.reply_key, auto=built.auto)
            if built.subject is not None:
                entry["subject"] = built.subject
            entry.update(built.extra)
        index.append(entry)
    (out / "index.json").write_text(json.dumps(index, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
