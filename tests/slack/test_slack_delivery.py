"""The Slack reply deliverer: posts an outbox row once (even when the row is retried after a crash),
tells permanent from passing failures, and paces each channel."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.keyed_locks import KeyedLocks
from bot.outbox import encode_reply
from bot.slack_delivery import ChannelPacer, SlackReplies, add_retry_handlers
from conversations.types import Msg, Reply
from mail.deliver import DeliveryError
from storage.outbox import OutboxItem
from tests.slack.mock_web_api import MockSlack


@pytest.fixture
async def client(mock_slack: MockSlack) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        web_client = AsyncWebClient(token="xoxb-test", base_url=mock_slack.url, session=session)
        add_retry_handlers(web_client)
        yield web_client


def row(
    outbox_id: int, *, attempts: int = 1, awaiting: str | None = "family_name", **payload: Any
) -> OutboxItem:
    reply = Reply((Msg("field.family_name.prompt"),), awaiting=awaiting)
    return OutboxItem(
        id=outbox_id,
        conversation_id="c1",
        kind="reply",
        channel="slack",
        recipient="D0PERSON",
        payload={
            "channel": "slack",
            "address": "D0PERSON",
            "lang": "ja",
            "reply": encode_reply(reply),
            **payload,
        },
        body=None,
        attempts=attempts,
    )


async def test_posts_the_reply_with_blocks_metadata_and_marker(
    mock_slack: MockSlack, client: AsyncWebClient
) -> None:
    await SlackReplies(client, pacer=ChannelPacer(0)).deliver(row(7))
    (post,) = mock_slack.posts("D0PERSON")
    assert post["metadata"]["event_payload"] == {"awaiting": "family_name"}
    assert post["blocks"][0]["block_id"] == "regbot-7"
    assert "姓" in post["text"]
    assert mock_slack.of("chat.postMessage")[0].headers["Authorization"] == "Bearer xoxb-test"


async def test_a_retried_row_already_in_the_dm_is_not_posted_again(
    mock_slack: MockSlack, client: AsyncWebClient
) -> None:
    """Crash after the post, before the row was settled: the next attempt finds the marker and stops."""
    replies = SlackReplies(client, pacer=ChannelPacer(0))
    await replies.deliver(row(7))
    await replies.deliver(row(8))
    await replies.deliver(row(7, attempts=2))
    assert [p["blocks"][0]["block_id"] for p in mock_slack.posts("D0PERSON")] == ["regbot-7", "regbot-8"]
    await replies.deliver(row(9, attempts=2))  # not there yet: posted
    assert len(mock_slack.posts("D0PERSON")) == 3


@pytest.mark.parametrize(("error", "permanent"), [("channel_not_found", True), ("internal_error", False)])
async def test_failures_are_delivery_errors(
    mock_slack: MockSlack, client: AsyncWebClient, error: str, permanent: bool
) -> None:
    mock_slack.fail("chat.postMessage", error)
    with pytest.raises(DeliveryError) as raised:
        await SlackReplies(client, pacer=ChannelPacer(0)).deliver(row(1))
    assert raised.value.permanent is permanent
    assert error in str(raised.value)


async def test_a_row_without_a_reply_is_given_up(client: AsyncWebClient) -> None:
    item = OutboxItem(1, "c1", "reply", "slack", "D0PERSON", {"lang": "ja"}, None, 1)
    with pytest.raises(DeliveryError) as raised:
        await SlackReplies(client).deliver(item)
    assert raised.value.permanent


async def test_unreachable_slack_is_retried_later() -> None:
    async with aiohttp.ClientSession() as session:
        client = AsyncWebClient(token="x", base_url="http://127.0.0.1:9/api/", session=session)
        client.retry_handlers = []  # the SDK's own reconnect back-off is not what is tested here
        with pytest.raises(DeliveryError) as raised:
            await SlackReplies(client, pacer=ChannelPacer(0)).deliver(row(1))
    assert not raised.value.permanent


async def test_pacer_allows_a_burst_then_one_a_second_per_channel() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    pacer = ChannelPacer(1.0, burst=3, clock=lambda: now[0], sleep=sleep)
    waits = [await pacer.wait("D1") for _ in range(5)]
    assert waits == [0.0, 0.0, 0.0, 1.0, 1.0]
    assert await pacer.wait("D2") == 0.0  # another channel has its own budget
    now[0] += 10
    assert [await pacer.wait("D1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert await ChannelPacer(0).wait("D1") == 0.0


async def test_keyed_locks_are_forgotten_when_free() -> None:
    locks = KeyedLocks()
    async with locks.hold("D1"):
        assert len(locks) == 1
    assert len(locks) == 0
