"""パスワード (SPEC §3.3, 手順書: 大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内).

Never logged, never in an error's params: the messages say what is missing, not what was typed.
"""

from __future__ import annotations

import re

from conversations.rules.errors import RuleError
from conversations.rules.text import clean

MIN_LENGTH = 8
MAX_LENGTH = 100

# (what is missing, how the Japanese and English messages name it)
_CLASSES: tuple[tuple[str, str, str, str], ...] = (
    ("upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "大文字", "an upper-case letter"),
    ("lower", "abcdefghijklmnopqrstuvwxyz", "小文字", "a lower-case letter"),
    ("digit", "0123456789", "数字", "a digit"),
)


def _printable_ascii(text: str) -> bool:
    return all("!" <= char <= "~" for char in text)


def _missing_classes(password: str) -> list[tuple[str, str, str, str]]:
    return [entry for entry in _CLASSES if not any(char in entry[1] for char in password)]


def check_password(password: str, confirmation: str) -> None:
    """Raise `RuleError` unless ``password`` follows the manual's rule and ``confirmation`` equals it."""
    if not (MIN_LENGTH <= len(password) <= MAX_LENGTH):
        raise RuleError("password.length", length=len(password), min=MIN_LENGTH, max=MAX_LENGTH)
    # The portal's rule is 英字・数字: full-width letters or spaces typed with the IME on would make a
    # password the person cannot type again at the login screen.
    if not _printable_ascii(password):
        raise RuleError("password.chars")
    missing = _missing_classes(password)
    if missing:
        raise RuleError(
            "password.classes",
            missing=tuple(entry[0] for entry in missing),
            missing_ja="・".join(entry[2] for entry in missing),
            missing_en=" and ".join(entry[3] for entry in missing),
        )
    if confirmation != password:
        raise RuleError("password.mismatch")


_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|www\.)|\.(?:com|net|org|jp|io)(?:/|$)", re.IGNORECASE)
_DATE_LIKE = re.compile(r"^[A-Za-z]?\d{1,4}[./-]\d{1,2}[./-]\d{1,2}$")


def looks_like_password(text: str) -> bool:
    """True for a chat message that is probably a password (one token of 8–100 characters with upper
    case, lower case and digits) and not an address, URL, code or date.  The engine warns the person
    never to type a password in chat.
    """
    token = clean(text)
    if not (MIN_LENGTH <= len(token) <= MAX_LENGTH) or not _printable_ascii(token):
        return False
    if "@" in token or _URL.search(token) or _DATE_LIKE.match(token):
        return False
    return not _missing_classes(token)
