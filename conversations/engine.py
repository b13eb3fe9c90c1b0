"""The conversation engine: ``step(state, inbound, now) -> Step``.  Pure: no I/O, no clock, no randomness.

One inbound message gives one reply (or none), whose last lines ask the awaited question.  The state
moves through the phases documented on `State`; an answer that breaks a rule leaves the value unset,
says why and what the rule is, and asks the same question again.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from conversations import commands
from conversations.fields import (
    ALL_FIELD_IDS,
    COMMON,
    INSTITUTION_TYPE,
    FieldContext,
    Field,
    asked_fields,
    branch_for,
    field_by_id,
)
from conversations.rules import email as email_rule
from conversations.rules import institution, password, postal, prefectures
from conversations.rules.choices import parse_yes_no
from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean
from conversations.types import (
    Choice,
    Context,
    Effect,
    Expire,
    Inbound,
    IssueVerification,
    Msg,
    NotifyHelpdesk,
    Option,
    PendingWarning,
    Remind,
    Reply,
    ResendVerification,
    Secret,
    SetPassword,
    Start,
    State,
    Step,
    SummaryRow,
    Text,
    VerificationCompleted,
    CancelVerification,
)

JST = timezone(timedelta(hours=9))
CONFIRM = "confirm"  # the awaited id while 入力内容確認 waits (SPEC §8)
POSTAL_TOWN = "postal_town"
ENDED = frozenset({"completed", "cancelled", "redirected", "expired"})
ESCALATE_AFTER_FAILURES = 3
# Values the engine derives; kept in `values` so the service and summary need not recompute them.
DERIVED = ("institution_code_10", "address_lookup", "address_kana_lookup")


def new_state(channel: str, lang: str = "ja") -> State:
    return State(channel=channel, lang=lang if lang in ("ja", "en") else "ja")


_EMAIL_CANDIDATE = re.compile(r"[^\s<>()\"'「」、，,:：;]+[@＠][^\s<>()\"'「」、，,:：;]+")


def mentioned_emails(text: str) -> frozenset[str]:
    """The normalised addresses a message mentions, for the service's registered-address look-up."""
    found: set[str] = set()
    for candidate in _EMAIL_CANDIDATE.findall(text or ""):
        try:
            found.add(email_rule.normalise_email(candidate).value)
        except RuleError:
            continue
    return frozenset(found)


# ------------------------------------------------------------------------------------------ the turn


class _Turn:
    """Collects what one step says and does, then builds the `Step`."""

    def __init__(self, state: State, now: datetime, context: Context) -> None:
        self.state = state
        self.now = now
        self.context = context
        self.lines: list[Msg] = []
        self.effects: list[Effect] = []
        self.prompt = True  # end the reply with the awaited question

    def say(self, key: str, **params: object) -> None:
        self.lines.append(Msg(key, params))

    def update(self, **changes: object) -> None:
        self.state = replace(self.state, **changes)  # type: ignore[arg-type]

    @property
    def today(self) -> date:
        return self.now.astimezone(JST).date()


def step(state: State, inbound: Inbound, now: datetime, context: Context | None = None) -> Step:
    turn = _Turn(state, now, context or Context())
    match inbound:
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
    return _finish(turn)


# ----------------------------------------------------------------------------------------- inbound


def _start(turn: _Turn, inbound: Start) -> None:
    state = turn.state
    if state.phase == "new" or state.phase in ENDED:
        turn.state = new_state(inbound.channel, inbound.lang)
        turn.update(phase="asking")
        turn.say("greeting")
        if inbound.channel == "email":
            turn.say("greeting.email")
            turn.say("template", lines=_template(turn.state))
    else:
        turn.say("resumed")
    if clean(inbound.text):
        _text(turn, inbound.text)
    else:
        _advance(turn)


