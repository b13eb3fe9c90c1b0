"""Yes / no answers (the explicit yes a warning needs, SPEC §8)."""

import pytest

from conversations.rules.choices import parse_yes_no


@pytest.mark.parametrize(
    "text",
    [
        *[
            "はい",
            "はい。",
            "はい！",
            "yes",
            "Yes",
            "YES",
            "y",
            "ok",
            "OK",
            "ＯＫ",
            "ｙｅｓ",
            "同意",
            "同意します",
        ],
        *["進める", "続ける", "お願いします", "はい、お願いします", "このまま進めます", "I agree"],
    ],
)
def test_yes(text: str) -> None:
    assert parse_yes_no(text) is True


@pytest.mark.parametrize("text", ["いいえ", "いいえ。", "no", "No", "n", "やめる", "修正", "ｎｏ"])
def test_no(text: str) -> None:
    assert parse_yes_no(text) is False


@pytest.mark.parametrize(
    "text", ["", "キャンセル", "たぶん", "0312345678", "はいはい違います", "help", "yess"]
)
def test_neither(text: str) -> None:
    """Anything else is not an answer to a yes/no question."""
    assert parse_yes_no(text) is None
