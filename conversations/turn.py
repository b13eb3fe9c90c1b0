"""One step in the making: the state so far, what is said, what is done; and the small lookups every
part of the engine shares."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from conversations.fields import (
    Field,
    FieldContext,
)
from conversations.rules import institution, prefectures
from conversations.types import (
    Context,
    Effect,
    Msg,
    State,
)

JST = timezone(timedelta(hours=9))
CONFIRM = "confirm"  # the awaited id while 入力内容確認 waits (SPEC §8)
POSTAL_TOWN = "postal_town"  # one postal code, several 町域: the person picks one
ENDED = frozenset({"completed", "cancelled", "redirected", "expired"})
ESCALATE_AFTER_FAILURES = 3


class Turn:
    """Collects what one step says and does, then builds the `Step`."""

    def __init__(self, state: State, now: datetime, context: Context) -> None:
        self.state = state
        self.now = now
        self.context = context
        self.lines: list[Msg] = []
        self.effects: list[Effect] = []
        self.prompt = True  # end the reply with the awaited question

    def say(self, key: str, **params: object) -> None:
        self.lines.append(Msg(key, params))

    def update(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]

    @property
    def today(self) -> date:
        return self.now.astimezone(JST).date()


def awaited_field(state: State) -> str | None:
    if state.awaiting == POSTAL_TOWN:
        return "postal_code"
    return state.awaiting


def is_filled(state: State, field: Field) -> bool:
    if field.secret:
        return state.password_set
    return bool(state.values.get(field.id))


def label_of(field: Field) -> Msg:
    return Msg(field.label_key)


def display_value(state: State, field_id: str) -> str:
    """A value as the summary shows it: codes with their names, the password never."""
    value = state.values.get(field_id, "")
    if field_id == "institution_type" and value:
        return f"{value}：{institution.INSTITUTION_TYPES.get(value, '')}"
    if field_id == "prefecture" and value:
        return f"{value}：{prefectures.prefecture_name(value)}"
    return value


def field_context(turn: Turn) -> FieldContext:
    return FieldContext(values=turn.state.values, today=turn.today)
