"""The recording relay's server, in a process of its own (as a real relay is): it never waits for the
test's event loop or its GIL, so a mail counts as accepted when a relay would accept it.

    python -m tests.reliability.relay_process PORT DIRECTORY

Each accepted mail becomes one file in DIRECTORY (written whole, then renamed), named so that names sort
in the order of acceptance: a line ``RCPT <recipients separated by commas>`` and the raw mail.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import sys
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session


class Recorder:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.sequence = itertools.count()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns():020d}-{os.getpid()}-{next(self.sequence):06d}.mail"
        temporary = self.directory / f"{name}.tmp"
        head = ("RCPT " + ",".join(envelope.rcpt_tos) + "\n").encode()
        temporary.write_bytes(head + bytes(envelope.original_content or b""))
        temporary.rename(self.directory / name)
        return "250 OK"


async def main(port: int, directory: Path) -> None:
    loop = asyncio.get_running_loop()
    recorder = Recorder(directory)
    server = await loop.create_server(lambda: SMTP(recorder, hostname="relay.test"), "127.0.0.1", port)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), Path(sys.argv[2])))
