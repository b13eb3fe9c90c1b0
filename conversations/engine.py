"""The conversation engine: ``step(state, inbound, now) -> Step``.  Pure: no I/O, no clock, no randomness.

One inbound message gives one reply (or none), whose last lines ask the awaited question.  The state
moves through the phases documented on `State`; an answer that breaks a rule leaves the value unset,
says why and what the rule is, and asks the same question again.  This module dispatches the inbound
message and runs the commands; answers.py takes answers, replies.py builds what is shown.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime

from conversations import commands
from conversations.answers import (
    advance,
    answer,
    answer_many,
    answer_warning,
    choose_town,
    fail,
    issue_verification,
    redirect_if_elsewhere,
)
from conversations.fields import (
    COMMON,
    Field,
    asked_fields,
    branch_for,
    field_by_id,
)
from conversations.replies import fill_in_template, finish, label_text_ja
from conversations.rules import email as email_rule
from conversations.rules import password
from conversations.rules.errors import RuleError
from conversations.rules.text import clean
from conversations.turn import (
    CONFIRM,
    ENDED,
    POSTAL_TOWN,
    Turn,
    awaited_field,
    display_value,
    is_filled,
    label_of,
)
from conversations.types import (
    CancelVerification,
    Choice,
    Context,
    Expire,
    Inbound,
    Msg,
    NotifyHelpdesk,
    Release,
    Remind,
    ResendVerification,
    Secret,
    SetPassword,
    StaffMessage,
    Start,
    State,
    Step,
    Takeover,
    Text,
    VerificationCompleted,
)

# Bounded on both sides of the @ (a local part has at most 64 characters): unbounded, findall backtracked
# over every start of a long run without an @ — a 40 000-character Slack message took 15 s.
_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\"'「」、，,:：;@＠]{1,64}[@＠][^\s<>()\"'「」、，,:：;]{1,255}")


def new_state(channel: str, lang: str = "ja") -> State:
    return State(channel=channel, lang=lang if lang in ("ja", "en") else "ja")


def mentioned_emails(text: str) -> frozenset[str]:
    """The normalised addresses a message mentions, for the service's registered-address look-up."""
    found: set[str] = set()
    if not text or ("@" not in text and "＠" not in text):
        return frozenset()
    for candidate in _EMAIL_CANDIDATE.findall(text):
        try:
            found.add(email_rule.normalise_email(candidate).value)
        except RuleError:
            continue
    return frozenset(found)


def step(state: State, inbound: Inbound, now: datetime, context: Context | None = None) -> Step:
    turn = Turn(state, now, context or Context())
    if state.paused and isinstance(inbound, Text | Choice) and not _leaving(inbound):
        return Step(state)  # a staff member is talking with the person: the service relays it
    match inbound:
        case StaffMessage():
            turn.update(escalated=True)
            turn.say("helpdesk.staff_message", text=inbound.text)
            turn.prompt = False
        case Takeover():
            turn.update(paused=True, escalated=True)
            turn.say("helpdesk.takeover")
            turn.prompt = False
        case Release():
            if not state.paused:
                return Step(state)
            turn.update(paused=False)
            turn.say("helpdesk.released")
            _reprompt_or_end(turn)
        case Start():
            _start(turn, inbound)
        case Text():
            _text(turn, inbound.text)
        case Choice():
            _choice(turn, inbound)
        case Secret():
            _secret(turn, inbound)
        case VerificationCompleted():
            turn.update(phase="completed", awaiting=None, warning=None)
            turn.say("completed", username=turn.state.values.get("email", ""))
        case Remind():
            if turn.state.phase in ("asking", "summary") and not turn.state.reminded:
                turn.update(reminded=True)
                turn.say("reminder")
            else:
                return Step(state)
        case Expire():
            if turn.state.phase in ("new", "asking", "summary"):
                turn.update(phase="expired", awaiting=None, warning=None)
                turn.say("expired")
            else:
                return Step(state)
    return finish(turn)


def _leaving(inbound: Text | Choice) -> bool:
    """While a staff member has taken over, the person can still cancel or start again."""
    if not isinstance(inbound, Text):
        return False
    command = commands.parse_command(inbound.text)
    return command is not None and command.name in ("cancel", "restart")


