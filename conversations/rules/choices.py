"""Yes / no answers: the explicit yes a warning needs (SPEC §8), 利用規約への同意, and the like."""

from __future__ import annotations

import re
import unicodedata

from conversations.rules.text import clean

_YES = frozenset(
    {
        "はい",
        "はいそうです",
        "はいお願いします",
        "yes",
        "y",
        "ok",
        "okay",
        "sure",
        "同意",
        "同意します",
        "同意する",
        "進める",
        "進めます",
        "このまま進める",
        "このまま進めます",
        "続ける",
        "続けます",
        "お願いします",
        "おねがいします",
        "了解",
        "了解です",
        "問題ありません",
        "大丈夫です",
        "i agree",
        "agree",
        "continue",
        "proceed",
    }
)
_NO = frozenset(
    {
        "いいえ",
        "いや",
        "no",
        "n",
        "やめる",
        "やめます",
        "止める",
        "修正",
        "修正する",
        "修正します",
        "訂正",
        "違います",
        "ちがいます",
        "同意しない",
        "同意しません",
        "stop",
    }
)
# Trailing punctuation and spaces people add: はい。 / OK! / yes.
_TRAILING = re.compile(r"[\s。．.!！、,]+$")


def parse_yes_no(text: str) -> bool | None:
    """True for an explicit yes (はい, yes, OK, 同意します, …), False for a no (いいえ, no, 修正, …).

    None for anything else: the engine then treats the text as an answer or a command.
    """
    compatible = unicodedata.normalize("NFKC", clean(text)).lower()
    word = _TRAILING.sub("", compatible).replace(" ", "").replace("、", "")
    spaced = _TRAILING.sub("", compatible)
    if word in _YES or spaced in _YES:
        return True
    if word in _NO or spaced in _NO:
        return False
    return None
