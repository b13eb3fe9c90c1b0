"""電話番号, Branch A (no hyphens) and Branch B (with hyphens)."""

import pytest

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.phone import normalise_phone_hyphenated, normalise_phone_plain


def _unknown(value: str) -> Notice:
    return Notice("phone.unknown_number", {"value": value})


@pytest.mark.parametrize(
    ("typed", "stored", "changed", "known"),
    [
        ("01201234567", "01201234567", False, False),  # 手順書 ①'s example: accepted, only warned
        ("0312345678", "0312345678", False, True),
        ("09012345678", "09012345678", False, True),
        ("0120123456", "0120123456", False, True),
        ("0112345678", "0112345678", False, True),
        ("03-1234-5678", "0312345678", True, True),
        ("０３－１２３４－５６７８", "0312345678", True, True),
        ("０９０１２３４５６７８", "09012345678", True, True),
        ("03 1234 5678", "0312345678", True, True),
        ("03(1234)5678", "0312345678", True, True),
        ("（03）1234-5678", "0312345678", True, True),
        ("+81 3-1234-5678", "0312345678", True, True),
        ("TEL: 03-1234-5678", "0312345678", True, True),
        ("0120-1234-567", "01201234567", True, False),
    ],
)
def test_plain(typed: str, stored: str, changed: bool, known: bool) -> None:
    """Half-width digits, no hyphens; an unknown number warns, never refuses."""
    notices = (Notice("phone.normalised", {"value": stored}),) if changed else ()
    assert normalise_phone_plain(typed) == Normalised(
        stored, notices=notices, warning=None if known else _unknown(stored)
    )


@pytest.mark.parametrize(
    ("typed", "params"),
    [
        ("123", {"example": "01201234567", "length": 3}),
        ("0312345", {"example": "01201234567", "length": 7}),
        ("031234567890", {"example": "01201234567", "length": 12}),
        ("3123456789", {"example": "01201234567", "length": 10}),  # not from 0
        ("03-1234-567a", {"example": "01201234567", "char": "a"}),
        ("03/1234/5678", {"example": "01201234567", "char": "/"}),
    ],
)
def test_plain_format(typed: str, params: dict[str, object]) -> None:
    """10–11 digits starting with 0, or the format message with the manual's example."""
    with pytest.raises(RuleError) as error:
        normalise_phone_plain(typed)
    assert (error.value.key, error.value.params) == ("phone.format", params)


@pytest.mark.parametrize(
    ("typed", "stored", "notice", "known"),
    [
        ("0120-1234-567", "0120-1234-567", None, False),  # 手順書 ②'s example kept as typed
        ("03-1234-5678", "03-1234-5678", None, True),
        ("090-1234-5678", "090-1234-5678", None, True),
        ("0120-123-456", "0120-123-456", None, True),
        ("011-234-5678", "011-234-5678", None, True),
        ("0312345678", "03-1234-5678", "phone.grouped", True),
        ("09012345678", "090-1234-5678", "phone.grouped", True),
        ("0120123456", "0120-123-456", "phone.grouped", True),
        ("08001234567", "0800-123-4567", "phone.grouped", True),
        ("01201234567", "0120-1234-567", "phone.grouped", False),  # phonenumbers cannot group it
        ("０３－１２３４－５６７８", "03-1234-5678", "phone.normalised", True),
        ("03 1234 5678", "03-1234-5678", "phone.normalised", True),
        ("03(1234)5678", "03-1234-5678", "phone.normalised", True),
        ("03ー1234ー5678", "03-1234-5678", "phone.normalised", True),
        ("0-3-12345678", "03-1234-5678", "phone.grouped", True),  # implausible grouping redone
        ("031-23-45-678", "03-1234-5678", "phone.grouped", True),
        ("0000000000", "00-0000-0000", "phone.grouped", False),
    ],
)
def test_hyphenated(typed: str, stored: str, notice: str | None, known: bool) -> None:
    """With hyphens as Japanese numbers are grouped; digits alone are grouped for the person."""
    notices = (Notice(notice, {"value": stored}),) if notice else ()
    assert normalise_phone_hyphenated(typed) == Normalised(
        stored, notices=notices, warning=None if known else _unknown(stored)
    )


@pytest.mark.parametrize("typed", ["123", "03-1234", "1-2345-6789", "03-1234-567x", "電話"])
def test_hyphenated_format(typed: str) -> None:
    """Too short, not from 0, or not digits: the format message with the manual's example."""
    with pytest.raises(RuleError) as error:
        normalise_phone_hyphenated(typed)
    assert error.value.key == "phone.format"
    assert error.value.params["example"] == "0120-1234-567"


@pytest.mark.parametrize("rule", [normalise_phone_plain, normalise_phone_hyphenated])
def test_required(rule: object) -> None:
    """Empty text is no answer."""
    with pytest.raises(RuleError) as error:
        rule(" ")  # type: ignore[operator]
    assert error.value.key == "rule.required"
