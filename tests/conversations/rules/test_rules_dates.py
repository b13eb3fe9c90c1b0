"""新設年月日: 西暦 and 和暦, stored YYYY-MM-DD; a future date needs an explicit yes."""

import datetime

import pytest

from conversations.rules.dates import parse_date
from conversations.rules.errors import Normalised, Notice, RuleError

TODAY = datetime.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("2024-04-01", "2024-04-01"),
        ("2024/4/1", "2024-04-01"),
        ("2024.4.1", "2024-04-01"),
        ("20240401", "2024-04-01"),
        ("2024年4月1日", "2024-04-01"),
        ("2024年04月01日", "2024-04-01"),
        ("２０２４年４月１日", "2024-04-01"),
        ("２０２４／４／１", "2024-04-01"),
        ("2024 年 4 月 1 日", "2024-04-01"),
        ("2024年4月1日(月)", "2024-04-01"),
        ("令和6年4月1日", "2024-04-01"),
        ("令和６年４月１日", "2024-04-01"),
        ("令和六年四月一日", "2024-04-01"),
        ("令和元年5月1日", "2019-05-01"),
        ("R6.4.1", "2024-04-01"),
        ("R6/4/1", "2024-04-01"),
        ("r6.4.1", "2024-04-01"),
        ("R06.04.01", "2024-04-01"),
        ("R.6.4.1", "2024-04-01"),
        ("H31.4.30", "2019-04-30"),
        ("平成31年4月30日", "2019-04-30"),
        ("平成元年1月8日", "1989-01-08"),
        ("昭和64年1月7日", "1989-01-07"),
        ("昭和50年十二月二十日", "1975-12-20"),
        ("S50.12.20", "1975-12-20"),
        ("大正15年12月24日", "1926-12-24"),
        ("2024-02-29", "2024-02-29"),
        ("2025-06-01", "2025-06-01"),  # today is not the future
    ],
)
def test_parse(typed: str, stored: str) -> None:
    """Every way the SPEC lists, with a notice when the stored form differs."""
    notices = (Notice("date.converted", {"value": stored}),) if stored != typed else ()
    assert parse_date(typed, today=TODAY) == Normalised(stored, notices=notices)


def test_future_warns() -> None:
    """A future date is acceptable after an explicit yes."""
    assert parse_date("2025-06-02", today=TODAY) == Normalised(
        "2025-06-02", warning=Notice("date.future", {"value": "2025-06-02"})
    )
    assert parse_date("令和8年4月1日", today=TODAY).warning == Notice("date.future", {"value": "2026-04-01"})


@pytest.mark.parametrize("typed", ["2024-02-30", "2023-02-29", "2024-13-01", "20240231", "令和6年2月30日"])
def test_invalid(typed: str) -> None:
    """A date that does not exist names what was typed."""
    with pytest.raises(RuleError) as error:
        parse_date(typed, today=TODAY)
    assert (error.value.key, error.value.params) == ("date.invalid", {"value": typed})


@pytest.mark.parametrize(
    ("typed", "era"),
    [
        ("平成32年1月1日", "平成"),
        ("令和元年4月1日", "令和"),  # 令和 began 2019-05-01
        ("H31.5.1", "平成"),
        ("昭和64年1月8日", "昭和"),
        ("R0.5.1", "令和"),
        ("大正16年1月1日", "大正"),
    ],
)
def test_era_range(typed: str, era: str) -> None:
    """A date outside its era is refused rather than silently moved."""
    with pytest.raises(RuleError) as error:
        parse_date(typed, today=TODAY)
    assert (error.value.key, error.value.params) == ("date.era_range", {"value": typed, "era": era})


@pytest.mark.parametrize("typed", ["abc", "24/4/1", "2024-4", "4月1日", "令和6年", "X6.4.1", "2024年4月"])
def test_format(typed: str) -> None:
    with pytest.raises(RuleError) as error:
        parse_date(typed, today=TODAY)
    assert error.value.key == "date.format"


def test_required() -> None:
    with pytest.raises(RuleError) as error:
        parse_date("\u3000", today=TODAY)
    assert error.value.key == "rule.required"
