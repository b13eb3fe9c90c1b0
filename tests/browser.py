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

from playwright.async_api import Browser, async_playwright

from tests.services import ServiceUnavailable, apt_install, unavailable

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


def ensure_chromium() -> str:
    """The path of Debian's Chromium, installed when missing (as root); skip or fail when impossible."""
    missing = not os.access(CHROMIUM, os.X_OK) or not JAPANESE_FONT.exists()
    if missing:
        reason = ""
        if os.geteuid() == 0 and shutil.which("apt-get"):
            try:
                apt_install(*PACKAGES)
            except (ServiceUnavailable, OSError, subprocess.TimeoutExpired) as exc:
                reason = f"installing {' '.join(PACKAGES)} failed: {exc}"
        else:
            reason = f"{CHROMIUM} or the Japanese font is missing and we are not root to apt-get install it"
        if not os.access(CHROMIUM, os.X_OK):
            reason = reason or f"apt-get install chromium left no {CHROMIUM}"
            unavailable("Chromium", reason)
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
