"""The two mails the portal sends, worded as in the manual (ユーザー登録手順書 1.50版).

- メールアドレス登録確認メール: the verification link (手順書 7).
- アカウント登録完了メール: the account exists (手順書 9); it names the username, never the password.

Both are UTF-8 ``EmailMessage`` objects with a plain-text body and a simple HTML alternative, ready for
``bytes(message)`` and ``mail.deliver``.  They are automatic mails (RFC 3834 ``Auto-Submitted``), so
well-behaved auto-responders will not answer them.
"""

from __future__ import annotations

import html
import secrets
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, parseaddr

from mail.autoreply import format_own_message_id

VERIFICATION_SUBJECT = "【総合ポータルサイト】メールアドレス登録確認メール"
COMPLETION_SUBJECT = "【医療機関等向け総合ポータルサイト】アカウント登録完了メール"

# 手順書「メールアドレス登録確認メール」「ユーザー登録完了メール」: the footer common to both mails.
_SEND_ONLY = "※本メールは送信専用です。本メールへの返信にはご回答できません。"
_CONTACT_LINES = (
    "※本メールにお心当たりのない場合やご不明な点がある場合は以下よりお問い合わせください。",
    "",
    "社会保険診療報酬支払基金（情報化企画部・情報化支援部）",
    "国民健康保険中央会（医療保険情報提供等実施機関担当室）",
    "",
    "オンライン資格確認・医療情報化支援基金関係",
    "オンライン資格確認に関するお問い合わせ先",
    "オンライン資格確認等コールセンター：0800-080-4583（通話無料）",
    "月曜日～金曜日8：00～18：00 土曜日8：00～16：00（いずれも祝日を除く）",
)


