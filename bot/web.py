"""The verification pages (SPEC §4; 手順書 7–8: メールアドレス登録確認メールのURL → ユーザー登録完了画面).

``GET /verify/<token>`` only looks (`VerificationPort.inspect`): corporate link scanners that pre-fetch
URLs must not burn the link.  It shows one button — and the password fields when the conversation came
by email — in a plain ``<form method="post">`` that works without JavaScript.  ``POST`` completes
(`VerificationPort.complete`); a broken password rule shows the form again and leaves the link usable.
A dead link shows 「不正な操作が行われました。」 with the one of the manual's reasons that applies.

Tokens reach us mangled by mail clients (a line break, ``%0A``, a trailing ``>`` or ``.``): everything
outside the URL-safe alphabet is dropped before the port sees it.  Tokens and passwords are never logged:
`RedactingAccessLogger` (and a filter on aiohttp's default access logger) print ``/verify/***``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from jinja2 import Environment, PackageLoader, StrictUndefined

from conversations.catalogue.rules_ja import RULE_MESSAGES_JA
from conversations.rules.errors import RuleError
from mail.compose import ttl_text

if TYPE_CHECKING:
    from bot.verification import CompletionResult, VerificationPort

# bot.verification.LinkState is compared by member name, so this module (and its tests' fakes) does not
# depend on the service's import graph at run time.
VALID = "VALID"
MALFORMED = "MALFORMED"

log = logging.getLogger(__name__)

CSRF_FIELD = "csrf_token"
PASSWORD_FIELD = "password"
CONFIRMATION_FIELD = "password_confirmation"
_NOT_TOKEN = re.compile(r"[^A-Za-z0-9_-]")  # secrets.token_urlsafe's alphabet
_MAX_TOKEN_LENGTH = 256
_MAX_FORM_BYTES = 16 * 1024  # three short fields; the rest of the app (Slack events) keeps aiohttp's limit
_VERIFY_PATH = re.compile(r"(/verify/)[^\s\"'?#]*")
_DEAD_STATUS = {"MALFORMED": 404, "COMPLETED": 410, "EXPIRED": 410, "SUPERSEDED": 410, "CANCELLED": 410}
# 手順書: パスワード欄の注記
PASSWORD_RULE_JA = "※大文字/小文字/数字をそれぞれ1文字以上、かつ8文字以上100文字以内で入力してください。"


def clean_token(raw: str) -> str:
    """The token as issued, from what a mail client made of it: non-URL-safe characters are dropped."""
    return _NOT_TOKEN.sub("", raw)[:_MAX_TOKEN_LENGTH]


def redact_path(text: str) -> str:
    """``/verify/<token>`` → ``/verify/***`` anywhere in ``text`` (log lines, request lines, referers)."""
    return _VERIFY_PATH.sub(r"\1***", text)


@dataclass(frozen=True)
class WebLimits:
    """Per client IP, within ``window_seconds``: failed POSTs, and GETs of unknown tokens (guessing)."""

    failed_posts: int = 10
    unknown_gets: int = 30
    window_seconds: float = 600.0


class RateLimiter:
    """Sliding-window counter per key; forgets the least recently seen keys beyond ``max_keys``."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000
    ) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str) -> deque[float]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        cutoff = self.clock() - self.window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def blocked(self, key: str) -> bool:
        return len(self._recent(key)) >= self.limit

    def retry_after(self, key: str) -> int:
        """Seconds until one more attempt is allowed (0 when it already is)."""
        hits = self._recent(key)
        if len(hits) < self.limit:
            return 0
        return max(1, math.ceil(hits[-self.limit] + self.window - self.clock()))

    def hit(self, key: str) -> None:
        hits = self._recent(key)
        hits.append(self.clock())
        self._hits[key] = hits
        self._hits.move_to_end(key)
        while len(self._hits) > self.max_keys:
            self._hits.popitem(last=False)


class RedactingAccessLogger(AbstractAccessLogger):
    """aiohttp access log without tokens: pass as ``AppRunner(app, access_log_class=...)``."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            redact_path(request.path),
            response.status,
            time,
        )


class _RedactVerifyPaths(logging.Filter):
    """Safety net for aiohttp's default access logger (its ``%r`` and Referer hold the full path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact_path(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_path(a) if isinstance(a, str) else a for a in record.args)
        for name, value in list(vars(record).items()):
            if isinstance(value, str) and "/verify/" in value:
                setattr(record, name, redact_path(value))
            elif isinstance(value, dict):
                setattr(
                    record, name, {k: redact_path(v) if isinstance(v, str) else v for k, v in value.items()}
                )
        return True


def install_access_log_redaction(logger_name: str = "aiohttp.access") -> None:
    logger = logging.getLogger(logger_name)
    if not any(isinstance(existing, _RedactVerifyPaths) for existing in logger.filters):
        logger.addFilter(_RedactVerifyPaths())


def _rule_message_ja(error: RuleError) -> str:
    """The catalogue's Japanese sentence for a broken password rule, or a generic one."""
    template = RULE_MESSAGES_JA.get(error.key)
    if template:
        try:
            return str(template).format(**error.params)
        except (KeyError, IndexError, ValueError):
            log.warning("catalogue message %s does not fit its parameters", error.key)
    if error.key.endswith("mismatch"):
        return "パスワードとパスワード（確認用）が一致しません。"
    return "パスワードが条件を満たしていません。"


class VerificationPages:
    """The request handlers; one instance per web app."""

    def __init__(
        self,
        port: VerificationPort,
        *,
        public_url: str,
        portal_url: str,
        ttl_hours: float,
        csrf_secret: bytes,
        limits: WebLimits,
        clock: Callable[[], float],
    ) -> None:
        self.port = port
        self.portal_url = portal_url
        self.ttl_hours = ttl_hours
        self._csrf_secret = csrf_secret
        # Links are built under public_url's path, so a reverse proxy may serve us below a prefix.
        self._path_prefix = urlsplit(public_url).path.rstrip("/")
        self._failed_posts = RateLimiter(limits.failed_posts, limits.window_seconds, clock)
        self._unknown_gets = RateLimiter(limits.unknown_gets, limits.window_seconds, clock)
        self._templates = Environment(
            loader=PackageLoader("bot", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.css = self._templates.loader.get_source(self._templates, "style.css")[0]  # type: ignore[union-attr]
        css_hash = base64.b64encode(hashlib.sha256(self.css.encode()).digest()).decode()
        self.content_security_policy = (
            f"default-src 'none'; style-src 'sha256-{css_hash}'; img-src 'self' data:; "
            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        )

    # --- pages -------------------------------------------------------------------------------------

    async def show(self, request: web.Request) -> web.Response:
        """GET: look, never consume."""
        client = _client_key(request)
        if self._unknown_gets.blocked(client):
            return self._too_many(client, self._unknown_gets)
        token = clean_token(request.match_info["token"])
        view = await self.port.inspect(token) if token else None
        state = view.state.name if view is not None else MALFORMED
        if view is None or state != VALID:
            if state == MALFORMED:
                self._unknown_gets.hit(client)
            return self._dead(state)
        return self._form(token, view.display_name, view.needs_password, error=None)

    async def submit(self, request: web.Request) -> web.Response:
        """POST: complete the registration (the only request that consumes the link)."""
        client = _client_key(request)
        if self._failed_posts.blocked(client):
            return self._too_many(client, self._failed_posts)
        token = clean_token(request.match_info["token"])
        if (request.content_length or 0) > _MAX_FORM_BYTES:
            self._failed_posts.hit(client)
            return self.render_error(413)
        form = await request.post()
        sent_csrf = form.get(CSRF_FIELD)
        cross_site = request.headers.get("Sec-Fetch-Site", "") == "cross-site"
        if not token or cross_site or not isinstance(sent_csrf, str) or not self._csrf_ok(token, sent_csrf):
            self._failed_posts.hit(client)
            log.info("verification POST refused: missing or wrong form token")
            return self._render("refused.html", 403, retry_path=self._verify_path(token) if token else None)
        password = _field(form, PASSWORD_FIELD)
        confirmation = _field(form, CONFIRMATION_FIELD)
        result = await self.port.complete(token, password, confirmation)
        if result.completed:
            log.info("verification completed")
            return self._render("completed.html", 200, username=result.username or "")
        self._failed_posts.hit(client)
        if result.state.name == VALID:
            return await self._form_again(token, result)
        log.info("verification POST on a dead link: %s", result.state.name)
        return self._dead(result.state.name)

    async def healthz(self, request: web.Request) -> web.Response:
        return web.Response(text="ok")

    # --- helpers -----------------------------------------------------------------------------------

    async def _form_again(self, token: str, result: CompletionResult) -> web.Response:
        view = await self.port.inspect(token)
        if view.state.name != VALID:
            return self._dead(view.state.name)
        error = _rule_message_ja(result.error) if result.error else "入力内容をご確認ください。"
        return self._form(token, view.display_name, view.needs_password, error=error, status=422)

    def _form(
        self, token: str, display_name: str, needs_password: bool, *, error: str | None, status: int = 200
    ) -> web.Response:
        return self._render(
            "verify.html",
            status,
            display_name=display_name,
            needs_password=needs_password,
            error=error,
            action=self._verify_path(token),
            csrf_field=CSRF_FIELD,
            csrf_token=self._csrf_token(token),
            password_rule=PASSWORD_RULE_JA,
        )

    def _dead(self, state: str) -> web.Response:
        return self._render("dead.html", _DEAD_STATUS.get(state, 410), reason=state.lower())

    def _too_many(self, client: str, limiter: RateLimiter) -> web.Response:
        log.info("verification pages rate-limited a client")
        response = self._render("too_many.html", 429)
        response.headers["Retry-After"] = str(limiter.retry_after(client))
        return response

    def _render(self, template: str, status: int, **context: Any) -> web.Response:
        page = self._templates.get_template(template).render(
            css=self.css, portal_url=self.portal_url, ttl=ttl_text(self.ttl_hours), **context
        )
        return web.Response(text=page, status=status, content_type="text/html", charset="utf-8")

    def render_error(self, status: int, allow: str | None = None) -> web.Response:
        response = self._render("error.html", status, error_status=status)
        if allow is not None:
            response.headers["Allow"] = allow
        return response

    def _verify_path(self, token: str) -> str:
        return f"{self._path_prefix}/verify/{token}"

    def _csrf_token(self, token: str) -> str:
        return hmac.new(self._csrf_secret, b"verify-form\0" + token.encode(), hashlib.sha256).hexdigest()

    def _csrf_ok(self, token: str, sent: str) -> bool:
        return hmac.compare_digest(self._csrf_token(token), sent)


def _client_key(request: web.Request) -> str:
    return request.remote or "unknown"


def _field(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) else None


def make_web_app(
    port: VerificationPort,
    *,
    public_url: str,
    portal_url: str,
    ttl_hours: float = 24.0,
    csrf_secret: bytes | None = None,
    limits: WebLimits | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> web.Application:
    """The verification pages as an aiohttp application (routes: ``/verify/{token}``, ``/healthz``).

    ``csrf_secret``: pass the same secret to every process behind one load balancer; by default each
    process makes its own, so a form is accepted by the process that served it.
    """
    pages = VerificationPages(
        port,
        public_url=public_url,
        portal_url=portal_url,
        ttl_hours=ttl_hours,
        csrf_secret=csrf_secret or secrets.token_bytes(32),
        limits=limits or WebLimits(),
        clock=clock,
    )
    install_access_log_redaction()

    @web.middleware
    async def japanese_errors(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            return pages.render_error(exc.status, exc.headers.get("Allow"))
        except Exception:
            log.exception("verification page failed (%s %s)", request.method, redact_path(request.path))
            return pages.render_error(500)

    async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Content-Security-Policy"] = pages.content_security_policy
        response.headers["X-Robots-Tag"] = "noindex, nofollow"

    app = web.Application(middlewares=[japanese_errors])
    app.on_response_prepare.append(security_headers)
    app.router.add_get("/healthz", pages.healthz)
    # [\s\S]: the token may hold a %0A a mail client put there; clean_token drops it.
    app.router.add_get(r"/verify/{token:[\s\S]*}", pages.show)
    app.router.add_post(r"/verify/{token:[\s\S]*}", pages.submit)
    return app