def _text(turn: _Turn, raw: str) -> None:
    text = clean(raw)
    state = turn.state
    if state.phase == "new":
        _start(turn, Start(channel=state.channel, lang=state.lang, text=raw))
        return
    command = commands.parse_command(text)
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
        return
    if state.phase == "verifying":
        if password.looks_like_password(text):
            turn.say("password.warning")
        turn.say("status.verifying")
        turn.prompt = False
        return
    if _redirected(turn, text):
        return
    labelled = commands.parse_labelled_lines(raw)
    if labelled is not None and (len(labelled) > 1 or labelled and labelled[0][0] != state.awaiting):
        _many(turn, labelled)
        return
    if labelled is not None and len(labelled) == 1:
        text = clean(labelled[0][1])
    if state.phase == "summary":
        if commands.fold(text) in commands.OK_WORDS:
            _issue(turn)
        else:
            turn.say("summary.invalid")
        return
    if state.warning is not None:
        _answer_warning(turn, text)
        return
    if state.awaiting == POSTAL_TOWN:
        _choose_town(turn, text)
        return
    field = field_by_id(state.awaiting or "")
    if field is None or field not in asked_fields(state.values, state.channel):
        _advance(turn)
        return
    if not field.secret and field.id not in ("institution_name", "clinic_name") and password.looks_like_password(text):
        turn.say("password.warning")
    _answer(turn, field, text)


def _choice(turn: _Turn, choice: Choice) -> None:
    current = turn.state.awaiting
    if turn.state.phase in ENDED or choice.awaiting != current:
        turn.say("stale")
        if turn.state.phase in ENDED:
            turn.prompt = False
        return
    value = choice.value
    if current == CONFIRM:
        if value == "ok":
            _issue(turn)
        elif value == "cancel":
            _command(turn, commands.Command("cancel"))
        elif value.startswith("edit"):
            _command(turn, commands.Command("edit", value.partition(":")[2]))
        else:
            turn.say("summary.invalid")
        return
    if turn.state.warning is not None:
        _answer_warning(turn, "はい" if value == "yes" else "いいえ" if value == "no" else value)
        return
    if current == POSTAL_TOWN:
        _choose_town(turn, value)
        return
    field = field_by_id(current or "")
    if field is None or field.secret:
        turn.say("stale")
        return
    _answer(turn, field, value)


def _secret(turn: _Turn, secret: Secret) -> None:
    if turn.state.awaiting != "password" or turn.state.phase != "asking":
        turn.say("secret.unexpected")
        if turn.state.phase in ENDED:
            turn.prompt = False
        return
    field = field_by_id("password")
    assert field is not None
    try:
        password.check_password(secret.password, secret.confirmation)
    except RuleError as error:
        _failed(turn, field, error)
        return
    turn.effects.append(SetPassword(secret.password))
    turn.update(password_set=True, failures={**turn.state.failures, "password": 0}, last_error=None)
    turn.say("password.set")
    _advance(turn)


# ---------------------------------------------------------------------------------------- commands


def _command(turn: _Turn, command: commands.Command) -> None:
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
        _advance(turn)
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
        if state.escalated:
            turn.say("human.already")
        else:
            turn.effects.append(NotifyHelpdesk("asked", _awaited_field(state), state.last_error))
            turn.update(escalated=True)
            turn.say("human.done")
        if state.phase == "verifying":
            turn.prompt = False
    elif name == "back":
        _back(turn)
    elif name == "edit":
        _edit(turn, command.argument)


def _cancel_pending(turn: _Turn) -> None:
    if turn.state.phase == "verifying" and turn.state.values.get("email"):
        turn.effects.append(CancelVerification(turn.state.values["email"]))


def _awaited_field(state: State) -> str | None:
    if state.awaiting == POSTAL_TOWN:
        return "postal_code"
    return state.awaiting


def _reprompt_or_end(turn: _Turn) -> None:
    if turn.state.phase in ENDED or turn.state.phase == "verifying":
        turn.prompt = False


def _help(turn: _Turn) -> None:
    field = field_by_id(_awaited_field(turn.state) or "")
    if turn.state.awaiting == CONFIRM:
        turn.say("summary.actions")
    elif field is not None and turn.state.phase == "asking":
        turn.say("help.current", label=_label(field), help=Msg(_help_key(field, turn.state)))
    else:
        turn.say("help.none")
    turn.say("help.commands")
    _reprompt_or_end(turn)


