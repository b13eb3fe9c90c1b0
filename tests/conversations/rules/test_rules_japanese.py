"""Names, the 全角 set and the 半角カナ set (SPEC §3.1, 手順書 ①②)."""

import pytest

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.japanese import (
    ENV_DEPENDENT_SUGGESTIONS,
    closest_hankaku_kana,
    closest_zenkaku,
    is_hankaku_kana_char,
    is_zenkaku_char,
    normalise_hankaku_kana,
    normalise_plain,
    normalise_zenkaku,
)

# ------------------------------------------------------------------------------------------------ plain


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("基金", "基金"),
        (" 太郎 ", "太郎"),
        ("髙橋", "髙橋"),  # lenient: the portal does not restrict 姓/名
        ("医療機関等名", "医療機関等名"),
        ("Smith", "Smith"),
        ("基\u200b金", "基金"),
    ],
)
def test_plain_accepts(typed: str, stored: str) -> None:
    """姓, 名, 医療機関等名 take any visible text."""
    assert normalise_plain(typed, max_length=50) == Normalised(stored)


def test_plain_required() -> None:
    """Nothing but space is no answer."""
    with pytest.raises(RuleError) as error:
        normalise_plain(" \u3000\u200b", max_length=50)
    assert error.value.key == "rule.required"


def test_plain_too_long() -> None:
    """The length limit names the maximum and the length typed."""
    with pytest.raises(RuleError) as error:
        normalise_plain("あ" * 51, max_length=50)
    assert (error.value.key, error.value.params) == ("rule.too_long", {"max": 50, "length": 51})


# ----------------------------------------------------------------------------------------------- 全角 set


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("基金\u3000太郎", "基金\u3000太郎"),
        ("医療法人社団　基金会", "医療法人社団　基金会"),
        ("佐々木", "佐々木"),  # 々
        ("ひらがな，カタカナ", "ひらがな，カタカナ"),  # ，
        ("ＡＢＣ１２３", "ＡＢＣ１２３"),
        ("ヴィラ", "ヴィラ"),
        ("渡邊", "渡邊"),  # 邊 is JIS level 2
        ("堯熙", "堯熙"),  # row 84
        ("塚本", "塚本"),  # U+FA10 塚: NFC maps it to 塚 U+585A
    ],
)
def test_zenkaku_accepts_unchanged(typed: str, stored: str) -> None:
    """Text already in the 全角 set is stored as cleaned, without a notice."""
    assert normalise_zenkaku(typed) == Normalised(stored)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ｶﾞｽ", "ガス"),  # ｶﾞ becomes one character
        ("ｷｷﾝ ﾀﾛｳ", "キキン\u3000タロウ"),  # half-width space → U+3000
        ("ABC123", "ＡＢＣ１２３"),
        ("abc", "ａｂｃ"),
        ("ﾊﾟﾋﾟﾌﾟ", "パピプ"),
        ("ｳﾞｨﾗ", "ヴィラ"),
        ("1,2", "１，２"),
        ("センタ-", "センター"),  # - U+002D
        ("センタ－", "センター"),  # － U+FF0D
        ("センタ‐", "センター"),  # ‐ U+2010
        ("センタ‑", "センター"),  # ‑ U+2011
        ("センタ–", "センター"),
        ("センタ—", "センター"),
        ("センタ―", "センター"),  # ― U+2015
        ("センタ−", "センター"),  # − U+2212
        ("ｾﾝﾀｰ", "センター"),  # ｰ U+FF70
        ("基金 太郎", "基金\u3000太郎"),
    ],
)
def test_zenkaku_converts(typed: str, stored: str) -> None:
    """Half-width input and dash-like characters are converted, and the stored value is shown back."""
    assert normalise_zenkaku(typed) == Normalised(
        stored, notices=(Notice("zenkaku.converted", {"value": stored}),)
    )


@pytest.mark.parametrize(
    ("typed", "char", "suggestion"),
    [
        ("医療法人①", "①", "１"),
        ("⑳", "⑳", "２０"),
        ("㈱基金", "㈱", "株式会社"),
        ("㈲基金", "㈲", "有限会社"),
        ("㈹基金", "㈹", "代表"),
        ("髙橋", "髙", "高"),
        ("山﨑", "﨑", "崎"),
        ("德川", "德", "徳"),
        ("濵田", "濵", "浜"),
        ("𠮷田", "𠮷", "吉"),
        ("Ⅰ", "Ⅰ", "Ｉ"),
        ("Ⅹ", "Ⅹ", "Ｘ"),
        ("№1", "№", "Ｎｏ"),
        ("℡", "℡", "ＴＥＬ"),
        ("㍻", "㍻", "平成"),
        ("㌔", "㌔", "キロ"),
    ],
)
def test_zenkaku_env_dependent(typed: str, char: str, suggestion: str) -> None:
    """環境依存文字 are refused, named, with a suggestion (㈱→株式会社, 髙→高)."""
    with pytest.raises(RuleError) as error:
        normalise_zenkaku(typed)
    assert error.value.key == "zenkaku.env_dependent"
    assert error.value.params == {"char": char, "suggestion": suggestion}


