"""Outbound delivery: `.eml` files without a relay, aiosmtpd over a loopback socket as the relay."""

from __future__ import annotations

import asyncio
import email
import logging
import os
import socket
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from mail.compose import verification_mail
from mail.deliver import (
    DeliveryError,
    EmlDirectoryDeliverer,
    SmtpDeliverer,
    SmtpRelay,
    deliverer_from_settings,
)

RECIPIENT = "kikin.taro@example.jp"
SENDER = "register@regbot.example.jp"


def _mail() -> bytes:
    message = verification_mail(
        to=RECIPIENT,
        family_name="基金",
        given_name="太郎",
        link="http://127.0.0.1:8080/verify/abcDEF123_-xyz",
        ttl_hours=24,
        mail_from=SENDER,
    )
    return bytes(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class CollectingHandler:
    """Keeps every accepted envelope; refuses recipients listed in ``refuse`` with the given reply."""

    def __init__(self, refuse: dict[str, str] | None = None) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse = refuse or {}

    async def handle_RCPT(
        self, server: SMTPServer, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def _client_log(caplog: pytest.LogCaptureFixture) -> str:
    """What our side logged (aiosmtpd's own server log, "mail.log", is the relay's, not ours)."""
    return "\n".join(record.getMessage() for record in caplog.records if record.name != "mail.log")


def _authenticator(
    server: SMTPServer, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    if isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        b"relay user",
        b"p@ss:w/rd",
    ):
        return AuthResult(success=True)
    return AuthResult(success=False, handled=False)


@pytest.fixture
def relay() -> Iterator[tuple[Controller, CollectingHandler]]:
    handler = CollectingHandler(refuse={"nobody@example.jp": "550 5.1.1 <nobody@example.jp>: no such user"})
    controller = Controller(
        handler,
        hostname="127.0.0.1",
        port=_free_port(),
        authenticator=_authenticator,
        auth_require_tls=False,  # loopback test relay: AUTH offered without TLS
    )
    controller.start()
    try:
        yield controller, handler
    finally:
        controller.stop()


async def test_empty_relay_writes_eml_files(tmp_path: Path) -> None:
    """No relay: each mail becomes a readable `.eml` in the outbox directory (created on demand)."""
    outbox = tmp_path / "var" / "outbox"
    deliverer = deliverer_from_settings("", outbox)
    location = await deliverer.send(_mail(), mail_from=SENDER, recipients=[RECIPIENT])
    assert location is not None
    path = Path(location)
    assert path.parent == outbox
    assert path.suffix == ".eml"
    parsed = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Subject"] == "【総合ポータルサイト】メールアドレス登録確認メール"
    body = parsed.get_body(("plain",))
    assert body is not None
    assert "基金 太郎 様" in body.get_content()


async def test_eml_names_are_unique_and_sort_by_time(tmp_path: Path) -> None:
    """Files written one after another sort in the order they were written; no temporary file remains."""
    deliverer = EmlDirectoryDeliverer(tmp_path)
    locations = []
    for number in range(20):
        message = _mail().replace(b"MIME-Version", f"X-Number: {number}\r\nMIME-Version".encode())
        locations.append(await deliverer.send(message, mail_from=SENDER, recipients=[RECIPIENT]))
    names = [Path(str(location)).name for location in locations]
    assert len(set(names)) == 20
    assert names == sorted(names)
    assert sorted(os.listdir(tmp_path)) == names  # only complete .eml files, no leftovers
    for number, name in enumerate(names):
        assert f"X-Number: {number}".encode() in (tmp_path / name).read_bytes()


async def test_concurrent_eml_writes_are_complete(tmp_path: Path) -> None:
    """Many concurrent writers: every file is whole (written to a temporary name, then renamed)."""
    deliverer = EmlDirectoryDeliverer(tmp_path)
    mail = _mail()
    locations = await asyncio.gather(
        *(deliverer.send(mail, mail_from=SENDER, recipients=[RECIPIENT]) for _ in range(30))
    )
    assert len(set(locations)) == 30
    assert all(Path(str(location)).read_bytes() == mail for location in locations)
    assert not [name for name in os.listdir(tmp_path) if not name.endswith(".eml")]


async def test_unwritable_outbox_is_a_transient_error(tmp_path: Path) -> None:
    """A directory that cannot be created is our problem, not the mail's: retry later."""
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    deliverer = deliverer_from_settings("", blocker / "outbox")
    with pytest.raises(DeliveryError) as caught:
        await deliverer.send(_mail(), mail_from=SENDER, recipients=[RECIPIENT])
    assert caught.value.permanent is False


def test_relay_url_parsing_decodes_credentials_and_hides_them() -> None:
    """User and password are URL-decoded; the repr shows neither."""
    relay = SmtpRelay.from_url("smtp://relay%20user:p%40ss%3Aw%2Frd@mail.example.jp:2587")
    assert (relay.host, relay.port, relay.implicit_tls) == ("mail.example.jp", 2587, False)
    assert (relay.username, relay.password) == ("relay user", "p@ss:w/rd")
    assert "p@ss" not in repr(relay)
    assert "relay user" not in repr(relay)
    assert SmtpRelay.from_url("smtps://u:p@mail.example.jp").port == 465
    assert SmtpRelay.from_url("smtps://u:p@mail.example.jp").implicit_tls
    assert SmtpRelay.from_url("smtp://mail.example.jp").port == 587
    assert SmtpRelay.from_url("smtp://127.0.0.1:25").is_loopback
    assert not SmtpRelay.from_url("smtp://mail.example.jp").is_loopback
    with pytest.raises(ValueError):
        SmtpRelay.from_url("http://mail.example.jp")


def test_settings_pick_smtp_for_a_relay_url() -> None:
    """A relay URL gives the SMTP deliverer."""
    deliverer = deliverer_from_settings("smtps://u:p@mail.example.jp:465", Path("unused"))
    assert isinstance(deliverer, SmtpDeliverer)
    assert deliverer.relay.implicit_tls


async def test_smtp_relay_receives_the_mail(relay: tuple[Controller, CollectingHandler]) -> None:
    """Through aiosmtpd on loopback: envelope and bytes arrive unchanged."""
    controller, handler = relay
    deliverer = deliverer_from_settings(f"smtp://127.0.0.1:{controller.port}", Path("unused"))
    mail = _mail()
    assert await deliverer.send(mail, mail_from=SENDER, recipients=[RECIPIENT]) is None
    [envelope] = handler.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [RECIPIENT]
    assert isinstance(envelope.content, bytes)
    parsed = email.message_from_bytes(envelope.content, policy=policy.default)
    assert parsed["Subject"] == "【総合ポータルサイト】メールアドレス登録確認メール"


async def test_envelope_uses_bare_addresses(relay: tuple[Controller, CollectingHandler]) -> None:
    """A From with a display name (REGBOT_MAIL_FROM) becomes a bare address in MAIL FROM."""
    controller, handler = relay
    deliverer = deliverer_from_settings(f"smtp://127.0.0.1:{controller.port}", Path("unused"))
    await deliverer.send(
        _mail(), mail_from=f"総合ポータル <{SENDER}>", recipients=[f"基金 太郎 <{RECIPIENT}>"]
    )
    [envelope] = handler.envelopes
    assert envelope.mail_from == SENDER
    assert envelope.rcpt_tos == [RECIPIENT]


async def test_smtp_relay_with_auth(relay: tuple[Controller, CollectingHandler]) -> None:
    """URL-encoded credentials log in; the mail is accepted."""
    controller, handler = relay
    url = f"smtp://relay%20user:p%40ss%3Aw%2Frd@127.0.0.1:{controller.port}"
    await deliverer_from_settings(url, Path("unused")).send(_mail(), mail_from=SENDER, recipients=[RECIPIENT])
    assert len(handler.envelopes) == 1


async def test_wrong_credentials_are_transient_and_not_logged(
    relay: tuple[Controller, CollectingHandler], caplog: pytest.LogCaptureFixture
) -> None:
    """535 is our configuration, not the mail: keep it for a retry; the password never reaches a log."""
    controller, handler = relay
    url = f"smtp://relay%20user:secret-wrong@127.0.0.1:{controller.port}"
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryError) as caught:
        await deliverer_from_settings(url, Path("unused")).send(
            _mail(), mail_from=SENDER, recipients=[RECIPIENT]
        )
    assert caught.value.permanent is False
    assert handler.envelopes == []
    assert "secret-wrong" not in _client_log(caplog)
    assert "secret-wrong" not in str(caught.value)


async def test_relay_down_is_transient(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listens on the relay port: DeliveryError(permanent=False)."""
    deliverer = deliverer_from_settings(f"smtp://127.0.0.1:{_free_port()}", Path("unused"))
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryError) as caught:
        await deliverer.send(_mail(), mail_from=SENDER, recipients=[RECIPIENT])
    assert caught.value.permanent is False
    assert RECIPIENT not in _client_log(caplog)


async def test_550_is_permanent_and_the_address_is_not_repeated(
    relay: tuple[Controller, CollectingHandler], caplog: pytest.LogCaptureFixture
) -> None:
    """A 5xx refusal is permanent; neither the error nor the log repeats the refused address."""
    controller, handler = relay
    deliverer = deliverer_from_settings(f"smtp://127.0.0.1:{controller.port}", Path("unused"))
    with caplog.at_level(logging.DEBUG), pytest.raises(DeliveryError) as caught:
        await deliverer.send(_mail(), mail_from=SENDER, recipients=["nobody@example.jp"])
    assert caught.value.permanent is True
    assert "550" in str(caught.value)
    assert "nobody@example.jp" not in str(caught.value)
    assert "nobody@example.jp" not in _client_log(caplog)
    assert caught.value.__suppress_context__
    assert handler.envelopes == []


async def test_4xx_is_transient(relay: tuple[Controller, CollectingHandler]) -> None:
    """A 4xx refusal (greylisting, mailbox busy) is retried later."""
    controller, handler = relay
    handler.refuse["busy@example.jp"] = "451 4.7.1 try again later"
    deliverer = deliverer_from_settings(f"smtp://127.0.0.1:{controller.port}", Path("unused"))
    with pytest.raises(DeliveryError) as caught:
        await deliverer.send(_mail(), mail_from=SENDER, recipients=["busy@example.jp"])
    assert caught.value.permanent is False


async def test_remote_relay_without_starttls_is_refused() -> None:
    """Off loopback, STARTTLS is required: a relay that does not offer it gets no mail (transient)."""
    handler = CollectingHandler()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        deliverer = SmtpDeliverer(_RemoteLookingRelay("127.0.0.1", controller.port, implicit_tls=False))
        with pytest.raises(DeliveryError) as caught:
            await deliverer.send(_mail(), mail_from=SENDER, recipients=[RECIPIENT])
        assert caught.value.permanent is False
        assert handler.envelopes == []
    finally:
        controller.stop()


class _RemoteLookingRelay(SmtpRelay):
    """A loopback relay that claims not to be loopback (to test the STARTTLS requirement)."""

    @property
    def is_loopback(self) -> bool:
        return False


class _MuteAtQuit:
    """A relay that accepts the mail (250 after DATA) and then never answers QUIT: what a crash right
    after the relay's acceptance looks like from the sending side, stretched out."""

    def __init__(self) -> None:
        self.accepted = 0
        self.quit_seen = asyncio.Event()
        self._released = asyncio.Event()
        self._server: asyncio.Server | None = None

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self._converse(reader, writer)
        finally:
            writer.close()

    async def _converse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 mute.example ESMTP\r\n")
        while line := await reader.readline():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb in (b"EHLO", b"HELO"):
                writer.write(b"250 mute.example\r\n")
            elif verb == b"DATA":
                writer.write(b"354 go ahead\r\n")
                await writer.drain()
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
                self.accepted += 1
                writer.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.quit_seen.set()
                await self._released.wait()  # never answered
                return
            else:
                writer.write(b"250 ok\r\n")
            await writer.drain()


async def test_send_returns_at_the_relays_acceptance_not_after_quit() -> None:
    """Regression (kill -9 soak: 23 mails sent twice): everything between the relay's 250 and the
    outbox settle widens the window in which a crash sends a mail again; QUIT is not in it."""
    relay = _MuteAtQuit()
    port = await relay.start()
    try:
        deliverer = SmtpDeliverer(SmtpRelay("127.0.0.1", port, implicit_tls=False, timeout=30.0))
        await asyncio.wait_for(deliverer.send(_mail(), mail_from=SENDER, recipients=[RECIPIENT]), timeout=5.0)
        assert relay.accepted == 1
        await asyncio.wait_for(relay.quit_seen.wait(), timeout=5.0)  # the session is still ended politely
    finally:
        await relay.stop()
