"""Recognising what a message is before it is taken as an answer: commands, FAQ questions, redirects,
and `label: value` lines (SPEC §1, §2)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from conversations.catalogue.en import MESSAGES_EN
from conversations.catalogue.ja import MESSAGES_JA
from conversations.fields import BRANCH_A, BRANCH_B, Field


def fold(text: str) -> str:
    """Compare form: NFKC, lower case, no spaces, no leading * (the manual marks required fields so)."""
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = re.sub(r"[\s\u3000]+", "", folded)
    return folded.lstrip("*＊").rstrip("。.!！")


_WORDS: dict[str, frozenset[str]] = {
    "help": frozenset({"ヘルプ", "へるぷ", "help", "?", "使い方"}),
    "back": frozenset({"戻る", "もどる", "back", "前へ", "前に戻る"}),
    "restart": frozenset(
        {"最初から", "さいしょから", "restart", "やり直し", "やりなおし", "最初からやり直す"}
    ),
    "cancel": frozenset({"キャンセル", "きゃんせる", "cancel", "中止", "登録を中止"}),
    "status": frozenset({"状況", "じょうきょう", "status", "進捗", "進み具合"}),
    "resend": frozenset({"再送", "さいそう", "resend", "再送信", "メールを再送"}),
    "human": frozenset(
        {"担当者", "たんとうしゃ", "human", "helpdesk", "ヘルプデスク", "担当者と話したい", "オペレーター"}
    ),
    "english": frozenset({"english", "英語", "inenglish"}),
    "japanese": frozenset({"日本語", "japanese", "にほんご"}),
}
_WORDS_FOLDED = {name: frozenset(fold(w) for w in words) for name, words in _WORDS.items()}

_EDIT = re.compile(r"^\s*(修正|しゅうせい|edit|fix)([\s\u3000:：]*)(.*)$", re.IGNORECASE | re.DOTALL)

OK_WORDS = frozenset(
    fold(w) for w in ("OK", "ok", "オーケー", "はい", "yes", "登録", "登録する", "確定", "OKです")
)


@dataclass(frozen=True)
class Command:
    name: str  # help back edit restart cancel status resend human english japanese
    argument: str = ""


def parse_command(text: str) -> Command | None:
    folded = fold(text)
    for name, words in _WORDS_FOLDED.items():
        if folded in words:
            return Command(name)
    match = _EDIT.match(unicodedata.normalize("NFKC", text).strip())
    if match is None or len(match.group(3)) > 40:
        return None
    argument = match.group(3).strip()
    # 「修正電話番号」 is an edit, 「修正液株式会社」 an answer: without a separator the rest names a field.
    if argument and not match.group(2) and fold(argument) not in LABELS:
        return None
    return Command("edit", argument)


# 手順書のトラブルシューティング: free-text questions answered with the manual's text
_FAQ = (
    ("faq.invalid_operation", re.compile(r"不正な操作|invalid operation")),
    (
        "faq.mail_not_arriving",
        re.compile(
            r"(メール|mail).{0,12}"
            r"(届かない|届きません|来ない|来ません|こない|not arriv|didn.?t (get|receive))",
            re.I,
        ),
    ),
)


def faq_answer(text: str) -> str | None:
    normalised = unicodedata.normalize("NFKC", text)
    for key, pattern in _FAQ:
        if pattern.search(normalised):
            return key
    return None


_SENTENCE = re.compile(r"(です|ます|でした|ですが|の者|ません|ですか|だけど|なんですが)")


def looks_like_sentence(text: str) -> bool:
    return bool(_SENTENCE.search(text))


# ------------------------------------------------------------------------------- `label: value` lines


def _label_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for field in (*BRANCH_A, *BRANCH_B):
        names: list[str] = [field.id, *field.aliases]
        for catalogue in (MESSAGES_JA, MESSAGES_EN):
            label = catalogue.get(field.label_key)
            if label:
                names.append(label)
        for name in names:
            index.setdefault(fold(name), field.id)
    return index


LABELS: dict[str, str] = _label_index()
_LINE = re.compile(r"^\s*([^:：]{1,40}?)\s*[:：]\s*(.*?)\s*$")


def parse_labelled_lines(text: str) -> list[tuple[str, str]] | None:
    """`label: value` lines → [(field id, value)], or None when the message is not such a message.

    A message counts when at least one line names a known field.  Lines that name none are ignored
    (greetings, signatures); empty values (an unfilled template line) are skipped.
    """
    found: list[tuple[str, str]] = []
    for line in text.splitlines():
        match = _LINE.match(line)
        if not match:
            continue
        field_id = LABELS.get(fold(match.group(1)))
        if field_id is None:
            continue
        found.append((field_id, match.group(2)))
    if not found:
        return None
    return [(field_id, value) for field_id, value in found if value.strip()]


def find_field(name: str, candidates: tuple[Field, ...]) -> Field | None:
    """修正 <項目>: a field by id, label, alias, or an unambiguous part of its label."""
    wanted = fold(name)
    if not wanted:
        return None
    field_id = LABELS.get(wanted)
    if field_id is not None:
        for field in candidates:
            if field.id == field_id:
                return field
    partial = [
        f
        for f in candidates
        if any(wanted in fold(label) for label in (MESSAGES_JA.get(f.label_key, ""), *f.aliases))
    ]
    return partial[0] if len(partial) == 1 else None
