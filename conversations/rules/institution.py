"""所属機関選択, who is sent elsewhere (SPEC §2), and the 7-digit code with its check digit (§3.4)."""

from __future__ import annotations

import re
import unicodedata

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean

# 手順書 3: 所属機関選択 (2 and 5 are not offered)
INSTITUTION_TYPES: dict[str, str] = {
    "1": "医科",
    "3": "歯科",
    "4": "調剤",
    "6": "訪問看護",
    "7": "職域診療所",
}

# Words that name exactly one type.  病院 / 診療所 / クリニック alone are not here: a 歯科 clinic or a
# 職域診療所 says the same, so the person is asked to choose instead of being guessed for.
_TYPE_WORDS: dict[str, str] = {
    "医科": "1",
    "医科診療所": "1",
    "医科病院": "1",
    "歯科": "3",
    "歯科医院": "3",
    "歯科診療所": "3",
    "歯科クリニック": "3",
    "歯医者": "3",
    "調剤": "4",
    "調剤薬局": "4",
    "薬局": "4",
    "保険薬局": "4",
    "訪問看護": "6",
    "訪問看護ステーション": "6",
    "職域": "7",
    "職域診療所": "7",
    "medical": "1",
    "dental": "3",
    "dentistry": "3",
    "pharmacy": "4",
    "dispensing pharmacy": "4",
    "home-visit nursing": "6",
    "home visit nursing": "6",
    "visiting nursing": "6",
    "workplace clinic": "7",
    "occupational clinic": "7",
}
_TYPE_WITH_NUMBER = re.compile(r"^(\d)\s*(?:[:.\s]\s*(.*))?$")
_POLITE_ENDING = re.compile(r"(?:です|になります|でお願いします|を選択|を選びます)?[。.!！]*$")


def _type_for_word(word: str) -> str | None:
    word = _POLITE_ENDING.sub("", word.strip()).strip().lower()
    return _TYPE_WORDS.get(word)


def parse_institution_type(text: str) -> Normalised:
    """The type's number from a number (full-width too), a name, or ``1: 医科``."""
    compatible = unicodedata.normalize("NFKC", clean(text)).strip()
    if not compatible:
        raise RuleError("rule.required")
    match = _TYPE_WITH_NUMBER.match(compatible)
    if match:
        number, named = match.group(1), match.group(2)
        if number not in INSTITUTION_TYPES:
            raise RuleError("institution_type.unknown")
        if named and named.strip() and _type_for_word(named) != number:
            raise RuleError("institution_type.unknown")
        return Normalised(number)
    number_for_word = _type_for_word(compatible)
    if number_for_word is None:
        raise RuleError("institution_type.unknown")
    return Normalised(number_for_word)


# ------------------------------------------------------------------------------------------- redirects

# 手順書 2: 「柔道整復・あん摩マッサージ指圧・はり・きゅう・健診実施機関等・助産所」の方は
# 施術所等向け総合ポータルサイトにてユーザー登録
_FACILITY_WORDS = re.compile(
    "|".join(
        (
            "柔道整復",
            "柔整",
            "接骨",
            "整骨",
            "ほねつぎ",
            "骨つぎ",
            "あん摩",
            "あんま",
            "按摩",
            "マッサージ",
            "指圧",
            "鍼",
            "灸",
            "はり師",
            "きゅう師",
            "はりきゅう",
            "はり・きゅう",
            "あはき",
            "施術所",
            "健診実施機関",
            "健診機関",
            "健診センター",
            "検診センター",
            "健康診断実施機関",
            "助産所",
            "助産院",
            "助産師",
            "judo therap",
            "judo-therap",
            "bonesett",
            "acupunct",
            "moxibustion",
            "massage",
            "midwi",
            "health check-?up (?:centre|center|institution|provider)",
        )
    )
)
# はり / きゅう as words of their own: not inside はりきる, きゅうり, きゅうしゅう…
_HARI_KYU = re.compile(r"(?<![ぁ-ゖ])(?:はり|きゅう)(?=$|[^ぁ-ゖ]|です|でして|と|や|の|を|で)")
_COORDINATOR_WORDS = re.compile(r"取りまとめ|取り纏め|取まとめ|とりまとめ|coordinator")


def detect_redirect(text: str) -> str | None:
    """``facility_portal`` or ``coordinator`` when the person belongs to another registration (SPEC §2)."""
    compatible = unicodedata.normalize("NFKC", clean(text)).lower()
    if _COORDINATOR_WORDS.search(compatible):
        return "coordinator"
    if _FACILITY_WORDS.search(compatible) or _HARI_KYU.search(compatible):
        return "facility_portal"
    return None


# -------------------------------------------------------------------------------------- 7-digit code

_CODE_SEPARATORS = re.compile(r"[\s\-ー−‐‑–—―ｰ]")


def normalise_code(text: str) -> Normalised:
    """医療機関等コード（7桁）: 全角→半角, ``-``/``ー``/spaces dropped, exactly 7 digits."""
    cleaned = clean(text)
    if not cleaned:
        raise RuleError("rule.required")
    digits = _CODE_SEPARATORS.sub("", unicodedata.normalize("NFKC", cleaned))
    for char in digits:
        if not ("0" <= char <= "9"):
            raise RuleError("institution_code.not_digits", char=char)
    if len(digits) != 7:
        raise RuleError("institution_code.digits", length=len(digits))
    notices = (Notice("institution_code.normalised", {"value": digits}),) if digits != cleaned else ()
    return Normalised(digits, notices=notices)


def check_digit_ok(prefecture: str, institution_type: str, code: str) -> bool:
    """SPEC §3.4: the 7th digit checks the data digits, Luhn-style (mod 10, weights 2,1,2,1… from the right).

    Data digits: prefecture(2) + institution_type(1) + the code's first 6, except in 11–14 (埼玉・千葉・
    東京・神奈川) where only the code's 6 digits are used.
    """
    if len(code) != 7 or not code.isascii() or not code.isdigit():
        return False
    data = code[:6] if prefecture in ("11", "12", "13", "14") else prefecture + institution_type + code[:6]
    if not data.isascii() or not data.isdigit():
        return False
    total = 0
    for position, digit in enumerate(reversed(data)):
        product = int(digit) * (2 if position % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10 == int(code[6])


def ten_digit_code(prefecture: str, institution_type: str, code: str) -> str:
    """コード（10桁）: prefecture(2) + institution_type(1) + code(7); 01+1+9999991 → 0119999991."""
    return prefecture + institution_type + code


def check_code(code: str, prefecture: str, institution_type: str) -> Normalised:
    """The code as given; a check-digit mismatch is a warning to confirm, never a refusal (SPEC §3.4)."""
    if check_digit_ok(prefecture, institution_type, code):
        return Normalised(code)
    warning = Notice(
        "institution_code.check_digit",
        {"code": code, "ten_digit_code": ten_digit_code(prefecture, institution_type, code)},
    )
    return Normalised(code, warning=warning)
