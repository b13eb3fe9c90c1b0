"""Mail that must never be answered (SPEC §5 Email, RFC 3834).

`auto_reason` gives the first reason found, as a short id, checked in this order:

- our own mail coming back (loops): ``own-address`` (From is the bot's address, ``register+anything@``
  included), ``own-header`` (an ``X-Regbot…`` header), ``own-message-id`` (`is_own_message_id`);
- bounces: ``bounce-null-sender`` (null envelope sender or ``Return-Path: <>``), ``mailer-daemon``
  (MAILER-DAEMON or postmaster sender), ``multipart-report``, ``x-failed-recipients``;
- automatic mail: ``auto-submitted`` (anything but ``no``), ``x-autoreply`` (X-Autoreply,
  X-Autorespond), ``x-auto-response-suppress`` (All/DR/AutoReply/OOF), ``precedence``
  (bulk/junk/list/auto_reply), ``list-id``, ``ooo-subject`` (不在/自動応答/Out of Office…),
  ``bounce-subject`` (Undeliverable/配信不能…);
- ``no-sender``: no From address at all, so there is nobody to answer.

Our outbound Message-IDs are ``<regbot.<random>@<bot domain>>`` (`format_own_message_id`).
"""

from __future__ import annotations

import re
from email.message import Message

from mail.parse import (
    decode_header_text,
    header_addresses,
    header_map,
    message_ids,
    mime_type,
    normalise_message_id,
    split_address,
    unfold,
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


REASONS = _words(
    "own-address own-header own-message-id bounce-null-sender mailer-daemon multipart-report"
    " x-failed-recipients auto-submitted x-autoreply x-auto-response-suppress precedence list-id"
    " ooo-subject bounce-subject no-sender"
)
OWN_MESSAGE_ID_PREFIX = "regbot."

_ROBOTS = frozenset({"mailer-daemon", "postmaster"})
_SUPPRESS = frozenset({"all", "dr", "autoreply", "oof"})
_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})
_OOO_SUBJECT = re.compile(
    r"^(?:(?:re|fw|fwd|aw|返信|転送)\s*[:：]\s*)*[\[【(（<＜]?\s*"
    r"(?:不在|休暇|留守|auto\s*[:：]|out of (?:the )?office|automatic reply)"
    r"|不在(?:通知|のお知らせ|連絡|です|にして)|自動(?:応答|返信|送信)|out of (?:the )?office"
    r"|automatic reply|auto-?reply|auto-?response|vacation reply",
    re.I,
)
_BOUNCE_SUBJECT = re.compile(
    r"^(?:undeliverable|undelivered|returned mail|mail delivery failed|failure notice|delivery failure)"
    r"|delivery status notification|配信不能|配信エラー|配送エラー|配信できませんでした|配信失敗",
    re.I,
)


def format_own_message_id(unique: str, bot_domain: str) -> str:
    """The Message-ID of a mail regbot sends: ``<regbot.<unique>@<bot domain>>``.

    ``unique`` is random and never reused (``secrets.token_hex(16)``); it is passed in to keep this
    module pure.
    """
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,200}", unique):
        raise ValueError("unique must be 1-200 letters, digits, '.', '_' or '-'")
    domain = _domain(bot_domain)
    if not domain:
        raise ValueError("bot_domain is empty")
    return f"<{OWN_MESSAGE_ID_PREFIX}{unique}@{domain}>"


def is_own_message_id(message_id: str | None, bot_domain: str) -> bool:
    """Whether a Message-ID is one regbot made: ``<regbot.…@<bot domain>>`` (domain ignoring case).

    The stdlib's ``make_msgid(idstring="regbot", domain=…)`` form, ``<….regbot@<bot domain>>``, counts too.
    """
    normalised = normalise_message_id(message_id) if message_id else None
    if not normalised:
        return False
    left, _, right = normalised[1:-1].rpartition("@")
    marked = left.startswith(OWN_MESSAGE_ID_PREFIX) or left.endswith(".regbot")
    return marked and bool(right) and right.lower() == _domain(bot_domain)


def _domain(bot_domain: str) -> str:
    return bot_domain.strip().strip("<>").rpartition("@")[2].lower()


def auto_reason(msg: Message, *, bot_address: str, envelope_sender: str | None = None) -> str | None:
    """Why this mail must never be answered (an id of `REASONS`), or None for a person's mail.

    ``envelope_sender`` is the SMTP ``MAIL FROM`` when known: ``""`` (``<>``) marks a bounce.
    """
    headers = header_map(msg)
    bot_local, bot_domain = split_address(bot_address)

    def first(name: str) -> str:
        values = headers.get(name)
        return decode_header_text(values[0]) if values else ""

    senders = [address.lower() for _, address in header_addresses(headers.get("from", []))]
    for address in senders:
        local, _, domain = address.rpartition("@")
        if domain == bot_domain and local.partition("+")[0] == bot_local:
            return "own-address"
    if any(name == "x-regbot" or name.startswith("x-regbot-") for name in headers):
        return "own-header"
    if any(is_own_message_id(ident, bot_domain) for ident in message_ids(headers.get("message-id", []))):
        return "own-message-id"

    if envelope_sender is not None and not envelope_sender.strip().strip("<>").strip():
        return "bounce-null-sender"
    return_paths = headers.get("return-path", [])
    if any(not unfold(value).strip("<> \t") for value in return_paths):
        return "bounce-null-sender"
    robots = senders + [a for _, a in header_addresses([*headers.get("sender", []), *return_paths])]
    if envelope_sender:
        robots.append(envelope_sender.strip("<> "))
    if any((address.rpartition("@")[0] or address).lower() in _ROBOTS for address in robots):
        return "mailer-daemon"
    if mime_type(msg)[0] == "multipart/report":
        return "multipart-report"
    if "x-failed-recipients" in headers:
        return "x-failed-recipients"

    if "auto-submitted" in headers and _token(first("auto-submitted")) != "no":
        return "auto-submitted"
    if "x-autoreply" in headers or "x-autorespond" in headers:
        return "x-autoreply"
    if {t.lower() for t in re.split(r"[\s,;]+", first("x-auto-response-suppress"))} & _SUPPRESS:
        return "x-auto-response-suppress"
    if _token(first("precedence")) in _PRECEDENCE:
        return "precedence"
    if "list-id" in headers:
        return "list-id"
    subject = first("subject")
    if _OOO_SUBJECT.search(subject):
        return "ooo-subject"
    if _BOUNCE_SUBJECT.search(subject):
        return "bounce-subject"
    if not any("@" in address for address in senders):
        return "no-sender"
    return None


def _token(value: str) -> str:
    """``auto-replied; owner=…`` → ``auto-replied`` (comments and parameters dropped)."""
    return re.sub(r"\([^)]*\)", "", value).split(";")[0].strip().lower()
