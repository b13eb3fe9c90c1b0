"""English sentences for the rules' error and notice keys (conversations/rules/).

Each value is a ``str.format`` template filled with the `RuleError`'s or `Notice`'s params; the keys are
the same as in `rules_ja`.
"""

from __future__ import annotations

RULE_MESSAGES_EN: dict[str, str] = {
    # --- every field
    "rule.required": "Nothing was entered. Please enter a value.",
    "rule.too_long": "Please use at most {max} characters (this has {length}).",
    # --- full-width (全角) set
    "zenkaku.env_dependent": (
        "“{char}” is a platform-dependent character (環境依存文字) and cannot be used. "
        "Please write “{suggestion}” instead."
    ),
    "zenkaku.env_dependent_kanji": (
        "“{char}” is a kanji outside JIS levels 1 and 2 (環境依存文字) and cannot be used. "
        "Please use its common form (for example 髙→高, 﨑→崎)."
    ),
    "zenkaku.not_allowed": (
        "“{char}” cannot be used. Allowed: full-width hiragana, katakana, letters and digits, "
        "the symbols 々 ， ー (long vowel mark), and kanji of JIS levels 1 and 2."
    ),
    "zenkaku.converted": "Converted to full-width; it will be registered as “{value}”.",
    # --- half-width kana (半角カナ) set
    "kana.not_allowed": (
        "“{char}” cannot be used. Please use half-width katakana, half-width letters (either case) and "
        "digits, “,” “&” and half-width spaces. Write kanji as their reading in kana."
    ),
    "kana.converted": "Converted to half-width kana; it will be registered as “{value}”.",
    # --- prefecture, institution type
    "prefecture.unknown": (
        "That prefecture was not recognised. Please enter its name (e.g. 東京都, Tokyo) or its two-digit "
        "code (e.g. 13)."
    ),
    "institution_type.unknown": (
        "Please choose one: 1: 医科 (medical), 3: 歯科 (dental), 4: 調剤 (pharmacy), "
        "6: 訪問看護 (home-visit nursing), 7: 職域診療所 (workplace clinic) — the number or the name."
    ),
    # --- 7-digit institution code
    "institution_code.digits": "The code must be 7 digits (you entered {length}).",
    "institution_code.not_digits": (
        "“{char}” cannot be used in the code. Please enter 7 digits (e.g. 0123456)."
    ),
    "institution_code.normalised": "Converted to half-width digits; it will be registered as “{value}”.",
    "institution_code.check_digit": (
        "The check digit (7th digit) of code “{code}” (10 digits: {ten_digit_code}) does not match. "
        "Please check the code. Continue with it anyway? (yes / edit)"
    ),
    # --- phone
    "phone.format": (
        "Please enter a phone number of 10 or 11 half-width digits starting with 0 (e.g. {example})."
    ),
    "phone.normalised": "The phone number will be registered as “{value}”.",
    "phone.grouped": "Hyphens added; it will be registered as “{value}”.",
    "phone.unknown_number": (
        "“{value}” does not look like a usual Japanese phone number. Please check it. "
        "Continue with it anyway? (yes / edit)"
    ),
    # --- email
    "email.too_long": (
        "Email addresses of up to 40 characters can be used (this one has {length}). An address of 41 or "
        'more characters cannot be registered: please contact the help desk (お問い合わせ) — send "human" '
        "and we will put you through. If you have another address of 40 characters or fewer, enter that one."
    ),
    "email.chars": (
        "“{char}” cannot be used in the email address. Allowed: lower-case letters, digits, period (.), "
        "hyphen (-), plus (+) and underscore (_)."
    ),
    "email.format": "That is not a valid email address. It needs exactly one “@” (e.g. taro@example.jp).",
    "email.domain": (
        'The part after "@" ({domain}) is not a mail domain. It needs a dot, like "example.jp" '
        "(e.g. taro@example.jp)."
    ),
    "email.at_converted": "Converted to half-width; it will be registered as “{value}”.",
    "email.lowercased": "Converted to lower case; it will be registered as “{value}”.",
    # --- password
    "password.length": "The password must be 8 to 100 characters long (this one has {length}).",
    "password.chars": (
        "Please use half-width letters, digits and symbols only (no full-width characters or spaces)."
    ),
    "password.classes": (
        "The password needs at least one upper-case letter, one lower-case letter and one digit "
        "(missing: {missing_en})."
    ),
    "password.mismatch": "The confirmation does not match the password. Please enter the same password.",
    # --- date of establishment
    "date.format": (
        "That date was not recognised. Please write it like 2024-04-01, 2024/4/1, 20240401, 令和6年4月1日 "
        "or R6.4.1."
    ),
    "date.invalid": "“{value}” is not a real date. Please check the year, month and day.",
    "date.era_range": "“{value}” is outside the {era} era. Please check the era and the year.",
    "date.future": (
        "The date of establishment “{value}” is in the future. Continue with it anyway? (yes / edit)"
    ),
    "date.converted": "It will be registered as “{value}”.",
    # --- postal code
    "postal.format": "Please enter the postal code as 7 half-width digits (e.g. 1000001 or 100-0001).",
    "postal.unknown": "Postal code “{code}” was not found. Please check it.",
}
