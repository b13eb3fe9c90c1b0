"""The verification and completion mails read as the manual's, and survive a round trip through bytes."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage

import pytest

from mail.compose import (
    COMPLETION_SUBJECT,
    VERIFICATION_SUBJECT,
    completion_mail,
    ttl_text,
    verification_mail,
)

LINK = "https://regbot.example.jp/verify/Vq3x9Zk2LmN0pQrStUvWxYz_AbCdEfGh-IjKlMnOpQr"
PORTAL = "https://portal.example.jp/csm"
FROM = "医療機関等向け総合ポータルサイト <register@regbot.example.jp>"


def _parsed(message: EmailMessage) -> EmailMessage:
    parsed = email.message_from_bytes(bytes(message), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def _html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def _verification(**overrides: object) -> EmailMessage:
    arguments: dict[str, object] = {
        "to": "kikin.taro@example.jp",
        "family_name": "基金",
        "given_name": "太郎",
        "link": LINK,
        "ttl_hours": 24,
        "mail_from": FROM,
    }
    arguments.update(overrides)
    return _parsed(verification_mail(**arguments))  # type: ignore[arg-type]


def test_verification_subject_is_the_manuals() -> None:
    """The subject is exactly 【総合ポータルサイト】メールアドレス登録確認メール."""
    assert _verification()["Subject"] == "【総合ポータルサイト】メールアドレス登録確認メール"
    assert VERIFICATION_SUBJECT == "【総合ポータルサイト】メールアドレス登録確認メール"


def test_verification_body_follows_the_manual() -> None:
    """Greeting <姓> <名> 様, the manual's sentences, the ===== block and the footer, in order."""
    text = _text(_verification())
    expected_in_order = [
        "基金 太郎 様",
        "総合ポータルサイトへご登録いただきありがとうございます。",
        "以下URLに遷移することで、ユーザー登録が完了します。",
        "=====",
        "ユーザー登録完了は以下からお願いいたします。",
        LINK,
        "=====",
        "※本URLの有効期限は24時間となります。",
        "※本メールは送信専用です。本メールへの返信にはご回答できません。",
        "※本メールにお心当たりのない場合やご不明な点がある場合は以下よりお問い合わせください。",
        "社会保険診療報酬支払基金（情報化企画部・情報化支援部）",
        "国民健康保険中央会（医療保険情報提供等実施機関担当室）",
        "オンライン資格確認等コールセンター：0800-080-4583（通話無料）",
        "月曜日～金曜日8：00～18：00 土曜日8：00～16：00（いずれも祝日を除く）",
    ]
    lines = text.splitlines()
    assert lines[0] == "基金 太郎 様"
    position = 0
    for expected in expected_in_order:
        position = lines.index(expected, position) + 1


def test_link_stands_alone_on_one_line() -> None:
    """The link is a whole line of its own, unbroken, so plain-text clients keep it clickable."""
    lines = _text(_verification()).splitlines()
    assert LINK in lines
    assert sum(LINK in line for line in lines) == 1
    assert lines[lines.index(LINK) - 1] == ""
    assert lines[lines.index(LINK) + 1] == ""


def test_link_with_white_space_is_refused() -> None:
    """A link with a space or line break would break in the mail: composing it is a bug."""
    with pytest.raises(ValueError):
        verification_mail(
            to="a@example.jp",
            family_name="基金",
            given_name="太郎",
            link=LINK[:30] + "\n" + LINK[30:],
            ttl_hours=24,
            mail_from=FROM,
        )


@pytest.mark.parametrize(
    ("ttl_hours", "rendered"),
    [
        (24, "24時間"),
        (24.0, "24時間"),
        (48, "48時間"),
        (0.5, "0.5時間（30分）"),
        (1.5, "1.5時間（1時間30分）"),
        (0.25, "0.25時間（15分）"),
        (0.001, "0.001時間（3.6秒）"),
    ],
)
def test_ttl_rendering(ttl_hours: float, rendered: str) -> None:
    """The lifetime reads naturally in Japanese, decimals with minutes or seconds in brackets."""
    assert ttl_text(ttl_hours) == rendered


def test_configured_ttl_appears_in_the_mail() -> None:
    """REGBOT_TOKEN_TTL_HOURS reaches the 有効期限 sentence."""
    assert "※本URLの有効期限は0.5時間（30分）となります。" in _text(_verification(ttl_hours=0.5))


def test_headers_of_an_automatic_mail() -> None:
    """From, To, Date, Message-ID (mail_from's domain) and Auto-Submitted: auto-generated are set."""
    when = datetime(2025, 4, 1, 9, 30, tzinfo=UTC)
    message = _verification(now=when, reply_to="register+k3y@regbot.example.jp")
    assert message["To"] == "kikin.taro@example.jp"
    assert message["From"].addresses[0].addr_spec == "register@regbot.example.jp"
    assert message["Reply-To"] == "register+k3y@regbot.example.jp"
    assert message["Date"].datetime == when
    assert re.fullmatch(r"<[^@<>]+@regbot\.example\.jp>", message["Message-ID"])
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "ja"


