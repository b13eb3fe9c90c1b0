"""Properties of every rule: idempotent, a stored value passes again, only RuleError on any text."""

import contextlib
import datetime
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.rules import (
    choices,
    dates,
    email,
    institution,
    japanese,
    password,
    phone,
    postal,
    prefectures,
)
from conversations.rules.errors import Normalised, RuleError
from conversations.rules.text import clean

TODAY = datetime.date(2025, 6, 1)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NORMALISERS: dict[str, Callable[[str], Normalised]] = {
    "plain": lambda t: japanese.normalise_plain(t, max_length=100),
    "zenkaku": lambda t: japanese.normalise_zenkaku(t, max_length=100),
    "zenkaku_department": lambda t: japanese.normalise_zenkaku(t, allow_department_suffix=True),
    "kana": lambda t: japanese.normalise_hankaku_kana(t, max_length=200),
    "prefecture": prefectures.parse_prefecture,
    "institution_type": institution.parse_institution_type,
    "institution_code": institution.normalise_code,
    "phone_plain": phone.normalise_phone_plain,
    "phone_hyphenated": phone.normalise_phone_hyphenated,
    "email": email.normalise_email,
    "date": lambda t: dates.parse_date(t, today=TODAY),
    "postal_code": postal.normalise_postal_code,
}

# Text that reaches the interesting branches more often than st.text() alone.
_ALPHABET = (
    "あいうがぱアイガヴーｱｶﾞﾊﾟｰﾞﾟ基金髙﨑①㈱～－‐―−-,，、・（）()医科歯科"
    " \u3000\u200bＡａ０Aa09@＠.+_/年月日令和平成R元"
)
japaneseish = st.text(alphabet=_ALPHABET, max_size=30)
anything = st.one_of(st.text(max_size=40), japaneseish)


@pytest.mark.parametrize("name", sorted(NORMALISERS))
@FAST
@given(text=anything)
def test_only_rule_errors_and_idempotent(name: str, text: str) -> None:
    """Any text gives a Normalised or a RuleError; a stored value normalises to itself, with no notice."""
    rule = NORMALISERS[name]
    try:
        result = rule(text)
    except RuleError:
        return
    assert result.value == clean(result.value)
    again = rule(result.value)
    assert again.value == result.value
    assert again.notices == ()


digits = st.text(alphabet="0123456789０１２３４５６７８９", min_size=9, max_size=12)
separators = st.sampled_from(["", "-", "－", " ", "ー"])


@FAST
@given(
    first=st.text(alphabet="0123456789", min_size=1, max_size=4),
    second=st.text(alphabet="0123456789", min_size=1, max_size=4),
    third=st.text(alphabet="0123456789", min_size=1, max_size=5),
    sep=separators,
)
def test_phone_numbers_round_trip(first: str, second: str, third: str, sep: str) -> None:
    """Any 10–11 digits from 0 are accepted by both branches, never refused for the numbering plan."""
    typed = "0" + first + sep + second + sep + third
    digits_only = "".join(c for c in typed if c.isdigit())
    if not 10 <= len(digits_only) <= 11:
        return
    assert phone.normalise_phone_plain(typed).value == digits_only
    hyphenated = phone.normalise_phone_hyphenated(typed)
    assert hyphenated.value.replace("-", "") == digits_only
    assert phone.normalise_phone_hyphenated(hyphenated.value).value == hyphenated.value


@FAST
@given(day=st.dates(min_value=datetime.date(1873, 1, 1), max_value=datetime.date(2099, 12, 31)))
def test_dates_round_trip(day: datetime.date) -> None:
    """Every real date is read back from its ISO, slash, compact and 年月日 forms."""
    for typed in (day.isoformat(), f"{day.year}/{day.month}/{day.day}", day.strftime("%Y%m%d")):
        assert dates.parse_date(typed, today=TODAY).value == day.isoformat()
    assert dates.parse_date(f"{day.year}年{day.month}月{day.day}日", today=TODAY).value == day.isoformat()
    assert (dates.parse_date(typed, today=TODAY).warning is None) == (day <= TODAY)


@FAST
@given(code=st.text(alphabet="0123456789", min_size=6, max_size=6), prefecture=st.integers(1, 47))
def test_exactly_one_check_digit_passes(code: str, prefecture: int) -> None:
    """For any 6 data digits, exactly one of the ten 7th digits passes the check."""
    passing = [d for d in "0123456789" if institution.check_digit_ok(f"{prefecture:02d}", "1", code + d)]
    assert len(passing) == 1


@FAST
@given(text=anything)
def test_other_functions_never_raise(text: str) -> None:
    """Functions that answer a question return an answer for any text."""
    assert choices.parse_yes_no(text) in (True, False, None)
    assert institution.detect_redirect(text) in ("facility_portal", "coordinator", None)
    assert isinstance(password.looks_like_password(text), bool)
    assert isinstance(postal.lookup(text), tuple)
    assert prefectures.prefecture_code_for_name(text) in {None, *(p.code for p in prefectures.PREFECTURES)}
    with contextlib.suppress(RuleError):
        password.check_password(text, text)


@FAST
@given(text=anything)
def test_closest_values_always_pass(text: str) -> None:
    """closest_zenkaku / closest_hankaku_kana give a value their rule accepts unchanged (or nothing)."""
    zenkaku = japanese.closest_zenkaku(text)
    if zenkaku.strip("\u3000"):
        assert japanese.normalise_zenkaku(zenkaku).value == zenkaku.strip("\u3000")
    kana = japanese.closest_hankaku_kana(text)
    if kana.strip():
        assert japanese.normalise_hankaku_kana(kana).value == kana.strip()
