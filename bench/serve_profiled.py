"""`regbot serve` with cProfile switched on by SIGUSR1 (after start-up and warm-up, so imports and
migrations stay out of the figures) and written to the path given when serve stops (SIGTERM).

    python -m bench.serve_profiled OUTPUT.prof
"""

from __future__ import annotations

import asyncio
import cProfile
import logging
import signal
import sys

from bot.app import serve
from bot.config import load_config


async def main(output: str) -> None:
    profiler = cProfile.Profile()
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, profiler.enable)
    try:
        await serve(load_config())
    finally:
        profiler.disable()
        profiler.dump_stats(output)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(main(sys.argv[1]))