def ttl_text(ttl_hours: float) -> str:
    """The link lifetime as the manual says it: ``24`` → ``24時間``; ``0.5`` → ``0.5時間（30分）``."""
    if ttl_hours <= 0:
        raise ValueError("ttl_hours must be positive")
    if float(ttl_hours).is_integer():
        return f"{int(ttl_hours)}時間"
    total_seconds = round(ttl_hours * 3600, 1)
    hours, rest = divmod(total_seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{int(hours)}時間")
    if minutes:
        parts.append(f"{int(minutes)}分")
    if seconds:
        parts.append(f"{round(seconds, 1):g}秒")
    return f"{ttl_hours:g}時間（{''.join(parts)}）"


def verification_mail(
    *,
    to: str,
    family_name: str,
    given_name: str,
    link: str,
    ttl_hours: float,
    mail_from: str,
    reply_to: str | None = None,
    now: datetime | None = None,
) -> EmailMessage:
    """メールアドレス登録確認メール: greeting, the link alone on its line, the lifetime, the footer.

    When ``reply_to`` is given, replies do reach someone (the bot's mailbox), so the manual's
    「送信専用」 sentence would be untrue and is left out.
    """
    if any(c.isspace() for c in link):
        raise ValueError("a verification link must not contain white space")
    greeting = f"{family_name} {given_name} 様"
    intro = (
        "総合ポータルサイトへご登録いただきありがとうございます。",
        "以下URLに遷移することで、ユーザー登録が完了します。",
    )
    notice = f"※本URLの有効期限は{ttl_text(ttl_hours)}となります。"
    footer = _footer(send_only=reply_to is None)
    text_lines = [
        greeting,
        "",
        *intro,
        "",
        "=====",
        "ユーザー登録完了は以下からお願いいたします。",
        "",
        link,
        "",
        "=====",
        notice,
        "",
        *footer,
    ]
    html_body = (
        f"<p>{_h(greeting)}</p>\n"
        f"<p>{'<br>'.join(_h(line) for line in intro)}</p>\n"
        "<p>=====<br>ユーザー登録完了は以下からお願いいたします。</p>\n"
        f'<p><a href="{_h(link)}">{_h(link)}</a></p>\n'
        f"<p>=====<br>{_h(notice)}</p>\n"
        f"{_html_paragraphs(footer)}"
    )
    message = _message(subject=VERIFICATION_SUBJECT, to=to, mail_from=mail_from, reply_to=reply_to, now=now)
    _set_body(message, "\n".join(text_lines), html_body)
    return message


def completion_mail(
    *, to: str, username: str, portal_url: str, mail_from: str, now: datetime | None = None
) -> EmailMessage:
    """アカウント登録完了メール: the username and the portal URL; the password is never written."""
    intro = (
        "医療機関等向け総合ポータルサイトへのユーザー登録について、",
        "手続きが完了しましたので通知いたします。",
    )
    account = (f"・ユーザー名：{username}", "・パスワード：設定いただいたパスワード")
    footer = _footer(send_only=True)
    text_lines = [
        *intro,
        "",
        "=====",
        "",
        *account,
        "",
        "=====",
        "",
        "■医療機関等向け総合ポータルサイト",
        portal_url,
        "",
        *footer,
    ]
    html_body = (
        f"<p>{'<br>'.join(_h(line) for line in intro)}</p>\n"
        f"<p>=====</p>\n<p>{'<br>'.join(_h(line) for line in account)}</p>\n<p>=====</p>\n"
        f'<p>■医療機関等向け総合ポータルサイト<br><a href="{_h(portal_url)}">{_h(portal_url)}</a></p>\n'
        f"{_html_paragraphs(footer)}"
    )
    message = _message(subject=COMPLETION_SUBJECT, to=to, mail_from=mail_from, reply_to=None, now=now)
    _set_body(message, "\n".join(text_lines), html_body)
    return message


def _footer(*, send_only: bool) -> list[str]:
    lines = [_SEND_ONLY] if send_only else []
    return [*lines, *_CONTACT_LINES]


def _message(
    *, subject: str, to: str, mail_from: str, reply_to: str | None, now: datetime | None
) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = to
    if reply_to:
        message["Reply-To"] = reply_to
    message["Date"] = format_datetime(now or datetime.now(UTC))
    # Our own marker, so a mail of ours coming back (a loop) is recognised by its Message-ID too.
    message["Message-ID"] = format_own_message_id(secrets.token_hex(16), _domain_of(mail_from))
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: auto-responders must not answer
    message["X-Auto-Response-Suppress"] = "All"  # the same, for Exchange/Outlook
    return message


def _set_body(message: EmailMessage, text: str, html_body: str) -> None:
    message.set_content(text + "\n", charset="utf-8")
    page = (
        '<!DOCTYPE html>\n<html lang="ja"><head><meta charset="utf-8"></head>\n'
        f'<body style="font-family: sans-serif; line-height: 1.6;">\n{html_body}</body></html>\n'
    )
    message.add_alternative(page, subtype="html", charset="utf-8")
    message["Content-Language"] = "ja"  # after the body: set_content moves Content-* headers into the part


def _domain_of(mail_from: str) -> str:
    """The domain for Message-ID: ``Name <a@example.jp>`` → ``example.jp``."""
    address = parseaddr(mail_from)[1] or mail_from
    domain = address.rpartition("@")[2].strip().strip(">")
    if not domain:
        raise ValueError("mail_from needs a domain")
    try:
        Address(addr_spec=f"x@{domain}")
    except (ValueError, IndexError) as exc:
        raise ValueError("mail_from has an invalid domain") from exc
    return domain


def _h(text: str) -> str:
    return html.escape(text, quote=True)


def _html_paragraphs(lines: list[str]) -> str:
    """Blank lines separate paragraphs, other lines are joined by ``<br>``."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line:
            paragraphs[-1].append(_h(line))
        elif paragraphs[-1]:
            paragraphs.append([])
    return "".join(f"<p>{'<br>'.join(p)}</p>\n" for p in paragraphs if p)
