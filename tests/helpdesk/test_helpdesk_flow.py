"""The help desk end to end (SPEC §6, issue 7): escalation threads, relay both ways, staff commands, the
link reasons, and masking of everything the help-desk channel ever receives."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.helpdesk_mask import PASSWORD_WITHHELD
from bot.helpdesk_text import waited
from bot.jobs import Housekeeping
from storage import conversations, helpdesk
from storage.tables import audit, outbox
from tests.conftest import FakeClock
from tests.helpdesk.conftest import (
    HELP,
    OTHER,
    PASSWORD,
    PERSON_DM,
    PERSONAL_VALUES,
    SATO,
    STAFF,
    YAMADA,
    Desk,
    conversation_id_in,
)


async def conversation_of(desk: Desk, channel: str, address: str) -> conversations.Conversation:
    async with desk.service.db.read() as conn:
        found = await conversations.find(conn, channel, address)
    assert found is not None
    return found


async def staff_audit(desk: Desk) -> list[tuple[str, str | None]]:
    async with desk.service.db.read() as conn:
        rows = await conn.execute(
            select(audit.c.event, audit.c.actor).where(audit.c.event.like("staff.%")).order_by(audit.c.id)
        )
        return [(str(row.event), row.actor) for row in rows]


def assert_nothing_personal(desk: Desk) -> None:
    """Every call about the help-desk channel: no registration value in full, no password, no token."""
    sent = desk.helpdesk_calls_text()
    assert sent, "nothing reached the help-desk channel"
    for value in PERSONAL_VALUES:
        assert value not in sent, value
    assert "/verify/" not in sent


async def test_escalation_opens_one_thread_per_conversation(desk: Desk) -> None:
    """担当者 twice and three failures: one thread, later escalations inside it; the person is told."""
    dm = await desk.slack_person(upto="institution_type")
    turn = await desk.says("slack", dm, "担当者")
    assert turn.replies[0].lines[0].key == "human.done"
    [opening] = desk.openings()
    text = opening["text"]
    assert "担当者" in text and "Slack" in text and "所属機関" in text
    assert "2/" in text  # progress: family and given name
    conversation_id = conversation_id_in(text)
    assert conversation_id == (await conversation_of(desk, "slack", dm)).id

    turn = await desk.says("slack", dm, "担当者")
    assert turn.replies[0].lines[0].key == "human.already"
    for _ in range(3):
        turn = await desk.says("slack", dm, "9")
    assert any(line.key == "error.third" for line in turn.replies[0].lines)

    assert len(desk.openings()) == 1
    thread = desk.thread(desk.opening_ts())
    assert any("再度の依頼" in post and "3回" in post for post in thread)
    assert any("所属機関を次から選んでください" in post for post in thread)  # the last error, rendered
    async with desk.service.db.read() as conn:
        stored = await helpdesk.thread_of(conn, conversation_id)
    assert stored is not None and stored.thread_ts == desk.opening_ts() and stored.escalations == 2
    assert_nothing_personal(desk)


async def test_staff_reply_reaches_a_slack_person_signed(desk: Desk) -> None:
    dm = await desk.slack_person(upto="phone")
    await desk.says("slack", dm, "担当者")
    before = len(desk.dm_texts())
    await desk.staff_replies(
        desk.opening_ts(), "市外局番から入力してください。<https://example.jp/faq|よくある質問>"
    )
    [relayed] = desk.dm_texts()[before:]
    assert relayed.startswith("【ヘルプデスク】")
    assert "市外局番から入力してください。よくある質問 (https://example.jp/faq)" in relayed
    assert [c.body["name"] for c in desk.mock.of("reactions.add")] == ["white_check_mark"]
    assert await staff_audit(desk) == [("staff.message", STAFF)]


async def test_staff_reply_reaches_an_email_person_in_the_mail_thread(desk: Desk) -> None:
    key = await desk.email_person(SATO)
    await desk.says("email", key, SATO["family_name"])
    await desk.says("email", key, "担当者")
    desk.new_mails()
    await desk.staff_replies(desk.opening_ts(), "お名前の次は「名」をご入力ください。")
    [mail] = desk.new_mails()
    assert mail["To"] == SATO["email"]
    assert mail["In-Reply-To"]  # threaded under the conversation's mails
    body = mail.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert "【ヘルプデスク】" in content and "お名前の次は「名」をご入力ください。" in content
    assert "メール" in desk.openings()[0]["text"]
    assert_nothing_personal(desk)


async def test_person_messages_come_back_to_the_thread_masked(desk: Desk) -> None:
    dm = await desk.slack_person(upto="phone")
    await desk.says("slack", dm, "担当者")
    await desk.says("slack", dm, "電話は 03-9876-5432 で、メールは yamada.hanako@example.jp です")
    await desk.says("slack", dm, YAMADA["phone"])  # the awaited field is personal: all of it masked
    await desk.says("slack", dm, PASSWORD)
    thread = desk.thread(desk.opening_ts())
    relayed = [post for post in thread if "利用者" in post]
    assert len(relayed) == 3
    assert "y＊＊＊@example.jp" in relayed[0] and "03-＊＊＊＊-＊＊32" in relayed[0]
    assert "03＊＊＊＊＊432" in relayed[1] and "「電話番号」を登録しました" in relayed[1]
    assert PASSWORD_WITHHELD in relayed[2]
    assert_nothing_personal(desk)


@pytest.mark.parametrize(
    ("kind", "page"), [("helpdesk_relay", 200), ("helpdesk", 200), ("helpdesk_relay", 2)]
)
async def test_a_thread_post_retried_after_a_crash_is_not_posted_twice(
    desk: Desk, kind: str, page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Crash after Slack took a post in the thread, before its row was settled: the next attempt finds
    the row's marker in the thread and does not post it again (a relayed message, an escalation; a
    thread longer than one page of Slack's answer)."""
    monkeypatch.setattr("bot.helpdesk._THREAD_PAGE", page)
    dm = await desk.slack_person(upto="phone")
    await desk.says("slack", dm, "担当者")
    await desk.says("slack", dm, "電話番号の形式が分かりません")
    for _ in range(3):  # three failures: an escalation inside the open thread
        await desk.says("slack", dm, "9")
    await desk.settled()
    before = desk.thread(desk.opening_ts())
    async with desk.service.db.transaction() as conn:
        newest = select(outbox.c.id).where(outbox.c.kind == kind).order_by(outbox.c.id.desc()).limit(1)
        row_id = (await conn.execute(newest)).scalar_one()
        await conn.execute(  # as if the process had died between the post and the settle
            update(outbox)
            .where(outbox.c.id == row_id)
            .values(status="queued", delivered_at=None, next_attempt_at=desk.clock() - timedelta(seconds=1))
        )
    await desk.settled()
    assert desk.thread(desk.opening_ts()) == before
    async with desk.service.db.read() as conn:
        status, attempts = (
            await conn.execute(select(outbox.c.status, outbox.c.attempts).where(outbox.c.id == row_id))
        ).one()
    assert (status, attempts) == ("delivered", 2)


