"""Every key a rule raises or returns has a Japanese and an English sentence that format() fills."""

import datetime
import re
import string
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import conversations.rules
from conversations.catalogue.rules_en import RULE_MESSAGES_EN
from conversations.catalogue.rules_ja import RULE_MESSAGES_JA
from conversations.rules import dates, email, institution, japanese, password, phone, postal, prefectures
from conversations.rules.errors import Normalised, RuleError

CATALOGUES = {"ja": RULE_MESSAGES_JA, "en": RULE_MESSAGES_EN}
RULES_DIR = Path(conversations.rules.__file__).parent

# Keys the engine raises from the rules' results (postal.lookup() → () is postal.unknown).
ENGINE_KEYS = {"postal.unknown": {"code": "1000001"}}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _keys_in_source() -> set[str]:
    pattern = re.compile(r"""(?:RuleError|Notice)\(\s*"([a-z_]+\.[a-z_]+)\"""")
    keys: set[str] = set()
    for path in RULES_DIR.glob("*.py"):
        keys.update(pattern.findall(path.read_text(encoding="utf-8")))
    return keys


def test_same_keys_in_both_languages() -> None:
    assert set(RULE_MESSAGES_JA) == set(RULE_MESSAGES_EN)


def test_every_key_in_the_source_has_both_texts() -> None:
    """No rule raises a key the catalogues lack, and the catalogues hold no key nobody uses."""
    used = _keys_in_source() | set(ENGINE_KEYS)
    assert used - set(RULE_MESSAGES_JA) == set()
    assert set(RULE_MESSAGES_JA) - used == set()


def test_both_languages_use_the_same_placeholders() -> None:
    """Except password.classes, which names what is missing in each language's own words."""
    for key, japanese_text in RULE_MESSAGES_JA.items():
        english = _placeholders(RULE_MESSAGES_EN[key])
        if key == "password.classes":
            assert (_placeholders(japanese_text), english) == ({"missing_ja"}, {"missing_en"})
        else:
            assert _placeholders(japanese_text) == english, key


def _corpus() -> Iterator[tuple[str, Callable[[str], Normalised]]]:
    today = datetime.date(2025, 6, 1)
    rules: dict[str, Callable[[str], Normalised]] = {
        "plain": lambda t: japanese.normalise_plain(t, max_length=5),
        "zenkaku": lambda t: japanese.normalise_zenkaku(t, max_length=5, allow_department_suffix=True),
        "kana": lambda t: japanese.normalise_hankaku_kana(t, max_length=5),
        "prefecture": prefectures.parse_prefecture,
        "type": institution.parse_institution_type,
        "code": institution.normalise_code,
        "check": lambda t: institution.check_code(t, "01", "1"),
        "phone_plain": phone.normalise_phone_plain,
        "phone_hyphenated": phone.normalise_phone_hyphenated,
        "email": email.normalise_email,
        "date": lambda t: dates.parse_date(t, today=today),
        "postal": postal.normalise_postal_code,
    }
    texts = [
        "",
        "ｶﾞｽ",
        "①",
        "㈱",
        "髙",
        "𩸽",
        "～",
        "基金",
        "ｷｷﾝ",
        "ききんたろうさん",
        "13",
        "48",
        "医科",
        "２",
        "0113719",
        "9999991",
        "011371",
        "011371a",
        "０１１３７１９",
        "01201234567",
        "0312345678",
        "03-1234-5678",
        "0000000000",
        "123",
        "abc",
        "Taro@Example.JP",
        "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
        "a" * 41 + "@example.jp",
        "a!@b.jp",
        "a@b",
        "2024/4/1",
        "2024-02-30",
        "令和元年4月1日",
        "2030-01-01",
        "100-0001",
    ]
    for text in texts:
        for rule in rules.values():
            yield text, rule


def _produced() -> Iterator[tuple[str, dict[str, Any]]]:
    for text, rule in _corpus():
        try:
            result = rule(text)
        except RuleError as error:
            yield error.key, error.params
        else:
            for notice in (*result.notices, *((result.warning,) if result.warning else ())):
                yield notice.key, dict(notice.params)
    for typed, confirmation in [("short", "short"), ("abcdefgh", "abcdefgh"), ("Ａbcdefg1", "x")]:
        try:
            password.check_password(typed, confirmation)
        except RuleError as error:
            yield error.key, error.params
    try:
        password.check_password("Abcdefg1", "Abcdefg2")
    except RuleError as error:
        yield error.key, error.params
    yield from ENGINE_KEYS.items()


def test_every_produced_key_formats_in_both_languages() -> None:
    """Run the rules over nasty inputs: every key they give formats with the params they give."""
    seen: set[str] = set()
    for key, params in _produced():
        seen.add(key)
        for language, catalogue in CATALOGUES.items():
            assert key in catalogue, (language, key)
            text = catalogue[key].format(**params)
            assert text and "{" not in text, (language, key)
    # the corpus reaches every key in the catalogues
    assert set(RULE_MESSAGES_JA) - seen == set()


@pytest.mark.parametrize("key", sorted(RULE_MESSAGES_JA))
def test_japanese_is_polite(key: str) -> None:
    """Sentences end like a help desk's: 。 or a question, never a bare fragment."""
    assert RULE_MESSAGES_JA[key].rstrip().endswith(("。", "）", "？"))
