"""電話番号: Branch A without hyphens (01201234567), Branch B with them (0120-1234-567) (SPEC §3).

A number the numbering plan (phonenumbers) does not know is a warning to confirm, never a refusal: the
manual's own examples are such numbers.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean

PLAIN_EXAMPLE = "01201234567"  # 手順書 ①: 例) 01201234567
HYPHENATED_EXAMPLE = "0120-1234-567"  # 手順書 ②: (例) 0120-1234-567

_DASHES = re.compile(r"[\-ー－‐‑‒–—―−ｰ﹣]")
# What separates the groups when people type or paste a number: spaces, dashes, brackets, dots.
_SEPARATORS = re.compile(r"[\s\-()（）.]+")
_INTERNATIONAL = re.compile(r"^\+?81[\s\-]*(?:\(0\))?[\s\-]*")
_LABEL = re.compile(r"^(?:tel|phone|電話番号?)[\s:.]*", re.IGNORECASE)


def _compatible(text: str) -> str:
    """NFKC (full-width digits and brackets), every dash as ``-``, a ``TEL:`` label and +81 dropped."""
    cleaned = unicodedata.normalize("NFKC", clean(text))
    cleaned = _DASHES.sub("-", _LABEL.sub("", cleaned)).strip()
    if cleaned.startswith("+81") or cleaned.startswith("81-"):
        cleaned = "0" + _INTERNATIONAL.sub("", cleaned).lstrip("0")
    return cleaned


def _groups(compatible: str, example: str) -> list[str]:
    groups = [group for group in _SEPARATORS.split(compatible) if group]
    for group in groups:
        for char in group:
            if not ("0" <= char <= "9"):
                raise RuleError("phone.format", example=example, char=char)
    digits = "".join(groups)
    if not (10 <= len(digits) <= 11) or not digits.startswith("0"):
        raise RuleError("phone.format", example=example, length=len(digits))
    return groups


def _parsed(digits: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(digits, "JP")
    except phonenumbers.NumberParseException:
        return None


def _is_known(digits: str) -> bool:
    parsed = _parsed(digits)
    return parsed is not None and bool(phonenumbers.is_valid_number(parsed))


def _unknown(value: str) -> Notice:
    return Notice("phone.unknown_number", {"value": value})


def normalise_phone_plain(text: str) -> Normalised:
    """Branch A: half-width digits without hyphens, 10–11 digits starting with 0."""
    cleaned = clean(text)
    if not cleaned:
        raise RuleError("rule.required")
    value = "".join(_groups(_compatible(cleaned), PLAIN_EXAMPLE))
    notices = (Notice("phone.normalised", {"value": value}),) if value != cleaned else ()
    warning = None if _is_known(value) else _unknown(value)
    return Normalised(value, notices=notices, warning=warning)


def _plausible(groups: list[str]) -> bool:
    """Three groups as Japanese numbers are written: 市外局番 (2–5 digits, from 0), 市内局番, 加入者番号."""
    if len(groups) != 3:
        return False
    area, local, subscriber = groups
    return 2 <= len(area) <= 5 and area.startswith("0") and 1 <= len(local) <= 4 and 3 <= len(subscriber) <= 4


def _grouped(digits: str) -> str | None:
    """The national format phonenumbers gives (03-1234-5678), or None when it cannot group the number."""
    parsed = _parsed(digits)
    if parsed is None or not phonenumbers.is_valid_number(parsed):
        return None
    formatted: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if formatted.replace("-", "") != digits or not _plausible(formatted.split("-")):
        return None
    return formatted


# When phonenumbers cannot group a number: the free-dial / navi-dial prefixes as the manual writes them
# (0120-1234-567), then 090-1234-5678 for 11 digits and 03-1234-5678 for 10.
_FALLBACK_LAYOUTS: tuple[tuple[str, int, tuple[int, int, int]], ...] = (
    ("0120", 11, (4, 4, 3)),
    ("0120", 10, (4, 3, 3)),
    ("0800", 11, (4, 3, 4)),
    ("0570", 10, (4, 3, 3)),
    ("0990", 10, (4, 3, 3)),
    ("", 11, (3, 4, 4)),
    ("", 10, (2, 4, 4)),
)


def _fallback_grouping(digits: str) -> str:
    for prefix, length, (first, second, _) in _FALLBACK_LAYOUTS:
        if digits.startswith(prefix) and len(digits) == length:
            return f"{digits[:first]}-{digits[first : first + second]}-{digits[first + second :]}"
    raise AssertionError("10 or 11 digits are checked before grouping")


def normalise_phone_hyphenated(text: str) -> Normalised:
    """Branch B: half-width digits with hyphens; digits alone (or odd groups) are grouped for the person."""
    cleaned = clean(text)
    if not cleaned:
        raise RuleError("rule.required")
    groups = _groups(_compatible(cleaned), HYPHENATED_EXAMPLE)
    digits = "".join(groups)
    known = _is_known(digits)
    notices: tuple[Notice, ...]
    if _plausible(groups):
        value = "-".join(groups)
        notices = (Notice("phone.normalised", {"value": value}),) if value != cleaned else ()
    else:
        value = _grouped(digits) or _fallback_grouping(digits)
        notices = (Notice("phone.grouped", {"value": value}),)
    return Normalised(value, notices=notices, warning=None if known else _unknown(value))