def test_zenkaku_env_dependent_kanji_without_suggestion() -> None:
    """A kanji outside JIS levels 1/2 with no common substitute is named; the person picks the form."""
    with pytest.raises(RuleError) as error:
        normalise_zenkaku("𩸽定食")
    assert error.value.key == "zenkaku.env_dependent_kanji"
    assert error.value.params == {"char": "𩸽", "suggestion": ""}


@pytest.mark.parametrize(
    ("typed", "char"),
    [
        ("東京～大阪", "～"),
        ("東京〜大阪", "〜"),
        ("基金（本院）", "（"),
        ("基金(本院)", "("),
        ("基金・太郎", "・"),
        ("基金、太郎", "、"),
        ("基金!", "!"),
        ("基金😀", "😀"),
        ("ﾜﾞ", "ﾜﾞ"),  # ヷ is not in JIS X 0208
        ("ゝ", "ゝ"),
        ("〆", "〆"),
        ("基金（医科）", "（"),  # the suffix only where it is allowed
    ],
)
def test_zenkaku_not_allowed(typed: str, char: str) -> None:
    """Anything else outside the set is refused with the character named."""
    with pytest.raises(RuleError) as error:
        normalise_zenkaku(typed)
    assert (error.value.key, error.value.params) == ("zenkaku.not_allowed", {"char": char})


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("基金診療所（医科）", "基金診療所（医科）"),
        ("基金診療所（歯科）", "基金診療所（歯科）"),
        ("基金診療所(医科)", "基金診療所（医科）"),
        ("基金診療所 (歯科)", "基金診療所（歯科）"),
        ("ｷｷﾝ(医科)", "キキン（医科）"),
    ],
)
def test_zenkaku_department_suffix(typed: str, stored: str) -> None:
    """職域診療所名称 may end in （医科） or （歯科）, kept with full-width parentheses (手順書 ②)."""
    assert normalise_zenkaku(typed, allow_department_suffix=True).value == stored


def test_zenkaku_department_suffix_needs_a_name() -> None:
    """The suffix alone is not a name."""
    with pytest.raises(RuleError) as error:
        normalise_zenkaku("（医科）", allow_department_suffix=True)
    assert error.value.key == "rule.required"


def test_zenkaku_suffix_only_at_the_end() -> None:
    """（医科） in the middle is an ordinary parenthesis, refused."""
    with pytest.raises(RuleError) as error:
        normalise_zenkaku("基金（医科）診療所", allow_department_suffix=True)
    assert error.value.key == "zenkaku.not_allowed"


def test_zenkaku_length_counts_the_stored_value() -> None:
    """The limit applies to what is stored."""
    assert normalise_zenkaku("ｱ" * 10, max_length=10).value == "ア" * 10
    with pytest.raises(RuleError) as error:
        normalise_zenkaku("ｱ" * 11, max_length=10)
    assert error.value.params == {"max": 10, "length": 11}


def test_zenkaku_required() -> None:
    """Empty text is no answer."""
    with pytest.raises(RuleError) as error:
        normalise_zenkaku("\u3000")
    assert error.value.key == "rule.required"


def test_env_dependent_table_is_consistent() -> None:
    """Every listed character is outside the set and every suggestion inside it."""
    for char, suggestion in ENV_DEPENDENT_SUGGESTIONS.items():
        assert not is_zenkaku_char(char), char
        assert all(is_zenkaku_char(c) for c in suggestion), suggestion


@pytest.mark.parametrize(
    ("char", "inside"),
    [
        *[("あ", True), ("ア", True), ("Ａ", True), ("０", True), ("々", True), ("，", True), ("ー", True)],
        *[("\u3000", True), ("亜", True), ("熙", True), ("A", False), ("ｱ", False), ("①", False)],
        *[("髙", False), ("・", False), ("〇", False), ("ゔ", False), ("、", False), ("－", False)],
    ],
)
def test_is_zenkaku_char(char: str, inside: bool) -> None:
    """The set is exactly the manual's list, checked through JIS X 0208 rows."""
    assert is_zenkaku_char(char) is inside