def _start(turn: Turn, inbound: Start) -> None:
    state = turn.state
    if state.phase == "new" or state.phase in ENDED:
        turn.state = new_state(inbound.channel, inbound.lang)
        turn.update(phase="asking")
        turn.say("greeting")
    else:
        turn.say("resumed")
    template_at = len(turn.lines) if turn.state.channel == "email" and turn.state.phase == "asking" else None
    if clean(inbound.text):
        _text(turn, inbound.text)
    else:
        advance(turn)
    if template_at is not None and turn.state.phase == "asking":
        # Built after the first mail's own answers, so a 職域診療所 (7) gets branch B's questions.
        template = Msg("template", {"lines": fill_in_template(turn.state)})
        turn.lines[template_at:template_at] = [Msg("greeting.email"), template]


def _text(turn: Turn, raw: str) -> None:
    text = clean(raw)
    state = turn.state
    if state.phase == "new":
        _start(turn, Start(channel=state.channel, lang=state.lang, text=raw))
        return
    command = commands.parse_command(text)
    if state.warning is not None and command is not None and command.name == "edit" and not command.argument:
        answer_warning(turn, "いいえ")  # the warning offers （はい／修正）: 修正 means "let me retype it"
        return
    if command is not None:
        _command(turn, command)
        return
    if state.phase in ENDED:
        turn.say("ended")
        turn.prompt = False
        return
    faq = commands.faq_answer(text)
    if faq is not None:
        turn.say(faq)
        turn.say("faq.human" if turn.context.helpdesk_available else "faq.call_centre")
        return
    if state.phase == "verifying":
        if password.looks_like_password(text):
            turn.say("password.warning")
        turn.say("status.verifying")
        turn.prompt = False
        return
    if redirect_if_elsewhere(turn, text):
        return
    labelled = commands.parse_labelled_lines(raw)
    if labelled is not None and (len(labelled) > 1 or (labelled and labelled[0][0] != state.awaiting)):
        answer_many(turn, labelled)
        return
    if labelled == []:  # the fill-in template came back with nothing after the colons
        turn.say("multi.empty")
        return
    if labelled is not None and len(labelled) == 1:
        text = clean(labelled[0][1])
    if state.phase == "summary":
        if commands.fold(text) in commands.OK_WORDS:
            issue_verification(turn)
        else:
            turn.say("summary.invalid")
        return
    if state.warning is not None:
        answer_warning(turn, text)
        return
    if state.awaiting == POSTAL_TOWN:
        choose_town(turn, text)
        return
    field = field_by_id(state.awaiting or "", state.values)
    if field is None or field not in asked_fields(state.values, state.channel):
        advance(turn)
        return
    if (
        not field.secret
        and field.id not in ("institution_name", "clinic_name")
        and password.looks_like_password(text)
    ):
        turn.say("password.warning")
    answer(turn, field, text)


def _choice(turn: Turn, choice: Choice) -> None:
    current = turn.state.awaiting
    if turn.state.phase in ENDED or choice.awaiting != current:
        turn.say("stale")
        if turn.state.phase in ENDED:
            turn.prompt = False
        return
    value = choice.value
    if current == CONFIRM:
        if value == "ok":
            issue_verification(turn)
        elif value == "cancel":
            _command(turn, commands.Command("cancel"))
        elif value.startswith("edit"):
            _command(turn, commands.Command("edit", value.partition(":")[2]))
        else:
            turn.say("summary.invalid")
        return
    if turn.state.warning is not None:
        answer_warning(turn, "はい" if value == "yes" else "いいえ" if value == "no" else value)
        return
    if current == POSTAL_TOWN:
        choose_town(turn, value)
        return
    field = field_by_id(current or "", turn.state.values)
    if field is None or field.secret:
        turn.say("stale")
        return
    answer(turn, field, value)


def _secret(turn: Turn, secret: Secret) -> None:
    if turn.state.awaiting != "password" or turn.state.phase != "asking":
        turn.say("secret.unexpected")
        if turn.state.phase in ENDED:
            turn.prompt = False
        return
    field = field_by_id("password", turn.state.values)
    assert field is not None
    try:
        password.check_password(secret.password, secret.confirmation)
    except RuleError as error:
        fail(turn, field, error)
        return
    turn.effects.append(SetPassword(secret.password))
    turn.update(password_set=True, failures={**turn.state.failures, "password": 0}, last_error=None)
    turn.say("password.set")
    advance(turn)


