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