def test_message_ids_are_unique() -> None:
    """Two mails never share a Message-ID."""
    assert _verification()["Message-ID"] != _verification()["Message-ID"]


def test_reply_to_is_optional() -> None:
    """Without reply_to there is no Reply-To header and the mail says it is 送信専用."""
    message = _verification()
    assert message["Reply-To"] is None
    assert "※本メールは送信専用です。" in _text(message)


def test_reply_to_drops_the_send_only_sentence() -> None:
    """With a Reply-To the bot does read replies, so 「返信にはご回答できません」 would be untrue."""
    text = _text(_verification(reply_to="register+k3y@regbot.example.jp"))
    assert "送信専用" not in text
    assert "お問い合わせ先" in text


def test_utf8_text_and_html_alternative() -> None:
    """A text/plain part and an escaped text/html alternative, both UTF-8, no external assets."""
    message = _verification(family_name="<b>基金</b>", given_name="太郎&")
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content_charset() == "utf-8"
    assert html.get_content_charset() == "utf-8"
    page = _html(message)
    assert "&lt;b&gt;基金&lt;/b&gt; 太郎&amp; 様" in page
    assert "<b>" not in page
    assert f'<a href="{LINK}">{LINK}</a>' in page
    assert "src=" not in page
    assert "<link" not in page


def test_raw_bytes_are_ascii_with_short_lines() -> None:
    """The wire form is 7-bit with lines ≤ 78 characters (SMTP-safe, UTF-8 encoded in the parts)."""
    raw = bytes(
        verification_mail(
            to="a@example.jp", family_name="基金", given_name="太郎", link=LINK, ttl_hours=24, mail_from=FROM
        )
    )
    raw.decode("ascii")
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))


def test_completion_subject_is_the_manuals() -> None:
    """The subject is exactly 【医療機関等向け総合ポータルサイト】アカウント登録完了メール."""
    message = _parsed(
        completion_mail(to="a@example.jp", username="a@example.jp", portal_url=PORTAL, mail_from=FROM)
    )
    assert message["Subject"] == "【医療機関等向け総合ポータルサイト】アカウント登録完了メール"
    assert message["Subject"] == COMPLETION_SUBJECT


def test_completion_body_follows_the_manual() -> None:
    """Username, the fixed パスワード line, the portal URL on its own line, the footer."""
    message = _parsed(
        completion_mail(
            to="kikin.taro@example.jp", username="kikin.taro@example.jp", portal_url=PORTAL, mail_from=FROM
        )
    )
    text = _text(message)
    lines = text.splitlines()
    assert lines[0] == "医療機関等向け総合ポータルサイトへのユーザー登録について、"
    assert lines[1] == "手続きが完了しましたので通知いたします。"
    assert "・ユーザー名：kikin.taro@example.jp" in lines
    assert "・パスワード：設定いただいたパスワード" in lines
    assert lines[lines.index("■医療機関等向け総合ポータルサイト") + 1] == PORTAL
    assert "※本メールは送信専用です。本メールへの返信にはご回答できません。" in lines
    assert "オンライン資格確認等コールセンター：0800-080-4583（通話無料）" in lines
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@regbot.example.jp>")
    assert message["Date"] is not None


def test_completion_mail_never_holds_a_password() -> None:
    """Nothing but the fixed sentence stands after パスワード, in the text and the HTML alike."""
    message = _parsed(
        completion_mail(to="a@example.jp", username="a@example.jp", portal_url=PORTAL, mail_from=FROM)
    )
    for body in (_text(message), _html(message)):
        assert re.findall(r"パスワード：([^\r\n<]*)", body) == ["設定いただいたパスワード"]


def test_our_message_ids_carry_the_marker_loops_are_caught_by():
    """A verification mail of ours that comes back is recognised by its Message-ID alone."""
    from mail.autoreply import is_own_message_id
    from mail.compose import completion_mail, verification_mail

    mails = [
        verification_mail(
            to="kikin@example.jp",
            family_name="基金",
            given_name="太郎",
            link="http://127.0.0.1:8080/verify/abc",
            ttl_hours=24,
            mail_from="register@example.jp",
        ),
        completion_mail(
            to="kikin@example.jp",
            username="kikin@example.jp",
            portal_url="http://127.0.0.1:8080/",
            mail_from="register@example.jp",
        ),
    ]
    for message in mails:
        assert is_own_message_id(message["Message-ID"], "example.jp")
