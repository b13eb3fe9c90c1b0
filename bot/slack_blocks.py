"""Replies as Slack messages, and the password modal.  Pure: no I/O, no Slack SDK.

A `Reply` becomes Block Kit (sections for its lines, a context line with the progress, buttons or a select
for its options, the 入力内容確認 rows as two-column fields), a plain fallback text for notifications, and
message metadata naming the awaited field (SPEC §8).  Every text that came from a person is escaped, so
nothing typed in a conversation can become a mention or a link.  Slack's own controls (the password
button and modal, the selects' placeholders) are worded by the catalogues' ``slack.*`` messages.

Buttons and selects carry ``{"awaiting": <prompt id>, "value": <value>}`` as JSON: `choice_from_value`
turns that back into a `Choice`, and the engine itself answers a button of an older prompt politely.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conversations.render import CATALOGUES, render_msg, render_text
from conversations.rules.errors import RuleError
from conversations.types import Choice, Msg, Option, Reply, SummaryRow

Block = dict[str, Any]

PROMPT_EVENT_TYPE = "regbot_prompt"
CONFIRM = "confirm"

CHOICE_ACTION = "regbot_choice"  # buttons: regbot_choice:<n> (action ids must differ within a block)
SELECT_ACTION = "regbot_select"  # static selects (都道府県, many 町域, 修正 at the summary)
PASSWORD_ACTION = "regbot_password"  # the button that opens the modal
PASSWORD_VIEW = "regbot_password"  # the modal's callback id
PASSWORD_BLOCK = "password"
CONFIRMATION_BLOCK = "password_confirmation"
PASSWORD_INPUT = "value"
MARKER_PREFIX = "regbot-"  # block id of a message's first block: which outbox row it was

MAX_BUTTONS = 5
MAX_SELECT_OPTIONS = 100  # Slack's limit for static_select
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10  # per section
MAX_FIELD_TEXT = 2000
MAX_PLAIN_LABEL = 75  # button text, option text
MAX_BLOCKS = 50
MAX_FALLBACK_TEXT = 3900


@dataclass(frozen=True)
class SlackMessage:
    """The arguments of one ``chat.postMessage``: fallback text, blocks, and metadata (None when the
    message waits for nothing)."""

    text: str
    blocks: list[Block]
    metadata: dict[str, Any] | None

    def post_arguments(self, channel: str) -> dict[str, Any]:
        arguments: dict[str, Any] = {"channel": channel, "text": self.text, "blocks": self.blocks}
        if self.metadata is not None:
            arguments["metadata"] = self.metadata
        return arguments


# ------------------------------------------------------------------------------------------- escaping


def escape_mrkdwn(text: str) -> str:
    """Slack's three control characters, so ``<!channel>`` or ``<@U123>`` typed by a person stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int = MAX_PLAIN_LABEL) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit) or " ", "emoji": False}