def _status(turn: _Turn) -> None:
    state = turn.state
    if state.phase == "verifying":
        turn.say("status.verifying")
        turn.prompt = False
    elif state.phase == "summary":
        turn.say("status.summary")
    else:
        fields = asked_fields(state.values, state.channel)
        done = sum(1 for f in fields if _filled(state, f))
        field = field_by_id(_awaited_field(state) or "")
        turn.say(
            "status.asking",
            done=done,
            total=len(fields),
            label=_label(field) if field else "",
        )


def _back(turn: _Turn) -> None:
    state = turn.state
    fields = asked_fields(state.values, state.channel)
    if state.phase in ("summary", "verifying"):
        target: Field | None = fields[-1]
    else:
        current = field_by_id(_awaited_field(state) or "")
        index = fields.index(current) if current in fields else 0
        target = fields[index - 1] if index > 0 else None
    if target is None:
        turn.say("back.at_start")
        return
    _cancel_pending(turn)
    turn.update(phase="asking", awaiting=target.id, warning=None, returning_to_summary=False)
    turn.say("back.to", label=_label(target), value=_display(turn.state, target.id))


def _edit(turn: _Turn, name: str) -> None:
    state = turn.state
    fields = asked_fields(state.values, state.channel)
    listing = "、".join(str(_label_text_ja(f)) for f in fields)
    if not name:
        turn.say("edit.which", fields=listing)
        return
    field = commands.find_field(name, fields)
    if field is None:
        other = commands.find_field(name, (*COMMON, *branch_for({"institution_type": "7"}), *branch_for({})))
        if other is not None:
            turn.say("edit.not_in_branch", label=_label(other))
        else:
            turn.say("edit.unknown", name=name, fields=listing)
        return
    _cancel_pending(turn)
    turn.update(phase="asking", awaiting=field.id, warning=None, returning_to_summary=True)
    if not field.secret:
        turn.say("edit.current", label=_label(field), value=_display(turn.state, field.id))


# ----------------------------------------------------------------------------------------- answers


def _context(turn: _Turn) -> FieldContext:
    return FieldContext(values=turn.state.values, today=turn.today)


def _normalise(turn: _Turn, field: Field, text: str) -> Normalised:
    value = field.normalise(text, _context(turn))
    if field.id == "email" and value.value in turn.context.registered_emails:
        raise RuleError("email.registered")
    return value


def _answer(turn: _Turn, field: Field, text: str) -> None:
    if field.id == INSTITUTION_TYPE.id and _redirected(turn, text, always=True):
        return
    try:
        normalised = _normalise(turn, field, text)
    except RuleError as error:
        _failed(turn, field, error)
        return
    _say_notices(turn, normalised.notices)
    if normalised.warning is not None:
        _hold_warning(turn, field, normalised)
        return
    _store(turn, field, normalised.value)
    _advance(turn)


def _hold_warning(turn: _Turn, field: Field, normalised: Normalised) -> None:
    assert normalised.warning is not None
    turn.update(
        warning=PendingWarning(field.id, normalised.value, normalised.warning.key, dict(normalised.warning.params)),
        awaiting=field.id,
    )


def _answer_warning(turn: _Turn, text: str) -> None:
    warning = turn.state.warning
    assert warning is not None
    field = field_by_id(warning.field_id)
    assert field is not None
    decision = parse_yes_no(text)
    if decision is True:
        turn.update(warning=None)
        _store(turn, field, warning.value)
        _advance(turn)
    elif decision is False:
        turn.update(warning=None)
        turn.say("warning.declined", label=_label(field))
    else:  # a new answer to the same question
        turn.update(warning=None)
        _answer(turn, field, text)


