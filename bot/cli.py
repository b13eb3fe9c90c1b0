"""The `regbot` command: serve, chat, migrate (SPEC §8)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Config


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regbot", description="医療機関等向け総合ポータルサイト 登録ボット")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="web pages, mail in, outbox delivery and Slack (when configured)")
    chat = commands.add_parser("chat", help="register in this terminal")
    chat.add_argument("--lang", choices=("ja", "en"), default="ja")
    chat.add_argument("--memory", action="store_true", help="keep the conversation in memory (no database)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    stats = commands.add_parser("stats", help="the registration funnel per channel (counts only)")
    stats.add_argument("--days", type=float, default=7.0, help="the period: the last N days (default 7)")
    stats.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        if args.command == "chat":
            logging.getLogger().setLevel(logging.WARNING)  # the terminal is the conversation
            return _chat(args.lang, memory=args.memory)
        from bot.app import migrate, serve
        from bot.config import load_config

        config = load_config()
        if args.command == "migrate":
            asyncio.run(migrate(config))
            return 0
        if args.command == "stats":
            return _stats(config, args.days, as_json=args.json)
        asyncio.run(serve(config))
        return 0
    except KeyboardInterrupt:
        return 0


def _stats(config: Config, days: float, *, as_json: bool) -> int:
    """`regbot stats`: the funnel of the last ``days`` days, as text or JSON, on stdout."""
    import json
    from datetime import UTC, datetime

    from sqlalchemy.exc import DBAPIError

    from bot.stats import format_funnel, funnel_for_days
    from storage.db import Database

    if not days > 0:
        print("regbot stats: --days must be greater than 0", file=sys.stderr)
        return 2

    async def run() -> str:
        db = Database.open(config.database_url)
        try:
            result = await funnel_for_days(db, days, datetime.now(UTC))
        finally:
            await db.dispose()
        if as_json:
            return json.dumps(result.as_json(), ensure_ascii=False, indent=2)
        return format_funnel(result)

    try:
        print(asyncio.run(run()))
    except DBAPIError as error:  # e.g. no tables yet: say so, without a traceback
        print(
            f"regbot stats: the database could not be read ({type(error.orig).__name__}); "
            "is it migrated (regbot migrate)?",
            file=sys.stderr,
        )
        return 1
    return 0


def _chat(lang: str, *, memory: bool) -> int:
    from bot.console import main_memory

    if memory:
        return main_memory(lang)
    try:
        from bot.console_service import main_service
    except ImportError:
        return main_memory(lang)
    return main_service(lang)


if __name__ == "__main__":
    sys.exit(main())
