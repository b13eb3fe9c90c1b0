"""Names and Japanese text: the plain rule, the 全角 set and the 半角カナ set (SPEC §3.1).

The manual's 全角 set (開設者（全角）, 職域診療所名称（全角）, 所在地（全角）): ひらがな, カタカナ,
英数字 (全角), 「々」「，」「ー（長音記号）」 and kanji of JIS X 0208 levels 1 and 2, 環境依存文字 excluded.
The 半角カナ set (…（カナ）): 半角カナ, 半角英数字 (either case), 「,」「&」 and the half-width space.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import jaconv

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean

# ------------------------------------------------------------------------------------------------ plain


def normalise_plain(text: str, *, max_length: int) -> Normalised:
    """姓, 名, 医療機関等名: any visible text, not empty, at most ``max_length`` characters.

    Lenient on purpose: the portal's form does not restrict these fields.
    """
    value = clean(text)
    _check_length(value, max_length)
    return Normalised(value)


def _check_length(value: str, max_length: int | None) -> None:
    if not value:
        raise RuleError("rule.required")
    if max_length is not None and len(value) > max_length:
        raise RuleError("rule.too_long", max=max_length, length=len(value))


# ----------------------------------------------------------------------------------------------- 全角 set

# Typed for the 長音記号 ー on keyboards and phones, or pasted from documents.
ZENKAKU_DASHES = frozenset("-－‐‑‒–—―−ｰ﹣─")
_ZENKAKU_SYMBOLS = frozenset("々，ー\u3000")

# 環境依存文字 and what a help desk would suggest instead (手順書: ※環境依存文字を除く).
ENV_DEPENDENT_SUGGESTIONS: dict[str, str] = {
    "㈱": "株式会社",
    "㍿": "株式会社",
    "㈲": "有限会社",
    "㈹": "代表",
    "㈴": "合名会社",
    "㈾": "合資会社",
    "㈳": "社団法人",
    "㈶": "財団法人",
    "㈻": "学校法人",
    "㍻": "平成",
    "㍼": "昭和",
    "㍽": "大正",
    "㍾": "明治",
    "㋿": "令和",
    "№": "Ｎｏ",
    "℡": "ＴＥＬ",
    "髙": "高",
    "﨑": "崎",
    "德": "徳",
    "濵": "浜",
    "𠮷": "吉",
    "\ufa10": "塚",  # 塚 (CJK compatibility); NFC already maps it, kept for callers that skip clean()
    "栁": "柳",
    "瀨": "瀬",
    "彅": "薙",
    "凞": "熙",
    "黑": "黒",
    "槗": "橋",
    "﨔": "欅",
    "琇": "秀",
}

_DEPARTMENT_SUFFIX = re.compile(r"[（(][\s\u3000]*(医科|歯科)[\s\u3000]*[）)]$")


@lru_cache(maxsize=8192)
def _jis_x0208_row(char: str) -> int | None:
    """The JIS X 0208 row (区) of ``char``, or None when it is not in JIS X 0208.

    The strict ``iso2022_jp`` codec knows JIS X 0208 only: NEC and IBM extensions (①, ㈱, 髙, 﨑) fail.
    """
    try:
        encoded = char.encode("iso2022_jp")
    except UnicodeEncodeError:
        return None
    if not encoded.startswith(b"\x1b$B") or len(encoded) < 5:
        return None
    return encoded[3] - 0x20


def is_zenkaku_char(char: str) -> bool:
    """True when ``char`` belongs to the manual's 全角 set."""
    if char in _ZENKAKU_SYMBOLS:
        return True
    row = _jis_x0208_row(char)
    # 3: 全角英数字, 4: ひらがな, 5: カタカナ, 16–47: 第一水準, 48–84: 第二水準
    return row is not None and (row in (3, 4, 5) or 16 <= row <= 84)


def _units(text: str) -> list[str]:
    """Characters, with a half-width kana and its following ﾞ/ﾟ kept together (ｶﾞ → ガ, one unit)."""
    units: list[str] = []
    for char in text:
        if char in "ﾞﾟ" and units and "\uff66" <= units[-1][-1] <= "\uff9d" and len(units[-1]) == 1:
            units[-1] += char
        else:
            units.append(char)
    return units


def _zenkaku_unit(unit: str) -> str:
    if unit in ZENKAKU_DASHES:
        return "ー"
    if unit == ",":
        return "，"
    if unit == " ":
        return "\u3000"
    converted: str = jaconv.h2z(unit, kana=True, ascii=True, digit=True)
    return converted


def _zenkaku_suggestion(char: str) -> str | None:
    """A replacement inside the 全角 set for an 環境依存文字, or None."""
    if char in ENV_DEPENDENT_SUGGESTIONS:
        return ENV_DEPENDENT_SUGGESTIONS[char]
    compatible = unicodedata.normalize("NFKC", char)
    if compatible != char and compatible.strip():
        suggestion = "".join(_zenkaku_unit(unit) for unit in _units(compatible))
        if all(is_zenkaku_char(c) for c in suggestion):
            return suggestion
    return None


def _is_ideograph(unit: str) -> bool:
    return len(unit) == 1 and unicodedata.name(unit, "").startswith(
        ("CJK UNIFIED IDEOGRAPH", "CJK COMPATIBILITY IDEOGRAPH")
    )