async def test_non_staff_commands_are_refused_and_change_nothing(desk: Desk) -> None:
    dm = await desk.slack_person(upto="phone")
    await desk.says("slack", dm, "担当者")
    conversation = await conversation_of(desk, "slack", dm)
    for text in (
        f"takeover {conversation.id}",
        f"cancel {conversation.id}",
        f"status {YAMADA['email']}",
        "stats",
    ):
        answer = await desk.command(text, user=OTHER)
        assert answer == "このコマンドはヘルプデスク担当者のみ使えます。"
    posts_before = len(desk.dm_texts())
    await desk.staff_replies(desk.opening_ts(), "私が代わりに答えます", user=OTHER)
    [ephemeral] = desk.mock.of("chat.postEphemeral")
    assert ephemeral.body["user"] == OTHER
    after = await conversation_of(desk, "slack", dm)
    assert after.version == conversation.version and after.state == conversation.state
    assert len(desk.dm_texts()) == posts_before
    assert await staff_audit(desk) == []


async def test_takeover_silences_the_bot_and_release_resumes_the_field(desk: Desk) -> None:
    dm = await desk.slack_person(upto="phone")
    conversation = await conversation_of(desk, "slack", dm)
    answer = await desk.command(f"takeover {conversation.id}")
    assert "引き継ぎました" in answer
    assert "担当者がご案内します" in desk.dm_texts()[-1]
    quiet = len(desk.dm_texts())
    turn = await desk.says("slack", dm, "よくわかりません")
    assert turn.replies == () and len(desk.dm_texts()) == quiet  # the bot stays silent
    [opening] = desk.openings()  # taken over without an escalation: the thread opens now
    assert "引き継ぎました" in opening["text"]
    thread = desk.thread(desk.opening_ts())
    assert any("よくわかりません" in post and "応答していません" in post for post in thread)

    answer = await desk.command(f"release {conversation.id}")
    assert "ボットに戻しました" in answer
    resumed = desk.mock.posts(dm)[-1]
    assert "担当者の対応が終わりました" in resumed["text"]
    assert resumed["metadata"]["event_payload"]["awaiting"] == "phone"
    turn = await desk.says("slack", dm, YAMADA["phone"])
    assert turn.replies[-1].awaiting == "email"
    assert [event for event, _ in await staff_audit(desk)] == ["staff.takeover", "staff.release"]


