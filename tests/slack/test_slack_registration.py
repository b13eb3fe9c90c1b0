"""Whole registrations by Slack: DMs, buttons, the 都道府県 select, the password modal, 修正 from the
summary, OK, and the completion message once the verification link is used — against the real service
and a mock Web API."""

from __future__ import annotations

import email
import email.policy
import logging
import re
import time
from pathlib import Path
from typing import Any

import pytest

from tests.slack.conftest import Person, SlackBot

PASSWORD = "Kikin2024pass"


def awaiting(message: dict[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if metadata is None:
        return None
    assert metadata["event_type"] == "regbot_prompt"
    return str(metadata["event_payload"]["awaiting"])


def block_types(message: dict[str, Any]) -> list[str]:
    return [block["type"] for block in message["blocks"]]


def context_text(message: dict[str, Any]) -> str:
    return " ".join(
        element["text"]
        for block in message["blocks"]
        if block["type"] == "context"
        for element in block["elements"]
    )


async def verification_token(outbox_dir: Path, timeout: float = 5.0) -> str:
    """The token of the newest メールアドレス登録確認メール written to the outbox folder."""
    import asyncio

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(outbox_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime, reverse=True):
            mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if "登録確認" not in str(mail["Subject"]):
                continue
            body = mail.get_body(("plain",))
            assert body is not None
            found = re.search(r"/verify/([A-Za-z0-9_-]+)", body.get_content().replace("\n", ""))
            if found:
                return found.group(1)
        await asyncio.sleep(0.01)
    raise AssertionError("no verification mail in the outbox folder")


async def answer_password_by_modal(person: Person) -> dict[str, Any]:
    message = person.last()
    assert awaiting(message) == "password"
    assert "パスワードを入力する" in person.buttons()
    view = await person.opens_password_modal()
    assert view["type"] == "modal" and view["callback_id"] == "regbot_password"
    assert [b["type"] for b in view["blocks"]].count("input") == 2

    refused = await person.submits_password(view, PASSWORD, PASSWORD + "x")
    assert refused["response_action"] == "errors"
    assert "一致しません" in refused["errors"]["password_confirmation"]
    refused = await person.submits_password(view, "short1A", "short1A")
    assert refused == {"response_action": "errors", "errors": {"password": refused["errors"]["password"]}}
    assert "8文字以上" in refused["errors"]["password"]
    assert len(person.bot.mock.posts(person.dm)) == person.seen  # refused in the modal: nothing posted

    accepted = await person.submits_password(view, PASSWORD, PASSWORD)
    assert accepted is None  # an empty 200 closes the modal
    return await person._next()


async def test_branch_a_by_slack_with_buttons_select_modal_edit_and_completion(
    slack_bot: SlackBot, person: Person, caplog: pytest.LogCaptureFixture
) -> None:
    """Branch A from the first DM to the completion message, with every Slack control; the password
    appears in no Web API call and in no log line, even at DEBUG."""
    caplog.set_level(logging.DEBUG)
    message = await person.says("登録をお願いします")
    assert awaiting(message) == "family_name"
    assert "（1/11）" in context_text(message)
    message = await person.says("基金")
    assert awaiting(message) == "given_name"
    message = await person.says("太郎")
    assert awaiting(message) == "institution_type"
    assert person.buttons() == ["1: 医科", "3: 歯科", "4: 調剤", "6: 訪問看護", "7: 職域診療所"]

    message = await person.clicks("1: 医科")
    assert awaiting(message) == "prefecture"
    select = next(e for b in message["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert select["type"] == "static_select" and len(select["options"]) == 47

    message = await person.selects("13")
    assert "13：東京都" in message["text"]
    assert awaiting(message) == "institution_code"

    message = await person.says("9999991")  # the manual's dummy: the check digit fails, a warning
    assert awaiting(message) == "institution_code"
    assert person.buttons() == ["はい", "いいえ"]
    message = await person.clicks("はい")
    assert awaiting(message) == "institution_name"

    for answer, next_field in [
        ("基金クリニック", "founder_name"),
        ("医療法人基金会", "phone"),
        ("0312345678", "email"),
        ("kikin.taro@example.jp", "password"),
    ]:
        message = await person.says(answer)
        assert awaiting(message) == next_field, message["text"]

    message = await answer_password_by_modal(person)
    assert "パスワードを設定しました" in message["text"]
    assert awaiting(message) == "terms_agreed"

    message = await person.clicks("同意します")
    assert awaiting(message) == "confirm"
    fields = [f["text"] for b in message["blocks"] if b["type"] == "section" for f in b.get("fields", [])]
    assert "*姓*\n基金" in fields
    assert "*パスワード*\n********" in fields
    assert person.buttons() == ["OK", "キャンセル"]

    message = await person.selects("edit:phone")  # 修正 → the field, then straight back to the summary
    assert awaiting(message) == "phone"
    message = await person.says("0312345679")
    assert awaiting(message) == "confirm"
    assert "0312345679" in message["text"]

    message = await person.clicks("OK")
    assert awaiting(message) is None
    assert "metadata" not in message
    assert "actions" not in block_types(message)

    token = await verification_token(slack_bot.config.outbox_dir)
    result = await slack_bot.service.verification.complete(token, None, None)
    assert result.completed
    message = await person._next()
    assert "ユーザー登録が完了いたしました" in message["text"]
    assert "metadata" not in message

    await slack_bot.settled()
    assert PASSWORD not in slack_bot.mock.everything_sent()
    assert PASSWORD not in caplog.text
    # The Web API client and bolt log request bodies (the person's answers) at DEBUG: kept at INFO.
    assert not any(r.name.startswith("bot.slack.") and r.levelno == logging.DEBUG for r in caplog.records)
    assert "kikin.taro@example.jp" not in caplog.text
    assert "kikin.taro@example.jp" in slack_bot.mock.everything_sent()  # the check would have seen it


async def test_branch_b_by_slack_with_town_select(slack_bot: SlackBot, person: Person) -> None:
    """Branch B (職域診療所): the postal look-up's many 町域 come as a select."""
    await person.says("こんにちは")
    await person.says("基金")
    await person.says("花子")
    message = await person.clicks("7: 職域診療所")
    assert awaiting(message) == "prefecture"
    message = await person.selects("23")
    assert awaiting(message) == "clinic_name"
    await person.says("基金診療所")
    message = await person.says("ｷｷﾝ")
    assert awaiting(message) == "postal_code"
    message = await person.says("452-0961")
    assert awaiting(message) == "postal_town"
    message = await person.selects("愛知県清須市春日宮重町")
    assert awaiting(message) == "address"
    assert "愛知県清須市春日宮重町" in message["text"]
    for answer in [
        "１－１－１",
        "1-1-1",
        "令和6年4月1日",
        "基金株式会社",
        "ｷｷﾝｶﾌﾞｼｷｶﾞｲｼｬ",
        "0312345678",
        "kikin.hanako@example.jp",
    ]:
        message = await person.says(answer)
    assert awaiting(message) == "password"
    await answer_password_by_modal(person)
    message = await person.clicks("同意します")
    assert awaiting(message) == "confirm"
    assert "03-1234-5678" in message["text"]
    message = await person.clicks("OK")
    assert awaiting(message) is None

    token = await verification_token(slack_bot.config.outbox_dir)
    assert (await slack_bot.service.verification.complete(token, None, None)).completed
    message = await person._next()
    assert "完了" in message["text"]
    assert PASSWORD not in slack_bot.mock.everything_sent()


async def test_password_typed_in_the_dm_is_deleted_if_allowed_and_warned(
    slack_bot: SlackBot, person: Person
) -> None:
    """A password sent as a message while the modal is awaited: chat.delete is tried, the engine warns."""
    await person.says("こんにちは")
    for answer in ["基金", "太郎", "1", "13", "8814790", "基金クリニック", "医療法人基金会", "0312345678"]:
        await person.says(answer)
    message = await person.says("kikin.taro@example.jp")
    assert awaiting(message) == "password"
    slack_bot.mock.fail("chat.delete", "cant_delete_message")
    message = await person.says(PASSWORD)
    assert awaiting(message) == "password"
    assert "メッセージでは受け付けていません" in message["text"]
    await slack_bot.mock.wait_for(lambda: bool(slack_bot.mock.of("chat.delete")), what="chat.delete")
    assert slack_bot.mock.of("chat.delete")[0].body["channel"] == person.dm
    assert PASSWORD not in slack_bot.mock.everything_sent()
