"""The bare baseline for mail: an aiosmtpd server whose DATA hook only parses each mail with
``policy.default`` (headers and the text body) and acknowledges.

    python -m bench.bare_smtp PORT
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
import signal
import sys

from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.common import LOOPBACK


class ParsingSink:
    def __init__(self) -> None:
        self.parsed = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        _ = (message["From"], message["Subject"], message["Message-ID"])
        body = message.get_body(("plain",))  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
        self.parsed += 1
        return "250 2.0.0 OK"


async def main(port: int) -> None:
    sink = ParsingSink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, decode_data=False, enable_SMTPUTF8=True, hostname="sink", loop=loop),
        LOOPBACK,
        port,
    )
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    asyncio.run(main(int(sys.argv[1])))
