"""新設年月日: a real date, stored YYYY-MM-DD; 西暦 or 和暦 as people write them (SPEC §3, Branch B).

A future date is acceptable after an explicit yes (a clinic registering ahead of its opening).
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from conversations.rules.errors import Normalised, Notice, RuleError
from conversations.rules.text import clean


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    first_day: datetime.date
    last_day: datetime.date | None


ERAS: tuple[Era, ...] = (
    Era("明治", "M", datetime.date(1868, 1, 25), datetime.date(1912, 7, 29)),
    Era("大正", "T", datetime.date(1912, 7, 30), datetime.date(1926, 12, 24)),
    Era("昭和", "S", datetime.date(1926, 12, 25), datetime.date(1989, 1, 7)),
    Era("平成", "H", datetime.date(1989, 1, 8), datetime.date(2019, 4, 30)),
    Era("令和", "R", datetime.date(2019, 5, 1), None),
)
_ERA_BY_MARK = {mark: era for era in ERAS for mark in (era.name, era.letter)}

_WESTERN = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_JAPANESE = re.compile(
    r"^(明治|大正|昭和|平成|令和|[MTSHR])\.?(元|\d{1,2})(?:年|[-/.])(\d{1,2})(?:月|[-/.])(\d{1,2})日?$"
)
_WEEKDAY = re.compile(r"\((?:[月火水木金土日]|[A-Za-z]{2,3})\.?\)$")
_KANJI_NUMBER = re.compile(r"[〇一二三四五六七八九十]+")
_KANJI_DIGITS = {char: index for index, char in enumerate("〇一二三四五六七八九")}


def _kanji_number(match: re.Match[str]) -> str:
    """令和六年四月一日, 二〇二四年: 十 for tens, or digit by digit."""
    numeral = match.group(0)
    if "十" not in numeral:
        return "".join(str(_KANJI_DIGITS[char]) for char in numeral)
    tens, _, units = numeral.partition("十")
    if "十" in units or len(tens) > 1 or len(units) > 1:
        return numeral  # not a number people write in a date; left for date.format
    return str((_KANJI_DIGITS[tens] if tens else 1) * 10 + (_KANJI_DIGITS[units] if units else 0))


def _compact_form(text: str) -> str:
    """NFKC (full-width digits, ／, ．), no spaces, no trailing (月), kanji numerals as digits, R for r."""
    compatible = re.sub(r"\s+", "", unicodedata.normalize("NFKC", clean(text)))
    compatible = _WEEKDAY.sub("", compatible).upper()
    return _KANJI_NUMBER.sub(_kanji_number, compatible)


def _date(year: int, month: int, day: int, typed: str) -> datetime.date:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise RuleError("date.invalid", value=typed) from None


def parse_date(text: str, *, today: datetime.date) -> Normalised:
    """``YYYY-MM-DD`` from 2024-04-01, 2024/4/1, 20240401, 2024年4月1日, 令和6年4月1日, R6.4.1, …"""
    cleaned = clean(text)
    if not cleaned:
        raise RuleError("rule.required")
    compact = _compact_form(cleaned)

    if match := _WESTERN.match(compact):
        year = int(match.group(1))
        month, day = (match.group(2), match.group(3)) if match.group(2) else (match.group(4), match.group(5))
        date = _date(year, int(month), int(day), cleaned)
    elif match := _COMPACT.match(compact):
        date = _date(int(match.group(1)), int(match.group(2)), int(match.group(3)), cleaned)
    elif match := _JAPANESE.match(compact):
        era = _ERA_BY_MARK[match.group(1)]
        era_year = 1 if match.group(2) == "元" else int(match.group(2))
        if era_year < 1:
            raise RuleError("date.era_range", value=cleaned, era=era.name)
        date = _date(era.first_day.year + era_year - 1, int(match.group(3)), int(match.group(4)), cleaned)
        if date < era.first_day or (era.last_day is not None and date > era.last_day):
            raise RuleError("date.era_range", value=cleaned, era=era.name)
    else:
        raise RuleError("date.format")

    value = date.isoformat()
    notices = (Notice("date.converted", {"value": value}),) if value != cleaned else ()
    warning = Notice("date.future", {"value": value}) if date > today else None
    return Normalised(value, notices=notices, warning=warning)
