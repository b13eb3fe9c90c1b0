"""Taking an answer: normalise, validate, hold a warning for an explicit yes, store, move on.  Also the
postal look-up, `label: value` messages, redirects and the OK that asks for the verification mail."""

from __future__ import annotations

from conversations import commands
from conversations.fields import (
    COMMON,
    INSTITUTION_TYPE,
    Field,
    FieldContext,
    asked_fields,
    branch_for,
    field_by_id,
)
from conversations.rules import institution, postal, prefectures
from conversations.rules.choices import parse_yes_no
from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean
from conversations.turn import (
    CONFIRM,
    ESCALATE_AFTER_FAILURES,
    POSTAL_TOWN,
    Turn,
    display_value,
    field_context,
    is_filled,
    label_of,
)
from conversations.types import (
    IssueVerification,
    Msg,
    NotifyHelpdesk,
    PendingWarning,
)


def _normalise(turn: Turn, field: Field, text: str) -> Normalised:
    value = field.normalise(text, field_context(turn))
    if field.id == "email" and value.value in turn.context.registered_emails:
        raise RuleError("email.registered")
    return value


def answer(turn: Turn, field: Field, text: str) -> None:
    if field.id == INSTITUTION_TYPE.id and redirect_if_elsewhere(turn, text, always=True):
        return
    try:
        normalised = _normalise(turn, field, text)
    except RuleError as error:
        fail(turn, field, error)
        return
    _say_notices(turn, normalised.notices)
    if normalised.warning is not None:
        _hold_warning(turn, field, normalised)
        return
    store(turn, field, normalised.value, announce=not _shown(normalised))
    advance(turn)


def _shown(normalised: Normalised) -> bool:
    """A notice already showed the value as stored (「…として登録します」)."""
    return any(n.params.get("value") == normalised.value for n in normalised.notices)


def _hold_warning(turn: Turn, field: Field, normalised: Normalised) -> None:
    assert normalised.warning is not None
    turn.update(
        warning=PendingWarning(
            field.id, normalised.value, normalised.warning.key, dict(normalised.warning.params)
        ),
        awaiting=field.id,
    )


def answer_warning(turn: Turn, text: str) -> None:
    warning = turn.state.warning
    assert warning is not None
    field = field_by_id(warning.field_id, turn.state.values)
    assert field is not None
    decision = parse_yes_no(text)
    if decision is True:
        turn.update(warning=None)
        store(turn, field, warning.value)
        advance(turn)
    elif decision is False:
        turn.update(warning=None)
        turn.say("warning.declined", label=label_of(field))
    else:  # a new answer to the same question
        turn.update(warning=None)
        answer(turn, field, text)


def fail(turn: Turn, field: Field, error: RuleError) -> None:
    failures = turn.state.failures.get(field.id, 0) + 1
    turn.update(failures={**turn.state.failures, field.id: failures}, last_error=error.key, awaiting=field.id)
    turn.say("error.intro", label=label_of(field), reason=Msg(error.key, error.params))
    turn.say("error.rule", rule=Msg(field.help_key))
    turn.say("error.again")
    if failures == ESCALATE_AFTER_FAILURES:
        turn.effects.append(NotifyHelpdesk("failures", field.id, error.key))
        turn.say(
            "error.third" if turn.context.helpdesk_available else "error.third.unavailable",
            label=label_of(field),
        )


def _say_notices(turn: Turn, notices: tuple[Notice, ...]) -> None:
    for notice in notices:
        turn.say(notice.key, **notice.params)


def store(turn: Turn, field: Field, value: str, *, announce: bool = True) -> None:
    state = turn.state
    values = dict(state.values)
    previous = values.get(field.id)
    values[field.id] = value
    if field.id == INSTITUTION_TYPE.id and previous is not None and previous != value:
        values = _for_branch(values, turn)
    if field.id == "postal_code" and previous != value:
        for key in ("address", "address_kana", "address_lookup", "address_kana_lookup"):
            values.pop(key, None)
    turn.update(
        values=_derive(values),
        failures={**state.failures, field.id: 0},
        last_error=None,
        warning=None,
    )
    if announce:
        turn.say("stored", label=label_of(field), value=display_value(turn.state, field.id))
    if field.id == "postal_code" and previous != value:
        _look_up_postal(turn, value)


def _for_branch(values: dict[str, str], turn: Turn) -> dict[str, str]:
    """After a change of 所属機関: keep only what the new branch asks, and only where the value passes
    the new branch's own rule unchanged (branch A's 電話番号 has no hyphens, branch B's has them), so
    nothing stale or wrongly formatted is registered.  A dropped field is simply asked again."""
    fields = {f.id: f for f in branch_for(values)}
    context = FieldContext(values=values, today=turn.today)
    kept: dict[str, str] = {}
    for field_id, stored in values.items():
        field = fields.get(field_id)
        if field is None:
            continue
        if field.id not in (INSTITUTION_TYPE.id, "institution_code") and not field.secret:
            try:
                again = field.normalise(stored, context)
            except RuleError:
                continue
            if again.value != stored or again.warning is not None:
                continue
        kept[field_id] = stored
    return kept


def _derive(values: dict[str, str]) -> dict[str, str]:
    """点数表コード・10桁コード (手順書 4 ①): prefecture(2) + 所属機関(1) + code(7)."""
    derived = {k: v for k, v in values.items() if k != "institution_code_10"}
    if all(derived.get(k) for k in ("prefecture", "institution_type", "institution_code")):
        derived["institution_code_10"] = institution.ten_digit_code(
            derived["prefecture"], derived["institution_type"], derived["institution_code"]
        )
    return derived


