"""The bare baseline: a bolt `AsyncApp` that echoes each DM with ``chat.postMessage`` (one shared aiohttp
session), served by aiohttp exactly as regbot serves ``/slack/events``.

    python -m bench.bare_slack PORT SLACK_API_URL SIGNING_SECRET
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bench.common import BOT_TOKEN, LOOPBACK


async def main(port: int, api_url: str, secret: str) -> None:
    session = aiohttp.ClientSession()
    client = AsyncWebClient(token=BOT_TOKEN, base_url=api_url, session=session)
    app = AsyncApp(client=client, signing_secret=secret)

    @app.event("message")
    async def echo(event: dict[str, Any], client: AsyncWebClient) -> None:
        await client.chat_postMessage(channel=event["channel"], text=str(event.get("text")))

    async def events(request: web.Request) -> web.StreamResponse:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    runner = web.AppRunner(web_app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, LOOPBACK, port).start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await runner.cleanup()
    await session.close()


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
