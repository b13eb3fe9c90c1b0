"""都道府県: code, name, kana, romaji (SPEC §3)."""

import pytest

from conversations.rules.errors import RuleError
from conversations.rules.prefectures import (
    PREFECTURES,
    parse_prefecture,
    prefecture_code_for_name,
    prefecture_name,
)


def test_table() -> None:
    """47 JIS X 0401 codes in order, 北海道 to 沖縄県."""
    assert [p.code for p in PREFECTURES] == [f"{n:02d}" for n in range(1, 48)]
    assert (PREFECTURES[0].name, PREFECTURES[12].name, PREFECTURES[46].name) == ("北海道", "東京都", "沖縄県")
    assert len({p.name for p in PREFECTURES}) == len({p.kana for p in PREFECTURES}) == 47


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("13", "13"),
        ("１３", "13"),
        ("13: 東京都", "13"),
        ("13：東京都", "13"),
        ("東京都", "13"),
        ("東京", "13"),
        ("とうきょう", "13"),
        ("とうきょうと", "13"),
        ("トウキョウ", "13"),
        ("ﾄｳｷｮｳ", "13"),
        ("tokyo", "13"),
        ("Tokyo-to", "13"),
        ("Tōkyō", "13"),
        ("1", "01"),
        ("01: 北海道", "01"),
        ("北海道", "01"),
        ("hokkaido", "01"),
        ("京都府", "26"),
        ("京都", "26"),
        ("kyoto", "26"),
        ("大阪", "27"),
        ("おおさかふ", "27"),
        ("Osaka Prefecture", "27"),
        ("神奈川県", "14"),
        ("かながわけん", "14"),
        ("沖縄", "47"),
        ("47", "47"),
    ],
)
def test_parse(typed: str, code: str) -> None:
    """Every way the SPEC lists gives the 2-digit code."""
    assert parse_prefecture(typed).value == code


@pytest.mark.parametrize("typed", ["0", "00", "48", "99", "13: 大阪府", "東京市", "とうきょ", "x", "県"])
def test_unknown(typed: str) -> None:
    """Anything else is refused."""
    with pytest.raises(RuleError) as error:
        parse_prefecture(typed)
    assert error.value.key == "prefecture.unknown"


def test_required() -> None:
    """Empty text is no answer."""
    with pytest.raises(RuleError) as error:
        parse_prefecture(" ")
    assert error.value.key == "rule.required"


def test_names() -> None:
    """Code → name and name → code, both ways for all 47."""
    for prefecture in PREFECTURES:
        assert prefecture_name(prefecture.code) == prefecture.name
        assert prefecture_code_for_name(prefecture.name) == prefecture.code
        assert parse_prefecture(prefecture.short).value == prefecture.code
        assert parse_prefecture(prefecture.kana).value == prefecture.code
        assert parse_prefecture(prefecture.romaji).value == prefecture.code
    assert prefecture_code_for_name("ナントカ県") is None
    with pytest.raises(KeyError):
        prefecture_name("48")