def _command(turn: Turn, command: commands.Command) -> None:
    state = turn.state
    name = command.name
    if name == "english" or name == "japanese":
        turn.update(lang="en" if name == "english" else "ja")
        turn.say("lang.switched")
        _reprompt_or_end(turn)
    elif name == "help":
        _help(turn)
    elif name == "restart":
        _cancel_pending(turn)
        turn.state = replace(new_state(state.channel, state.lang), phase="asking")
        turn.say("restart.done")
        turn.say("greeting")
        advance(turn)
    elif state.phase in ENDED:
        turn.say("status.ended" if name == "status" else "ended")
        turn.prompt = False
    elif name == "cancel":
        _cancel_pending(turn)
        turn.update(phase="cancelled", awaiting=None, warning=None)
        turn.say("cancel.done")
    elif name == "status":
        _status(turn)
    elif name == "resend":
        if state.phase == "verifying":
            turn.effects.append(ResendVerification(state.values.get("email", "")))
            turn.say("resend.done")
            turn.prompt = False
        else:
            turn.say("resend.nothing")
    elif name == "human":
        if state.escalated and turn.context.helpdesk_available:
            turn.say("human.already")
        elif state.escalated:
            turn.say("human.unavailable")
        else:
            turn.effects.append(NotifyHelpdesk("asked", awaited_field(state), state.last_error))
            turn.update(escalated=True)
            turn.say("human.done" if turn.context.helpdesk_available else "human.unavailable")
        if state.phase == "verifying":
            turn.prompt = False
    elif name == "back":
        _back(turn)
    elif name == "edit":
        _edit(turn, command.argument)


def _cancel_pending(turn: Turn, *, explain: bool = False) -> None:
    """Leaving the 確認メール wait kills the mailed link (a new OK sends a new one); say so when the
    person is only going back to change something."""
    if turn.state.phase == "verifying" and turn.state.values.get("email"):
        turn.effects.append(CancelVerification(turn.state.values["email"]))
        if explain:
            turn.say("verification.invalidated")


def _reprompt_or_end(turn: Turn) -> None:
    if turn.state.phase in ENDED or turn.state.phase == "verifying":
        turn.prompt = False


def _help(turn: Turn) -> None:
    field = field_by_id(awaited_field(turn.state) or "", turn.state.values)
    if turn.state.awaiting == CONFIRM:
        pass  # the summary is shown again below, with its OK / 修正 / キャンセル line
    elif field is not None and turn.state.phase == "asking":
        turn.say("help.current", label=label_of(field), help=Msg(field.help_key))
    else:
        turn.say("help.none")
    turn.say("help.commands")
    _reprompt_or_end(turn)


def _status(turn: Turn) -> None:
    state = turn.state
    if state.phase == "verifying":
        turn.say("status.verifying")
        turn.prompt = False
    elif state.phase == "summary":
        turn.say("status.summary")
    else:
        fields = asked_fields(state.values, state.channel)
        done = sum(1 for f in fields if is_filled(state, f))
        field = field_by_id(awaited_field(state) or "", state.values)
        turn.say(
            "status.asking",
            done=done,
            total=len(fields),
            label=label_of(field) if field else "",
        )


def _back(turn: Turn) -> None:
    state = turn.state
    fields = asked_fields(state.values, state.channel)
    if state.phase in ("summary", "verifying"):
        target: Field | None = fields[-1]
    else:
        current = field_by_id(awaited_field(state) or "", state.values)
        index = fields.index(current) if current in fields else 0
        target = fields[index - 1] if index > 0 else None
    if target is None:
        turn.say("back.at_start")
        return
    _cancel_pending(turn, explain=True)
    turn.update(phase="asking", awaiting=target.id, warning=None, returning_to_summary=False)
    turn.say("back.to", label=label_of(target), value=display_value(turn.state, target.id))


def _edit(turn: Turn, name: str) -> None:
    state = turn.state
    fields = asked_fields(state.values, state.channel)
    listing = "、".join(str(label_text_ja(f)) for f in fields)
    if not name:
        turn.say("edit.which", fields=listing)
        return
    field = commands.find_field(name, fields)
    if field is None:
        other = commands.find_field(name, (*COMMON, *branch_for({"institution_type": "7"}), *branch_for({})))
        if other is not None:
            turn.say("edit.not_in_branch", label=label_of(other))
        else:
            turn.say("edit.unknown", name=name, fields=listing)
        return
    _cancel_pending(turn, explain=True)
    turn.update(phase="asking", awaiting=field.id, warning=None, returning_to_summary=True)
    if not field.secret:
        turn.say("edit.current", label=label_of(field), value=display_value(turn.state, field.id))