def _failed(turn: _Turn, field: Field, error: RuleError) -> None:
    failures = turn.state.failures.get(field.id, 0) + 1
    turn.update(failures={**turn.state.failures, field.id: failures}, last_error=error.key, awaiting=field.id)
    turn.say("error.intro", label=_label(field), reason=Msg(error.key, error.params))
    turn.say("error.rule", rule=Msg(_help_key(field, turn.state)))
    turn.say("error.again")
    if failures == ESCALATE_AFTER_FAILURES:
        turn.effects.append(NotifyHelpdesk("failures", field.id, error.key))
        turn.say("error.third", label=_label(field))


def _say_notices(turn: _Turn, notices: tuple[Notice, ...]) -> None:
    for notice in notices:
        turn.say(notice.key, **notice.params)


def _store(turn: _Turn, field: Field, value: str) -> None:
    state = turn.state
    values = dict(state.values)
    previous = values.get(field.id)
    values[field.id] = value
    if field.id == INSTITUTION_TYPE.id and previous is not None and previous != value:
        # A change of branch drops what the other branch asked, so nothing stale is registered.
        keep = {f.id for f in branch_for(values)}
        values = {k: v for k, v in values.items() if k in keep}
    if field.id == "postal_code" and previous != value:
        for key in ("address", "address_kana", "address_lookup", "address_kana_lookup"):
            values.pop(key, None)
    turn.update(
        values=_derive(values),
        failures={**state.failures, field.id: 0},
        last_error=None,
        warning=None,
    )
    turn.say("stored", label=_label(field), value=_display(turn.state, field.id))
    if field.id == "postal_code" and previous != value:
        _look_up_postal(turn, value)


def _derive(values: dict[str, str]) -> dict[str, str]:
    """点数表コード・10桁コード (手順書 4 ①): prefecture(2) + 所属機関(1) + code(7)."""
    derived = {k: v for k, v in values.items() if k != "institution_code_10"}
    if all(derived.get(k) for k in ("prefecture", "institution_type", "institution_code")):
        derived["institution_code_10"] = institution.ten_digit_code(
            derived["prefecture"], derived["institution_type"], derived["institution_code"]
        )
    return derived


def _look_up_postal(turn: _Turn, code: str) -> None:
    towns = postal.lookup(code)
    if not towns:
        turn.say("postal.not_found_warning", code=code)
        turn.update(town_choices=())
        return
    if len(towns) == 1:
        _take_town(turn, (towns[0].address, towns[0].address_kana, towns[0].prefecture_code))
        return
    turn.update(town_choices=tuple((t.address, t.address_kana, t.prefecture_code) for t in towns))


def _take_town(turn: _Turn, town: tuple[str, str, str]) -> None:
    address, kana, prefecture_code = town
    values = dict(turn.state.values)
    values["address_lookup"] = address
    values["address_kana_lookup"] = kana
    turn.update(values=values, town_choices=())
    turn.say("postal.lookup", address=address)
    entered = values.get("prefecture")
    if entered and entered != prefecture_code:
        turn.say(
            "postal.prefecture_mismatch",
            postal=prefectures.prefecture_name(prefecture_code),
            entered=prefectures.prefecture_name(entered),
        )


def _choose_town(turn: _Turn, text: str) -> None:
    choices = turn.state.town_choices
    digits = commands.fold(text)
    if digits.isdigit() and 1 <= int(digits) <= len(choices):
        _take_town(turn, choices[int(digits) - 1])
        _advance(turn)
        return
    for choice in choices:  # the person may also type the 町域 itself
        if digits and digits in commands.fold(choice[0]):
            _take_town(turn, choice)
            _advance(turn)
            return
    turn.say("postal.town_invalid", count=len(choices))


def _redirected(turn: _Turn, text: str, *, always: bool = False) -> bool:
    """手順書 2: 柔整・あはき・健診・助産所 and 取りまとめ者 register elsewhere."""
    state = turn.state
    in_common = state.phase == "asking" and (state.awaiting in {f.id for f in COMMON} or state.awaiting is None)
    if not always and not (in_common and commands.looks_like_sentence(text)):
        return False
    target = institution.detect_redirect(text)
    if target is None:
        return False
    turn.update(phase="redirected", awaiting=None, warning=None)
    turn.say(f"redirect.{target}")
    return True


