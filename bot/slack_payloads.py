"""What the Slack listeners (bot.slack) read from Slack's payloads.  Pure: no I/O, no Slack SDK.

`well_formed` refuses, before bolt sees it, a body whose members are not of the types bolt assumes;
the others say who wrote an event, which DM an interaction belongs to, and what a mention or a password
button carries.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from conversations.types import Reply

_MENTION = re.compile(r"<[@!][^>]*>")


def is_dm(channel: str) -> bool:
    return channel.startswith("D")


def from_a_person(event: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Not a bot (this one or another), not an edit, deletion or other subtype."""
    if event.get("bot_id") or event.get("subtype") or event.get("bot_profile"):
        return False
    user = event.get("user")
    return bool(user) and user != context.get("bot_user_id")


# Members bolt reads with ``.get`` chains, and what Slack sends in them (None: absent or null is fine).
_SHAPES: dict[str, tuple[type, ...]] = {
    "event": (dict,),
    "user": (dict, str, type(None)),
    "team": (dict, str, type(None)),
    "channel": (dict, str, type(None)),
    "enterprise": (dict, str, type(None)),
    "container": (dict, type(None)),
    "view": (dict,),
    "message": (dict, type(None)),
}
_EVENT_SHAPES: dict[str, tuple[type, ...]] = {
    "type": (str,),
    "subtype": (str, type(None)),
    "user": (str, dict, type(None)),
    "channel": (str, dict, type(None)),
    "channel_type": (str, type(None)),
    "bot_id": (str, type(None)),
}
_LISTS = ("actions", "authorizations")


def well_formed(body: Any) -> bool:
    """What bolt's middleware reads without checking its type: the body an object with a text ``type``,
    and the members above of the types Slack sends.  Anything else is refused before bolt sees it."""
    if not isinstance(body, dict) or not isinstance(body.get("type", ""), str) or "payload" in body:
        return False  # a form's "payload" is unpacked by bolt: still there means it was not an object
    if any(key in body and not isinstance(body[key], types) for key, types in _SHAPES.items()):
        return False
    event = body.get("event")
    if isinstance(event, dict) and any(
        key in event and not isinstance(event[key], types) for key, types in _EVENT_SHAPES.items()
    ):
        return False
    for key in _LISTS:
        value = body.get(key)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
            return False
    return True


def interaction_channel(body: Mapping[str, Any]) -> str | None:
    """The DM a button or select was clicked in; None when it was not in a DM."""
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return str(channel) if channel and is_dm(str(channel)) else None


def mention_text(text: str) -> str:
    """An @mention's text without the mentions (of the bot or anyone else)."""
    return _MENTION.sub(" ", text)


def button_language(action: Mapping[str, Any]) -> str:
    """The language the password button was shown in (its value carries it); Japanese by default."""
    try:
        return str(json.loads(str(action.get("value") or "{}")).get("lang") or "ja")
    except (ValueError, AttributeError):
        return "ja"


def password_was_asked(replies: Iterable[Reply]) -> bool:
    return any(
        reply.awaiting == "password" or any(line.key == "password.warning" for line in reply.lines)
        for reply in replies
    )
