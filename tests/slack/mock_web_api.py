"""A mock Slack Web API over real HTTP on a free loopback port, the way bolt-python tests itself.

Every call is recorded (path, parsed JSON or form body, headers) for assertions.  Each method answers
``ok: true`` with what the bot reads back; ``rate_limit(path)`` answers 429 with ``Retry-After`` the
next time(s), ``fail(path, error)`` answers ``ok: false``.  Posted messages are kept per channel so
``conversations.history`` returns them, newest first.  ``/link`` is a Socket Mode WebSocket: the URL
``apps.connections.open`` hands out; `send_envelope` pushes one envelope and the acks are recorded.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"


@dataclass
class Call:
    path: str  # e.g. "chat.postMessage"
    body: dict[str, Any]
    headers: dict[str, str]
    raw: str
    status: int = 200


@dataclass
class MockSlack:
    calls: list[Call] = field(default_factory=list)
    messages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # channel → posted, oldest first
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    _rate_limits: dict[str, list[int]] = field(default_factory=dict)  # path → [times left, retry after]
    _failures: dict[str, str] = field(default_factory=dict)
    _ts: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    url: str = ""
    port: int = 0

    # ------------------------------------------------------------------------------- controlling

    def rate_limit(self, path: str, *, times: int = 1, retry_after: int = 0) -> None:
        self._rate_limits[path] = [times, retry_after]

    def fail(self, path: str, error: str) -> None:
        self._failures[path] = error

    def of(self, path: str) -> list[Call]:
        return [call for call in self.calls if call.path == path]

    def posts(self, channel: str | None = None) -> list[dict[str, Any]]:
        """The messages posted (answered 200), oldest first."""
        return [
            c.body
            for c in self.of("chat.postMessage")
            if c.status == 200 and (channel is None or c.body.get("channel") == channel)
        ]

    def everything_sent(self) -> str:
        """Every request body the bot sent, as one string (for "never appears" assertions)."""
        return "\n".join(call.raw for call in self.calls)

    async def wait_for(
        self, predicate: Callable[[], bool], *, timeout: float = 5.0, what: str = "the mock"
    ) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; calls: {[c.path for c in self.calls]}")
            await asyncio.sleep(0.005)

    async def wait_posts(
        self, count: int, *, channel: str | None = None, timeout: float = 5.0
    ) -> list[dict[str, Any]]:
        await self.wait_for(lambda: len(self.posts(channel)) >= count, timeout=timeout, what=f"{count} posts")
        return self.posts(channel)

    # ----------------------------------------------------------------------------------- serving

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/link", self._socket)
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        self.url = f"http://127.0.0.1:{self.port}/api/"

    async def stop(self) -> None:
        for socket in self._sockets:
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json" and raw:
            body: dict[str, Any] = json.loads(raw)
        else:
            body = dict(parse_qsl(raw)) if raw else {}
            body.update(request.query)
        call = Call(path, body, dict(request.headers), raw)
        self.calls.append(call)
        limit = self._rate_limits.get(path)
        if limit and limit[0] > 0:
            limit[0] -= 1
            call.status = 429
            return web.json_response(
                {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": str(limit[1])}
            )
        if path in self._failures:
            return web.json_response({"ok": False, "error": self._failures[path]})
        return web.json_response(self._answer(path, body))

    def _answer(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if path == "auth.test":
            return {
                "ok": True,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
                "team_id": TEAM_ID,
                "user": "regbot",
            }
        if path == "chat.postMessage":
            channel = str(body.get("channel"))
            ts = f"{1700000000 + next(self._ts)}.000100"
            blocks = body.get("blocks")
            if isinstance(blocks, str):
                blocks = json.loads(blocks)
            message = {
                "type": "message",
                "ts": ts,
                "bot_id": BOT_ID,
                "text": body.get("text"),
                "blocks": blocks,
            }
            if body.get("thread_ts"):
                message["thread_ts"] = body.get("thread_ts")
            self.messages.setdefault(channel, []).append(message)
            return {"ok": True, "channel": channel, "ts": ts, "message": message}
        if path == "conversations.open":
            users = str(body.get("users", ""))
            return {"ok": True, "channel": {"id": "D" + users.lstrip("U")}}
        if path == "conversations.history":
            posted = list(reversed(self.messages.get(str(body.get("channel")), [])))
            return {"ok": True, "messages": posted[: int(body.get("limit", 100))]}
        if path == "conversations.replies":  # a thread: its first message, then its replies, oldest first
            ts = str(body.get("ts"))
            thread = [
                m
                for m in self.messages.get(str(body.get("channel")), [])
                if ts in (m["ts"], m.get("thread_ts"))
            ]
            start, limit = int(body.get("cursor") or 0), int(body.get("limit", 1000))
            page = {
                "ok": True,
                "messages": thread[start : start + limit],
                "has_more": start + limit < len(thread),
            }
            if page["has_more"]:
                page["response_metadata"] = {"next_cursor": str(start + limit)}
            return page
        if path == "views.open":
            return {"ok": True, "view": {"id": "V0001"}}
        if path == "apps.connections.open":
            return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"}
        return {"ok": True}

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._sockets.append(socket)
        await socket.send_json({"type": "hello", "num_connections": 1})
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return socket

    async def send_envelope(self, envelope: dict[str, Any]) -> None:
        await self.wait_for(lambda: bool(self._sockets), what="a Socket Mode connection")
        await self._sockets[-1].send_json(envelope)
