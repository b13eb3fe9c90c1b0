"""メールアドレス (SPEC §3.2, 手順書 ①②).

使用可能文字：英小文字、数字、ピリオド (.)、ハイフン (-)、プラス (+)、アンダーバー (_).
利用可能なメールアドレスは40桁以下; 41桁以上は登録できない (the person is pointed to お問い合わせ).
Whether the address already belongs to an account is the engine's question (`Context`), not this rule's.
"""

from __future__ import annotations

import re
import unicodedata

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean

MAX_LENGTH = 40
_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-+_@")
_ANGLE = re.compile(r"<([^<>]*)>")
_MAILTO = re.compile(r"^mailto:", re.IGNORECASE)
_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
_TOP_LEVEL = re.compile(r"^[a-z]{2,}$|^xn--[a-z0-9-]+$")


def normalise_email(text: str) -> Normalised:
    """The address as it will be registered: half-width, lower case, checked against the manual's rules."""
    cleaned = clean(text)
    # A pasted "Name <a@b.jp>" or a mailto: link: keep just the address.
    angle = _ANGLE.search(cleaned)
    address = angle.group(1).strip() if angle else cleaned
    address = _MAILTO.sub("", address).strip()
    if not address:
        raise RuleError("rule.required")

    half_width = unicodedata.normalize("NFKC", address)  # ＠ and 全角英数 → half-width
    lower = half_width.lower()
    notices: list[Notice] = []
    if half_width != address:
        notices.append(Notice("email.at_converted", {"value": lower}))
    if lower != half_width:
        notices.append(Notice("email.lowercased", {"value": lower}))

    for char in lower:
        if char not in _ALLOWED:
            raise RuleError("email.chars", char=char)
    local, at, domain = lower.partition("@")
    if not at or not local or not domain or "@" in domain:
        raise RuleError("email.format")
    # Dots in the local part are left alone on purpose: Japanese carriers issued addresses such as
    # taro..abc@docomo.ne.jp and taro.@ezweb.ne.jp, which their owners still use and the form accepts.
    labels = domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise RuleError("email.domain", domain=domain)
    if not _TOP_LEVEL.match(labels[-1]):
        raise RuleError("email.domain", domain=domain)
    if len(lower) > MAX_LENGTH:
        raise RuleError("email.too_long", length=len(lower), max=MAX_LENGTH)
    return Normalised(lower, notices=tuple(notices))
