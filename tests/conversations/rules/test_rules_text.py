"""clean(): what every rule does first (SPEC §3.1, last line)."""

import pytest

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
