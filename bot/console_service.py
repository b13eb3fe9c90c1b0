"""`regbot chat` on the real service: the same database, outbox and mail as `regbot serve`.

The verification mail is delivered at once (the console says where it went: the `.eml` path when there
is no relay), and the completion notice — the link was used in a browser, possibly served by another
process — is shown as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import logging
import sys

from bot.config import load_config
from bot.console import MemoryConversation, new_session_id, run_console
from bot.service import Service
from conversations.render import render_msg
from conversations.types import Inbound, Msg, Reply

log = logging.getLogger(__name__)
MAIL_KINDS_SHOWN = frozenset({"verification_mail", "completion_mail"})


class ServiceConversation:
    """One console conversation on the service; the address is a fresh session id per run."""

    def __init__(self, service: Service, address: str) -> None:
        self.service = service
        self.address = address

    async def send(self, inbound: Inbound) -> list[Reply]:
        turn = await self.service.handle("console", self.address, inbound)
        return [*turn.replies, *await self._delivered(turn.conversation_id)]

    async def notifications(self) -> list[Reply]:
        replies = await self.service.pending_notifications("console", self.address)
        if replies:
            replies.extend(await self._delivered(None))
        return replies

    async def _delivered(self, conversation_id: str | None) -> list[Reply]:
        shown: list[Reply] = []
        for delivery in await self.service.deliver_outbox():
            mine = conversation_id is None or delivery.conversation_id == conversation_id
            if mine and delivery.kind in MAIL_KINDS_SHOWN and delivery.location:
                shown.append(
                    Reply((Msg(f"console.{delivery.kind}_written", {"location": delivery.location}),))
                )
        return shown

    async def close(self) -> None:
        await self.service.close()


async def _main(lang: str) -> int:
    try:
        config = load_config()
        service = await Service.open(config)
    except Exception as exc:  # a bad REGBOT_DATABASE_URL, an unwritable folder, …: say so, no traceback
        log.debug("console: the service could not start", exc_info=True)
        sys.stderr.write(render_msg(Msg("console.no_database", {"reason": type(exc).__name__}), lang) + "\n")
        return await run_console(MemoryConversation(), lang=lang)
    return await run_console(ServiceConversation(service, new_session_id()), lang=lang)


def main_service(lang: str = "ja") -> int:
    return asyncio.run(_main(lang))
