"""A minimal Slack Web API on loopback for the benchmarks: answers what the bots call, and wakes whoever
waits for a ``chat.postMessage`` to a given channel (no polling, so the timing is the bot's)."""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web

from bench.common import LOOPBACK


class BenchSlack:
    def __init__(self) -> None:
        self.url = ""
        self.posts = 0
        self._waiters: dict[str, asyncio.Future[float]] = {}
        self._early: dict[str, float] = {}  # posts that arrived before anybody waited
        self._ts = itertools.count(1)
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
        await site.start()
        port = int(self._runner.addresses[0][1])
        self.url = f"http://{LOOPBACK}:{port}/api/"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def expect(self, channel: str) -> asyncio.Future[float]:
        """A future that resolves (to the loop time) when a message is posted to ``channel``."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if channel in self._early:
            future.set_result(self._early.pop(channel))
        else:
            self._waiters[channel] = future
        return future

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.read()
        if method == "chat.postMessage":
            body: dict[str, Any] = (
                json.loads(raw)
                if request.content_type == "application/json"
                else dict(parse_qsl(raw.decode()))
            )
            channel = str(body.get("channel"))
            self.posts += 1
            now = asyncio.get_running_loop().time()
            waiter = self._waiters.pop(channel, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(now)
            else:
                self._early[channel] = now
            return web.json_response(
                {"ok": True, "channel": channel, "ts": f"1700000000.{next(self._ts):06d}"}
            )
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "user_id": "UBOT", "bot_id": "BBOT", "team_id": "T0001", "user": "regbot"}
            )
        if method == "conversations.open":
            users = dict(parse_qsl(raw.decode())).get("users", "") if raw else ""
            return web.json_response({"ok": True, "channel": {"id": "D" + users.lstrip("U")}})
        if method == "conversations.history":
            return web.json_response({"ok": True, "messages": []})
        return web.json_response({"ok": True})