def _many(turn: _Turn, labelled: list[tuple[str, str]]) -> None:
    """Several `label: value` lines at once (SPEC §1.3): store every valid one, report the others."""
    stored: list[Msg] = []
    invalid: list[Msg] = []
    held: tuple[Field, Normalised] | None = None
    by_id: dict[str, str] = {}
    for field_id, value in labelled:
        by_id.setdefault(field_id, value)
    if INSTITUTION_TYPE.id in by_id and _redirected(turn, by_id[INSTITUTION_TYPE.id], always=True):
        return
    order = [f.id for f in (*COMMON, *branch_for({"institution_type": "7"}), *branch_for({}))]
    for field_id in sorted(by_id, key=lambda i: order.index(i) if i in order else len(order)):
        field = field_by_id(field_id)
        if field is None:
            continue
        if field.secret:
            invalid.append(Msg("multi.password"))
            continue
        if field not in asked_fields(turn.state.values, turn.state.channel):
            invalid.append(Msg("multi.not_in_branch", {"label": _label(field)}))
            continue
        try:
            normalised = _normalise(turn, field, clean(by_id[field_id]))
        except RuleError as error:
            failures = turn.state.failures.get(field.id, 0) + 1
            turn.update(failures={**turn.state.failures, field.id: failures}, last_error=error.key)
            invalid.append(Msg("multi.invalid_item", {"label": _label(field), "reason": Msg(error.key, error.params)}))
            continue
        _say_notices(turn, normalised.notices)
        if normalised.warning is not None:
            if held is None:
                held = (field, normalised)
            continue
        lines_before = len(turn.lines)
        _store(turn, field, normalised.value)
        # one compact list instead of a "stored" line per field
        stored.append(turn.lines.pop(lines_before))
    if stored:
        turn.say("multi.stored", fields=tuple(stored))
    if invalid:
        turn.say("multi.invalid")
        turn.lines.extend(invalid)
    if held is not None:
        _hold_warning(turn, *held)
        return
    _advance(turn)


# ---------------------------------------------------------------------------------------- progress


def _filled(state: State, field: Field) -> bool:
    if field.secret:
        return state.password_set
    return bool(state.values.get(field.id))


def _advance(turn: _Turn) -> None:
    """Ask the first unanswered field, or show the summary when every field has its answer."""
    state = turn.state
    if state.warning is not None:
        return
    for field in asked_fields(state.values, state.channel):
        if field.id == "address" and state.town_choices and not state.values.get("address_lookup"):
            turn.update(phase="asking", awaiting=POSTAL_TOWN)
            return
        if not _filled(state, field):
            turn.update(phase="asking", awaiting=field.id)
            return
    turn.update(phase="summary", awaiting=CONFIRM, returning_to_summary=False)


def _issue(turn: _Turn) -> None:
    """OK at 入力内容確認 → メールアドレス登録確認メール (手順書 6)."""
    email = turn.state.values.get("email", "")
    turn.effects.append(IssueVerification(email))
    turn.update(phase="verifying", awaiting=None, reminded=False)
    turn.say("verification.sent")
    if turn.state.channel == "email":
        turn.say("verification.sent.email")
    turn.say("verification.reasons")
    turn.prompt = False


# ------------------------------------------------------------------------------------------ output


def _label(field: Field) -> Msg:
    return Msg(field.label_key)


def _label_text_ja(field: Field) -> str:
    from conversations.catalogue.ja import MESSAGES_JA

    return MESSAGES_JA.get(field.label_key, field.id)


def _help_key(field: Field, state: State) -> str:
    return field.help_key


def _display(state: State, field_id: str) -> str:
    """A value as the summary shows it: codes with their names, the password never."""
    value = state.values.get(field_id, "")
    if field_id == "institution_type" and value:
        return f"{value}：{institution.INSTITUTION_TYPES.get(value, '')}"
    if field_id == "prefecture" and value:
        return f"{value}：{prefectures.prefecture_name(value)}"
    return value