def _zenkaku_error(unit: str) -> RuleError:
    suggestion = _zenkaku_suggestion(unit)
    if suggestion is not None:
        return RuleError("zenkaku.env_dependent", char=unit, suggestion=suggestion)
    if _is_ideograph(unit):
        # A kanji outside JIS levels 1/2 with no common substitute: the person must choose one.
        return RuleError("zenkaku.env_dependent_kanji", char=unit, suggestion="")
    return RuleError("zenkaku.not_allowed", char=unit)


def _convert_zenkaku(text: str) -> str:
    """Half-width → full-width, dashes → ー; raises for the first character outside the 全角 set."""
    converted: list[str] = []
    for unit in _units(text):
        full = _zenkaku_unit(unit)
        if not all(is_zenkaku_char(char) for char in full):
            raise _zenkaku_error(unit)
        converted.append(full)
    return "".join(converted)


def normalise_zenkaku(
    text: str, *, max_length: int | None = None, allow_department_suffix: bool = False
) -> Normalised:
    """A value in the 全角 set, converted from half-width where that is unambiguous.

    ``allow_department_suffix``: 職域診療所名称 may end in （医科） or （歯科） (手順書 ②: 医科歯科併設で
    受付窓口が別の場合).
    """
    cleaned = clean(text)
    body, suffix = cleaned, ""
    if allow_department_suffix:
        match = _DEPARTMENT_SUFFIX.search(cleaned)
        if match:
            body, suffix = cleaned[: match.start()].strip(), f"（{match.group(1)}）"
    if not body:
        raise RuleError("rule.required")
    value = _convert_zenkaku(body) + suffix
    _check_length(value, max_length)
    notices = (Notice("zenkaku.converted", {"value": value}),) if value != cleaned else ()
    return Normalised(value, notices=notices)


# Punctuation in Japan Post's 町域 names (アークヒルズ・アーク森ビル, 穴明２２地割、穴明２) and its closest
# equivalent inside the sets.
_CLOSEST_ZENKAKU = {"・": "\u3000", "･": "\u3000", "、": "，", "､": "，", "〜": "ー", "～": "ー"}
_CLOSEST_KANA = {"・": " ", "･": " ", "、": ",", "､": ",", "〜": "ｰ", "～": "ｰ"}


def closest_zenkaku(text: str) -> str:
    """``text`` moved into the 全角 set as far as possible, for values we make ourselves (住所検索).

    Characters with a suggestion are replaced by it; anything else that has no place in the set is left
    out rather than handed to the person as a value the form would refuse.
    """
    parts: list[str] = []
    for unit in _units(clean(text)):
        full = _zenkaku_unit(unit)
        if all(is_zenkaku_char(char) for char in full):
            parts.append(full)
        else:
            parts.append(_CLOSEST_ZENKAKU.get(unit) or _zenkaku_suggestion(unit) or "")
    return "".join(parts)


# ------------------------------------------------------------------------------------------- 半角カナ set

KANA_DASHES = frozenset("ー－-‐‑‒–—―−﹣─")
# Small ヵ/ヶ have no half-width form; Japan Post's half-width data writes them ｶ/ｹ.
# 濁点・半濁点 typed on their own (゛゜, or combining marks NFC could not attach) are the half-width marks.
_KANA_REPLACEMENTS = {
    "ヵ": "ｶ",
    "ヶ": "ｹ",
    "ゕ": "ｶ",
    "ゖ": "ｹ",
    "゛": "ﾞ",
    "゜": "ﾟ",
    "\u3099": "ﾞ",
    "\u309a": "ﾟ",
}


def is_hankaku_kana_char(char: str) -> bool:
    """True when ``char`` belongs to the manual's 半角カナ set."""
    return "\uff66" <= char <= "\uff9f" or (char.isascii() and (char.isalnum() or char in ",& "))


def _hankaku_unit(char: str) -> str:
    if char in KANA_DASHES:
        return "ｰ"
    if char in _KANA_REPLACEMENTS:
        return _KANA_REPLACEMENTS[char]
    converted: str = jaconv.z2h(jaconv.hira2hkata(char), kana=True, ascii=True, digit=True)
    return converted


def normalise_hankaku_kana(text: str, *, max_length: int | None = None) -> Normalised:
    """A value in the 半角カナ set; ひらがな, 全角カタカナ, 全角英数 and full-width space are converted."""
    cleaned = clean(text)
    if not cleaned:
        raise RuleError("rule.required")
    converted: list[str] = []
    for char in cleaned:
        half = _hankaku_unit(char)
        if not all(is_hankaku_kana_char(c) for c in half):
            raise RuleError("kana.not_allowed", char=char)
        converted.append(half)
    value = "".join(converted)
    _check_length(value, max_length)
    notices = (Notice("kana.converted", {"value": value}),) if value != cleaned else ()
    return Normalised(value, notices=notices)


def closest_hankaku_kana(text: str) -> str:
    """``text`` moved into the 半角カナ set, leaving out what has no place in it (住所検索's kana)."""
    parts = [_CLOSEST_KANA.get(char) or _hankaku_unit(char) for char in clean(text)]
    return "".join(part for part in parts if all(is_hankaku_kana_char(c) for c in part))
