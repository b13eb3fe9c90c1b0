"""What staff read in the help-desk channel (SPEC §6), in Japanese.  Pure: no I/O, no Slack SDK.

`case_of` turns a conversation into a `Case` — everything staff need, with every personal value already
masked (bot.helpdesk_mask) — and the functions below lay it out as Slack ``mrkdwn``.  These sentences are
for staff only, so they live here rather than in the person-facing catalogues; the field labels, rules
and error texts come from those catalogues, so staff read what the person read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from bot.helpdesk_mask import PUBLIC_FIELDS, masked_values
from conversations.fields import asked_fields, field_by_id
from conversations.render import render_msg
from conversations.turn import awaited_field, display_value, is_filled
from conversations.types import Msg, State
from storage.helpdesk import LinkStatus

JST = timezone(timedelta(hours=9))
MAX_TEXT = 2900  # under Slack's 3000 characters per section

CHANNELS = {"slack": "Slack（DM）", "email": "メール", "console": "コンソール"}
PHASES = {
    "new": "開始前",
    "asking": "入力中",
    "summary": "入力内容確認中",
    "verifying": "確認メール送信済み（リンク未使用）",
    "completed": "登録完了",
    "cancelled": "中止",
    "redirected": "対象外のため案内終了",
    "expired": "放置により終了",
}
REASONS = {
    "asked": "利用者が「担当者」を希望しました。",
    "failures": "同じ項目の入力が3回続けてエラーになりました。",
    "idle": "入力が途中のまま止まっています（リマインド送信済み）。",
    "takeover": "担当者が引き継ぎました（利用者からの依頼なし）。",
}
LINK_STATES = {
    "none": "確認メールはまだ送っていません。",
    "valid": "有効（未使用）。有効期限：{expires}",
    "completed": "使用済み：登録は完了しています（手順書②：完了後にもう一度URLを押下すると「不正な操作」）。",
    "expired": "期限切れ（手順書③：送信から24時間経過）。`resend` で新しいリンクを送れます。",
    "superseded": (
        "無効：同じメールアドレスでより新しい確認メールが送られています（手順書④）。最新のメールを案内してください。"
    ),
    "cancelled": "取り消し済み（中止・修正・やり直しのため）。",
}
BOUNCED = (
    "確認メールの配送に失敗しました（宛先不明など）。メールアドレスの誤りが考えられます"
    "（手順書：メールアドレスの入力誤り）。"
)
FAQS = {
    "faq.invalid_operation": "利用者が「不正な操作が行われました」と表示されると問い合わせています。",
    "faq.mail_not_arriving": "利用者が「確認メールが届かない」と問い合わせています。",
}
STAFF_HINT = (
    "このスレッドへの返信は【ヘルプデスク】として利用者に届きます"
    "（`//` で始まる返信はメモ扱いで届きません）。"
    "スレッド内で `status` `takeover` `release` `resend` `cancel` も使えます。"
)


@dataclass(frozen=True)
class Case:
    """A conversation as staff see it: ids, where it stands, and masked values only."""

    conversation_id: str
    channel: str
    phase: str
    field_id: str | None
    field_label: str
    field_rule: str
    last_error: str
    failures: int
    done: int
    total: int
    started_at: datetime
    last_activity_at: datetime
    escalated: bool
    paused: bool
    lang: str
    filled: tuple[tuple[str, str], ...]  # (label, masked value)
    link: LinkStatus | None


def case_of(
    conversation_id: str,
    channel: str,
    state: State,
    *,
    started_at: datetime,
    last_activity_at: datetime,
    link: LinkStatus | None,
) -> Case:
    field_id = awaited_field(state)
    field = field_by_id(field_id or "", state.values)
    fields = asked_fields(state.values, state.channel)
    order = [f.id for f in fields if not f.secret]
    filled = [
        (label_text(fid), display_value(state, fid) if fid in PUBLIC_FIELDS else masked)
        for fid, masked in masked_values(state.values, order)
    ]
    if state.password_set:
        filled.append((label_text("password"), "設定済み（表示しません）"))
    return Case(
        conversation_id=conversation_id,
        channel=channel,
        phase=state.phase,
        field_id=field_id,
        field_label=label_text(field.id) if field else "",
        field_rule=rendered(Msg(field.help_key)) if field else "",
        last_error=rendered(Msg(state.last_error)) if state.last_error else "",
        failures=state.failures.get(field_id or "", 0),
        done=sum(1 for f in fields if is_filled(state, f)),
        total=len(fields),
        started_at=started_at,
        last_activity_at=last_activity_at,
        escalated=state.escalated,
        paused=state.paused,
        lang=state.lang,
        filled=tuple(filled),
        link=link,
    )


def label_text(field_id: str) -> str:
    if field_id == "confirm":
        return "入力内容確認"
    return rendered(Msg(f"field.{field_id}.label"))


def rendered(msg: Msg) -> str:
    """A catalogue text in Japanese; parameters the help desk does not get (they may be personal) → …"""
    return re.sub(r"\{[A-Za-z_]+\}", "…", render_msg(msg, "ja"))


def escape(text: str) -> str:
    """Slack mrkdwn: nothing typed by anyone can become a mention, a link or markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def waited(since: datetime, now: datetime) -> str:
    minutes = max(0, int((now - since).total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}日{hours}時間"
    if hours:
        return f"{hours}時間{minutes}分"
    return f"{minutes}分"


def jst(moment: datetime) -> str:
    return moment.astimezone(JST).strftime("%Y-%m-%d %H:%M")


def link_text(link: LinkStatus | None) -> str:
    if link is None:
        return ""
    text = LINK_STATES.get(link.state, link.state).format(
        expires=jst(link.expires_at) if link.expires_at else "—"
    )
    if link.links_sent > 1:
        text += f"（送信した確認メール：{link.links_sent}通）"
    if link.bounced:
        text = BOUNCED + " " + text
    if link.account_exists and link.state != "completed":
        text += " このメールアドレスのアカウントはすでに作成済みです。"
    return text


def _details(case: Case, now: datetime) -> list[str]:
    lines = [
        f"*会話ID*：`{case.conversation_id}`",
        f"*チャネル*：{CHANNELS.get(case.channel, case.channel)}"
        + ("（英語で対応中）" if case.lang == "en" else ""),
        f"*状態*：{PHASES.get(case.phase, case.phase)}"
        + ("　*担当者が引き継ぎ中（ボットは停止中）*" if case.paused else ""),
    ]
    if case.phase in ("asking", "summary") and case.field_label:
        lines.append(f"*現在の項目*：{escape(case.field_label)}")
        if case.field_rule:
            lines.append(f"*ルール*：{escape(case.field_rule)}")
    if case.last_error:
        failures = f"（この項目で{case.failures}回）" if case.failures else ""
        lines.append(f"*直前のエラー*：{escape(case.last_error)}{failures}")
    lines.append(f"*進み具合*：{case.done}/{case.total} 項目入力済み")
    started, idle = waited(case.started_at, now), waited(case.last_activity_at, now)
    lines.append(f"*待ち時間*：開始から{started}、最後の操作から{idle}")
    if case.link is not None and (case.link.state != "none" or case.phase == "verifying"):
        lines.append(f"*確認リンク*：{escape(link_text(case.link))}")
    if case.filled:
        lines.append("*入力済み（マスク済み）*：" + escape(" / ".join(f"{k} {v}" for k, v in case.filled)))
    return lines


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


@dataclass(frozen=True)
class Post:
    """One message for the help-desk channel: fallback text and Block Kit."""

    text: str
    blocks: tuple[dict[str, Any], ...]

    def arguments(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": list(self.blocks)}

    def marked(self, block_id: str) -> Post:
        """The same post with ``block_id`` on its first block (how a retry finds it again)."""
        first, *rest = self.blocks
        return Post(self.text, ({**first, "block_id": block_id}, *rest))


def _post(body: str, *, block_id: str | None = None, footer: str | None = None) -> Post:
    section: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": _clip(body), "verbatim": True},
    }
    if block_id:
        section["block_id"] = block_id
    blocks: list[dict[str, Any]] = [section]
    if footer:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return Post(text=_clip(body), blocks=tuple(blocks))


def opening_post(case: Case, reason: str, now: datetime, *, marker: str) -> Post:
    """The thread's first message: why, where the person is, what they see, masked values."""
    title = f":sos: *登録サポートの依頼* — {REASONS.get(reason, reason)}"
    return _post("\n".join([title, *_details(case, now)]), block_id=marker, footer=STAFF_HINT)


def escalation_post(case: Case, reason: str, now: datetime) -> Post:
    """A later escalation of the same conversation, in its thread."""
    title = f":sos: *再度の依頼* — {REASONS.get(reason, reason)}"
    return _post("\n".join([title, *_details(case, now)]))


def status_post(case: Case, now: datetime, *, staff_actions: int = 0) -> Post:
    escalation = "依頼あり" if case.escalated else "依頼なし"
    lines = [
        ":mag: *状況*",
        *_details(case, now),
        f"*ヘルプデスク*：{escalation}（スタッフ操作 {staff_actions} 件）",
    ]
    return _post("\n".join(lines))


def relay_text(masked: str, *, outcome: str) -> str:
    """A person's message as it appears in the thread (already masked by the caller)."""
    body = f":speech_balloon: *利用者*：{escape(masked) if masked else '（空のメッセージ）'}"
    return body + (f"\n_{escape(outcome)}_" if outcome else "")


def faq_text(faq_key: str, link: LinkStatus | None) -> str:
    lines = [f":warning: {FAQS.get(faq_key, faq_key)}"]
    if link is not None:
        lines.append(f"*確認リンクの状態*：{escape(link_text(link))}")
    return "\n".join(lines)


def text_post(text: str) -> Post:
    return _post(text)
