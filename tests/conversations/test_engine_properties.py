"""Properties of the engine: it never raises on any text in any state, a stored value always passes its
own rule again, and the state always survives a JSON round trip."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.engine import step
from conversations.fields import FieldContext, field_by_id
from conversations.state import dump_state, load_state
from conversations.types import Choice, Secret, Text
from tests.conversations.transcript import BRANCH_A_ANSWERS, BRANCH_B_ANSWERS, NOW, Chat

NASTY = [
    "",
    " ",
    "\u200b",
    "①",
    "㈱",
    "髙",
    "﨑",
    "～",
    "－",
    "ｶﾞ",
    "ヴ",
    "１２３４５６７",
    "修正",
    "修正 存在しない項目",
    "edit",
    "戻る",
    "ヘルプ",
    "状況",
    "再送",
    "担当者",
    "english",
    "日本語",
    "OK",
    "はい",
    "いいえ",
    "キャンセル",
    "最初から",
    "姓:",
    "姓: 基金\n名: 太郎\n所属機関選択: 7\n郵便番号: 100-0001",
    "a" * 5000,
    "\x00\x01\x7f",
    "接骨院です",
]

answers = st.sampled_from(BRANCH_A_ANSWERS + BRANCH_B_ANSWERS + NASTY) | st.text(max_size=60)
events = st.one_of(
    answers.map(Text),
    st.tuples(
        st.sampled_from(["confirm", "institution_type", "prefecture", "postal_town", "x"]), answers
    ).map(lambda t: Choice(t[0], t[1])),
    st.tuples(st.text(max_size=12), st.text(max_size=12)).map(lambda t: Secret(*t)),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["console", "slack", "email"]), st.lists(events, max_size=25))
def test_engine_never_raises_and_state_round_trips(channel: str, inbound_events: list) -> None:
    chat = Chat(channel).start()
    for inbound in inbound_events:
        chat.send(inbound)
        data = dump_state(chat.state)
        assert load_state(json.loads(json.dumps(data))) == chat.state
        for reply in chat.replies:
            assert chat.text is not None
            if reply.awaiting is not None:
                assert reply is chat.replies[-1]


@settings(max_examples=100, deadline=None)
@given(st.lists(answers, max_size=20))
def test_every_stored_value_passes_its_own_rule(texts: list[str]) -> None:
    chat = Chat().start()
    for text in texts:
        chat.say(text)
    state = chat.state
    context = FieldContext(values=state.values, today=NOW.date())
    for field_id, value in state.values.items():
        field = field_by_id(field_id, state.values)
        if field is None or field.secret:
            continue  # derived values (10桁コード, 住所検索) have no rule of their own
        assert field.normalise(value, context).value == value


def test_step_is_pure_same_input_same_output() -> None:
    chat = Chat().start().answer_all(BRANCH_A_ANSWERS[:4])
    first = step(chat.state, Text("0113719"), NOW)
    second = step(chat.state, Text("0113719"), NOW)
    assert first == second
