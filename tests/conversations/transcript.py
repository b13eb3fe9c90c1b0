"""A person talking to the pure engine, for transcript tests: say(), click(), password(), and what the
bot answered (text as rendered, the awaited field id, effects)."""

from __future__ import annotations

from datetime import UTC, datetime

from conversations.engine import new_state, step
from conversations.render import render_text
from conversations.types import (
    Choice,
    Context,
    Effect,
    Inbound,
    Reply,
    Secret,
    Start,
    State,
    Text,
    VerificationCompleted,
)

NOW = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 12:00 JST


class Chat:
    def __init__(
        self, channel: str = "console", *, now: datetime = NOW, registered: frozenset[str] = frozenset()
    ):
        self.state: State = new_state(channel)
        self.now = now
        self.context = Context(registered_emails=registered)
        self.replies: tuple[Reply, ...] = ()
        self.effects: tuple[Effect, ...] = ()
        self.all_effects: list[Effect] = []
        self.channel = channel

    def send(self, inbound: Inbound) -> Chat:
        result = step(self.state, inbound, self.now, self.context)
        self.state = result.state
        self.replies = result.replies
        self.effects = result.effects
        self.all_effects.extend(result.effects)
        return self

    def start(self, text: str = "") -> Chat:
        return self.send(Start(channel=self.channel, text=text))

    def say(self, text: str) -> Chat:
        return self.send(Text(text))

    def click(self, value: str, awaiting: str | None = None) -> Chat:
        return self.send(Choice(awaiting or self.awaiting or "", value))

    def password(self, password: str, confirmation: str | None = None) -> Chat:
        return self.send(Secret(password, password if confirmation is None else confirmation))

    def completed(self) -> Chat:
        return self.send(VerificationCompleted())

    @property
    def text(self) -> str:
        return "\n".join(render_text(r, self.state.lang) for r in self.replies)

    @property
    def awaiting(self) -> str | None:
        return self.replies[-1].awaiting if self.replies else None

    @property
    def values(self) -> dict[str, str]:
        return dict(self.state.values)

    def answer_all(self, answers: list[str]) -> Chat:
        """Answer in turn, confirming any warning that asks for an explicit yes."""
        for answer in answers:
            self.say(answer)
            while self.state.warning is not None:
                self.say("はい")
        return self


# 手順書's Branch A example, answer by answer, up to the address (the password comes out of band).
BRANCH_A = [
    "基金",
    "太郎",
    "1",
    "北海道",
    "0113719",
    "基金クリニック",
    "医療法人基金会",
    "0312345678",
]
EMAIL = "kikin.taro@example.jp"
BRANCH_A_ANSWERS = [*BRANCH_A, EMAIL]

BRANCH_B_ANSWERS = [
    "基金",
    "花子",
    "7",
    "東京都",
    "基金株式会社診療所",
    "ききんかぶしきがいしゃしんりょうじょ",
    "100-0001",
    "１－１－１　基金ビル３階",
    "1-1-1 ｷｷﾝﾋﾞﾙ3ｶｲ",
    "令和6年4月1日",
    "基金株式会社",
    "ｷｷﾝｶﾌﾞｼｷｶﾞｲｼｬ",
    "0312345678",
    "kikin.hanako@example.jp",
]
