"""The Slack channel: a bolt `AsyncApp` that turns events, commands, clicks and the password modal into
`Inbound` messages for the service (SPEC §5, §3.3).

Thin by design: it never decides what to ask next.  Every listener acknowledges at once (Slack wants an
answer within 3 s) and hands the turn to a tracked task; the HTTP answer waits for that turn's commit (up
to 2 s), so an event Slack saw answered is never lost in a crash.  The engine's replies do not go out from
here but as ``reply`` outbox rows, posted by `bot.slack_delivery.SlackReplies`.  The only things posted
directly are Slack's own notes without any personal value (the thread note under an @mention, ephemeral
command answers) and the modal.

A conversation's address is the person's DM channel id with the bot (``D…``): replies, buttons and the
modal all live there, and no personal value is ever posted in a shared channel.  Retried events carry the
same ``event_id``, which is the message id the service records, so a retry is processed once.

HTTP mode serves ``POST /slack/events`` on the bot's aiohttp server (signature checked by bolt: a wrong or
old signature gets 401); with SLACK_APP_TOKEN set it uses Socket Mode instead and adds no route.

Beside it: ``/regbot`` in `bot.slack_commands`, payload checks in `bot.slack_payloads`, the protocols of the
service and the help desk in `bot.slack_ports`, the tracked tasks in `bot.tasks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import Config
from bot.keyed_locks import KeyedLocks
from bot.slack_blocks import (
    CHOICE_ACTION,
    PASSWORD_ACTION,
    PASSWORD_VIEW,
    SELECT_ACTION,
    choice_from_value,
    modal_errors,
    password_modal,
    read_password_modal,
)
from bot.slack_commands import SlashCommand
from bot.slack_delivery import ChannelPacer, SlackReplies, add_retry_handlers
from bot.slack_payloads import (
    button_language,
    from_a_person,
    interaction_channel,
    is_dm,
    mention_text,
    password_was_asked,
    well_formed,
)
from bot.slack_ports import CHANNEL, HelpdeskPort, SlackService, SlackTurn
from bot.tasks import TrackedTasks
from conversations.render import render_msg
from conversations.rules.errors import RuleError
from conversations.rules.password import check_password, looks_like_password
from conversations.rules.text import clean
from conversations.types import Inbound, Msg, Secret, Start, Text

log = logging.getLogger(__name__)

# The Web API client logs every request and response body at DEBUG (the person's answers are in the
# blocks), bolt and Socket Mode log whole payloads: logs never carry personal values (SPEC §7), whatever
# level the root logger is set to.
for _quiet in ("bot.slack.api", "bot.slack.bolt", "bot.slack.socket"):
    logging.getLogger(_quiet).setLevel(logging.INFO)

EVENTS_PATH = "/slack/events"
SHUTDOWN_GRACE_SECONDS = 10.0
COMMIT_WAIT_SECONDS = 2.0  # within Slack's 3 s for the answer
STAFF_ANSWER_SECONDS = 2.0  # a staff command answered within Slack's 3 s, or later in a DM
_DM_CACHE_LIMIT = 10_000


class SlackChannel:
    """The bolt app, its Web API client (one shared aiohttp session), the reply deliverer, and the
    transport: ``add_routes`` for HTTP events, or Socket Mode started by ``start``."""

    def __init__(
        self,
        config: Config,
        service: SlackService,
        *,
        pacer: ChannelPacer | None = None,
        ping_interval: float = 10.0,
    ) -> None:
        self._config = config
        self._service = service
        self._ping_interval = ping_interval
        self.socket_mode = bool(config.slack_app_token)
        self.client = AsyncWebClient(
            token=config.slack_bot_token.reveal(),
            base_url=_with_slash(config.slack_api_url),
            logger=logging.getLogger("bot.slack.api"),
        )
        add_retry_handlers(self.client)
        self.app = AsyncApp(
            client=self.client,
            signing_secret=config.slack_signing_secret.reveal() or None,
            # Listeners run before the HTTP answer; each acks first and leaves the turn to a task.
            process_before_response=True,
            request_verification_enabled=not self.socket_mode,
            logger=logging.getLogger("bot.slack.bolt"),
        )
        self.replies = SlackReplies(self.client, pacer=pacer)
        self._tasks = TrackedTasks(log, "slack")
        self._serial = KeyedLocks()
        self._dm_channels: dict[str, str] = {}  # user id → DM channel id (stable)
        self._socket: AsyncSocketModeHandler | None = None
        self._session: aiohttp.ClientSession | None = None
        self._stopping = False
        # The help desk (SPEC §6), attached by bot.helpdesk.install_helpdesk: thread replies in the
        # help-desk channel and the staff forms of /regbot go to it.
        self.helpdesk: HelpdeskPort | None = None
        self._command = SlashCommand(self, staff=config.helpdesk_staff)
        self._register_listeners()

    # ------------------------------------------------------------------------------------ lifecycle

    def add_routes(self, web_app: web.Application) -> None:
        """``POST /slack/events`` on the bot's aiohttp app (HTTP mode only; call before it starts)."""
        if not self.socket_mode:
            web_app.router.add_post(EVENTS_PATH, self.handle_http)

    async def start(self) -> None:
        """Open the shared HTTP session; in Socket Mode, connect (in the background: Slack may be down)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
            self.client.session = self._session
        if self.socket_mode and self._socket is None:
            self._socket = AsyncSocketModeHandler(
                self.app,
                self._config.slack_app_token.reveal(),
                logger=logging.getLogger("bot.slack.socket"),
                web_client=self.client,
                ping_interval=self._ping_interval,
            )
            connecting = self._socket.connect_async()  # type: ignore[no-untyped-call]
            self.spawn(connecting, what="socket mode connection")
        log.info("Slack is on (%s)", "Socket Mode" if self.socket_mode else f"HTTP events at {EVENTS_PATH}")

    async def stop(self) -> None:
        """Stop taking events, finish the turns in flight, close the connections."""
        self._stopping = True
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
            self._socket = None
        await self.drain(SHUTDOWN_GRACE_SECONDS)
        await self._tasks.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
            self.client.session = None

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait for the work started by earlier events; True when none is left."""
        return await self._tasks.drain(timeout)

    async def handle_http(self, request: web.Request) -> web.StreamResponse:
        if self._stopping:  # Slack retries events later; the next start takes them
            return web.Response(status=503, text="shutting down")
        try:
            bolt_request = await to_bolt_request(request)
        except (ValueError, TypeError, AttributeError, KeyError) as error:  # a body bolt cannot even read
            log.info("slack request refused: unreadable body (%s)", type(error).__name__)
            return web.Response(status=400, text="malformed request")
        if not well_formed(bolt_request.body):
            # Only after the signature: an unsigned request is refused as such, whatever its body.
            if self._signature_ok(bolt_request.raw_body, request.headers):
                log.info("slack request refused: a signed body of an unexpected shape")
                return web.Response(status=400, text="malformed request")
            return web.Response(status=401, text="invalid signature")
        bolt_response = await self.app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    def _signature_ok(self, body: str, headers: Mapping[str, str]) -> bool:
        secret = self._config.slack_signing_secret.reveal()
        return bool(secret) and SignatureVerifier(secret).is_valid(
            body, headers.get("X-Slack-Request-Timestamp", ""), headers.get("X-Slack-Signature", "")
        )

    async def committed(self, turn: asyncio.Task[Any]) -> None:
        """Hold Slack's HTTP answer until the turn is committed (its replies are outbox rows by then), for
        at most `COMMIT_WAIT_SECONDS`: a process killed before answering gets the event again from Slack's
        retry (same ``event_id``, processed once), and one killed after answering has stored the turn."""
        await asyncio.wait({turn}, timeout=COMMIT_WAIT_SECONDS)

    def spawn(self, work: Coroutine[Any, Any, Any], *, what: str) -> asyncio.Task[Any]:
        """Start work that outlives the listener's ack; `drain` and `stop` wait for it."""
        return self._tasks.spawn(work, what=what)

    # ------------------------------------------------------------------------------------ listeners

    def _register_listeners(self) -> None:
        app = self.app
        app.event("message")(self._on_message)
        app.event("app_mention")(self._on_mention)
        app.command("/regbot")(self._on_command)
        app.action(re.compile(rf"^{CHOICE_ACTION}(:\d+)?$"))(self._on_choice)
        app.action(SELECT_ACTION)(self._on_choice)
        app.action(PASSWORD_ACTION)(self._on_password_button)
        app.view(PASSWORD_VIEW)(self._on_password_submission)
        app.view_closed(PASSWORD_VIEW)(self._ack_only)

    async def _ack_only(self, ack: Callable[..., Awaitable[None]]) -> None:
        await ack()

    async def _on_message(
        self,
        ack: Callable[..., Awaitable[None]],
        event: dict[str, Any],
        body: dict[str, Any],
        context: Mapping[str, Any],
    ) -> None:
        await ack()
        helpdesk = self.helpdesk
        if helpdesk is not None and helpdesk.is_helpdesk_channel(str(event.get("channel") or "")):
            if from_a_person(event, context):
                message_id = str(body.get("event_id") or f"helpdesk:{event.get('channel')}:{event.get('ts')}")
                self.spawn(self._helpdesk_message(helpdesk, event, message_id), what="help-desk message")
            return
        if event.get("channel_type") != "im" or not from_a_person(event, context):
            return
        channel = str(event.get("channel") or "")
        if not is_dm(channel):
            return
        text = str(event.get("text") or "")
        message_id = str(body.get("event_id") or f"message:{channel}:{event.get('ts')}")
        await self.committed(
            self.spawn(
                self._dm_message(channel, text, str(event.get("ts") or ""), message_id), what="DM turn"
            )
        )

    async def _dm_message(self, channel: str, text: str, ts: str, message_id: str) -> None:
        turn = await self.turn(channel, Text(text), message_id)
        if turn is None or turn.duplicate:
            return
        if ts and looks_like_password(clean(text)) and password_was_asked(turn.replies):
            # A password typed as a message: take it out of the DM if Slack lets the bot (it usually
            # does not for a person's message); the engine's reply warns either way.
            with contextlib.suppress(SlackApiError, SlackClientError, OSError):
                await self.client.chat_delete(channel=channel, ts=ts)

    async def _helpdesk_message(self, helpdesk: HelpdeskPort, event: dict[str, Any], message_id: str) -> None:
        """One thread's staff messages in arrival order, so the person reads them as written."""
        async with self._serial.hold(f"helpdesk:{event.get('thread_ts') or event.get('ts')}"):
            await helpdesk.on_channel_message(event, message_id)

    async def _on_mention(
        self,
        ack: Callable[..., Awaitable[None]],
        event: dict[str, Any],
        body: dict[str, Any],
        context: Mapping[str, Any],
    ) -> None:
        await ack()
        if not from_a_person(event, context):
            return
        message_id = str(body.get("event_id") or f"mention:{event.get('channel')}:{event.get('ts')}")
        await self.committed(self.spawn(self._mention(event, message_id), what="mention"))

    async def _mention(self, event: Mapping[str, Any], message_id: str) -> None:
        user, channel = str(event.get("user") or ""), str(event.get("channel") or "")
        dm = await self.open_dm(user)
        text = mention_text(str(event.get("text") or ""))
        turn = await self.turn(dm, Start(CHANNEL, text=text), message_id)
        if turn is None or turn.duplicate or channel == dm:
            return
        # In the shared channel only a note without any personal value, in the mention's thread.
        await self.client.chat_postMessage(
            channel=channel,
            thread_ts=str(event.get("thread_ts") or event.get("ts") or "") or None,
            text=render_msg(Msg("slack.mention.thread"), "ja"),
        )

    async def _on_command(self, ack: Callable[..., Awaitable[None]], command: dict[str, Any]) -> None:
        # The wait is read here, at each command: tests shorten it on this module.
        await self._command.on_command(ack, command, answer_within=STAFF_ANSWER_SECONDS)

    async def _on_choice(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        raw = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
        choice = choice_from_value(str(raw))
        channel = interaction_channel(body)
        if choice is None or channel is None:
            return
        user = str((body.get("user") or {}).get("id") or "")
        message_id = f"action:{user}:{action.get('action_ts') or body.get('trigger_id')}"
        await self.committed(self.spawn(self.turn(channel, choice, message_id), what="button turn"))

    async def _on_password_button(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], action: dict[str, Any]
    ) -> None:
        await ack()
        channel = interaction_channel(body)
        trigger_id = body.get("trigger_id")
        if channel is None or not trigger_id:
            return
        view = password_modal(button_language(action), conversation=channel)
        # The trigger id lives 3 s: open the modal right away, outside the outbox.
        self.spawn(self.client.views_open(trigger_id=str(trigger_id), view=view), what="password modal")

    async def _on_password_submission(
        self, ack: Callable[..., Awaitable[None]], view: dict[str, Any]
    ) -> None:
        submission = read_password_modal(view)
        if submission is None or not is_dm(submission.conversation):
            await ack()
            return
        try:
            check_password(submission.password, submission.confirmation)
        except RuleError as error:  # shown in the modal, within Slack's 3 s
            await ack(response_action="errors", errors=modal_errors(error, submission.lang))
            return
        await ack()
        secret = Secret(submission.password, submission.confirmation)
        message_id = f"view:{view.get('id')}:{view.get('hash')}"
        await self.committed(
            self.spawn(self.turn(submission.conversation, secret, message_id), what="password turn")
        )

    # ---------------------------------------------------------------------------------------- turns

    async def turn(self, address: str, inbound: Inbound, message_id: str) -> SlackTurn | None:
        """One message of one DM at a time, in arrival order (the service would also cope, in any order)."""
        async with self._serial.hold(address):
            try:
                return await self._service.handle(CHANNEL, address, inbound, message_id=message_id)
            except Exception as error:  # the event is acked already: say so rather than stay silent
                log.error("slack turn in %s failed: %s", address, type(error).__name__)
                with contextlib.suppress(SlackApiError, SlackClientError, OSError):
                    await self.client.chat_postMessage(
                        channel=address, text=render_msg(Msg("slack.command.failed"), "ja")
                    )
                return None

    async def open_dm(self, user: str) -> str:
        """The person's DM channel with the bot (opened once, then cached)."""
        cached = self._dm_channels.get(user)
        if cached is not None:
            return cached
        response = await self.client.conversations_open(users=user)
        channel = str((response.get("channel") or {}).get("id") or "")
        if not is_dm(channel):
            raise SlackClientError("conversations.open returned no DM channel")
        if len(self._dm_channels) >= _DM_CACHE_LIMIT:
            self._dm_channels.clear()
        self._dm_channels[user] = channel
        return channel


# ---------------------------------------------------------------------------------------------- setup


def make_slack(
    config: Config, service: SlackService, *, pacer: ChannelPacer | None = None
) -> SlackChannel | None:
    """The Slack channel, registered as the deliverer of the service's Slack replies; None (and one log
    line saying why) when Slack is not configured."""
    if not config.slack_bot_token:
        log.info("Slack is off: SLACK_BOT_TOKEN is empty")
        return None
    if not config.slack_app_token and not config.slack_signing_secret:
        log.error("Slack is off: SLACK_SIGNING_SECRET is needed for HTTP events (or set SLACK_APP_TOKEN)")
        return None
    channel = SlackChannel(config, service, pacer=pacer)
    service.register_deliverer("reply", channel.replies, channel=CHANNEL)
    return channel


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"