def _look_up_postal(turn: Turn, code: str) -> None:
    towns = postal.lookup(code)
    if not towns:
        turn.say("postal.not_found_warning", code=code)
        turn.update(town_choices=())
        return
    if len(towns) == 1:
        _take_town(turn, (towns[0].address, towns[0].address_kana, towns[0].prefecture_code))
        return
    turn.update(town_choices=tuple((t.address, t.address_kana, t.prefecture_code) for t in towns))


def _take_town(turn: Turn, town: tuple[str, str, str]) -> None:
    address, kana, prefecture_code = town
    values = dict(turn.state.values)
    values["address_lookup"] = address
    values["address_kana_lookup"] = kana
    turn.update(values=values, town_choices=())
    entered = values.get("prefecture")
    if entered and entered != prefecture_code:
        turn.say(
            "postal.prefecture_mismatch",
            postal=prefectures.prefecture_name(prefecture_code),
            entered=prefectures.prefecture_name(entered),
        )


def choose_town(turn: Turn, text: str) -> None:
    choices = turn.state.town_choices
    digits = commands.fold(text)
    if digits.isdigit() and 1 <= int(digits) <= len(choices):
        _take_town(turn, choices[int(digits) - 1])
        advance(turn)
        return
    # The person may also type the 町域 itself: taken when it names exactly one candidate.
    exact = [c for c in choices if digits and commands.fold(c[0]).endswith(digits)]
    named = exact if len(exact) == 1 else [c for c in choices if digits and digits in commands.fold(c[0])]
    if len(named) == 1:
        _take_town(turn, named[0])
        advance(turn)
        return
    turn.say("postal.town_invalid", count=len(choices))


def redirect_if_elsewhere(turn: Turn, text: str, *, always: bool = False) -> bool:
    """手順書 2: 柔整・あはき・健診・助産所 and 取りまとめ者 register elsewhere."""
    state = turn.state
    in_common = state.phase == "asking" and (
        state.awaiting in {f.id for f in COMMON} or state.awaiting is None
    )
    if not always and not (in_common and commands.looks_like_sentence(text)):
        return False
    target = institution.detect_redirect(text)
    if target is None:
        return False
    turn.update(phase="redirected", awaiting=None, warning=None)
    turn.say(f"redirect.{target}")
    return True


def answer_many(turn: Turn, labelled: list[tuple[str, str]]) -> None:
    """Several `label: value` lines at once (SPEC §1.3): store every valid one, report the others."""
    stored: list[Msg] = []
    invalid: list[Msg] = []
    held: tuple[Field, Normalised] | None = None
    by_id: dict[str, str] = {}
    for field_id, value in labelled:
        by_id.setdefault(field_id, value)
    if INSTITUTION_TYPE.id in by_id and redirect_if_elsewhere(turn, by_id[INSTITUTION_TYPE.id], always=True):
        return
    order = [f.id for f in (*COMMON, *branch_for({"institution_type": "7"}), *branch_for({}))]
    for field_id in sorted(by_id, key=lambda i: order.index(i) if i in order else len(order)):
        field = field_by_id(field_id, turn.state.values)
        if field is None:
            continue
        if field.secret:
            invalid.append(Msg("multi.password"))
            continue
        if field not in asked_fields(turn.state.values, turn.state.channel):
            invalid.append(Msg("multi.not_in_branch", {"label": label_of(field)}))
            continue
        try:
            normalised = _normalise(turn, field, clean(by_id[field_id]))
        except RuleError as error:
            failures = turn.state.failures.get(field.id, 0) + 1
            turn.update(failures={**turn.state.failures, field.id: failures}, last_error=error.key)
            invalid.append(
                Msg("multi.invalid_item", {"label": label_of(field), "reason": Msg(error.key, error.params)})
            )
            continue
        _say_notices(turn, normalised.notices)
        if normalised.warning is not None:
            if held is None:
                held = (field, normalised)
            continue
        store(turn, field, normalised.value, announce=False)
        # one compact list instead of a "stored" line per field
        stored.append(
            Msg("multi.item", {"label": label_of(field), "value": display_value(turn.state, field.id)})
        )
    if stored:
        turn.say("multi.stored", fields=tuple(stored))
    if invalid:
        turn.say("multi.invalid")
        turn.lines.extend(invalid)
    if held is not None:
        _hold_warning(turn, *held)
        return
    advance(turn)


def advance(turn: Turn) -> None:
    """Ask the first unanswered field, or show the summary when every field has its answer."""
    state = turn.state
    if state.warning is not None:
        return
    for field in asked_fields(state.values, state.channel):
        if field.id == "address" and state.town_choices and not state.values.get("address_lookup"):
            turn.update(phase="asking", awaiting=POSTAL_TOWN)
            return
        if not is_filled(state, field):
            turn.update(phase="asking", awaiting=field.id)
            return
    turn.update(phase="summary", awaiting=CONFIRM, returning_to_summary=False)


def issue_verification(turn: Turn) -> None:
    """OK at 入力内容確認 → メールアドレス登録確認メール (手順書 6)."""
    email = turn.state.values.get("email", "")
    turn.effects.append(IssueVerification(email))
    turn.update(phase="verifying", awaiting=None, reminded=False)
    turn.say("verification.sent")
    if turn.state.channel == "email":
        turn.say("verification.sent.email")
    turn.say("verification.reasons")
    turn.prompt = False
