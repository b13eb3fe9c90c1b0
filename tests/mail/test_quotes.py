"""mail.quotes: the person's reply cut from quotes, attributions and signatures; HTML made text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mail.quotes import MAX_HTML, MAX_LINES, extract_reply, html_to_text

BOT_QUOTE = "> ##- この行より上にご返信ください -##\n>\n> 姓:\n> 名:\n"

CASES = [
    # (what it shows, mail text, expected reply)
    ("bot marker", "姓: 基金\n\n##- この行より上にご返信ください -##\n姓:\n", "姓: 基金"),
    ("English marker", "Kikin\n---- Please reply above this line ----\nold", "Kikin"),
    ("marker without quoting (Outlook)", "名: 太郎\r\n\r\nこの行より上にご返信ください\r\n名:", "名: 太郎"),
    ("Gmail", "姓: 基金\n\nOn Wed, Nov 25, 2026 at 10:00 AM Bot <r@x.jp> wrote:\n\n" + BOT_QUOTE, "姓: 基金"),
    (
        "Gmail, attribution wrapped",
        "姓: 基金\n\nOn Wed, Nov 25, 2026 at 10:00 AM 総合ポータルサイト 登録受付 <\n"
        "register+k@x.jp> wrote:\n>\n",
        "姓: 基金",
    ),
    (
        "Gmail Japanese",
        "姓: 基金\n\n2026年11月25日(水) 10:00 基金 太郎 <x@y.jp>:\n\n" + BOT_QUOTE,
        "姓: 基金",
    ),
    ("Gmail Japanese, no name", "姓: 基金\n2026年11月25日(水) 10:00 <x@y.jp>:\n> a", "姓: 基金"),
    (
        "Gmail Japanese, wrapped",
        "姓: 基金\n\n2026年11月25日(水) 10:00 登録受付 <\nr+k@x.jp>:\n> a",
        "姓: 基金",
    ),
    ("Outlook original message", "姓: 基金\n\n-----Original Message-----\nFrom: r@x.jp\n姓:", "姓: 基金"),
    ("Outlook Express", "姓: 基金\n----- Original Message -----\nFrom: r@x.jp", "姓: 基金"),
    (
        "Outlook rule + 差出人",
        "姓: 基金\n\n________________________________\n差出人: 登録受付 <r@x.jp>\n"
        "送信日時: 2026年11月25日 10:00\n姓:",
        "姓: 基金",
    ),
    (
        "From/Sent block",
        "姓: 基金\n\nFrom: Bot <r@x.jp>\nSent: Wednesday, November 25, 2026 10:00\nTo: a",
        "姓: 基金",
    ),
    (
        "差出人/送信日時 block",
        "姓: 基金\n差出人: 登録受付 <r@x.jp>\n送信日時: 2026年11月25日 10:00\n宛先: a",
        "姓: 基金",
    ),
    ("HTML-converted *From:*", "姓: 基金\n\n*From:* Bot <r@x.jp>\n*Sent:* Wednesday\n*To:* a", "姓: 基金"),
    ("Apple Mail Japanese", "姓: 基金\n\n2026/11/25 10:00、登録受付 <r@x.jp>のメール:\n\n> 姓:", "姓: 基金"),
    ("Apple Mail English", "姓: 基金\n\nOn Nov 25, 2026, at 10:00, Bot <r@x.jp> wrote:\n\n> 姓:", "姓: 基金"),
    ("Thunderbird", "姓: 基金\n\nOn 2026/11/25 10:00, 登録受付 wrote:\n> 姓:", "姓: 基金"),
    ("Thunderbird, name only", "姓: 基金\n\n登録受付 wrote:\n> 姓:", "姓: 基金"),
    ("Thunderbird Japanese は", "姓: 基金\n\n登録受付 さんは書きました:\n> 姓:", "姓: 基金"),
    (
        "Thunderbird Japanese が",
        "姓: 基金\n\n2026/11/25 10:00 に 登録受付 さんが書きました：\n> 姓:",
        "姓: 基金",
    ),
    (
        "Becky! two-line",
        "姓: 基金\n\nOn Wed, 25 Nov 2026 10:00:00 +0900\n登録受付 <r@x.jp> wrote:\n\n> a",
        "姓: 基金",
    ),
    ("full-width quotes", "姓: 基金\n\n＞姓:\n＞名:\n", "姓: 基金"),
    ("quotes without attribution", "名: 太郎\n> 姓:\n> > older\n", "名: 太郎"),
    (
        "interleaved answers are kept",
        "On Wed, Nov 25, 2026 at 10:00 AM Bot <r@x.jp> wrote:\n"
        "> 質問です。\nはい\n> 次の質問です。\nいいえ\n",
        "はい\nいいえ",
    ),
    (
        "an answer under a quoted template line gets its label",
        "On 2026/11/25 10:00, Bot wrote:\n> 姓:\n基金\n> 所属機関選択: （1:医科 3:歯科）\n1\n> 名:\n\n太郎\n",
        "姓: 基金\n所属機関選択: 1\n\n太郎",
    ),
    ("quoted mail headers are not labels", "> From:\nBot\n> Sent:\nMonday\n", "Bot\nMonday"),
    ("a quoted line with a value is no template", "> 姓: 山田\n基金\n", "基金"),
    ("bottom-posting", "Bot wrote:\n> 姓:\n> 名:\n\n姓: 基金\n名: 太郎\n", "姓: 基金\n名: 太郎"),
    (
        "Gmail forward",
        "お願いします\n\n---------- Forwarded message ---------\nFrom: Bot <r@x.jp>\n",
        "お願いします",
    ),
    ("Japanese forward", "転送します\n\n----- 転送メッセージ -----\n差出人: r@x.jp\n", "転送します"),
    ("Apple forward", "転送します\n\nBegin forwarded message:\n\nFrom: r@x.jp", "転送します"),
    ("Thunderbird forward", "fwd\n\n-------- Forwarded Message --------\nSubject: x", "fwd"),
    ("signature dash-dash-space", "姓: 基金\n\n-- \n基金 太郎\nTEL: 03-1234-5678", "姓: 基金"),
    ("signature dash-dash", "姓: 基金\n--\n基金 太郎", "姓: 基金"),
    (
        "boxed signature with contact lines",
        "姓: 基金\n\n━━━━━━━━━━\n基金クリニック 基金 太郎\nＴＥＬ：03-1234-5678／ＦＡＸ：03-1234-5679\n"
        "E-mail: k@x.jp\nURL: https://x.jp\n━━━━━━━━━━\n",
        "姓: 基金",
    ),
    ("rule of ―", "名: 太郎\n―――――――――\n基金 太郎\n", "名: 太郎"),
    ("rule of ＝ then nothing", "名: 太郎\n＝＝＝＝＝＝\n", "名: 太郎"),
    ("rule of *", "名: 太郎\n* * * * * *\n基金\n", "名: 太郎"),
    (
        "a rule line with answers after it stays",
        "姓: 基金\n-----\n電話番号: 0312345678\nメールアドレス: k@x.jp\n",
        "姓: 基金\n-----\n電話番号: 0312345678\nメールアドレス: k@x.jp",
    ),
    ("a short rule is text", "姓: 基金\n----\n基金 太郎", "姓: 基金\n----\n基金 太郎"),
    ("time in a signature is no answer", "姓: 基金\n=====\n受付 9:00-17:00\n", "姓: 基金"),
    ("iPhone", "名: 太郎\n\niPhoneから送信\n\n2026/11/25 10:00、r@x.jp のメール:", "名: 太郎"),
    ("iPhone English", "名: 太郎\n\nSent from my iPhone\n\nOn Nov 25", "名: 太郎"),
    ("Android", "名: 太郎\nAndroid から送信\n", "名: 太郎"),
    ("Outlook mobile", "名: 太郎\n\nOutlook for iOS を入手\n", "名: 太郎"),
    ("Windows Mail", "名: 太郎\n\nWindows 10 版のメールから送信\n", "名: 太郎"),
    ("carrier footer", "名: 太郎\n--- docomo\n", "名: 太郎"),
    ("trailing blank lines and spaces", "\n\n姓: 基金  \n\n\n\n名: 太郎\n\n\n", "姓: 基金\n\n名: 太郎"),
    (
        "full-width is kept",
        "電話番号：０３－１２３４－５６７８\n　ｶﾞ ①",
        "電話番号：０３－１２３４－５６７８\n　ｶﾞ ①",
    ),
    (
        "a date in an answer is no attribution",
        "新設年月日: 2024年4月1日 10:00\n開設日",
        "新設年月日: 2024年4月1日 10:00\n開設日",
    ),
    ("a person saying wrote", "I wrote: hello\nthere", "I wrote: hello\nthere"),
    ("nothing but a quote", "> 姓:\n> 名:\n", ""),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_extract_reply(text: str, expected: str) -> None:
    assert extract_reply(text) == expected


def test_only_the_first_lines_are_read() -> None:
    assert extract_reply("a\n" * (MAX_LINES + 10) + "tail").splitlines() == ["a"] * MAX_LINES


def test_a_megabyte_line_is_content() -> None:
    line = "x" * (1 << 20) + " wrote:"
    assert extract_reply(f"姓: 基金\n{line}\n> q") == f"姓: 基金\n{line}"


HTML_CASES = [
    (
        "line breaks",
        "<p>姓: 基金<br>名: 太郎</p><div>都道府県: 東京</div>",
        "姓: 基金\n名: 太郎\n都道府県: 東京",
    ),
    ("Gmail blank line", '<div dir="ltr">a<div><br></div><div>b</div></div>', "a\n\nb"),
    (
        "table rows and list items",
        "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table><ul><li>d</li></ul>",
        "a b\nc\nd",
    ),
    ("entities", "<p>Q&amp;A &lt;ok&gt;&nbsp;&#x2460;&copy;</p>", "Q&A <ok> ①©"),
    (
        "script, style, head",
        "<head><title>t</title><style>p{}</style></head><script>x()</script><p>本文</p>",
        "本文",
    ),
    ("markup whitespace", "<div>\n  <p>\n   a\n   b\n  </p>\n</div>", "a b"),
    ("pre keeps lines", "<pre>a\n  b</pre>", "a\n  b"),
    (
        "Gmail quote",
        '<div>答え</div><div class="gmail_quote"><div class="gmail_attr">On x wrote:</div>'
        "<blockquote>old</blockquote></div>",
        "答え",
    ),
    (
        "blockquote between answers",
        "<p>a</p><blockquote><p>q</p><blockquote>qq</blockquote></blockquote><p>b</p>",
        "a\nb",
    ),
    (
        "Outlook web",
        '<div>答え</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> x</div>'
        "<div>old</div>",
        "答え",
    ),
    (
        "Outlook web without appendonsend",
        '<div>答え</div><hr><div id="divRplyFwdMsg">From: x</div><p>old</p>',
        "答え",
    ),
    (
        "Thunderbird cite prefix",
        '<p>答え</p><div class="moz-cite-prefix">On x, Bot wrote:<br></div>'
        '<blockquote type="cite">old</blockquote>',
        "答え",
    ),
    ("signature div", '<div>答え</div><div id="Signature">基金 太郎<br>TEL</div>', "答え"),
    ("unclosed quote swallows the rest", "<p>a</p><blockquote><p>q", "a"),
    ("broken markup", "<p>a<![if !supportLists]>b</p><!-- c --><p>d</p>", None),
    ("a < that opens no tag is text", "<p>1 < 2 and <a</p><p>x<b", "1 < 2 and <a\nx<b"),
    ("unclosed comment hides the rest", "<p>a</p><!-- <p>b</p>", "a"),
]


@pytest.mark.parametrize(("html", "expected"), [c[1:] for c in HTML_CASES], ids=[c[0] for c in HTML_CASES])
def test_html_to_text(html: str, expected: str | None) -> None:
    text = html_to_text(html)
    if expected is None:
        assert "a" in text and "d" in text
    else:
        assert text == expected


def test_unfinished_tags_in_bulk_are_text() -> None:
    """html.parser alone rescans an unfinished tag for every later "<" (minutes for 200 KB)."""
    assert html_to_text("<a" * 50_000) == "<a" * 50_000
    assert len(html_to_text("x" * (MAX_HTML + 10))) == MAX_HTML


def test_hr_then_from_is_cut_as_a_quote() -> None:
    html = "<p>姓: 基金</p><hr><p><b>差出人:</b> 登録受付</p><p><b>送信日時:</b> 2026年11月25日</p><p>姓:</p>"
    assert extract_reply(html_to_text(html)) == "姓: 基金"


# ------------------------------------------------------------------------------------------ properties

_LINES = st.sampled_from(
    [
        "", " ", "姓: 基金", "名:", "> 姓:", "> 名: （例）", "＞ 引用", ">", "基金", "太郎", "10:00",
        "-- ", "--",
        "-----", "━━━━━━", "TEL: 03-1234-5678", "Mail: a@b.jp", "電話番号: 0312345678", "On 10:00 Bot <",
        "a@b> wrote:", "Bot wrote:", "2026年11月25日(水) 10:00 <a@b.jp>:", "-----Original Message-----",
        "From: a", "Sent: b", "差出人: a", "送信日時: b", "________________", "iPhoneから送信",
        "この行より上にご返信ください", "---------- Forwarded message ---------", "> From:", "\ufeff> q",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_extract_reply_never_raises_and_is_stable_on_any_text(text: str) -> None:
    once = extract_reply(text)
    assert extract_reply(once) == once


@settings(max_examples=500, deadline=None)
@given(st.lists(_LINES, max_size=25))
def test_extract_reply_is_stable_on_mail_like_text(lines: list[str]) -> None:
    once = extract_reply("\n".join(lines))
    assert extract_reply(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)
