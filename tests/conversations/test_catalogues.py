"""The Japanese and English catalogues match: same keys, same {placeholders}, every template formats."""

from __future__ import annotations

import importlib
import string
from types import ModuleType

import pytest

from conversations.catalogue.en import MESSAGES_EN
from conversations.catalogue.ja import FIELD_MESSAGES_JA, MESSAGES_JA


def placeholders(template: str) -> set[str]:
    """The names str.format looks up: `{name}`, `{name!r}`, `{name:>3}` and `{name.attr}` all give name."""
    names: set[str] = set()
    for _literal, field_name, _spec, _conversion in string.Formatter().parse(template):
        if field_name is None:
            continue
        names.add(field_name.split(".", 1)[0].split("[", 1)[0])
    return names


def comparable(template: str, lang: str) -> set[str]:
    """Placeholder names with the language's own suffix dropped.

    A parameter that must be worded per language is passed twice (rules/password.py gives `missing_ja`
    and `missing_en`); the Japanese template uses `{missing_ja}`, the English one `{missing_en}`, and they
    count as the same placeholder.  A template that uses the other language's variant still differs.
    """
    suffix = f"_{lang}"
    return {name.removesuffix(suffix) for name in placeholders(template)}


def _dummy(template: str) -> dict[str, str]:
    return {name: f"<{name}>" for name in placeholders(template)}


def _check_keys(ja: dict[str, str], en: dict[str, str]) -> None:
    missing = sorted(set(ja) - set(en))
    extra = sorted(set(en) - set(ja))
    assert not missing, f"keys without an English message: {missing}"
    assert not extra, f"English keys that ja has not: {extra}"


def _check_placeholders(ja: dict[str, str], en: dict[str, str], *, per_language: bool = False) -> None:
    def names(template: str, lang: str) -> set[str]:
        return comparable(template, lang) if per_language else placeholders(template)

    differing = {
        key: (sorted(placeholders(ja[key])), sorted(placeholders(en[key])))
        for key in sorted(set(ja) & set(en))
        if names(ja[key], "ja") != names(en[key], "en")
    }
    assert not differing, f"placeholders differ (ja, en): {differing}"


def _check_formats(catalogue: dict[str, str]) -> None:
    for key, template in catalogue.items():
        assert isinstance(template, str) and template.strip(), key
        try:
            template.format(**_dummy(template))
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            pytest.fail(f"{key}: {template!r} does not format: {error!r}")


def test_fields_are_part_of_the_japanese_catalogue() -> None:
    for key, template in FIELD_MESSAGES_JA.items():
        assert MESSAGES_JA[key] == template


def test_every_japanese_key_has_an_english_message_and_back() -> None:
    _check_keys(MESSAGES_JA, MESSAGES_EN)


def test_placeholders_are_the_same_in_both_languages() -> None:
    _check_placeholders(MESSAGES_JA, MESSAGES_EN)


@pytest.mark.parametrize("catalogue", [MESSAGES_JA, MESSAGES_EN], ids=["ja", "en"])
def test_every_template_formats(catalogue: dict[str, str]) -> None:
    _check_formats(catalogue)


SAME_IN_BOTH = frozenset({"choice.ok", "choice.option", "choice.plain", "template"})


def test_english_messages_are_not_copies_of_the_japanese() -> None:
    copied = sorted(
        key for key in MESSAGES_JA if key not in SAME_IN_BOTH and MESSAGES_EN.get(key) == MESSAGES_JA[key]
    )
    assert not copied, f"English messages identical to the Japanese: {copied}"


def test_english_labels_work_as_label_value_lines() -> None:
    # commands.parse_labelled_lines reads labels of at most 40 characters, without a colon
    for key, label in MESSAGES_EN.items():
        if key.endswith(".label"):
            assert len(label) <= 40 and ":" not in label and "：" not in label, key


def test_no_placeholders_are_positional() -> None:
    for catalogue in (MESSAGES_JA, MESSAGES_EN):
        for key, template in catalogue.items():
            names = placeholders(template)
            assert all(name and not name.isdigit() for name in names), key


# ------------------------------------------------------------------ rule messages (another catalogue pair)


def _rules() -> tuple[dict[str, str], dict[str, str]]:
    modules: list[ModuleType] = []
    for name in ("conversations.catalogue.rules_ja", "conversations.catalogue.rules_en"):
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise  # the module exists but is broken: that is a failure, not a skip
            pytest.skip(f"{name} does not exist yet")
    ja, en = modules
    return ja.RULE_MESSAGES_JA, en.RULE_MESSAGES_EN


def test_rule_messages_have_both_languages() -> None:
    ja, en = _rules()
    _check_keys(ja, en)


def test_rule_message_placeholders_are_the_same() -> None:
    ja, en = _rules()
    _check_placeholders(ja, en, per_language=True)


def test_rule_messages_format() -> None:
    ja, en = _rules()
    _check_formats(ja)
    _check_formats(en)


def test_rule_and_conversation_keys_do_not_collide() -> None:
    ja, en = _rules()
    assert not set(ja) & set(MESSAGES_JA), "a rule key shadows (or is shadowed by) a conversation key"
    assert not set(en) & set(MESSAGES_EN)
