"""The app manifest asks for what the code uses: its events, the slash command, interactivity, scopes."""

from __future__ import annotations

import re
from pathlib import Path

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yml"


def listed(section: str) -> set[str]:
    """The ``- item`` lines right under ``section:`` (comments dropped)."""
    text = MANIFEST.read_text(encoding="utf-8")
    block = re.search(rf"^(\s*){section}:\n((?:\1\s+- .*\n)+)", text, re.MULTILINE)
    assert block, section
    return {line.split("#")[0].strip()[2:].strip() for line in block.group(2).splitlines()}


def test_events_scopes_and_command() -> None:
    text = MANIFEST.read_text(encoding="utf-8")
    assert listed("bot_events") == {"app_mention", "message.im", "message.channels", "message.groups"}
    assert listed("bot") == {
        "app_mentions:read",
        "channels:history",
        "chat:write",
        "commands",
        "groups:history",
        "im:history",
        "im:read",
        "im:write",
        "reactions:write",
    }
    assert "command: /regbot" in text
    assert re.search(r"interactivity:\n\s+is_enabled: true", text)
    assert len(re.findall(r"(?:url|request_url): https://YOUR-HOST/slack/events", text)) == 3
    assert "socket_mode_enabled: false" in text
