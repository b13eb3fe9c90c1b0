"""`regbot serve` and `regbot migrate`: everything wired in one place.

``serve`` migrates, then runs in one process: the verification pages (aiohttp), the outbox delivery loop,
the scheduled jobs, and the channels (`_channels`: SMTP and IMAP, Slack).  Several processes may share one
PostgreSQL: the scheduled jobs and the IMAP reader then run in one of them at a time (`bot.leader`).
SIGINT / SIGTERM stop it cleanly: the web server stops taking requests, the loops finish what they are
doing, and whatever is still queued stays in the outbox for the next start — nothing is lost, nothing is
sent twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from bot.config import Config
from bot.jobs import Housekeeping
from bot.leader import Leadership, background_duty
from bot.service import Service
from bot.web import make_web_app
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger(__name__)

StopChannel = Callable[[], Awaitable[None]]
"""Stops a channel that `serve` started."""

ChannelStarter = Callable[[Service, Config, web.Application], Awaitable[StopChannel | None]]
"""Starts one inbound channel (SMTP listener, IMAP reader, Slack) on the shared service, before the web
server listens: it may add routes to the web application (``/slack/events``) and register outbox
deliverers (``service.register_deliverer("reply", …, channel="slack")``).  Returns how to stop it, or
None when the configuration leaves it off."""

_SHUTDOWN_GRACE_SECONDS = 10.0


async def migrate(config: Config) -> None:
    """`regbot migrate`: the schema at REGBOT_DATABASE_URL up to date (idempotent)."""
    db = Database.open(config.database_url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()


def _channels(config: Config, leadership: Leadership | None = None) -> list[ChannelStarter]:
    """The inbound channels `serve` starts: the SMTP listener (always, on REGBOT_SMTP_HOST:PORT) with IMAP
    when REGBOT_IMAP_URL is set (read by the leader only), and Slack when SLACK_BOT_TOKEN is set."""

    async def email(service: Service, config: Config, app: web.Application) -> StopChannel | None:
        from mail.channel import start_email_channel

        return await start_email_channel(service, config, leadership=leadership)

    async def slack(service: Service, config: Config, app: web.Application) -> StopChannel | None:
        from bot.helpdesk import install_helpdesk
        from bot.slack import make_slack

        channel = make_slack(config, service)
        install_helpdesk(service, channel)  # SPEC §6; with Slack off, escalations are logged only
        if channel is None:
            return None
        channel.add_routes(app)
        await channel.start()
        return channel.stop

    return [email, slack]


async def serve(
    config: Config,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    channels: Sequence[ChannelStarter] | None = None,
) -> None:
    """Run until SIGINT / SIGTERM (or until ``stop`` is set).  ``ready`` is set once everything listens.

    ``channels`` replaces the configured channels (tests); the default comes from `_channels`."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    handled: list[signal.Signals] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError, RuntimeError, NotImplementedError):  # not the main thread
            loop.add_signal_handler(signum, stop.set)
            handled.append(signum)

    service = await Service.open(config)
    log.info("database ready (%s, schema up to date)", service.db.dialect)
    # Scheduled jobs (and IMAP, added by the email channel) run in one process at a time (bot/leader.py).
    leadership = Leadership(service.db)
    leadership.add("scheduled jobs", background_duty(Housekeeping(service).run, name="housekeeping"))
    runner: web.AppRunner | None = None
    tasks: list[asyncio.Task[None]] = []
    stoppers: list[StopChannel] = []
    try:
        app = make_web_app(
            service.verification,
            public_url=config.public_url,
            portal_url=config.portal_url,
            ttl_hours=config.token_ttl_hours,
            csrf_secret=config.web_secret.reveal().encode() or None,  # REGBOT_WEB_SECRET
        )
        for start in _channels(config, leadership) if channels is None else channels:
            stopper = await start(service, config, app)
            if stopper is not None:
                stoppers.append(stopper)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        await web.TCPSite(runner, config.http_host, config.http_port).start()
        log.info(
            "web pages listening on http://%s:%d (links under %s)",
            config.http_host,
            config.http_port,
            config.public_url,
        )

        tasks.append(asyncio.create_task(service.outbox.run(stop), name="outbox"))
        way = "an SMTP relay" if config.smtp_relay else f".eml files in {config.outbox_dir}"
        log.info("outbox delivery started (mail via %s)", way)
        tasks.append(asyncio.create_task(leadership.run(stop), name="leadership"))
        log.info(
            "scheduled jobs: reminder after %gh, expiry after %gh, retention %g days (leader only)",
            config.remind_after_hours,
            config.expire_after_hours,
            config.retention_days,
        )

        if ready is not None:
            ready.set()
        log.info("regbot serving; Ctrl-C or SIGTERM stops")
        await stop.wait()
        log.info("stopping")
    finally:
        stop.set()
        for stopper in reversed(stoppers):
            try:
                await stopper()
            except Exception:
                log.exception("a channel failed to stop cleanly")
        if runner is not None:
            await runner.cleanup()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=_SHUTDOWN_GRACE_SECONDS)
            for task in pending:  # a send still hanging: its row stays queued and is retried later
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        await service.close()
        for signum in handled:
            loop.remove_signal_handler(signum)
        log.info("stopped")
