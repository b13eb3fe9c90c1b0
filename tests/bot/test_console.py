"""`regbot chat` as a person runs it: a subprocess with piped stdin, one answer a line (the password
too), printing the bot's messages and exiting 0 when its input ends — never with a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conversations.transcript import BRANCH_A_ANSWERS, BRANCH_B_ANSWERS

ROOT = Path(__file__).resolve().parents[2]
REGBOT = [sys.executable, "-m", "bot.cli"]


def run_chat(lines: list[str], *args: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    return subprocess.run(
        [*REGBOT, "chat", *args],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


def test_branch_a_from_piped_input_reaches_verification():
    result = run_chat([*BRANCH_A_ANSWERS, "Kikin2024pass", "同意します", "OK"], "--memory")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "入力内容確認" in result.stdout
    assert "0110113719" in result.stdout
    assert "ユーザー登録用のリンク" in result.stdout
    assert "Kikin2024pass" not in result.stdout


def test_branch_b_from_piped_input_reaches_verification():
    result = run_chat([*BRANCH_B_ANSWERS, "Kikin2024pass", "同意します", "OK"], "--memory")
    assert result.returncode == 0, result.stderr
    assert "東京都千代田区千代田" in result.stdout
    assert "2024-04-01" in result.stdout
    assert "ユーザー登録用のリンク" in result.stdout


@pytest.mark.parametrize("lines", [[], ["基金"], ["\x00\x1b[A", "①㈱"], ["english", "help"]])
def test_input_ending_anywhere_exits_zero_without_traceback(lines):
    result = run_chat(lines, "--memory")
    assert result.returncode == 0
    assert "Traceback" not in result.stderr


def test_wrong_answer_repeats_the_question_with_the_reason():
    result = run_chat(["基金", "太郎", "1", "北海道", "12"], "--memory")
    assert result.stdout.count("医療機関等・訪問看護ステーションコード（7桁）を入力してください") == 2
    assert "7桁" in result.stdout


def _link_token(eml: Path) -> str:
    import email as email_lib
    import email.policy
    import re

    message = email_lib.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    plain = message.get_body(("plain",))
    assert plain is not None
    body = plain.get_content()
    match = re.search(r"/verify/([A-Za-z0-9_\-]+)", body)
    assert match, body
    return match.group(1)


async def test_chat_on_the_database_writes_the_mail_and_shows_completion(tmp_path):
    """With storage: the verification .eml path is shown, the link completes the account, and the
    completion notice reaches the console conversation."""
    from bot.config import load_config
    from bot.service import Service

    env = {
        "REGBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'regbot.sqlite3'}",
        "REGBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    result = run_chat([*BRANCH_A_ANSWERS, "Kikin2024pass", "同意します", "OK"], env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    mails = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(mails) == 1
    assert str(mails[0].name) in result.stdout
    token = _link_token(mails[0])
    assert token not in result.stdout and token not in result.stderr

    service = await Service.open(load_config(env))
    try:
        outcome = await service.verification.complete(token, None, None)
        assert outcome.completed
        await service.deliver_outbox()
    finally:
        await service.close()
    assert len(sorted((tmp_path / "outbox").glob("*.eml"))) == 2


async def test_console_conversation_receives_the_completion_notice(tmp_path):
    from bot.config import load_config
    from bot.console_service import ServiceConversation
    from bot.service import Service
    from conversations.render import render_text
    from conversations.types import Secret, Start, Text

    env = {
        "REGBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'regbot.sqlite3'}",
        "REGBOT_OUTBOX_DIR": str(tmp_path / "outbox"),
    }
    service = await Service.open(load_config(env))
    conversation = ServiceConversation(service, "session-1")
    try:
        await conversation.send(Start(channel="console"))
        for answer in BRANCH_A_ANSWERS:
            await conversation.send(Text(answer))
        await conversation.send(Secret("Kikin2024pass", "Kikin2024pass"))
        await conversation.send(Text("同意します"))
        replies = await conversation.send(Text("OK"))
        assert any("outbox" in render_text(r, "ja") for r in replies)
        assert await conversation.notifications() == []
        token = _link_token(next((tmp_path / "outbox").glob("*.eml")))
        assert (await service.verification.complete(token, None, None)).completed
        notices = "\n".join(render_text(r, "ja") for r in await conversation.notifications())
        assert "ユーザー登録が完了いたしました" in notices
        assert "アカウント登録完了メール" in notices
        assert await conversation.notifications() == []
    finally:
        await conversation.close()


def test_unusable_database_falls_back_to_memory_with_a_clear_message(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    env = {"REGBOT_DATABASE_URL": f"sqlite+aiosqlite:///{blocked}/sub/regbot.sqlite3"}
    result = run_chat(["基金"], env=env, cwd=tmp_path)
    assert result.returncode == 0
    assert "Traceback" not in result.stderr
    assert "メモリ上の試用モード" in result.stderr
    assert "「姓」を「基金」として登録しました" in result.stdout