async def test_status_by_email_is_masked_and_audited(desk: Desk) -> None:
    await desk.registered_up_to_the_link()
    answer = await desk.command(f"status {YAMADA['email']}")
    assert "確認メール送信済み" in answer and "有効（未使用）" in answer
    assert "y＊＊＊@example.jp" in answer and "山＊" in answer
    for value in PERSONAL_VALUES:
        assert value not in answer
    assert await staff_audit(desk) == [("staff.status", STAFF)]
    assert "見つかりませんでした" in await desk.command("status nobody@example.jp")


async def test_resend_gives_a_new_link_and_kills_the_old_one_even_when_taken_over(desk: Desk) -> None:
    await desk.registered_up_to_the_link()
    conversation = await conversation_of(desk, "slack", PERSON_DM)
    await desk.command(f"takeover {conversation.id}")
    answer = await desk.command(f"resend {conversation.id[:10]}")
    assert "新しい確認メールを送りました" in answer
    async with desk.service.db.read() as conn:
        link = await helpdesk.link_status(conn, conversation.id, desk.clock())
    assert link.state == "valid" and link.links_sent == 2
    assert "再送しました" in desk.dm_texts()[-1]
    assert [event for event, _ in await staff_audit(desk)] == ["staff.takeover", "staff.resend"]


async def test_cancel_ends_the_conversation(desk: Desk) -> None:
    dm = await desk.slack_person(upto="phone")
    conversation = await conversation_of(desk, "slack", dm)
    assert "中止しました" in await desk.command(f"cancel {conversation.id}")
    assert (await conversation_of(desk, "slack", dm)).phase == "cancelled"
    assert "すでに終了しています" in await desk.command(f"cancel {conversation.id}")


async def test_thread_words_act_on_the_thread_conversation(desk: Desk) -> None:
    dm = await desk.slack_person(upto="phone")
    await desk.says("slack", dm, "担当者")
    ts = desk.opening_ts()
    await desk.staff_replies(ts, "takeover")
    assert (await conversation_of(desk, "slack", dm)).state["paused"] is True
    await desk.staff_replies(ts, "status")
    await desk.staff_replies(ts, "// メモ：折り返し電話予定")
    await desk.staff_replies(ts, "release")
    thread = desk.thread(ts)
    assert any("`takeover`" in post for post in thread) and any("`status`" in post for post in thread)
    assert not any("折り返し" in text for text in desk.dm_texts())
    assert (await conversation_of(desk, "slack", dm)).state["paused"] is False


