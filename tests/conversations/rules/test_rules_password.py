"""パスワード (SPEC §3.3, 手順書: 大文字/小文字/数字をそれぞれ1文字以上、8文字以上100文字以内)."""

import pytest

from conversations.rules.errors import RuleError
from conversations.rules.password import check_password, looks_like_password


@pytest.mark.parametrize("password", ["Abcdefg1", "A1" + "b" * 98, "Passw0rd!#", "1aA-----"])
def test_accepts(password: str) -> None:
    """8–100 characters with upper, lower and digit, confirmed."""
    check_password(password, password)


@pytest.mark.parametrize(("password", "length"), [("Abcdef1", 7), ("", 0), ("A1" + "b" * 99, 101)])
def test_length(password: str, length: int) -> None:
    with pytest.raises(RuleError) as error:
        check_password(password, password)
    assert (error.value.key, error.value.params) == (
        "password.length",
        {"length": length, "min": 8, "max": 100},
    )


@pytest.mark.parametrize(
    ("password", "missing", "missing_ja"),
    [
        ("abcdefgh", ("upper", "digit"), "大文字・数字"),
        ("ABCDEFG1", ("lower",), "小文字"),
        ("Abcdefgh", ("digit",), "数字"),
        ("12345678", ("upper", "lower"), "大文字・小文字"),
        ("!!!!!!!!", ("upper", "lower", "digit"), "大文字・小文字・数字"),
    ],
)
def test_classes(password: str, missing: tuple[str, ...], missing_ja: str) -> None:
    """The message names what is missing, in both languages."""
    with pytest.raises(RuleError) as error:
        check_password(password, password)
    assert error.value.key == "password.classes"
    assert error.value.params["missing"] == missing
    assert error.value.params["missing_ja"] == missing_ja
    assert error.value.params["missing_en"]


@pytest.mark.parametrize("password", ["Ａbcdefg1", "Abc defg1", "Abcdefg1あ"])
def test_chars(password: str) -> None:
    """Full-width characters and spaces would make a password nobody can type at login."""
    with pytest.raises(RuleError) as error:
        check_password(password, password)
    assert error.value.key == "password.chars"


def test_mismatch() -> None:
    with pytest.raises(RuleError) as error:
        check_password("Abcdefg1", "Abcdefg2")
    assert error.value.key == "password.mismatch"


def test_errors_never_carry_the_password() -> None:
    """Params and repr hold no part of what was typed."""
    for password, confirmation in [("Secret1", "Secret1"), ("secretpw", "secretpw"), ("Secret12", "x")]:
        with pytest.raises(RuleError) as error:
            check_password(password, confirmation)
        assert "ecret" not in repr(error.value) + repr(error.value.params)


@pytest.mark.parametrize(
    ("text", "looks"),
    [
        ("Abcdefg1", True),
        ("Hokkaido2024", True),
        ("  Passw0rd!  ", True),
        ("abcdefg1", False),  # no upper case
        ("Abc1", False),  # too short
        ("Abc defg1", False),  # two words
        ("Taro1@Example.jp", False),  # an address
        ("https://Example.com/A1", False),
        ("www.Example1.jp", False),
        ("Example1.jp", False),
        ("R6.4.1", False),
        ("H31.04.30", False),
        ("0113719", False),
        ("2024-04-01", False),
        ("基金Taro1234", False),
        ("", False),
    ],
)
def test_looks_like_password(text: str, looks: bool) -> None:
    """One token with upper, lower and digits that is not an address, URL, code or date."""
    assert looks_like_password(text) is looks
