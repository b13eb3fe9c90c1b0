"""Configuration, read once from the environment and a ``.env`` file (SPEC §8).

Nothing else in regbot reads ``os.environ``: `load_config()` builds a frozen `Config` and the runtime
passes it down.  Values that carry credentials are wrapped in `Secret`, whose ``repr`` and ``str`` hide
them, so a logged or printed config never leaks a token or a relay password.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///var/regbot.sqlite3"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


class ConfigError(ValueError):
    """A variable is set to something unusable; the message names the variable, never its value."""


class Secret:
    """A credential: ``reveal()`` gives the value; ``repr``/``str`` never do."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__


_NO_SECRET = Secret("")


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    public_url: str = "http://127.0.0.1:8080"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    mail_address: str = "register@localhost"
    mail_from: str = "register@localhost"
    smtp_relay: Secret = _NO_SECRET
    outbox_dir: Path = Path("var/outbox")
    imap_url: Secret = _NO_SECRET
    portal_url: str = "http://127.0.0.1:8080/"
    token_ttl_hours: float = 24.0
    slack_bot_token: Secret = _NO_SECRET
    slack_signing_secret: Secret = _NO_SECRET
    slack_app_token: Secret = _NO_SECRET
    slack_api_url: str = DEFAULT_SLACK_API_URL
    # Signs the verification page's form (CSRF).  Empty: each process makes its own, so a form is only
    # accepted by the process that served it; give every process behind one load balancer the same one.
    web_secret: Secret = _NO_SECRET
    helpdesk_channel: str = ""
    helpdesk_staff: tuple[str, ...] = ()
    # Abandoned conversations (SPEC §7): one reminder, then expiry, then the personal values go.
    remind_after_hours: float = 24.0
    expire_after_hours: float = 72.0
    retention_days: float = 30.0
    # Outbox delivery: how often to look for rows written by other processes, back-off, give-up.
    outbox_poll_seconds: float = 2.0
    outbox_retry_seconds: float = 30.0
    outbox_max_attempts: int = 8
    # How long a claimed outbox row or stored mail is left to the process that claimed it: another one
    # (or the same after a restart) takes it over after that.  Longer than any send (SMTP timeouts).
    lease_seconds: float = 300.0
    jobs_interval_seconds: float = 60.0

    def link(self, path: str) -> str:
        """An absolute URL under REGBOT_PUBLIC_URL."""
        return self.public_url.rstrip("/") + "/" + path.lstrip("/")


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "")
    return value.strip() if value.strip() else default


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number (decimals allowed)") from None
    if not value > 0:
        raise ConfigError(f"{name} must be greater than 0")
    return value


def _secret(env: Mapping[str, str], name: str) -> Secret:
    return Secret(env.get(name, "").strip())


def _environment() -> dict[str, str]:
    """``.env`` in the current folder, overridden by the real environment."""
    merged = {k: v for k, v in dotenv_values(Path.cwd() / ".env").items() if v is not None}
    merged.update(os.environ)
    return merged


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Build the configuration from ``env`` (tests) or from ``.env`` + ``os.environ``."""
    env = _environment() if env is None else env
    http_host = _text(env, "REGBOT_HTTP_HOST", "127.0.0.1")
    http_port = _int(env, "REGBOT_HTTP_PORT", 8080)
    mail_address = _text(env, "REGBOT_MAIL_ADDRESS", "register@localhost")
    staff = tuple(s.strip() for s in env.get("REGBOT_HELPDESK_STAFF", "").split(",") if s.strip())
    return Config(
        database_url=_text(env, "REGBOT_DATABASE_URL", DEFAULT_DATABASE_URL),
        http_host=http_host,
        http_port=http_port,
        # Follows the listening address when only that was changed, so links keep working.
        public_url=_text(env, "REGBOT_PUBLIC_URL", f"http://{http_host}:{http_port}").rstrip("/"),
        smtp_host=_text(env, "REGBOT_SMTP_HOST", "127.0.0.1"),
        smtp_port=_int(env, "REGBOT_SMTP_PORT", 8025),
        mail_address=mail_address,
        mail_from=_text(env, "REGBOT_MAIL_FROM", mail_address),
        smtp_relay=_secret(env, "REGBOT_SMTP_RELAY"),
        outbox_dir=Path(_text(env, "REGBOT_OUTBOX_DIR", "var/outbox")),
        imap_url=_secret(env, "REGBOT_IMAP_URL"),
        portal_url=_text(env, "REGBOT_PORTAL_URL", "http://127.0.0.1:8080/"),
        token_ttl_hours=_float(env, "REGBOT_TOKEN_TTL_HOURS", 24.0),
        slack_bot_token=_secret(env, "SLACK_BOT_TOKEN"),
        slack_signing_secret=_secret(env, "SLACK_SIGNING_SECRET"),
        slack_app_token=_secret(env, "SLACK_APP_TOKEN"),
        slack_api_url=_text(env, "SLACK_API_URL", DEFAULT_SLACK_API_URL),
        web_secret=_secret(env, "REGBOT_WEB_SECRET"),
        helpdesk_channel=_text(env, "REGBOT_HELPDESK_CHANNEL", ""),
        helpdesk_staff=staff,
        remind_after_hours=_float(env, "REGBOT_REMIND_AFTER_HOURS", 24.0),
        expire_after_hours=_float(env, "REGBOT_EXPIRE_AFTER_HOURS", 72.0),
        retention_days=_float(env, "REGBOT_RETENTION_DAYS", 30.0),
        outbox_poll_seconds=_float(env, "REGBOT_OUTBOX_POLL_SECONDS", 2.0),
        outbox_retry_seconds=_float(env, "REGBOT_OUTBOX_RETRY_SECONDS", 30.0),
        outbox_max_attempts=_int(env, "REGBOT_OUTBOX_MAX_ATTEMPTS", 8, minimum=1),
        lease_seconds=_float(env, "REGBOT_LEASE_SECONDS", 300.0),
        jobs_interval_seconds=_float(env, "REGBOT_JOBS_INTERVAL_SECONDS", 60.0),
    )