async def test_expired_link_reason_shown_when_the_person_reports_invalid_operation(desk: Desk) -> None:
    await desk.registered_up_to_the_link()
    await desk.says("slack", PERSON_DM, "担当者")
    desk.clock.advance(hours=25)
    await desk.says("slack", PERSON_DM, "リンクを押したら不正な操作が行われましたと出ました")
    thread = desk.thread(desk.opening_ts())
    assert any("不正な操作" in post and "期限切れ" in post for post in thread)
    assert_nothing_personal(desk)


async def test_bounced_mail_reason_shown_when_the_mail_does_not_arrive(desk: Desk) -> None:
    await desk.registered_up_to_the_link()
    async with desk.service.db.transaction() as conn:
        await conn.execute(update(outbox).where(outbox.c.kind == "verification_mail").values(status="failed"))
    await desk.says("slack", PERSON_DM, "担当者")
    await desk.says("slack", PERSON_DM, "メールが届きません")
    opening = desk.openings()[0]["text"]
    assert "配送に失敗しました" in opening
    assert any("届かない" in post and "配送に失敗" in post for post in desk.thread(desk.opening_ts()))


async def test_idle_past_the_reminder_opens_a_thread(desk: Desk) -> None:
    await desk.slack_person(upto="phone")
    desk.clock.advance(hours=25)
    report = await Housekeeping(desk.service).run_once()
    assert report.reminded == 1
    await desk.settled()
    [opening] = desk.openings()
    assert "止まっています" in opening["text"] and "最後の操作から1日1時間" in opening["text"]
    assert "都道府県 13：東京都" in opening["text"]
    assert "電話番号" in opening["text"]
    assert_nothing_personal(desk)


async def test_no_helpdesk_channel_logs_and_settles(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    """Without REGBOT_HELPDESK_CHANNEL the row is settled after one log line with ids only."""
    desk.helpdesk.channel_id = ""
    dm = await desk.slack_person(upto="institution_type")
    with caplog.at_level(logging.INFO, logger="bot.helpdesk"):
        await desk.says("slack", dm, "担当者")
    conversation = await conversation_of(desk, "slack", dm)
    [line] = [r.getMessage() for r in caplog.records if "not posted" in r.getMessage()]
    assert conversation.id in line and "山田" not in line
    assert desk.openings() == []
    async with desk.service.db.read() as conn:
        statuses = (await conn.execute(select(outbox.c.status).where(outbox.c.kind == "helpdesk"))).scalars()
        assert list(statuses) == ["delivered"]
    assert HELP not in desk.helpdesk_calls_text()


def test_waiting_times_read_naturally() -> None:
    """Waiting times are shown in days and hours once long."""
    now = FakeClock()()
    assert waited(now - timedelta(minutes=5), now) == "5分"
    assert waited(now - timedelta(hours=2, minutes=5), now) == "2時間5分"
    assert waited(now - timedelta(days=1, hours=3), now) == "1日3時間"


async def test_the_thread_hears_when_the_registration_completes(desk: Desk) -> None:
    await desk.registered_up_to_the_link()
    await desk.says("slack", PERSON_DM, "担当者")
    [mail] = [m for m in desk.new_mails() if "登録確認" in str(m["Subject"])]
    body = mail.get_body(("plain",))
    assert body is not None
    token = re.search(r"/verify/([A-Za-z0-9_-]+)", body.get_content().replace("\n", ""))
    assert token is not None
    result = await desk.service.verification.complete(token.group(1), None, None)
    assert result.completed
    await desk.settled()
    assert any("登録完了" in post for post in desk.thread(desk.opening_ts()))
    assert_nothing_personal(desk)


async def test_a_slow_staff_command_is_acked_at_once_and_answered_by_dm(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.slack.STAFF_ANSWER_SECONDS", 0.0)
    dm = await desk.slack_person(upto="phone")
    conversation = await conversation_of(desk, "slack", dm)
    answer = await desk.command(f"status {conversation.id}")
    assert "DM" in answer
    await desk.mock.wait_posts(1, channel="D0STAFF")
    [later] = desk.mock.posts("D0STAFF")
    assert "状況" in later["text"] and conversation.id in later["text"]
