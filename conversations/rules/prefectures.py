"""都道府県: the 47 JIS X 0401 codes and the ways people write them (SPEC §3, prefecture)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import jaconv

from conversations.rules.errors import Normalised, RuleError
from conversations.rules.text import clean


@dataclass(frozen=True)
class Prefecture:
    code: str  # JIS X 0401, "01".."47"
    name: str  # 北海道, 青森県, …
    short: str  # 北海道, 青森, 東京, …
    kana: str  # ひらがな of ``short``
    romaji: str


_TABLE = """
01 北海道 北海道 ほっかいどう hokkaido
02 青森県 青森 あおもり aomori
03 岩手県 岩手 いわて iwate
04 宮城県 宮城 みやぎ miyagi
05 秋田県 秋田 あきた akita
06 山形県 山形 やまがた yamagata
07 福島県 福島 ふくしま fukushima
08 茨城県 茨城 いばらき ibaraki
09 栃木県 栃木 とちぎ tochigi
10 群馬県 群馬 ぐんま gunma
11 埼玉県 埼玉 さいたま saitama
12 千葉県 千葉 ちば chiba
13 東京都 東京 とうきょう tokyo
14 神奈川県 神奈川 かながわ kanagawa
15 新潟県 新潟 にいがた niigata
16 富山県 富山 とやま toyama
17 石川県 石川 いしかわ ishikawa
18 福井県 福井 ふくい fukui
19 山梨県 山梨 やまなし yamanashi
20 長野県 長野 ながの nagano
21 岐阜県 岐阜 ぎふ gifu
22 静岡県 静岡 しずおか shizuoka
23 愛知県 愛知 あいち aichi
24 三重県 三重 みえ mie
25 滋賀県 滋賀 しが shiga
26 京都府 京都 きょうと kyoto
27 大阪府 大阪 おおさか osaka
28 兵庫県 兵庫 ひょうご hyogo
29 奈良県 奈良 なら nara
30 和歌山県 和歌山 わかやま wakayama
31 鳥取県 鳥取 とっとり tottori
32 島根県 島根 しまね shimane
33 岡山県 岡山 おかやま okayama
34 広島県 広島 ひろしま hiroshima
35 山口県 山口 やまぐち yamaguchi
36 徳島県 徳島 とくしま tokushima
37 香川県 香川 かがわ kagawa
38 愛媛県 愛媛 えひめ ehime
39 高知県 高知 こうち kochi
40 福岡県 福岡 ふくおか fukuoka
41 佐賀県 佐賀 さが saga
42 長崎県 長崎 ながさき nagasaki
43 熊本県 熊本 くまもと kumamoto
44 大分県 大分 おおいた oita
45 宮崎県 宮崎 みやざき miyazaki
46 鹿児島県 鹿児島 かごしま kagoshima
47 沖縄県 沖縄 おきなわ okinawa
"""

PREFECTURES: tuple[Prefecture, ...] = tuple(Prefecture(*line.split()) for line in _TABLE.strip().splitlines())
_BY_CODE = {prefecture.code: prefecture for prefecture in PREFECTURES}
_KANA_SUFFIX = {"都": "と", "道": "", "府": "ふ", "県": "けん"}  # 北海道's どう is already in its kana
_ROMAJI_SUFFIX = {"都": "to", "道": "", "府": "fu", "県": "ken"}


def _romaji_key(text: str) -> str:
    """Lower case, macrons and long vowels folded (Tōkyō, toukyou, Tokyo-to → tokyoto)."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    letters = "".join(char for char in decomposed if "a" <= char <= "z")
    for long_vowel, short_vowel in (("ou", "o"), ("oo", "o"), ("uu", "u")):
        letters = letters.replace(long_vowel, short_vowel)
    return letters


def _names() -> dict[str, str]:
    names: dict[str, str] = {}
    for prefecture in PREFECTURES:
        suffix = prefecture.name[-1]
        for name in (prefecture.name, prefecture.short):
            names[name] = prefecture.code
        for kana in (prefecture.kana, prefecture.kana + _KANA_SUFFIX[suffix]):
            names[kana] = prefecture.code
        for romaji in (
            prefecture.romaji,
            prefecture.romaji + _ROMAJI_SUFFIX[suffix],
            prefecture.romaji + "prefecture",
        ):
            names[_romaji_key(romaji)] = prefecture.code
    return names


_NAMES = _names()
_CODE_AND_NAME = re.compile(r"^(\d{1,2})\s*(?:[:.\s]\s*(.*))?$")


def _code_for(name: str) -> str | None:
    name = name.strip()
    if not name:
        return None
    hiragana = jaconv.kata2hira(name)
    return _NAMES.get(name) or _NAMES.get(hiragana) or _NAMES.get(_romaji_key(name) or "-")


def parse_prefecture(text: str) -> Normalised:
    """The 2-digit code from a code (13, １３), ``13: 東京都``, a name (東京都, 東京), kana or romaji."""
    # NFKC: full-width digits and colon, half-width kana → full-width
    compatible = unicodedata.normalize("NFKC", clean(text)).strip()
    if not compatible:
        raise RuleError("rule.required")
    match = _CODE_AND_NAME.match(compatible)
    if match:
        code = f"{int(match.group(1)):02d}"
        if code not in _BY_CODE:
            raise RuleError("prefecture.unknown")
        named = match.group(2)
        if named and named.strip() and _code_for(named) != code:
            raise RuleError("prefecture.unknown")
        return Normalised(code)
    code_for_name = _code_for(compatible)
    if code_for_name is None:
        raise RuleError("prefecture.unknown")
    return Normalised(code_for_name)


def prefecture_name(code: str) -> str:
    """東京都 for "13".  Raises KeyError for anything that is not one of the 47 codes."""
    return _BY_CODE[code].name


def prefecture_code_for_name(name: str) -> str | None:
    """The code (``13``) for 東京都, 東京, とうきょう or tokyo; None when the name is not a prefecture's."""
    return _code_for(unicodedata.normalize("NFKC", clean(name)))