def _prompt_reply(turn: _Turn) -> Reply:
    state = turn.state
    lines = list(turn.lines)
    fields = asked_fields(state.values, state.channel)
    if state.phase == "summary":
        rows = _summary_rows(state)
        lines.append(Msg("summary.title"))
        lines.extend(Msg("summary.row", {"label": row.label, "value": row.value}) for row in rows)
        lines.append(Msg("summary.actions"))
        options = (
            Option("ok", Msg("choice.ok")),
            Option("cancel", Msg("choice.cancel")),
            Option("edit", Msg("choice.edit")),
        )
        return Reply(tuple(lines), awaiting=CONFIRM, options=options, summary=rows)
    awaited = _awaited_field(state)
    field = field_by_id(awaited or "")
    if field is None:
        return Reply(tuple(lines))
    position = (fields.index(field) + 1, len(fields)) if field in fields else None
    if state.warning is not None:
        lines.append(Msg(state.warning.key, state.warning.params))
        lines.append(Msg("warning.confirm"))
        options = (Option("yes", Msg("choice.yes")), Option("no", Msg("choice.no")))
        return Reply(tuple(lines), awaiting=field.id, options=options, progress=position)
    if state.awaiting == POSTAL_TOWN:
        lines.append(Msg("field.postal_town.prompt"))
        options = tuple(
            Option(str(i), Msg("choice.plain", {"text": town[0]})) for i, town in enumerate(state.town_choices, 1)
        )
        return Reply(tuple(lines), awaiting=POSTAL_TOWN, options=options, progress=position)
    lines.append(_prompt_msg(state, field))
    return Reply(
        tuple(lines),
        awaiting=field.id,
        options=_options(field),
        secret=field.secret,
        progress=position,
    )


def _prompt_msg(state: State, field: Field) -> Msg:
    if field.id in ("address", "address_kana"):
        looked_up = state.values.get(f"{field.id}_lookup", "")
        if not looked_up:
            return Msg(f"field.{field.id}.prompt_full")
        return Msg(field.prompt_key, {"looked_up": looked_up})
    return Msg(field.prompt_key)


def _options(field: Field) -> tuple[Option, ...]:
    if field.id == "institution_type":
        return tuple(
            Option(code, Msg("choice.option", {"value": code, "label": name}))
            for code, name in institution.INSTITUTION_TYPES.items()
        )
    if field.id == "prefecture":
        return tuple(
            Option(p.code, Msg("choice.option", {"value": p.code, "label": p.name})) for p in prefectures.PREFECTURES
        )
    if field.id == "terms_agreed":
        return (Option("同意します", Msg("choice.agree")),)
    return ()


def _summary_rows(state: State) -> tuple[SummaryRow, ...]:
    rows: list[SummaryRow] = []
    for field in asked_fields(state.values, state.channel):
        if field.secret:
            rows.append(SummaryRow(_label(field), "********"))
            continue
        rows.append(SummaryRow(_label(field), _display(state, field.id)))
        if field.id == "institution_code" and state.values.get("institution_code_10"):
            rows.append(SummaryRow(Msg("field.institution_code_10.label"), state.values["institution_code_10"]))
    if state.channel == "email":
        rows.append(SummaryRow(Msg("field.password.label"), Msg("field.password.on_page")))
    return tuple(rows)


def _template(state: State) -> str:
    """The fill-in template the first mail offers (SPEC §1.3)."""
    from conversations.catalogue.ja import MESSAGES_JA

    return "\n".join(
        f"{MESSAGES_JA.get(f.label_key, f.id)}："
        for f in asked_fields(state.values, "email")
    )


def _finish(turn: _Turn) -> Step:
    state = turn.state
    if state.phase not in ("asking", "summary") or not turn.prompt:
        reply = Reply(tuple(turn.lines)) if turn.lines else None
    else:
        reply = _prompt_reply(turn)
    return Step(state=state, replies=(reply,) if reply else (), effects=tuple(turn.effects))


def known_field_ids() -> frozenset[str]:
    return ALL_FIELD_IDS | {CONFIRM, POSTAL_TOWN}
