"""所属機関選択, redirects (SPEC §2) and the 7-digit code with its check digit (SPEC §3.4)."""

import pytest

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.institution import (
    INSTITUTION_TYPES,
    check_code,
    check_digit_ok,
    detect_redirect,
    normalise_code,
    parse_institution_type,
    ten_digit_code,
)


def test_types() -> None:
    """The manual's five choices, 2 and 5 not offered."""
    assert INSTITUTION_TYPES == {"1": "医科", "3": "歯科", "4": "調剤", "6": "訪問看護", "7": "職域診療所"}


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1", "1"),
        ("１", "1"),
        ("医科", "1"),
        ("1: 医科", "1"),
        ("1：医科", "1"),
        ("医科です", "1"),
        ("3", "3"),
        ("歯科", "3"),
        ("歯科医院", "3"),
        ("3: 歯科", "3"),
        ("4", "4"),
        ("調剤", "4"),
        ("薬局", "4"),
        ("調剤薬局", "4"),
        ("6", "6"),
        ("訪問看護", "6"),
        ("訪問看護ステーション", "6"),
        ("7", "7"),
        ("職域", "7"),
        ("職域診療所", "7"),
        ("７：職域診療所", "7"),
        ("Dental", "3"),
    ],
)
def test_parse_type(typed: str, number: str) -> None:
    """A number (full-width too), a name, or ``1: 医科``."""
    assert parse_institution_type(typed) == Normalised(number)


@pytest.mark.parametrize("typed", ["2", "5", "0", "8", "病院", "クリニック", "診療所", "1: 歯科", "整形外科"])
def test_unknown_type(typed: str) -> None:
    """Types the portal does not offer, and words that fit several types, are refused with the list."""
    with pytest.raises(RuleError) as error:
        parse_institution_type(typed)
    assert error.value.key == "institution_type.unknown"


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("接骨院です", "facility_portal"),
        ("整骨院をやっています", "facility_portal"),
        ("柔道整復師です", "facility_portal"),
        ("柔整", "facility_portal"),
        ("あん摩マッサージ指圧", "facility_portal"),
        ("あんまです", "facility_portal"),
        ("マッサージ院", "facility_portal"),
        ("鍼灸院です", "facility_portal"),
        ("はり", "facility_portal"),
        ("はり・きゅう", "facility_portal"),
        ("はりきゅう院", "facility_portal"),
        ("きゅうです", "facility_portal"),
        ("あはき", "facility_portal"),
        ("健診実施機関です", "facility_portal"),
        ("健診センター", "facility_portal"),
        ("助産所", "facility_portal"),
        ("助産院です", "facility_portal"),
        ("取りまとめ者です", "coordinator"),
        ("取りまとめ", "coordinator"),
        ("医科です", None),
        ("歯科", None),
        ("訪問看護ステーションです", None),
        ("はりきって登録します", None),
        ("きゅうり農家の診療所", None),
        ("きゅうしゅう", None),
        ("基金 太郎", None),
        ("", None),
    ],
)
def test_detect_redirect(text: str, target: str | None) -> None:
    """Who is sent to 施術所等向け総合ポータルサイト or to 取りまとめ者 registration (手順書 2)."""
    assert detect_redirect(text) == target


@pytest.mark.parametrize(
    ("typed", "stored", "changed"),
    [
        ("9999991", "9999991", False),
        ("0113719", "0113719", False),
        ("０１１３７１９", "0113719", True),
        ("011-3719", "0113719", True),
        ("011ー3719", "0113719", True),
        ("011 3719", "0113719", True),
        (" 0113719 ", "0113719", False),
    ],
)
def test_normalise_code(typed: str, stored: str, changed: bool) -> None:
    """全角→半角, ``-``/``ー``/spaces dropped, 7 digits kept as text (leading zeros)."""
    result = normalise_code(typed)
    assert result.value == stored
    assert result.notices == ((Notice("institution_code.normalised", {"value": stored}),) if changed else ())


@pytest.mark.parametrize(("typed", "length"), [("011371", 6), ("01137190", 8), ("-", 0), ("1", 1)])
def test_code_digits(typed: str, length: int) -> None:
    """Not 7 digits: the message says how many were found."""
    with pytest.raises(RuleError) as error:
        normalise_code(typed)
    assert (error.value.key, error.value.params) == ("institution_code.digits", {"length": length})


@pytest.mark.parametrize(("typed", "char"), [("011371a", "a"), ("011.3719", "."), ("O113719", "O")])
def test_code_not_digits(typed: str, char: str) -> None:
    """A character that is not a digit is named."""
    with pytest.raises(RuleError) as error:
        normalise_code(typed)
    assert (error.value.key, error.value.params) == ("institution_code.not_digits", {"char": char})


@pytest.mark.parametrize(
    ("prefecture", "institution_type", "code", "ok"),
    [
        ("01", "1", "0113719", True),  # SPEC §3.4: 北海道 医科 0113719 → 0110113719 ✓
        ("13", "1", "8814790", True),  # SPEC §3.4: 東京 医科 8814790 → 1318814790 ✓
        ("01", "1", "9999991", False),  # 手順書's dummy 0119999991
        ("01", "1", "0113718", False),
        ("01", "3", "0113719", False),  # the type is a data digit outside 11–14
        ("13", "3", "8814790", True),  # …but not in 11–14
        ("14", "4", "8814790", True),
        ("12", "1", "8814791", False),
        ("15", "1", "8814790", False),
        ("01", "1", "011371", False),  # wrong length never passes
    ],
)
def test_check_digit(prefecture: str, institution_type: str, code: str, ok: bool) -> None:
    """Luhn-style mod 10 over prefecture + type + 6 digits (only the 6 digits in 11–14)."""
    assert check_digit_ok(prefecture, institution_type, code) is ok


def test_ten_digit_code() -> None:
    """The manual's example: 01 + 1 + 9999991."""
    assert ten_digit_code("01", "1", "9999991") == "0119999991"
    assert ten_digit_code("01", "1", "0113719") == "0110113719"
    assert ten_digit_code("13", "1", "8814790") == "1318814790"


def test_check_code_warns_never_refuses() -> None:
    """A mismatch is a warning to confirm (「コードをご確認ください。このまま進めますか？」)."""
    assert check_code("0113719", "01", "1") == Normalised("0113719")
    assert check_code("9999991", "01", "1") == Normalised(
        "9999991",
        warning=Notice("institution_code.check_digit", {"code": "9999991", "ten_digit_code": "0119999991"}),
    )
