"""What the Slack channel (bot.slack) needs of the service and of the help desk, as protocols: the channel
imports neither, so either can be replaced by a fake in tests."""

from __future__ import annotations

from typing import Any, Protocol

from conversations.types import Inbound, Reply

CHANNEL = "slack"  # the service's name for this channel (conversations are keyed by it)


class SlackTurn(Protocol):
    @property
    def replies(self) -> tuple[Reply, ...]: ...
    @property
    def duplicate(self) -> bool: ...


class SlackService(Protocol):
    """What the channel needs of `bot.service.Service`."""

    async def handle(
        self, channel: str, address: str, inbound: Inbound, *, message_id: str | None = None
    ) -> SlackTurn: ...

    def register_deliverer(self, kind: str, deliverer: Any, *, channel: str | None = None) -> None: ...


class HelpdeskPort(Protocol):
    """What the channel needs of the help desk (bot.helpdesk_staff.StaffDesk), when one is attached."""

    def is_staff(self, user: str) -> bool: ...
    def handles(self, word: str, argument: str) -> bool: ...
    def is_helpdesk_channel(self, channel: str) -> bool: ...
    async def command(self, user: str, word: str, argument: str, *, command_id: str) -> str: ...
    async def on_channel_message(self, event: dict[str, Any], message_id: str) -> None: ...
