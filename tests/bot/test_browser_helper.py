"""`ensure_chromium`: skips with a reason outside CI, fails in CI, never installs when not root."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import browser


@pytest.fixture
def no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(browser, "JAPANESE_FONT", tmp_path / "no-font.ttf")
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)  # not root: nothing is installed

    def refuse(*arguments: str) -> None:
        raise AssertionError(f"apt-get must not run: {arguments}")

    monkeypatch.setattr(browser, "apt_install", refuse)


def test_missing_chromium_skips_outside_ci(no_chromium: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer machine without Chromium: the browser tests skip and say why."""
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Chromium not available"):
        browser.ensure_chromium()


def test_missing_chromium_fails_in_ci(no_chromium: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """In CI a missing Chromium is a failure, never a silent skip."""
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="Chromium is required in CI"):
        browser.ensure_chromium()


def test_present_chromium_is_returned(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With the binary and the font in place nothing is installed and the path comes back."""
    executable = tmp_path / "chromium"
    executable.write_text("#!/bin/sh\n")
    executable.chmod(0o755)
    font = tmp_path / "ipag.ttf"
    font.write_bytes(b"")
    monkeypatch.setattr(browser, "CHROMIUM", str(executable))
    monkeypatch.setattr(browser, "JAPANESE_FONT", font)
    monkeypatch.setattr(browser, "apt_install", lambda *packages: pytest.fail("apt-get must not run"))
    assert browser.ensure_chromium() == str(executable)
