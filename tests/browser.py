"""Chromium for the browser tests: Debian's package, driven by Playwright's Python API.

`ensure_chromium()` returns ``/usr/bin/chromium``, installing Debian's ``chromium`` (and a Japanese font,
so pages are not rendered as boxes) when missing and we are root.  ``playwright install`` cannot
download browsers here, so Playwright is pointed at the system binary.  Outside CI a missing Chromium
skips the test with the reason; in CI (``CI=true``) it fails, so a broken set-up is never silently skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

CHROMIUM = "/usr/bin/chromium"
JAPANESE_FONT = Path("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf")
PACKAGES = ("chromium", "fonts-ipafont-gothic")
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

_apt_updated = False


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def _apt_get(*arguments: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another test set-up (PostgreSQL, Dovecot) may hold the dpkg lock: wait for it instead of failing.
    command = ["apt-get", "-o", "DPkg::Lock::Timeout=600", "-q", *arguments]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1200, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip()[-2000:]}")


def _install() -> None:
    global _apt_updated
    if not _apt_updated:
        _apt_get("update")
        _apt_updated = True
    _apt_get("install", "-y", *PACKAGES)


def ensure_chromium() -> str:
    """The path of Debian's Chromium, installed when missing (as root); skip or fail when impossible."""
    missing = not os.access(CHROMIUM, os.X_OK) or not JAPANESE_FONT.exists()
    if missing:
        reason = ""
        if os.geteuid() == 0 and shutil.which("apt-get"):
            try:
                _install()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                reason = f"installing {' '.join(PACKAGES)} failed: {exc}"
        else:
            reason = f"{CHROMIUM} or the Japanese font is missing and we are not root to apt-get install it"
        if not os.access(CHROMIUM, os.X_OK):
            reason = reason or f"apt-get install chromium left no {CHROMIUM}"
            if in_ci():
                pytest.fail(f"Chromium is required in CI: {reason}")
            pytest.skip(f"Chromium not available: {reason}")
    return CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium (the system one), closed on exit."""
    executable = ensure_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, args=LAUNCH_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            await browser.close()


def artifact_path(name: str) -> Path:
    """Where a test saves a screenshot or page dump (``test-artifacts/``, gitignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name
