"""The verification page in a real browser: Debian's Chromium driven by Playwright, a fake port behind it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from playwright.async_api import Browser, ConsoleMessage, Page, Request

from bot.web import make_web_app
from tests.bot.test_web import FakeLink, FakeVerificationPort, LinkState
from tests.browser import artifact_path, chromium

pytestmark = pytest.mark.browser

TOKEN = "Br0wserT0kenAbCdEfGhIjKlMnOpQrStUvWxYz_-123"
PASSWORD = "Kikin2025Pass"
PORTAL = "https://portal.example.jp/csm"


@dataclass
class Served:
    base_url: str
    port: FakeVerificationPort


@pytest.fixture
async def served() -> AsyncIterator[Served]:
    """The web app on a free loopback port (a real socket, as Chromium needs)."""
    port = FakeVerificationPort(links={TOKEN: FakeLink()})
    app = make_web_app(port, public_url="http://127.0.0.1", portal_url=PORTAL)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, bound_port = runner.addresses[0][:2]
    try:
        yield Served(f"http://{host}:{bound_port}", port)
    finally:
        await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def _open(
    browser: Browser, url: str, *, javascript: bool = True, mobile: bool = False
) -> tuple[Page, list[str]]:
    """A new context (no shared cookies) with the page at ``url``, and the console errors it logs."""
    context = await browser.new_context(
        java_script_enabled=javascript,
        locale="ja-JP",
        viewport={"width": 375, "height": 740} if mobile else {"width": 1024, "height": 900},
        is_mobile=mobile,
    )
    page = await context.new_page()
    # A CSP violation (the inline style refused) shows up as a console error; a request for anything
    # but the page itself (an asset, a favicon) is recorded as an error too.
    errors: list[str] = []
    page.on("console", lambda message: _collect(errors, message))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: _only_pages(errors, request))
    await page.goto(url)
    return page, errors


def _collect(errors: list[str], message: ConsoleMessage) -> None:
    # The 4xx status of a page itself (422 rule error, 410 dead link) is logged too: not an error here.
    if message.type == "error" and not message.text.startswith("Failed to load resource: the server"):
        errors.append(message.text)


def _only_pages(errors: list[str], request: Request) -> None:
    if urlsplit(request.url).path.startswith("/verify/") and request.resource_type == "document":
        return
    errors.append(f"unexpected request: {request.resource_type} {urlsplit(request.url).path}")


async def _fill_and_submit(page: Page, password: str, confirmation: str) -> None:
    await page.get_by_label("パスワード", exact=True).fill(password)
    await page.get_by_label("パスワード（確認用）").fill(confirmation)
    await page.get_by_role("button", name="ユーザー登録を完了する").click()
    await page.wait_for_load_state()


async def test_fill_passwords_and_complete(browser: Browser, served: Served) -> None:
    """Open the link, fill both passwords, submit: ユーザー登録完了画面; Japanese renders, styles apply."""
    page, errors = await _open(browser, f"{served.base_url}/verify/{TOKEN}")
    await page.get_by_text("基金 太郎 様").wait_for()
    header_colour = await page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor")
    assert header_colour == "rgb(11, 79, 138)"  # the inline <style> was allowed by the CSP hash
    await page.screenshot(path=artifact_path("verification-form.png"), full_page=True)

    await _fill_and_submit(page, PASSWORD, PASSWORD)

    await page.get_by_role("heading", name="ユーザー登録が完了いたしました。").wait_for()
    body = await page.inner_text("body")
    assert "ログインにつきましては、画面右上の「ログイン」ボタンをクリックください。" in body
    assert "kikin.taro@example.jp" in body
    assert PASSWORD not in await page.content()
    await page.screenshot(path=artifact_path("verification-completed.png"), full_page=True)
    assert served.port.links[TOKEN].state is LinkState.COMPLETED
    assert errors == []

    await page.goto(f"{served.base_url}/verify/{TOKEN}")  # the link again: reason ②
    await page.get_by_role("heading", name="不正な操作が行われました。").wait_for()
    assert "当該完了メール記載のURLよりアクセスしてください。" in await page.inner_text("body")
    await page.context.close()


async def test_broken_rule_shows_it_and_the_form_still_works(browser: Browser, served: Served) -> None:
    """A password without upper case: the rule and the reason; then a good one completes."""
    page, errors = await _open(browser, f"{served.base_url}/verify/{TOKEN}")
    await _fill_and_submit(page, "alllowercase1", "alllowercase1")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    text = await alert.inner_text()
    assert "大文字が含まれていません" in text
    assert "大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内" in text
    assert await page.get_by_label("パスワード", exact=True).input_value() == ""  # never echoed back
    await page.screenshot(path=artifact_path("verification-rule-error.png"), full_page=True)
    assert served.port.links[TOKEN].state is LinkState.VALID

    await _fill_and_submit(page, PASSWORD, PASSWORD + "x")
    assert "パスワード（確認用）が一致しません" in await page.get_by_role("alert").inner_text()

    await _fill_and_submit(page, PASSWORD, PASSWORD)
    await page.get_by_role("heading", name="ユーザー登録が完了いたしました。").wait_for()
    assert errors == []
    await page.context.close()


async def test_works_without_javascript_on_a_phone(browser: Browser, served: Served) -> None:
    """JavaScript off, a phone-sized screen: the page fits the width and the plain form completes."""
    served.port.links[TOKEN].needs_password = False
    page, errors = await _open(browser, f"{served.base_url}/verify/{TOKEN}", javascript=False, mobile=True)
    await page.get_by_role("button", name="ユーザー登録を完了する").wait_for()
    await page.screenshot(path=artifact_path("verification-phone.png"), full_page=True)
    await page.get_by_role("button", name="ユーザー登録を完了する").click()
    await page.get_by_role("heading", name="ユーザー登録が完了いたしました。").wait_for()
    await page.context.close()

    # Layout is checked with JavaScript on (it is how the width is measured), same phone viewport.
    served.port.links[TOKEN] = FakeLink()
    page, errors = await _open(browser, f"{served.base_url}/verify/{TOKEN}", mobile=True)
    assert errors == []
    scroll_width = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375
    await page.context.close()


async def test_mangled_link_and_dead_link(browser: Browser, served: Served) -> None:
    """A link with a line break (%0A) and a trailing '>' still opens the form; an expired one explains ③."""
    page, errors = await _open(browser, f"{served.base_url}/verify/{TOKEN[:20]}%0A{TOKEN[20:]}%3E")
    await _fill_and_submit(page, PASSWORD, PASSWORD)
    await page.get_by_role("heading", name="ユーザー登録が完了いたしました。").wait_for()
    await page.context.close()

    served.port.links["expired-token"] = FakeLink(state=LinkState.EXPIRED)
    page, errors = await _open(browser, f"{served.base_url}/verify/expired-token")
    await page.get_by_role("heading", name="不正な操作が行われました。").wait_for()
    assert "メールが送信されてから24時間を経過したため" in await page.inner_text("body")
    await page.screenshot(path=artifact_path("verification-expired.png"), full_page=True)
    assert errors == []
    await page.context.close()
