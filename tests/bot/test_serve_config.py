"""`bot.config.load_config`: SPEC §8's defaults, overrides, secrets hidden, bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import ConfigError, load_config


def test_defaults_are_spec_section_8() -> None:
    """With nothing set, every variable has SPEC §8's working local default."""
    config = load_config({})
    assert config.database_url == "sqlite+aiosqlite:///var/regbot.sqlite3"
    assert (config.http_host, config.http_port) == ("127.0.0.1", 8080)
    assert config.public_url == "http://127.0.0.1:8080"
    assert (config.smtp_host, config.smtp_port) == ("127.0.0.1", 8025)
    assert config.mail_address == config.mail_from == "register@localhost"
    assert not config.smtp_relay and not config.imap_url
    assert config.outbox_dir == Path("var/outbox")
    assert config.portal_url == "http://127.0.0.1:8080/"
    assert config.token_ttl_hours == 24.0
    assert not config.slack_bot_token and not config.slack_signing_secret and not config.slack_app_token
    assert config.slack_api_url == "https://slack.com/api/"
    assert (config.helpdesk_channel, config.helpdesk_staff) == ("", ())
    assert (config.remind_after_hours, config.expire_after_hours, config.retention_days) == (24, 72, 30)


def test_overrides_and_derived_values() -> None:
    """Values are read as typed; MAIL_FROM follows MAIL_ADDRESS; staff is a comma list."""
    config = load_config(
        {
            "REGBOT_MAIL_ADDRESS": "bot@example.jp",
            "REGBOT_TOKEN_TTL_HOURS": "0.001",
            "REGBOT_HTTP_PORT": "9000",
            "REGBOT_HELPDESK_STAFF": "U1, U2,,",
            "REGBOT_PUBLIC_URL": "https://reg.example.jp/",
        }
    )
    assert config.mail_from == "bot@example.jp"
    assert config.token_ttl_hours == 0.001
    assert config.http_port == 9000
    assert config.helpdesk_staff == ("U1", "U2")
    assert config.link("/verify/abc") == "https://reg.example.jp/verify/abc"


def test_secrets_never_show_in_repr() -> None:
    """A printed or logged config hides relay passwords and Slack tokens."""
    config = load_config(
        {"REGBOT_SMTP_RELAY": "smtp://u:hunter2@relay:587", "SLACK_BOT_TOKEN": "xoxb-secret-token"}
    )
    assert "hunter2" not in repr(config) and "xoxb-secret-token" not in repr(config)
    assert config.smtp_relay.reveal() == "smtp://u:hunter2@relay:587"


@pytest.mark.parametrize(
    ("name", "value"),
    [("REGBOT_HTTP_PORT", "eighty"), ("REGBOT_TOKEN_TTL_HOURS", "-1"), ("REGBOT_RETENTION_DAYS", "x")],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    """A bad value is a ConfigError naming the variable but not echoing the value."""
    with pytest.raises(ConfigError, match=name) as error:
        load_config({name: value})
    assert value not in str(error.value)


def test_dotenv_file_is_read_and_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A .env in the current folder is read; the real environment overrides it."""
    (tmp_path / ".env").write_text("REGBOT_HTTP_PORT=9100\nREGBOT_SMTP_PORT=2525\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGBOT_SMTP_PORT", "2626")
    config = load_config()
    assert (config.http_port, config.smtp_port) == (9100, 2626)