def _mrkdwn(text: str, limit: int = MAX_SECTION_TEXT) -> dict[str, Any]:
    # verbatim: Slack parses nothing on its own (no automatic mentions or channel links).
    return {"type": "mrkdwn", "text": _clip(escape_mrkdwn(text), limit) or " ", "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


# ------------------------------------------------------------------------------------------- messages


def encode_value(awaiting: str, value: str) -> str:
    return json.dumps({"awaiting": awaiting, "value": value}, ensure_ascii=False, separators=(",", ":"))


def choice_from_value(raw: str) -> Choice | None:
    """A button's or option's value back as a `Choice`; None for anything that is not ours."""
    try:
        data = json.loads(raw)
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    awaiting, value = data.get("awaiting"), data.get("value")
    if not isinstance(awaiting, str) or not isinstance(value, str):
        return None
    return Choice(awaiting=awaiting, value=value)


def prompt_metadata(awaiting: str | None) -> dict[str, Any] | None:
    """SPEC §8: a message that waits for a field names it; one that waits for nothing has no metadata."""
    if awaiting is None:
        return None
    return {"event_type": PROMPT_EVENT_TYPE, "event_payload": {"awaiting": awaiting}}


def fallback_text(reply: Reply, lang: str) -> str:
    """What notifications and clients without blocks show: the console's text, escaped."""
    return _clip(escape_mrkdwn(render_text(reply, lang)), MAX_FALLBACK_TEXT)


def message_for(reply: Reply, lang: str, *, marker: str | None = None) -> SlackMessage:
    """One reply as a Slack message.  ``marker`` (e.g. the outbox id) becomes the first block's id, so a
    delivery that is retried can recognise a message it already posted."""
    blocks = _reply_blocks(reply, lang)
    if len(blocks) > MAX_BLOCKS:  # never expected; keep the actions (last) and the first lines
        blocks = [*blocks[: MAX_BLOCKS - 3], *blocks[-3:]]
    if marker is not None and blocks:
        blocks[0] = {**blocks[0], "block_id": MARKER_PREFIX + marker}
    return SlackMessage(
        text=fallback_text(reply, lang), blocks=blocks, metadata=prompt_metadata(reply.awaiting)
    )


def first_block_id(message: Mapping[str, Any]) -> str | None:
    """The ``block_id`` of a posted message's first block (as ``conversations.history`` and
    ``conversations.replies`` return it), where regbot's posts carry their markers."""
    blocks = message.get("blocks") or []
    if not blocks or not isinstance(blocks[0], Mapping):
        return None
    block_id = blocks[0].get("block_id")
    return block_id if isinstance(block_id, str) else None


def first_block_marker(message: Mapping[str, Any]) -> str | None:
    """The marker `message_for` put on a posted message (as ``conversations.history`` returns it)."""
    block_id = first_block_id(message)
    if block_id is not None and block_id.startswith(MARKER_PREFIX):
        return block_id[len(MARKER_PREFIX) :]
    return None


def _reply_blocks(reply: Reply, lang: str) -> list[Block]:
    blocks: list[Block] = []
    summary_done = False
    for line in reply.lines:
        if reply.summary and line.key == "summary.row":
            if not summary_done:
                blocks.extend(summary_blocks(reply.summary, lang))
                summary_done = True
            continue
        text = render_msg(line, lang)
        if text.strip():
            blocks.append(_section(text))
    if reply.progress is not None:
        current, total = reply.progress
        progress = render_msg(Msg("progress", {"current": current, "total": total}), lang)
        blocks.append({"type": "context", "elements": [_mrkdwn(progress)]})
    blocks.extend(_action_blocks(reply, lang))
    return blocks


def summary_blocks(rows: Sequence[SummaryRow], lang: str) -> list[Block]:
    """入力内容確認 as sections of two-column fields (Slack shows at most ten fields a section)."""
    fields = []
    for row in rows:
        label = render_msg(row.label, lang)
        value = render_msg(row.value, lang) if isinstance(row.value, Msg) else row.value
        text = f"*{escape_mrkdwn(label)}*\n{escape_mrkdwn(value) or '—'}"
        fields.append({"type": "mrkdwn", "text": _clip(text, MAX_FIELD_TEXT), "verbatim": True})
    return [
        {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        for start in range(0, len(fields), MAX_FIELDS)
    ]


def _action_blocks(reply: Reply, lang: str) -> list[Block]:
    if reply.awaiting is None:
        return []
    if reply.secret:
        button = {
            "type": "button",
            "action_id": PASSWORD_ACTION,
            "text": _plain(render_msg(Msg("slack.password.button"), lang)),
            "value": json.dumps({"awaiting": reply.awaiting, "lang": lang}, separators=(",", ":")),
            "style": "primary",
        }
        return [{"type": "actions", "elements": [button]}]
    if reply.awaiting == CONFIRM:
        return _confirm_actions(reply, lang)
    if not reply.options:
        return []
    if len(reply.options) <= MAX_BUTTONS:
        return [{"type": "actions", "elements": _buttons(reply.awaiting, reply.options, lang)}]
    select = _select(
        reply.awaiting,
        [(o.value, render_msg(o.label, lang)) for o in reply.options],
        render_msg(Msg("slack.select.placeholder"), lang),
    )
    return [{"type": "actions", "elements": [select]}]


def _buttons(awaiting: str, options: Sequence[Option], lang: str) -> list[Block]:
    return [
        {
            "type": "button",
            "action_id": f"{CHOICE_ACTION}:{index}",
            "text": _plain(render_msg(option.label, lang)),
            "value": encode_value(awaiting, option.value),
        }
        for index, option in enumerate(options)
    ]


def _select(awaiting: str, entries: Sequence[tuple[str, str]], placeholder: str) -> Block:
    return {
        "type": "static_select",
        "action_id": SELECT_ACTION,
        "placeholder": _plain(placeholder, 150),
        "options": [
            {"text": _plain(label), "value": encode_value(awaiting, value)}
            for value, label in entries[:MAX_SELECT_OPTIONS]
        ],
    }


def editable_fields(rows: Sequence[SummaryRow]) -> list[tuple[str, Msg]]:
    """The field ids of the summary rows (labels are ``field.<id>.label``), minus the derived 10桁 code."""
    fields = []
    for row in rows:
        parts = row.label.key.split(".")
        if (
            len(parts) == 3
            and parts[0] == "field"
            and parts[2] == "label"
            and parts[1] != "institution_code_10"
        ):
            fields.append((parts[1], row.label))
    return fields


def _confirm_actions(reply: Reply, lang: str) -> list[Block]:
    """OK / キャンセル as buttons; 修正 as a select of the summary's fields (value ``edit:<field id>``)."""
    elements: list[Block] = []
    for index, option in enumerate(reply.options):
        if option.value == "edit":
            continue
        button: Block = {
            "type": "button",
            "action_id": f"{CHOICE_ACTION}:{index}",
            "text": _plain(render_msg(option.label, lang)),
            "value": encode_value(CONFIRM, option.value),
        }
        if option.value == "ok":
            button["style"] = "primary"
        elif option.value == "cancel":
            button["style"] = "danger"
        elements.append(button)
    if any(option.value == "edit" for option in reply.options):
        entries = [
            (f"edit:{field_id}", render_msg(label, lang))
            for field_id, label in editable_fields(reply.summary)
        ]
        if entries:
            elements.append(_select(CONFIRM, entries, render_msg(Msg("slack.edit.placeholder"), lang)))
    return [{"type": "actions", "elements": elements}] if elements else []


# ---------------------------------------------------------------------------------------------- modal


def password_modal(lang: str, *, conversation: str) -> Block:
    """The password modal (SPEC §3.3).  ``conversation`` (the DM channel id) rides in private_metadata:
    a view submission names no channel."""

    def text_input(block_id: str, label: str) -> Block:
        return {
            "type": "input",
            "block_id": block_id,
            "label": _plain(label),
            "element": {
                "type": "plain_text_input",
                "action_id": PASSWORD_INPUT,
                "min_length": 1,
                "max_length": 150,
            },
        }

    return {
        "type": "modal",
        "callback_id": PASSWORD_VIEW,
        "title": _plain(render_msg(Msg("slack.modal.title"), lang), 24),
        "submit": _plain(render_msg(Msg("slack.modal.submit"), lang), 24),
        "close": _plain(render_msg(Msg("slack.modal.close"), lang), 24),
        "private_metadata": json.dumps({"conversation": conversation, "lang": lang}, separators=(",", ":")),
        "blocks": [
            _section(render_msg(Msg("field.password.help"), lang)),
            text_input(PASSWORD_BLOCK, render_msg(Msg("slack.modal.password"), lang)),
            text_input(CONFIRMATION_BLOCK, render_msg(Msg("slack.modal.confirmation"), lang)),
        ],
    }


@dataclass(frozen=True)
class ModalSubmission:
    conversation: str
    lang: str
    password: str
    confirmation: str

    def __repr__(self) -> str:
        return f"ModalSubmission(conversation={self.conversation!r}, lang={self.lang!r}, ***)"


def read_password_modal(view: Mapping[str, Any]) -> ModalSubmission | None:
    """The conversation and the two inputs of a submitted password modal; None when it is not ours."""
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
        values = view["state"]["values"]
        password = values[PASSWORD_BLOCK][PASSWORD_INPUT].get("value") or ""
        confirmation = values[CONFIRMATION_BLOCK][PASSWORD_INPUT].get("value") or ""
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    conversation = meta.get("conversation") if isinstance(meta, dict) else None
    if not isinstance(conversation, str) or not conversation:
        return None
    lang = meta.get("lang") if meta.get("lang") in CATALOGUES else "ja"
    return ModalSubmission(conversation, str(lang), str(password), str(confirmation))


def modal_errors(error: RuleError, lang: str) -> dict[str, str]:
    """A password rule error as ``response_action: errors`` (block id → text; the mismatch under the
    confirmation)."""
    block = CONFIRMATION_BLOCK if error.key == "password.mismatch" else PASSWORD_BLOCK
    return {block: render_msg(Msg(error.key, error.params), lang)}
