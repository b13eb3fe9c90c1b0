"""The `regbot` command: serve, chat, migrate (SPEC §8)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="regbot", description="医療機関等向け総合ポータルサイト 登録ボット")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="web pages, mail in, outbox delivery and Slack (when configured)")
    chat = commands.add_parser("chat", help="register in this terminal")
    chat.add_argument("--lang", choices=("ja", "en"), default="ja")
    chat.add_argument("--memory", action="store_true", help="keep the conversation in memory (no database)")
    commands.add_parser("migrate", help="bring the database schema up to date")
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
        asyncio.run(serve(config))
        return 0
    except KeyboardInterrupt:
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
