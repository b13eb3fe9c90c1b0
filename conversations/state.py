"""`State` to and from JSON-able dicts, for storage.  The password is never part of a state."""

from __future__ import annotations

from typing import Any

from conversations.types import PendingWarning, State

STATE_FORMAT = 1


def dump_state(state: State) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "channel": state.channel,
        "lang": state.lang,
        "phase": state.phase,
        "awaiting": state.awaiting,
        "values": dict(state.values),
        "failures": dict(state.failures),
        "last_error": state.last_error,
        "returning_to_summary": state.returning_to_summary,
        "warning": None
        if state.warning is None
        else {
            "field_id": state.warning.field_id,
            "value": state.warning.value,
            "key": state.warning.key,
            "params": dict(state.warning.params),
        },
        "town_choices": [list(t) for t in state.town_choices],
        "password_set": state.password_set,
        "reminded": state.reminded,
        "escalated": state.escalated,
        "paused": state.paused,
    }


def load_state(data: dict[str, Any]) -> State:
    warning = data.get("warning")
    return State(
        channel=str(data.get("channel", "console")),
        lang=str(data.get("lang", "ja")),
        phase=str(data.get("phase", "new")),
        awaiting=data.get("awaiting"),
        values={str(k): str(v) for k, v in dict(data.get("values", {})).items()},
        failures={str(k): int(v) for k, v in dict(data.get("failures", {})).items()},
        last_error=data.get("last_error"),
        returning_to_summary=bool(data.get("returning_to_summary", False)),
        warning=None
        if not warning
        else PendingWarning(
            field_id=str(warning["field_id"]),
            value=str(warning["value"]),
            key=str(warning["key"]),
            params=dict(warning.get("params", {})),
        ),
        town_choices=tuple((str(t[0]), str(t[1]), str(t[2])) for t in data.get("town_choices", [])),
        password_set=bool(data.get("password_set", False)),
        reminded=bool(data.get("reminded", False)),
        escalated=bool(data.get("escalated", False)),
        paused=bool(data.get("paused", False)),
    )
