"""clean(): what every rule does first (SPEC §3.1, last line)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conversations.rules.text import clean


@pytest.mark.parametrize(
    ("typed", "cleaned"),
    [
        ("基金", "基金"),
        ("  基金  ", "基金"),
        ("\u3000基金\u3000", "基金"),  # full-width space trimmed
        ("基\u200b金", "基金"),  # zero-width space
        ("\ufeff基金\u2060", "基金"),  # BOM, word joiner
        ("基\u200c\u200d金", "基金"),
        ("基\x00金\x07", "基金"),  # control characters
        ("\t基金\r\n", "基金"),
        ("か\u3099", "が"),  # NFC composes
        ("か\u200b\u3099", "が"),  # composes again after the zero-width char is gone
        ("葛\U000e0100飾", "葛飾"),  # variation selector
        ("基金\u3000太郎", "基金\u3000太郎"),  # inner space kept
        ("", ""),
        ("\u200b\u3000 ", ""),
    ],
)
def test_clean(typed: str, cleaned: str) -> None:
    """NFC, invisible characters dropped, surrounding space (full-width too) trimmed."""
    assert clean(typed) == cleaned


def _clean_char_by_char(text: str) -> str:
    """The rule spelled out character by character (what `clean`'s fast path must agree with)."""
    import unicodedata

    def invisible(char: str) -> bool:
        code = ord(char)
        return (
            unicodedata.category(char) in ("Cc", "Cf", "Cs")
            or 0xFE00 <= code <= 0xFE0F
            or 0xE0100 <= code <= 0xE01EF
        )

    visible = "".join(c for c in unicodedata.normalize("NFC", text) if not invisible(c))
    return unicodedata.normalize("NFC", visible).strip()


@given(
    st.text(
        alphabet=st.one_of(
            st.characters(),
            st.sampled_from("\u200b\u200d\u2060\ufeff\ufe0f\U000e0100\u3000\t\n\u0301あ基ｱ"),
        ),
        max_size=30,
    )
)
def test_clean_fast_path_agrees_with_the_rule_character_by_character(text: str) -> None:
    assert clean(text) == _clean_char_by_char(text)
