"""The verification link's lifecycle (SPEC §4, 手順書 7 and its four 不正な操作 reasons), on both
databases: GET never consumes, POST consumes once, expiry by the injected clock, newest link only."""

from __future__ import annotations

import asyncio

from bot.passwords import is_argon2id
from bot.service import Service
from bot.verification import LinkState
from conversations.types import Text
from storage import registrations
from tests.conftest import EMAIL, PASSWORD, FakeClock, database_text, fill_in, token_in


async def _link(service: Service, channel: str = "console", address: str = "s1") -> str:
    await fill_in(service, channel, address)
    deliveries = [d for d in await service.deliver_outbox() if d.kind == "verification_mail"]
    return token_in(deliveries[-1].location)


async def _account_hash(service: Service) -> str | None:
    async with service.db.read() as conn:
        row = (await conn.exec_driver_sql("SELECT password_hash FROM accounts")).first()
    return None if row is None else str(row[0])


async def test_get_twice_then_post_completes(service: Service) -> None:
    """Link scanners may fetch the page any number of times; the POST still completes."""
    token = await _link(service)
    for _ in range(2):
        view = await service.verification.inspect(token)
        assert (view.state, view.needs_password, view.display_name) == (LinkState.VALID, False, "基金 太郎")
    result = await service.verification.complete(token, None, None)
    assert (result.state, result.completed, result.username, result.error) == (
        LinkState.VALID,
        True,
        EMAIL,
        None,
    )
    account_hash = await _account_hash(service)
    assert account_hash is not None and is_argon2id(account_hash)
    assert service.passwords.verify(account_hash, PASSWORD)


async def test_post_twice_says_completed(service: Service) -> None:
    """手順書 ②: the second use of a link says the registration is already complete."""
    token = await _link(service)
    assert (await service.verification.complete(token, None, None)).completed
    again = await service.verification.complete(token, None, None)
    assert (again.state, again.completed) == (LinkState.COMPLETED, False)
    assert (await service.verification.inspect(token)).state is LinkState.COMPLETED


async def test_two_simultaneous_posts_complete_once(service: Service) -> None:
    """Two POSTs of one link at the same moment: exactly one creates the account."""
    token = await _link(service)
    results = await asyncio.gather(*(service.verification.complete(token, None, None) for _ in range(3)))
    assert sorted(r.completed for r in results) == [False, False, True]
    async with service.db.read() as conn:
        assert (await conn.exec_driver_sql("SELECT count(*) FROM accounts")).scalar() == 1


async def test_expired_link(service: Service, clock: FakeClock) -> None:
    """手順書 ③: after REGBOT_TOKEN_TTL_HOURS the link is dead and cannot be consumed."""
    token = await _link(service)
    clock.advance(hours=23, minutes=59)
    assert (await service.verification.inspect(token)).state is LinkState.VALID
    clock.advance(minutes=1)
    assert (await service.verification.inspect(token)).state is LinkState.EXPIRED
    result = await service.verification.complete(token, None, None)
    assert (result.state, result.completed) == (LinkState.EXPIRED, False)
    assert await _account_hash(service) is None


async def test_resend_supersedes_the_older_link(service: Service) -> None:
    """手順書 ④ and 再送: only the newest link works; the old one says a newer mail exists."""
    old = await _link(service)
    await service.handle("console", "s1", Text("再送"))
    (mail,) = await service.deliver_outbox()
    new = token_in(mail.location)
    assert (await service.verification.inspect(old)).state is LinkState.SUPERSEDED
    assert (await service.verification.complete(old, None, None)).state is LinkState.SUPERSEDED
    assert (await service.verification.complete(new, None, None)).completed


async def test_a_new_registration_of_the_same_address_supersedes(service: Service) -> None:
    """A second conversation registering the same address kills the first conversation's link."""
    first = await _link(service, address="s1")
    second = await _link(service, address="s2")
    assert (await service.verification.inspect(first)).state is LinkState.SUPERSEDED
    assert (await service.verification.inspect(second)).state is LinkState.VALID


async def test_cancel_kills_the_link(service: Service) -> None:
    """キャンセル after the mail was sent: the link is dead (cancelled)."""
    token = await _link(service)
    await service.handle("console", "s1", Text("キャンセル"))
    assert (await service.verification.inspect(token)).state is LinkState.CANCELLED
    assert not (await service.verification.complete(token, None, None)).completed


async def test_tampered_or_cut_links_are_malformed(service: Service) -> None:
    """手順書 ①: a changed character, a cut link or garbage is MALFORMED, never an error."""
    token = await _link(service)
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (flipped, token[:20], "", "../../etc/passwd", token + "%0A", "x" * 500):
        assert (await service.verification.inspect(bad)).state is LinkState.MALFORMED
        result = await service.verification.complete(bad, None, None)
        assert (result.state, result.completed) == (LinkState.MALFORMED, False)
    assert (await service.verification.inspect(token)).state is LinkState.VALID


async def test_email_conversation_sets_the_password_on_the_page(service: Service) -> None:
    """SPEC §3.3: by email the page asks for the password; a broken rule leaves the link usable."""
    token = await _link(service, channel="email", address="key1")
    view = await service.verification.inspect(token)
    assert (view.state, view.needs_password) == (LinkState.VALID, True)
    weak = await service.verification.complete(token, "password", "password")
    assert (weak.state, weak.completed) == (LinkState.VALID, False)
    assert weak.error is not None and weak.error.key == "password.classes"
    mismatch = await service.verification.complete(token, "Kikin2024pass", "Kikin2024pasz")
    assert mismatch.error is not None and mismatch.error.key == "password.mismatch"
    missing = await service.verification.complete(token, None, None)
    assert missing.error is not None and not missing.completed
    assert (await service.verification.inspect(token)).state is LinkState.VALID
    done = await service.verification.complete(token, "Kikin2024pass", "Kikin2024pass")
    assert done.completed and done.username == EMAIL
    account_hash = await _account_hash(service)
    assert account_hash is not None and service.passwords.verify(account_hash, "Kikin2024pass")
    assert "Kikin2024pass" not in await database_text(service.db)


async def test_an_address_registered_meanwhile_is_refused(service: Service, clock: FakeClock) -> None:
    """Two conversations got links for one address (the older superseded, then re-issued): once an
    account exists, any other link for it answers COMPLETED and creates nothing."""
    token = await _link(service)
    async with service.db.transaction() as conn:
        await registrations.create_account(conn, EMAIL, "$argon2id$other", {}, None, clock())
    assert (await service.verification.inspect(token)).state is LinkState.COMPLETED
    result = await service.verification.complete(token, None, None)
    assert (result.state, result.completed) == (LinkState.COMPLETED, False)
    assert await _account_hash(service) == "$argon2id$other"


async def test_only_the_digest_of_any_token_is_at_rest(service: Service) -> None:
    """After delivery, neither the link's token nor the password is anywhere in the database."""
    token = await _link(service)
    assert token not in await database_text(service.db)
    assert registrations.token_digest(token) in await database_text(service.db)
    await service.verification.complete(token, None, None)
    await service.deliver_outbox()
    text = await database_text(service.db)
    assert token not in text and PASSWORD not in text
