"""Signed Slack requests (events, slash commands, interactions) as Slack sends them to /slack/events."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.slack.mock_web_api import TEAM_ID

SIGNING_SECRET = "test-signing-secret"
_ids = itertools.count(1)


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The ``X-Slack-Signature`` v0 headers for ``body``."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def event_body(event: dict[str, Any], *, event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "api_app_id": "A0001",
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_ids):06d}",
            "event_time": int(time.time()),
            "event": event,
            "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
        },
        ensure_ascii=False,
    )


def dm_event(user: str, text: str, *, channel: str | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "channel": channel or "D" + user.lstrip("U"),
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": f"{time.time():.6f}",
        **extra,
    }


def command_body(user: str, text: str, *, channel: str = "C0GENERAL") -> str:
    return urlencode(
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "user_id": user,
            "command": "/regbot",
            "text": text,
            "trigger_id": f"trigger.{next(_ids)}",
            "response_url": "https://hooks.invalid/commands/1",
        }
    )


def interaction_body(payload: dict[str, Any]) -> str:
    return urlencode({"payload": json.dumps(payload, ensure_ascii=False)})


def block_action(user: str, channel: str, message: dict[str, Any], action: dict[str, Any]) -> dict[str, Any]:
    """A click on ``action`` (a button or select element, already filled in) of a posted ``message``."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0001",
        "trigger_id": f"trigger.{next(_ids)}",
        "container": {"type": "message", "channel_id": channel, "message_ts": message.get("ts", "1.0")},
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "actions": [{**action, "action_ts": f"{time.time():.6f}.{next(_ids)}"}],
    }


def view_submission(user: str, view: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """The submission of an opened ``view`` with ``values`` typed into its inputs (block id → text)."""
    state = {block: {"value": {"type": "plain_text_input", "value": text}} for block, text in values.items()}
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": "A0001",
        "trigger_id": f"trigger.{next(_ids)}",
        "view": {**view, "id": f"V{next(_ids):06d}", "hash": f"h{next(_ids)}", "state": {"values": state}},
    }
