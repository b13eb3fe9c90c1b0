"""Replies as Block Kit: which controls each kind of prompt gets, metadata, escaping, the modal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.slack_blocks import (
    MAX_SELECT_OPTIONS,
    choice_from_value,
    editable_fields,
    encode_value,
    escape_mrkdwn,
    first_block_marker,
    message_for,
    modal_errors,
    password_modal,
    read_password_modal,
)
from conversations.rules.errors import RuleError
from conversations.types import Choice, Msg, Option, Reply, SummaryRow


def elements(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for block in blocks if block["type"] == "actions" for e in block["elements"]]


def options(n: int) -> tuple[Option, ...]:
    return tuple(Option(str(i), Msg("choice.plain", {"text": f"町域{i}"})) for i in range(1, n + 1))


SUMMARY = (
    SummaryRow(Msg("field.family_name.label"), "基金"),
    SummaryRow(Msg("field.institution_code.label"), "8814790"),
    SummaryRow(Msg("field.institution_code_10.label"), "1318814790"),
    SummaryRow(Msg("field.password.label"), "********"),
)
CONFIRM_REPLY = Reply(
    lines=(
        Msg("summary.title"),
        *(Msg("summary.row", {"label": r.label, "value": r.value}) for r in SUMMARY),
        Msg("summary.actions"),
    ),
    awaiting="confirm",
    options=(
        Option("ok", Msg("choice.ok")),
        Option("cancel", Msg("choice.cancel")),
        Option("edit", Msg("choice.edit")),
    ),
    summary=SUMMARY,
)


@pytest.mark.parametrize(
    ("reply", "controls"),
    [
        pytest.param(Reply((Msg("completed", {"username": "a@b.jp"}),)), [], id="waits-for-nothing"),
        pytest.param(
            Reply((Msg("field.family_name.prompt"),), awaiting="family_name"), [], id="typed-answer"
        ),
        pytest.param(
            Reply((Msg("field.institution_type.prompt"),), awaiting="institution_type", options=options(5)),
            ["button"] * 5,
            id="five-buttons",
        ),
        pytest.param(
            Reply((Msg("field.postal_town.prompt"),), awaiting="postal_town", options=options(6)),
            ["static_select"],
            id="six-is-a-select",
        ),
        pytest.param(
            Reply((Msg("field.password.prompt"),), awaiting="password", secret=True),
            ["button"],
            id="password-button",
        ),
        pytest.param(CONFIRM_REPLY, ["button", "button", "static_select"], id="summary"),
    ],
)
def test_controls_per_kind_of_prompt(reply: Reply, controls: list[str]) -> None:
    """≤ 5 options are buttons, more a select; the password a button; the summary OK/キャンセル + 修正."""
    assert [e["type"] for e in elements(message_for(reply, "ja").blocks)] == controls


@pytest.mark.parametrize(
    ("awaiting", "metadata"),
    [
        (None, None),
        ("family_name", {"event_type": "regbot_prompt", "event_payload": {"awaiting": "family_name"}}),
        ("confirm", {"event_type": "regbot_prompt", "event_payload": {"awaiting": "confirm"}}),
        ("postal_town", {"event_type": "regbot_prompt", "event_payload": {"awaiting": "postal_town"}}),
    ],
)
def test_metadata_names_the_awaited_prompt_or_is_absent(awaiting: str | None, metadata: object) -> None:
    """SPEC §8: a waiting message names its field; one waiting for nothing carries no metadata at all."""
    message = message_for(Reply((Msg("stale"),), awaiting=awaiting), "ja")
    assert message.metadata == metadata
    assert ("metadata" in message.post_arguments("D1")) is (metadata is not None)


def test_prefecture_select_has_all_47_and_values_round_trip() -> None:
    from conversations.rules import prefectures

    reply = Reply(
        (Msg("field.prefecture.prompt"),),
        awaiting="prefecture",
        options=tuple(
            Option(p.code, Msg("choice.option", {"value": p.code, "label": p.name}))
            for p in prefectures.PREFECTURES
        ),
        progress=(4, 11),
    )
    (select,) = elements(message_for(reply, "ja").blocks)
    assert len(select["options"]) == 47 <= MAX_SELECT_OPTIONS
    assert select["options"][12]["text"]["text"] == "13: 東京都"
    assert choice_from_value(select["options"][12]["value"]) == Choice("prefecture", "13")


def test_progress_is_a_context_line_not_part_of_the_question() -> None:
    blocks = message_for(Reply((Msg("field.phone.prompt"),), awaiting="phone", progress=(5, 11)), "ja").blocks
    assert blocks[-1] == {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": "（5/11）", "verbatim": True}],
    }
    assert "（5/11）" not in blocks[0]["text"]["text"]


def test_summary_is_two_column_fields_and_edit_select_lists_fields() -> None:
    """入力内容確認: rows become fields; 修正 is a select of field ids (never the derived 10桁 code)."""
    blocks = message_for(CONFIRM_REPLY, "ja").blocks
    fields = [f["text"] for b in blocks if b["type"] == "section" for f in b.get("fields", [])]
    assert fields == [
        "*姓*\n基金",
        "*医療機関等・訪問看護ステーションコード（7桁）*\n8814790",
        "*医療機関等コード（10桁）*\n1318814790",
        "*パスワード*\n********",
    ]
    ok, cancel, edit = elements(blocks)
    assert (ok["style"], cancel["style"]) == ("primary", "danger")
    assert choice_from_value(ok["value"]) == Choice("confirm", "ok")
    values = [choice_from_value(o["value"]) for o in edit["options"]]
    assert values == [
        Choice("confirm", "edit:family_name"),
        Choice("confirm", "edit:institution_code"),
        Choice("confirm", "edit:password"),
    ]
    assert not any("summary.row" in json.dumps(b) for b in blocks)


def test_summary_with_more_than_ten_rows_is_split_into_sections() -> None:
    rows = tuple(SummaryRow(Msg("field.family_name.label"), str(i)) for i in range(12))
    reply = Reply(
        (Msg("summary.title"), Msg("summary.row"), Msg("summary.actions")), awaiting="confirm", summary=rows
    )
    sections = [b for b in message_for(reply, "ja").blocks if "fields" in b]
    assert [len(s["fields"]) for s in sections] == [10, 2]
    assert len(editable_fields(rows)) == 12


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("<!channel> 来て", "&lt;!channel&gt; 来て"),
        ("<@U0123> さん", "&lt;@U0123&gt; さん"),
        ("A&B <https://evil.example|こちら>", "A&amp;B &lt;https://evil.example|こちら&gt;"),
        ("基金クリニック", "基金クリニック"),
    ],
)
def test_text_typed_by_a_person_never_becomes_a_mention_or_link(typed: str, shown: str) -> None:
    assert escape_mrkdwn(typed) == shown
    reply = Reply(
        (Msg("stored", {"label": Msg("field.institution_name.label"), "value": typed}),),
        summary=(SummaryRow(Msg("field.institution_name.label"), typed),),
    )
    message = message_for(reply, "ja")
    sent = json.dumps(message.blocks, ensure_ascii=False) + message.text
    assert "<!" not in sent and "<@" not in sent and "<http" not in sent
    assert shown in message.text


def test_marker_rides_on_the_first_block() -> None:
    message = message_for(Reply((Msg("stale"),), awaiting="phone"), "ja", marker="42")
    assert first_block_marker({"blocks": message.blocks}) == "42"
    assert first_block_marker({"blocks": [{"type": "section", "block_id": "x"}]}) is None
    assert first_block_marker({}) is None


@pytest.mark.parametrize(
    "raw",
    ["", "not json", "[1]", '{"awaiting": 1, "value": "x"}', '{"value": "x"}', None],
)
def test_foreign_values_are_not_choices(raw: str | None) -> None:
    assert choice_from_value(raw) is None  # type: ignore[arg-type]


def test_value_round_trip() -> None:
    assert choice_from_value(encode_value("confirm", "edit:phone")) == Choice("confirm", "edit:phone")


def test_english_controls() -> None:
    reply = Reply((Msg("field.password.prompt"),), awaiting="password", secret=True)
    (button,) = elements(message_for(reply, "en").blocks)
    assert button["text"]["text"] == "Enter the password"
    modal = password_modal("en", conversation="D1")
    assert modal["title"]["text"] == "Set your password"


def plain_texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [text for item in node for text in plain_texts(item)]
    if not isinstance(node, dict):
        return []
    own = [node["text"]] if node.get("type") == "plain_text" else []
    return own + [text for value in node.values() for text in plain_texts(value)]


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_slack_controls_are_worded_by_the_catalogue(lang: str) -> None:
    """Buttons, placeholders and the modal show catalogue sentences, never a bare ``slack.*`` key."""
    replies = [
        Reply((Msg("field.password.prompt"),), awaiting="password", secret=True),
        Reply((Msg("field.postal_town.prompt"),), awaiting="postal_town", options=options(6)),
        CONFIRM_REPLY,
    ]
    texts = plain_texts([message_for(reply, lang).blocks for reply in replies])
    texts += plain_texts(password_modal(lang, conversation="D1"))
    assert len(texts) > 10 and not [text for text in texts if text.startswith("slack.")]


def test_password_modal_reads_back_and_hides_the_password() -> None:
    modal = password_modal("ja", conversation="D0PERSON")
    assert [b.get("block_id") for b in modal["blocks"]][1:] == ["password", "password_confirmation"]
    assert modal["title"]["text"] == "パスワード設定"
    view = {
        **modal,
        "state": {
            "values": {
                "password": {"value": {"type": "plain_text_input", "value": "Kikin2024pass"}},
                "password_confirmation": {"value": {"type": "plain_text_input", "value": "Kikin2024pass"}},
            }
        },
    }
    submission = read_password_modal(view)
    assert submission is not None
    assert (submission.conversation, submission.lang, submission.password) == (
        "D0PERSON",
        "ja",
        "Kikin2024pass",
    )
    assert "Kikin2024pass" not in repr(submission)
    assert read_password_modal({"state": {}}) is None
    assert read_password_modal({**view, "private_metadata": "{}"}) is None


@pytest.mark.parametrize(
    ("error", "block", "words"),
    [
        (RuleError("password.mismatch"), "password_confirmation", "一致しません"),
        (RuleError("password.length", length=3, min=8, max=100), "password", "3"),
        (
            RuleError("password.classes", missing_ja="大文字", missing_en="x", missing=("upper",)),
            "password",
            "大文字",
        ),
    ],
)
def test_modal_errors_go_under_the_right_input(error: RuleError, block: str, words: str) -> None:
    errors = modal_errors(error, "ja")
    assert list(errors) == [block]
    assert words in errors[block]
