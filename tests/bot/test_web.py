"""The verification pages against a fake `VerificationPort`, over aiohttp's test server (real HTTP)."""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, fields

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from bot.web import RedactingAccessLogger, WebLimits, clean_token, make_web_app, redact_path
from conversations.rules.errors import RuleError
from conversations.rules.password import check_password

TOKEN = "q0Xf3kLmN9pQrStUvWxYz_AbCdEfGh-IjKlMnOpQrSt"
PASSWORD = "Kikin2025Pass"
PORTAL = "https://portal.example.jp/csm"


# --- the fake port: the shapes of docs/INTERFACES.md (bot/verification.py) -------------------------


class LinkState(enum.Enum):
    VALID = "valid"
    COMPLETED = "completed"
    EXPIRED = "expired"
    SUPERSEDED = "superseded"
    CANCELLED = "cancelled"
    MALFORMED = "malformed"


@dataclass(frozen=True)
class LinkView:
    state: LinkState
    needs_password: bool
    display_name: str


@dataclass(frozen=True)
class CompletionResult:
    state: LinkState
    completed: bool
    username: str | None
    error: RuleError | None


@dataclass
class FakeLink:
    state: LinkState = LinkState.VALID
    needs_password: bool = True
    display_name: str = "基金 太郎"
    username: str = "kikin.taro@example.jp"
    password_set: bool = False


