"""Replies to text, from the catalogues.  Pure: used by the console, mail and as Slack's fallback text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conversations.catalogue.en import MESSAGES_EN
from conversations.catalogue.ja import MESSAGES_JA
from conversations.catalogue.rules_en import RULE_MESSAGES_EN
from conversations.catalogue.rules_ja import RULE_MESSAGES_JA
from conversations.types import Msg, Reply

CATALOGUES: dict[str, dict[str, str]] = {
    "ja": {**RULE_MESSAGES_JA, **MESSAGES_JA},
    "en": {**RULE_MESSAGES_EN, **MESSAGES_EN},
}
LIST_OPTIONS_FOR = frozenset({"postal_town"})  # prompts whose choices are not already in the text


class _Params(dict[str, str]):
    def __missing__(self, key: str) -> str:  # a missing parameter shows as itself, never crashes
        return "{" + key + "}"


def _render_param(value: Any, lang: str) -> str:
    if isinstance(value, Msg):
        return render_msg(value, lang)
    if isinstance(value, tuple | list):
        return (
            "、".join(_render_param(v, lang) for v in value)
            if lang == "ja"
            else ", ".join(_render_param(v, lang) for v in value)
        )
    return str(value)


def render_msg(msg: Msg, lang: str) -> str:
    catalogue = CATALOGUES.get(lang, CATALOGUES["ja"])
    template = catalogue.get(msg.key) or CATALOGUES["ja"].get(msg.key) or msg.key
    params: Mapping[str, Any] = msg.params or {}
    return template.format_map(_Params({k: _render_param(v, lang) for k, v in params.items()}))


def render_text(reply: Reply, lang: str) -> str:
    lines = [render_msg(line, lang) for line in reply.lines]
    if reply.progress is not None and lines:
        current, total = reply.progress
        lines[-1] = render_msg(Msg("progress", {"current": current, "total": total}), lang) + lines[-1]
    if reply.awaiting in LIST_OPTIONS_FOR:
        lines.extend(f"  {option.value}: {render_msg(option.label, lang)}" for option in reply.options)
    return "\n".join(lines)
