"""conversations/ stays pure (STYLE.md): it imports no I/O library, no clock, no randomness."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FORBIDDEN = {
    "aiohttp",
    "slack_bolt",
    "slack_sdk",
    "aiosmtpd",
    "aiosmtplib",
    "aioimaplib",
    "sqlalchemy",
    "asyncpg",
    "aiosqlite",
    "alembic",
    "asyncio",
    "socket",
    "random",
    "secrets",
    "time",
    "os",
    "subprocess",
    "bot",
    "storage",
    "mail",
    "requests",
    "httpx",
    "logging",
}
ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "conversations").rglob("*.py")), ids=lambda p: p.name)
def test_conversations_imports_no_io(path: Path) -> None:
    assert not (_imports(path) & FORBIDDEN), f"{path.name} imports {_imports(path) & FORBIDDEN}"


def test_datetime_now_is_never_called_in_conversations() -> None:
    for path in (ROOT / "conversations").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert ".now(" not in text and ".today(" not in text, path.name