@dataclass
class FakeVerificationPort:
    """Links by token; the password rule is the real one; counts every call."""

    links: dict[str, FakeLink] = field(default_factory=dict)
    inspected: list[str] = field(default_factory=list)
    completed: list[str] = field(default_factory=list)

    async def inspect(self, token: str) -> LinkView:
        self.inspected.append(token)
        link = self.links.get(token)
        if link is None:
            return LinkView(LinkState.MALFORMED, False, "")
        if link.state is not LinkState.VALID:
            return LinkView(link.state, False, "")
        return LinkView(LinkState.VALID, link.needs_password, link.display_name)

    async def complete(self, token: str, password: str | None, confirmation: str | None) -> CompletionResult:
        self.completed.append(token)
        link = self.links.get(token)
        if link is None:
            return CompletionResult(LinkState.MALFORMED, False, None, None)
        if link.state is not LinkState.VALID:
            return CompletionResult(link.state, False, None, None)
        if link.needs_password:
            try:
                check_password(password or "", confirmation or "")
            except RuleError as error:
                return CompletionResult(LinkState.VALID, False, None, error)
            link.password_set = True
        link.state = LinkState.COMPLETED
        return CompletionResult(LinkState.VALID, True, link.username, None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- fixtures ----------------------------------------------------------------------------------------


@pytest.fixture
def port() -> FakeVerificationPort:
    return FakeVerificationPort(links={TOKEN: FakeLink()})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(
    port: FakeVerificationPort, clock: FakeClock
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = make_web_app(
        port,  # type: ignore[arg-type]
        public_url="http://127.0.0.1:8080",
        portal_url=PORTAL,
        limits=WebLimits(failed_posts=10, unknown_gets=30, window_seconds=600),
        clock=clock,
    )
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def _form_action(page: str) -> str:
    match = re.search(r'<form method="post" action="([^"]+)"', page)
    assert match
    return match.group(1)


async def _get(client: TestClient[web.Request, web.Application], path: str) -> tuple[int, str]:
    response = await client.get(path)
    return response.status, await response.text()


async def _submit(
    client: TestClient[web.Request, web.Application],
    path: str = f"/verify/{TOKEN}",
    password: str | None = PASSWORD,
    confirmation: str | None = None,
) -> tuple[int, str]:
    status, page = await _get(client, path)
    assert status == 200, page
    data = {"csrf_token": _csrf(page)}
    if password is not None:
        data["password"] = password
        data["password_confirmation"] = password if confirmation is None else confirmation
    response = await client.post(_form_action(page), data=data)
    return response.status, await response.text()


# --- GET ---------------------------------------------------------------------------------------------


async def test_healthz(client: TestClient[web.Request, web.Application]) -> None:
    """/healthz answers 200 "ok"."""
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.text() == "ok"


async def test_valid_link_page_with_password_fields(client: TestClient[web.Request, web.Application]) -> None:
    """A valid link greets <姓> <名> 様 and shows the two password inputs, the rule, one button."""
    status, page = await _get(client, f"/verify/{TOKEN}")
    assert status == 200
    assert "基金 太郎 様" in page
    assert '<form method="post" action="/verify/' in page
    assert page.count('type="password"') == 2
    assert '<label for="password">パスワード</label>' in page
    assert "パスワード（確認用）" in page
    assert "大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内" in page
    assert page.count("<button") == 1
    assert "ユーザー登録を完了する</button>" in page
    assert '<meta name="viewport"' in page
    assert '<html lang="ja">' in page
    assert "0800-080-4583" in page  # お問い合わせ先
    assert "<script" not in page
    assert re.search(r"""(src|href)=["']https?://(?!portal\.example\.jp)""", page) is None


async def test_valid_link_page_without_password(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """When the password was set in the chat, the page is one button only."""
    port.links[TOKEN].needs_password = False
    status, page = await _get(client, f"/verify/{TOKEN}")
    assert status == 200
    assert 'type="password"' not in page
    assert page.count("<button") == 1


async def test_get_never_consumes(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """GET twice (a link scanner, then the person) leaves the link usable; only POST completes."""
    for _ in range(3):
        status, _page = await _get(client, f"/verify/{TOKEN}")
        assert status == 200
    head = await client.head(f"/verify/{TOKEN}")
    assert head.status == 200
    assert port.completed == []
    assert port.links[TOKEN].state is LinkState.VALID
    status, page = await _submit(client)
    assert status == 200
    assert "ユーザー登録が完了いたしました。" in page


# --- POST ----------------------------------------------------------------------------------------------


async def test_post_completes_and_shows_the_completion_page(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """ユーザー登録完了画面 as in the manual: the sentence, login guidance, the username; no password."""
    status, page = await _submit(client)
    assert status == 200
    assert "ユーザー登録が完了いたしました。" in page
    assert "ログインにつきましては、画面右上の「ログイン」ボタンをクリックください。" in page
    assert "kikin.taro@example.jp" in page
    assert f'href="{PORTAL}"' in page
    assert PASSWORD not in page
    assert port.links[TOKEN].state is LinkState.COMPLETED
    assert port.links[TOKEN].password_set


async def test_second_post_says_already_completed(
    client: TestClient[web.Request, web.Application],
) -> None:
    """Submitting twice (back button, double click): the second answer is reason ② with a login pointer."""
    _status, page = await _get(client, f"/verify/{TOKEN}")
    data = {"csrf_token": _csrf(page), "password": PASSWORD, "password_confirmation": PASSWORD}
    first = await client.post(f"/verify/{TOKEN}", data=data)
    assert first.status == 200
    second = await client.post(f"/verify/{TOKEN}", data=data)
    text = await second.text()
    assert second.status == 410
    assert "不正な操作が行われました。" in text
    assert "当該完了メール記載のURLよりアクセスしてください。" in text


@pytest.mark.parametrize(
    ("password", "confirmation", "message"),
    [
        ("short1A", "short1A", "8文字以上100文字以内で入力してください（入力された文字数：7）"),
        ("alllowercase1", "alllowercase1", "大文字が含まれていません"),
        (PASSWORD, PASSWORD + "x", "パスワード（確認用）が一致しません"),
        ("", "", "8文字以上100文字以内"),
    ],
)
async def test_broken_password_rule_shows_the_form_again(
    client: TestClient[web.Request, web.Application],
    port: FakeVerificationPort,
    password: str,
    confirmation: str,
    message: str,
) -> None:
    """The catalogue's sentence and the manual's rule; the link stays usable and the value is not echoed."""
    status, page = await _submit(client, password=password, confirmation=confirmation)
    assert status == 422
    assert message in page
    assert "※大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内で入力してください。" in page
    assert page.count('type="password"') == 2
    if password:
        assert password not in page
        assert confirmation not in page
    assert port.links[TOKEN].state is LinkState.VALID
    status, page = await _submit(client)
    assert status == 200
    assert "ユーザー登録が完了いたしました。" in page


async def test_post_without_password_fields_is_a_rule_error(
    client: TestClient[web.Request, web.Application],
) -> None:
    """A form without the password inputs (tampered) gets the rule, not a crash."""
    status, page = await _submit(client, password=None)
    assert status == 422
    assert "8文字以上100文字以内" in page


async def test_post_without_csrf_token_is_refused(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """No form token: a clear page, nothing completed, the link still works afterwards."""
    response = await client.post(
        f"/verify/{TOKEN}", data={"password": PASSWORD, "password_confirmation": PASSWORD}
    )
    page = await response.text()
    assert response.status == 403
    assert "操作を受け付けられませんでした。" in page
    assert "ユーザー登録は完了していません" in page
    assert f'href="/verify/{TOKEN}"' in page
    assert port.completed == []
    status, page = await _submit(client)
    assert status == 200


async def test_post_with_a_forged_csrf_token_is_refused(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """A token for another link, or a made-up one, is refused."""
    port.links["other-token"] = FakeLink()
    _status, other_page = await _get(client, "/verify/other-token")
    for forged in (_csrf(other_page), "0" * 64, ""):
        response = await client.post(
            f"/verify/{TOKEN}",
            data={"csrf_token": forged, "password": PASSWORD, "password_confirmation": PASSWORD},
        )
        assert response.status == 403
    assert port.completed == []


async def test_cross_site_post_is_refused(client: TestClient[web.Request, web.Application]) -> None:
    """A browser that says the form came from another site (Sec-Fetch-Site) is refused."""
    _status, page = await _get(client, f"/verify/{TOKEN}")
    response = await client.post(
        f"/verify/{TOKEN}",
        data={"csrf_token": _csrf(page), "password": PASSWORD, "password_confirmation": PASSWORD},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status == 403


# --- dead links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "status", "texts"),
    [
        (
            LinkState.COMPLETED,
            410,
            [
                "ユーザー登録はすでに完了しています",
                "当該完了メール記載のURLよりアクセスしてください。",
                PORTAL,
            ],
        ),
        (LinkState.EXPIRED, 410, ["メールが送信されてから24時間を経過したため", "最初から行ってください"]),
        (
            LinkState.SUPERSEDED,
            410,
            [
                "最新のユーザー登録申請を行った登録確認メールのみ有効となります。",
                "最新のメールをご確認ください",
            ],
        ),
        (LinkState.CANCELLED, 410, ["取り消されています", "最初から行ってください"]),
    ],
)
async def test_each_dead_reason_renders_its_text(
    client: TestClient[web.Request, web.Application],
    port: FakeVerificationPort,
    state: LinkState,
    status: int,
    texts: list[str],
) -> None:
    """「不正な操作が行われました。」 plus the manual's reason that applies, on GET and on POST."""
    port.links[TOKEN].state = state
    response = await client.get(f"/verify/{TOKEN}")
    page = await response.text()
    assert response.status == status
    assert "<h1>不正な操作が行われました。</h1>" in page
    for text in texts:
        assert text in page
    assert "<form" not in page


async def test_malformed_link_explains_reason_one(client: TestClient[web.Request, web.Application]) -> None:
    """An unknown or cut token: reason ① (copy the whole URL)."""
    for path in (f"/verify/{TOKEN[:20]}", "/verify/", "/verify/%0A"):
        status, page = await _get(client, path)
        assert status == 404
        assert "不正な操作が行われました。" in page
        assert "URL全文をコピーいただき" in page


async def test_post_on_a_dead_link_explains_why(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """The link expired between GET and POST: the reason page, not the form."""
    _status, page = await _get(client, f"/verify/{TOKEN}")
    port.links[TOKEN].state = LinkState.EXPIRED
    response = await client.post(
        f"/verify/{TOKEN}",
        data={"csrf_token": _csrf(page), "password": PASSWORD, "password_confirmation": PASSWORD},
    )
    assert response.status == 410
    assert "有効期限が切れています" in await response.text()


async def test_expired_text_uses_the_configured_lifetime(port: FakeVerificationPort) -> None:
    """REGBOT_TOKEN_TTL_HOURS=0.5 → 「0.5時間（30分）を経過したため」."""
    port.links[TOKEN].state = LinkState.EXPIRED
    app = make_web_app(port, public_url="http://127.0.0.1:8080", portal_url=PORTAL, ttl_hours=0.5)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        _status, page = await _get(client, f"/verify/{TOKEN}")
    assert "メールが送信されてから0.5時間（30分）を経過したため" in page


# --- mangled links ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        f"/verify/{TOKEN}%0A",
        f"/verify/{TOKEN[:25]}%0A{TOKEN[25:]}",
        f"/verify/{TOKEN[:25]}%0D%0A{TOKEN[25:]}",
        f"/verify/{TOKEN[:10]}%20{TOKEN[10:]}",
        f"/verify/{TOKEN}%3E",
        f"/verify/{TOKEN}.",
        f"/verify/{TOKEN}/",
        f"/verify/%3C{TOKEN}%3E",
        f"/verify/{TOKEN}%E3%80%82",  # 「。」 typed after the link
    ],
)
async def test_mangled_token_is_tolerated(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort, path: str
) -> None:
    """Line breaks, spaces, a trailing > or . from mail clients are dropped before asking the port."""
    status, page = await _submit(client, path=path)
    assert status == 200
    assert "ユーザー登録が完了いたしました。" in page
    assert set(port.inspected) == {TOKEN}
    assert port.completed == [TOKEN]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [(f"{TOKEN}\n", TOKEN), (f" {TOKEN} ", TOKEN), (f"{TOKEN}>", TOKEN), ("a\r\nb.c>", "abc"), ("", "")],
)
def test_clean_token(raw: str, clean: str) -> None:
    """Only the URL-safe alphabet survives."""
    assert clean_token(raw) == clean


async def test_form_action_follows_the_public_url_prefix(port: FakeVerificationPort) -> None:
    """Behind a proxy at https://host/regbot the form posts to /regbot/verify/<token>."""
    app = make_web_app(port, public_url="https://regbot.example.jp/regbot/", portal_url=PORTAL)  # type: ignore[arg-type]
    async with TestClient(TestServer(app)) as client:
        _status, page = await _get(client, f"/verify/{TOKEN}%0A")
    assert _form_action(page) == f"/regbot/verify/{TOKEN}"


# --- headers, errors, rate limits ---------------------------------------------------------------------


def _assert_security_headers(response: ClientResponse) -> None:
    headers = response.headers
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp)
    assert "script-src" not in csp  # default-src 'none' forbids scripts
    assert "frame-ancestors 'none'" in csp
    assert "form-action 'self'" in csp


async def test_security_headers_on_every_page(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """Form, completion, dead link, refusal, 404, 405 and /healthz all carry the headers."""
    responses = [
        await client.get(f"/verify/{TOKEN}"),
        await client.get("/verify/unknown"),
        await client.post(f"/verify/{TOKEN}", data={}),
        await client.get("/nowhere"),
        await client.put(f"/verify/{TOKEN}"),
        await client.get("/healthz"),
    ]
    _status, page = await _get(client, f"/verify/{TOKEN}")
    responses.append(
        await client.post(
            f"/verify/{TOKEN}",
            data={"csrf_token": _csrf(page), "password": PASSWORD, "password_confirmation": PASSWORD},
        )
    )
    for response in responses:
        _assert_security_headers(response)
    assert [r.status for r in responses] == [200, 404, 403, 404, 405, 200, 200]


async def test_inline_style_matches_the_csp_hash(client: TestClient[web.Request, web.Application]) -> None:
    """The <style> element is exactly the one the CSP hash allows (else browsers drop the styling)."""
    import base64
    import hashlib

    response = await client.get(f"/verify/{TOKEN}")
    page = await response.text()
    match = re.search(r"<style>(.*?)</style>", page, re.DOTALL)
    assert match
    digest = base64.b64encode(hashlib.sha256(match.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in response.headers["Content-Security-Policy"]


async def test_unknown_route_is_a_japanese_404(client: TestClient[web.Request, web.Application]) -> None:
    """Pages outside /verify answer in Japanese too."""
    status, page = await _get(client, "/nowhere")
    assert status == 404
    assert "ページが見つかりません。" in page


async def test_failed_posts_are_rate_limited(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort, clock: FakeClock
) -> None:
    """10 failed POSTs in 10 minutes from one IP → 429 in Japanese, even with a right password; later OK."""
    _status, page = await _get(client, f"/verify/{TOKEN}")
    csrf = _csrf(page)
    for _ in range(10):
        response = await client.post(
            f"/verify/{TOKEN}", data={"csrf_token": csrf, "password": "weak", "password_confirmation": "weak"}
        )
        assert response.status == 422
    calls = len(port.completed)
    good = {"csrf_token": csrf, "password": PASSWORD, "password_confirmation": PASSWORD}
    response = await client.post(f"/verify/{TOKEN}", data=good)
    page = await response.text()
    assert response.status == 429
    assert "操作の回数が多すぎます。" in page
    assert 0 < int(response.headers["Retry-After"]) <= 600
    _assert_security_headers(response)
    assert len(port.completed) == calls  # the port is not even asked
    clock.now += 601
    response = await client.post(f"/verify/{TOKEN}", data=good)
    assert response.status == 200


async def test_csrf_failures_count_towards_the_limit(
    client: TestClient[web.Request, web.Application],
) -> None:
    """Refused forms are failed POSTs too."""
    for _ in range(10):
        assert (await client.post(f"/verify/{TOKEN}", data={})).status == 403
    assert (await client.post(f"/verify/{TOKEN}", data={})).status == 429


async def test_guessing_tokens_is_rate_limited(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort, clock: FakeClock
) -> None:
    """30 unknown tokens from one IP → 429 without asking the port; valid GETs do not count."""
    for _ in range(5):
        assert (await client.get(f"/verify/{TOKEN}")).status == 200
    for number in range(30):
        assert (await client.get(f"/verify/guess{number}")).status == 404
    asked = len(port.inspected)
    response = await client.get("/verify/guess-more")
    assert response.status == 429
    assert "操作の回数が多すぎます。" in await response.text()
    assert len(port.inspected) == asked
    clock.now += 601
    assert (await client.get(f"/verify/{TOKEN}")).status == 200


# --- logs --------------------------------------------------------------------------------------------


async def test_access_log_never_shows_the_token(
    port: FakeVerificationPort, caplog: pytest.LogCaptureFixture
) -> None:
    """aiohttp's default access log, and our own access logger, print /verify/*** instead of the token."""
    app = make_web_app(port, public_url="http://127.0.0.1:8080", portal_url=PORTAL)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG):
        async with TestClient(TestServer(app)) as client:
            await _submit(client)
            await client.get(f"/verify/{TOKEN}", headers={"Referer": f"http://x/verify/{TOKEN}"})
        app2 = make_web_app(port, public_url="http://127.0.0.1:8080", portal_url=PORTAL)  # type: ignore[arg-type]
        async with TestClient(TestServer(app2, access_log_class=RedactingAccessLogger)) as client:
            await client.get(f"/verify/{TOKEN}")
    access = [r for r in caplog.records if r.name == "aiohttp.access"]
    assert len(access) >= 4
    text = "\n".join(r.getMessage() + repr(vars(r)) for r in caplog.records)
    assert "/verify/***" in text
    assert TOKEN not in text
    assert PASSWORD not in text


def test_redact_path() -> None:
    """Any /verify/<token> in a line is masked, the rest kept."""
    line = f'127.0.0.1 "GET /verify/{TOKEN} HTTP/1.1" 200 "http://h/verify/{TOKEN}?x=1"'
    assert redact_path(line) == '127.0.0.1 "GET /verify/*** HTTP/1.1" 200 "http://h/verify/***?x=1"'


# --- the fake keeps to the contract -------------------------------------------------------------------


def test_fake_matches_the_real_interface() -> None:
    """When bot/verification.py exists, the fake's enum members and result fields are the same."""
    real = pytest.importorskip("bot.verification")
    assert [m.name for m in real.LinkState] == [m.name for m in LinkState]
    assert [f.name for f in fields(real.LinkView)] == [f.name for f in fields(LinkView)]
    assert [f.name for f in fields(real.CompletionResult)] == [f.name for f in fields(CompletionResult)]


async def test_oversized_form_is_refused(
    client: TestClient[web.Request, web.Application], port: FakeVerificationPort
) -> None:
    """A form far larger than three short fields is refused before anything is hashed."""
    _status, page = await _get(client, f"/verify/{TOKEN}")
    huge = "A1a" * 10_000
    response = await client.post(
        f"/verify/{TOKEN}", data={"csrf_token": _csrf(page), "password": huge, "password_confirmation": huge}
    )
    assert response.status == 413
    assert "送信された内容が大きすぎます。" in await response.text()
    assert port.completed == []
