"""Masking personal values for the help-desk channel (SPEC §6).  Pure functions, no I/O.

Staff see enough to recognise and help (the first character of a name, the domain of an address, the
area code of a phone number), never a full value, a password or a token.  Masks have a fixed or capped
length where the length itself would tell too much.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

from conversations.rules.password import looks_like_password

STAR = "＊"
PASSWORD_WITHHELD = "（パスワードらしき文字列のため表示しません）"
TOKEN_WITHHELD = "（リンク・トークン省略）"

# Values shown in full: they describe the kind of registration, not the person (都道府県, 所属機関, 同意).
PUBLIC_FIELDS = frozenset({"institution_type", "prefecture", "terms_agreed"})
# Prompts whose answer is not personal (the summary, yes/no, choosing among looked-up towns).
PUBLIC_PROMPTS = frozenset({*PUBLIC_FIELDS, "confirm", "postal_town"})
# Personal fields whose values free-text masking recognises anywhere in a sentence (digits, addresses).
PATTERN_FIELDS = frozenset({"phone", "email", "postal_code", "institution_code", "established_on"})


def mask_name(value: str) -> str:
    """山田 → 山＊, 基金 太郎 → 基＊ 太＊, 林 → ＊ (each space-separated part keeps its first character)."""
    parts = re.split(r"([\s\u3000]+)", value.strip())
    masked: list[str] = []
    for part in parts:
        if not part or part.isspace():
            masked.append(part)
        elif len(part) == 1:
            masked.append(STAR)
        else:
            masked.append(part[0] + STAR * min(len(part) - 1, 3))
    return "".join(masked)


def mask_email(value: str) -> str:
    """tanaka@example.jp → t＊＊＊@example.jp (the local part's first character, the domain)."""
    local, at, domain = value.strip().rpartition("@")
    if not at:
        return mask_text(value)
    return (local[:1] if len(local) > 1 else "") + STAR * 3 + "@" + domain


def mask_phone(value: str) -> str:
    """0312345678 → 03＊＊＊＊＊678, 03-1234-5678 → 03-＊＊＊＊-＊678: the first two and last three digits."""
    return _mask_digits(value, keep_head=2, keep_tail=3)


def mask_code(value: str) -> str:
    """医療機関等コード and the 10-digit code: 0113719 → 01＊＊＊19, 0110113719 → 01＊＊＊＊＊＊19."""
    return _mask_digits(value, keep_head=2, keep_tail=2)


def mask_digit_run(value: str) -> str:
    """A run of digits in free text: short runs entirely, longer ones keep two digits at each end."""
    digits = sum(1 for char in value if char.isdigit())
    if digits < 8:
        return "".join(STAR if char.isdigit() else char for char in value)
    return _mask_digits(value, keep_head=2, keep_tail=2)


def mask_date(value: str) -> str:
    """新設年月日 2024-04-01 → 2024-＊＊-＊＊."""
    return value[:4] + re.sub(r"\d", STAR, value[4:]) if re.match(r"^\d{4}", value) else mask_text(value)


def mask_text(value: str) -> str:
    """Any other personal text (names of institutions, addresses, kana): the first character and ＊＊＊."""
    value = value.strip()
    if not value:
        return ""
    return (value[0] if len(value) > 1 else "") + STAR * 3


def _mask_digits(value: str, *, keep_head: int, keep_tail: int) -> str:
    positions = [i for i, char in enumerate(value) if char.isdigit()]
    if len(positions) <= keep_head + keep_tail:
        return "".join(STAR if char.isdigit() else char for char in value)
    hidden = set(positions[keep_head : len(positions) - keep_tail])
    return "".join(STAR if i in hidden else char for i, char in enumerate(value))


_MASKERS = {
    "family_name": mask_name,
    "given_name": mask_name,
    "founder_name": mask_name,
    "founder_name_kana": mask_name,
    "email": mask_email,
    "phone": mask_phone,
    "institution_code": mask_code,
    "institution_code_10": mask_code,
    "postal_code": mask_code,
    "established_on": mask_date,
}


def mask_value(field_id: str, value: str) -> str:
    """A stored value as staff may see it."""
    if field_id in PUBLIC_FIELDS:
        return value
    return _MASKERS.get(field_id, mask_text)(value)


# ------------------------------------------------------------------------------------- free text

_EMAIL = re.compile(r"[^\s<>()\"'「」、，,:：;]+[@＠][^\s<>()\"'「」、，,:：;]+")
_DIGIT_RUN = re.compile(r"\d(?:[\d\-‐ー－ ]*\d){3,}")  # ≥ 4 digits, maybe grouped by hyphens or spaces
_URL = re.compile(r"https?://\S+", re.IGNORECASE)
_TOKEN_LIKE = re.compile(r"[A-Za-z0-9_-]{20,}")


def mask_message(text: str, *, awaiting: str | None, values: Mapping[str, str]) -> str:
    """A person's message for the help-desk thread.

    Password-looking text is never shown.  A bare answer to a personal field is masked as that field's
    value; while a free-text field (a name, an address) is awaited any sentence is masked whole, since the
    answer may be anywhere in it.  Otherwise addresses, digit runs of four or more, links, token-like
    strings and every value the conversation already holds (a name typed again) are masked.
    """
    normalised = unicodedata.normalize("NFKC", text).strip()
    if not normalised:
        return ""
    if any(looks_like_password(word) for word in [normalised, *normalised.split()]):
        return PASSWORD_WITHHELD
    personal = awaiting is not None and awaiting not in PUBLIC_PROMPTS
    bare = not any(char.isspace() for char in normalised)
    if personal and bare:
        return mask_value(str(awaiting), normalised)
    if personal and awaiting not in PATTERN_FIELDS:
        return mask_text(normalised)
    masked = _URL.sub(TOKEN_WITHHELD, normalised)
    masked = _TOKEN_LIKE.sub(TOKEN_WITHHELD, masked)
    masked = _EMAIL.sub(lambda m: mask_email(m.group(0).replace("＠", "@")), masked)
    for field_id, value in sorted(values.items(), key=lambda item: -len(item[1])):
        value = unicodedata.normalize("NFKC", value)
        if field_id not in PUBLIC_FIELDS and len(value) >= 2 and value in masked:
            masked = masked.replace(value, mask_value(field_id, value))
    return _DIGIT_RUN.sub(lambda m: mask_digit_run(m.group(0)), masked)


def masked_values(values: Mapping[str, str], order: list[str]) -> list[tuple[str, str]]:
    """(field id, masked value) of the filled fields, in ``order`` (the form's order)."""
    return [(field_id, mask_value(field_id, values[field_id])) for field_id in order if values.get(field_id)]
