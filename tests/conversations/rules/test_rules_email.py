"""メールアドレス (SPEC §3.2, 手順書: 使用可能文字, 40桁以下)."""

import pytest

from conversations.rules.email import normalise_email
from conversations.rules.errors import Normalised, Notice, RuleError

FORTY = "a" * 29 + "@example.jp"  # 29 + 11 = 40 characters
FORTY_ONE = "a" * 30 + "@example.jp"


def test_fixtures_have_the_lengths_they_claim() -> None:
    assert (len(FORTY), len(FORTY_ONE)) == (40, 41)


@pytest.mark.parametrize(
    "address",
    [
        "xxx@xxx.com",  # 手順書's example
        "taro.kikin@example.jp",
        "taro-kikin+portal_1@mail.example.co.jp",
        "taro..@docomo.ne.jp",  # old Japanese mobile addresses exist
        FORTY,
    ],
)
def test_accepts(address: str) -> None:
    """Lower-case letters, digits, ``.`` ``-`` ``+`` ``_``, one ``@``, a domain with a dot, ≤ 40."""
    assert normalise_email(address) == Normalised(address)


@pytest.mark.parametrize(
    ("typed", "stored", "keys"),
    [
        ("Taro@Example.JP", "taro@example.jp", ("email.lowercased",)),
        ("taro＠example.jp", "taro@example.jp", ("email.at_converted",)),
        ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "taro@example.jp", ("email.at_converted",)),
        ("Ｔａｒｏ＠example.jp", "taro@example.jp", ("email.at_converted", "email.lowercased")),
    ],
)
def test_normalises_with_notices(typed: str, stored: str, keys: tuple[str, ...]) -> None:
    """Upper case and 全角/＠ are normalised, each with a notice showing the stored value."""
    assert normalise_email(typed) == Normalised(
        stored, notices=tuple(Notice(k, {"value": stored}) for k in keys)
    )


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("mailto:taro@example.jp", "taro@example.jp"),
        ("基金 太郎 <taro@example.jp>", "taro@example.jp"),
        ("<taro@example.jp>", "taro@example.jp"),
        ("  taro@example.jp\u200b ", "taro@example.jp"),
    ],
)
def test_strips_wrappers(typed: str, stored: str) -> None:
    """A mailto: prefix or a pasted ``Name <address>`` keeps just the address."""
    assert normalise_email(typed).value == stored


def test_forty_one_characters() -> None:
    """41+ cannot be registered (手順書: お問い合わせからご連絡ください)."""
    with pytest.raises(RuleError) as error:
        normalise_email(FORTY_ONE)
    assert (error.value.key, error.value.params) == ("email.too_long", {"length": 41, "max": 40})


@pytest.mark.parametrize(
    ("typed", "char"),
    [
        ("taro kikin@example.jp", " "),
        ("taro!@example.jp", "!"),
        ("たろう@example.jp", "た"),
        ("a,b@c.jp", ","),
    ],
)
def test_chars(typed: str, char: str) -> None:
    """A character outside the manual's list is named."""
    with pytest.raises(RuleError) as error:
        normalise_email(typed)
    assert (error.value.key, error.value.params) == ("email.chars", {"char": char})


@pytest.mark.parametrize(
    "typed",
    [
        *["taro", "taro@", "@example.jp", "a@@example.jp", "a@b@example.jp"],
    ],
)
def test_format(typed: str) -> None:
    """Exactly one ``@`` with something on both sides."""
    with pytest.raises(RuleError) as error:
        normalise_email(typed)
    assert error.value.key == "email.format"


@pytest.mark.parametrize(
    "typed",
    [
        *["taro@example", "a@b", "a@.jp", "a@b..jp", "a@example.", "a@-example.jp", "a@example_x.jp"],
        *["a@example.j", "a@example.123"],
    ],
)
def test_domain(typed: str) -> None:
    """A domain with a dot: the message says it is the part after ``@`` that is wrong."""
    with pytest.raises(RuleError) as error:
        normalise_email(typed)
    assert error.value.key == "email.domain"
    assert error.value.params["domain"] == typed.partition("@")[2]


@pytest.mark.parametrize("typed", ["taro..abc@docomo.ne.jp", "taro.@ezweb.ne.jp"])
def test_japanese_carrier_addresses_with_unusual_dots_are_accepted(typed: str) -> None:
    assert normalise_email(typed).value == typed


def test_required() -> None:
    with pytest.raises(RuleError) as error:
        normalise_email("mailto:")
    assert error.value.key == "rule.required"
