"""bot.helpdesk_mask: staff see enough to recognise a value, never the value, a password or a token."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.helpdesk_mask import (
    PASSWORD_WITHHELD,
    STAR,
    mask_code,
    mask_email,
    mask_message,
    mask_name,
    mask_phone,
    mask_value,
)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("山田", "山＊"),
        ("基金 太郎", "基＊ 太＊"),
        ("基金\u3000太郎", "基＊\u3000太＊"),
        ("林", "＊"),
        ("長谷川", "長＊＊"),
        ("医療法人基金会", "医＊＊＊"),  # capped: the length does not tell the name
    ],
)
def test_names_keep_only_their_first_character(value: str, masked: str) -> None:
    assert mask_name(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("tanaka@example.jp", "t＊＊＊@example.jp"),
        ("kikin.taro@example.jp", "k＊＊＊@example.jp"),
        ("a@example.jp", "＊＊＊@example.jp"),
    ],
)
def test_email_keeps_the_first_character_and_the_domain(value: str, masked: str) -> None:
    assert mask_email(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("0312345678", "03＊＊＊＊＊678"),
        ("01201234567", "01＊＊＊＊＊＊567"),
        ("03-1234-5678", "03-＊＊＊＊-＊678"),
    ],
)
def test_phone_keeps_area_prefix_and_last_three(value: str, masked: str) -> None:
    assert mask_phone(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [("0113719", "01＊＊＊19"), ("0110113719", "01＊＊＊＊＊＊19"), ("1000001", "10＊＊＊01")],
)
def test_codes_keep_two_digits_at_each_end(value: str, masked: str) -> None:
    assert mask_code(value) == masked


@pytest.mark.parametrize(
    ("field_id", "value", "masked"),
    [
        ("prefecture", "01", "01"),
        ("institution_type", "1", "1"),
        ("institution_name", "基金クリニック", "基＊＊＊"),
        ("established_on", "2024-04-01", "2024-＊＊-＊＊"),
        ("address", "千代田区千代田１－１", "千＊＊＊"),
    ],
)
def test_values_by_field(field_id: str, value: str, masked: str) -> None:
    assert mask_value(field_id, value) == masked


VALUES = {
    "family_name": "基金",
    "given_name": "太郎",
    "email": "kikin.taro@example.jp",
    "phone": "0312345678",
}


@pytest.mark.parametrize(
    ("text", "awaiting", "shown"),
    [
        ("電話番号が通りません", "institution_type", "電話番号が通りません"),
        ("メールは kikin.taro@example.jp です", "prefecture", "メールは k＊＊＊@example.jp です"),
        ("番号 03-1234-5678 です", None, "番号 03-＊＊＊＊-＊＊78 です"),
        ("コード0113719で合ってますか", None, "コード＊＊＊＊＊＊＊で合ってますか"),
        ("私は基金です", None, "私は基＊です"),
        ("基金", "family_name", "基＊"),
        ("千代田区千代田1-1", "address", "千＊＊＊"),
        ("Kikin2024pass", "phone", PASSWORD_WITHHELD),
        ("パスワードは Kikin2024pass です", None, PASSWORD_WITHHELD),
        ("http://127.0.0.1:8080/verify/abcDEF123_-xyzXYZ789abcDEF123_-xyz が不正", None, None),
    ],
)
def test_messages_are_masked_for_the_thread(text: str, awaiting: str | None, shown: str | None) -> None:
    masked = mask_message(text, awaiting=awaiting, values=VALUES)
    if shown is not None:
        assert masked == shown
    else:
        assert "abcDEF123" not in masked and "verify" not in masked


@given(st.text(max_size=60))
def test_a_message_never_shows_a_known_value_in_full(noise: str) -> None:
    """Whatever surrounds them, the conversation's own values never come through whole."""
    for value in VALUES.values():
        masked = mask_message(f"{noise}{value}{noise}", awaiting=None, values=VALUES)
        assert value not in masked or value in noise


def test_masks_are_made_of_the_full_width_star() -> None:
    assert STAR == "＊"


@pytest.mark.parametrize(
    ("text", "awaiting", "shown"),
    [
        ("山田です", "family_name", "山＊＊＊"),  # a sentence while a name is awaited: masked whole
        ("電話は 03-9876-5432 です", "phone", "電話は 03-＊＊＊＊-＊＊32 です"),
        ("メールは yamada.hanako@example.jp です", "email", "メールは y＊＊＊@example.jp です"),
    ],
)
def test_sentences_while_a_personal_field_is_awaited(text: str, awaiting: str, shown: str) -> None:
    assert mask_message(text, awaiting=awaiting, values={}) == shown