# ------------------------------------------------------------------------------------------- 半角カナ set


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ｷｷﾝ ﾀﾛｳ", "ｷｷﾝ ﾀﾛｳ"),
        ("ABC abc 123", "ABC abc 123"),
        ("ｶﾌﾞｼｷｶﾞｲｼｬ ｷｷﾝ&ｺ,ｲﾁ", "ｶﾌﾞｼｷｶﾞｲｼｬ ｷｷﾝ&ｺ,ｲﾁ"),
        ("ﾊﾟｰｸ", "ﾊﾟｰｸ"),
    ],
)
def test_kana_accepts_unchanged(typed: str, stored: str) -> None:
    """Text already in the 半角カナ set is stored as cleaned, without a notice."""
    assert normalise_hankaku_kana(typed) == Normalised(stored)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ききん　たろう", "ｷｷﾝ ﾀﾛｳ"),
        ("キキン　タロウ", "ｷｷﾝ ﾀﾛｳ"),
        ("ガス", "ｶﾞｽ"),
        ("ヴィラ", "ｳﾞｨﾗ"),
        ("ゔ", "ｳﾞ"),
        ("ＡＢＣ１２３", "ABC123"),
        ("キキン，タロウ＆ハナコ", "ｷｷﾝ,ﾀﾛｳ&ﾊﾅｺ"),
        ("センター", "ｾﾝﾀｰ"),
        ("センタ－", "ｾﾝﾀｰ"),
        ("センタ-", "ｾﾝﾀｰ"),
        ("センタ‐", "ｾﾝﾀｰ"),
        ("センタ―", "ｾﾝﾀｰ"),
        ("センタ−", "ｾﾝﾀｰ"),
        ("ハ゜", "ﾊﾟ"),  # 半濁点 typed apart (U+309C)
        ("ヶオカ", "ｹｵｶ"),  # small ヶ has no half-width form
    ],
)
def test_kana_converts(typed: str, stored: str) -> None:
    """ひらがな, 全角カタカナ, 全角英数, full-width space, ，＆ and dashes are converted."""
    assert normalise_hankaku_kana(typed) == Normalised(
        stored, notices=(Notice("kana.converted", {"value": stored}),)
    )


@pytest.mark.parametrize(
    ("typed", "char"),
    [
        ("基金", "基"),  # a kanji: the message asks for its reading in kana
        ("ｷｷﾝ・ﾀﾛｳ", "・"),
        ("ｷｷﾝ(ｶ)", "("),
        ("ｷｷﾝ｡", "｡"),
        ("ｷｷﾝ!", "!"),
        ("①", "①"),
        ("ｷｷﾝ～", "～"),
    ],
)
def test_kana_not_allowed(typed: str, char: str) -> None:
    """Characters outside the set are refused and named as typed."""
    with pytest.raises(RuleError) as error:
        normalise_hankaku_kana(typed)
    assert (error.value.key, error.value.params) == ("kana.not_allowed", {"char": char})


def test_kana_length_and_required() -> None:
    """The limit counts half-width characters (ｶﾞ is two)."""
    assert normalise_hankaku_kana("ガ", max_length=2).value == "ｶﾞ"
    with pytest.raises(RuleError) as error:
        normalise_hankaku_kana("ガガ", max_length=3)
    assert (error.value.key, error.value.params) == ("rule.too_long", {"max": 3, "length": 4})
    with pytest.raises(RuleError) as required:
        normalise_hankaku_kana("")
    assert required.value.key == "rule.required"


@pytest.mark.parametrize(
    ("char", "inside"),
    [
        *[("ｱ", True), ("ﾞ", True), ("ﾟ", True), ("ｰ", True), ("ｦ", True), ("a", True), ("Z", True)],
        *[("9", True), (",", True), ("&", True), (" ", True), ("｡", False), ("･", False), ("-", False)],
        *[("ア", False), ("\u3000", False), ("_", False)],
    ],
)
def test_is_hankaku_kana_char(char: str, inside: bool) -> None:
    """U+FF66–U+FF9F, ASCII letters and digits, ``,`` ``&`` and the space."""
    assert is_hankaku_kana_char(char) is inside


# ---------------------------------------------------------------------------------------- closest_*


def test_closest_values_fit_their_sets() -> None:
    """Values we make for the person (住所検索) never contain what the rule would refuse."""
    assert (
        closest_zenkaku("東京都港区赤坂アークヒルズ・アーク森ビル")
        == "東京都港区赤坂アークヒルズ　アーク森ビル"
    )
    assert closest_zenkaku("穴明２２地割、穴明２") == "穴明２２地割，穴明２"
    assert closest_zenkaku("髙田馬場①") == "高田馬場１"
    assert closest_hankaku_kana("アークヒルズ・アークモリビル") == "ｱｰｸﾋﾙｽﾞ ｱｰｸﾓﾘﾋﾞﾙ"
    assert closest_hankaku_kana("イミチ、オクイミチ") == "ｲﾐﾁ,ｵｸｲﾐﾁ"
