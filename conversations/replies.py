"""What the person sees at the end of a step: the awaited question with its choices and progress, or
the 入力内容確認 summary (手順書 5)."""

from __future__ import annotations

from conversations.fields import (
    ALL_FIELD_IDS,
    Field,
    asked_fields,
    branch_for,
    field_by_id,
)
from conversations.rules import institution, prefectures
from conversations.turn import (
    CONFIRM,
    POSTAL_TOWN,
    Turn,
    awaited_field,
    display_value,
)
from conversations.types import (
    Msg,
    Option,
    Reply,
    State,
    Step,
    SummaryRow,
)


def _prompt_reply(turn: Turn) -> Reply:
    state = turn.state
    lines = list(turn.lines)
    fields = asked_fields(state.values, state.channel)
    if state.phase == "summary":
        rows = _summary_rows(state)
        lines.append(Msg("summary.title"))
        lines.extend(Msg("summary.row", {"label": row.label, "value": row.value}) for row in rows)
        lines.append(Msg("summary.actions"))
        options: tuple[Option, ...] = (
            Option("ok", Msg("choice.ok")),
            Option("cancel", Msg("choice.cancel")),
            Option("edit", Msg("choice.edit")),
        )
        return Reply(tuple(lines), awaiting=CONFIRM, options=options, summary=rows)
    awaited = awaited_field(state)
    field = field_by_id(awaited or "", state.values)
    if field is None:
        return Reply(tuple(lines))
    position = (fields.index(field) + 1, len(fields)) if field in fields else None
    if state.warning is not None:
        lines.append(Msg(state.warning.key, state.warning.params))  # the rule's text asks はい／修正
        options = (Option("yes", Msg("choice.yes")), Option("no", Msg("choice.no")))
        return Reply(tuple(lines), awaiting=field.id, options=options, progress=position)
    if state.awaiting == POSTAL_TOWN:
        lines.append(Msg("field.postal_town.prompt"))
        options = tuple(
            Option(str(i), Msg("choice.plain", {"text": town[0]}))
            for i, town in enumerate(state.town_choices, 1)
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
            Option(p.code, Msg("choice.option", {"value": p.code, "label": p.name}))
            for p in prefectures.PREFECTURES
        )
    if field.id == "terms_agreed":
        return (Option("同意します", Msg("choice.agree")),)
    return ()


def _summary_rows(state: State) -> tuple[SummaryRow, ...]:
    """入力内容確認 (手順書 5): the manual's order and wording, the 10-digit code, the password masked."""
    rows: list[SummaryRow] = []
    for field in branch_for(state.values):
        label = Msg(field.summary_key)
        if field.secret:
            on_page = state.channel == "email"  # by mail the verification page asks for it
            rows.append(SummaryRow(label, Msg("field.password.on_page") if on_page else "********"))
            continue
        rows.append(SummaryRow(label, display_value(state, field.id)))
        if field.id == "institution_code" and state.values.get("institution_code_10"):
            rows.append(
                SummaryRow(Msg("field.institution_code_10.label"), state.values["institution_code_10"])
            )
    return tuple(rows)


def fill_in_template(state: State) -> str:
    """The fill-in template the first mail offers (SPEC §1.3): the questions still open, for the branch
    the first mail chose (branch A until 所属機関選択 says 7)."""
    from conversations.catalogue.ja import MESSAGES_JA

    return "\n".join(
        f"{MESSAGES_JA.get(f.label_key, f.id)}："
        for f in asked_fields(state.values, "email")
        if not state.values.get(f.id)
    )


def finish(turn: Turn) -> Step:
    state = turn.state
    if state.phase not in ("asking", "summary") or not turn.prompt:
        reply = Reply(tuple(turn.lines)) if turn.lines else None
    else:
        reply = _prompt_reply(turn)
    return Step(state=state, replies=(reply,) if reply else (), effects=tuple(turn.effects))


def label_text_ja(field: Field) -> str:
    from conversations.catalogue.ja import MESSAGES_JA

    return MESSAGES_JA.get(field.label_key, field.id)


def known_field_ids() -> frozenset[str]:
    return ALL_FIELD_IDS | {CONFIRM, POSTAL_TOWN}
