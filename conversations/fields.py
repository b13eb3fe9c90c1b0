"""The registration form as data (手順書 3–4): one declaration per field, two branches.

Adding a field is adding one `Field` here and its messages (``field.<id>.label|prompt|help``) in the
catalogues; the engine walks these lists and never names a field itself, except the few with a
behaviour of their own (institution_type picks the branch, postal_code offers the look-up, password
is a secret).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from conversations.rules import dates, email, institution, japanese, phone, postal, prefectures
from conversations.rules.errors import Normalised, RuleError


@dataclass(frozen=True)
class FieldContext:
    """What a normaliser may need besides the text: the other values and today's date (JST)."""

    values: Mapping[str, str]
    today: date


Normaliser = Callable[[str, FieldContext], Normalised]


@dataclass(frozen=True)
class Field:
    id: str
    normalise: Normaliser
    aliases: tuple[str, ...] = ()  # labels accepted in `label: value` lines besides id and label
    secret: bool = False  # collected out of band (SPEC §3.3)
    messages: str = ""  # message-key stem when it differs from the id (branch B's phone)
    summary_label: bool = False  # 入力内容確認 words it differently from the form (手順書 5)

    @property
    def label_key(self) -> str:
        return f"field.{self.id}.label"

    @property
    def summary_key(self) -> str:
        return f"field.{self.id}.summary" if self.summary_label else self.label_key

    @property
    def prompt_key(self) -> str:
        return f"field.{self.messages or self.id}.prompt"

    @property
    def help_key(self) -> str:
        return f"field.{self.messages or self.id}.help"


# ----------------------------------------------------------------------------------------- normalisers


def _name(text: str, ctx: FieldContext) -> Normalised:
    return japanese.normalise_plain(text, max_length=50)


def _institution_type(text: str, ctx: FieldContext) -> Normalised:
    return institution.parse_institution_type(text)


def _prefecture(text: str, ctx: FieldContext) -> Normalised:
    return prefectures.parse_prefecture(text)


def _institution_code(text: str, ctx: FieldContext) -> Normalised:
    code = institution.normalise_code(text)
    checked = institution.check_code(
        code.value, ctx.values.get("prefecture", ""), ctx.values.get("institution_type", "")
    )
    return Normalised(code.value, code.notices + checked.notices, checked.warning)


def _institution_name(text: str, ctx: FieldContext) -> Normalised:
    return japanese.normalise_plain(text, max_length=100)


def _zenkaku(text: str, ctx: FieldContext) -> Normalised:
    return japanese.normalise_zenkaku(text, max_length=100)


def _clinic_name(text: str, ctx: FieldContext) -> Normalised:
    return japanese.normalise_zenkaku(text, max_length=100, allow_department_suffix=True)


def _kana(text: str, ctx: FieldContext) -> Normalised:
    return japanese.normalise_hankaku_kana(text, max_length=100)


def _postal_code(text: str, ctx: FieldContext) -> Normalised:
    return postal.normalise_postal_code(text)


# 「なし」 at 所在地の続き: the looked-up address is the whole address (as typed in either kana set).
_NOTHING_MORE = frozenset({"なし", "ナシ", "無し", "ﾅｼ", "ＮＯＮＥ", "NONE", "none", "ｎｏｎｅ"})


def _with_looked_up(
    looked_up: str, typed: Normalised, renormalise: Callable[[str], Normalised]
) -> Normalised:
    """住所検索: the looked-up part + what the person typed (番地・建物), unless they typed it all."""
    if looked_up and typed.value in _NOTHING_MORE:
        return renormalise(looked_up)
    if not looked_up or typed.value.startswith(looked_up) or _starts_with_prefecture(typed.value):
        return typed
    combined = renormalise(looked_up + typed.value)
    return Normalised(combined.value, typed.notices, combined.warning)


def _starts_with_prefecture(value: str) -> bool:
    return any(value.startswith(p.name) for p in prefectures.PREFECTURES)


def _address(text: str, ctx: FieldContext) -> Normalised:
    def rule(value: str) -> Normalised:
        return japanese.normalise_zenkaku(value, max_length=200)

    return _with_looked_up(ctx.values.get("address_lookup", ""), rule(text), rule)


def _address_kana(text: str, ctx: FieldContext) -> Normalised:
    def rule(value: str) -> Normalised:
        return japanese.normalise_hankaku_kana(value, max_length=200)

    return _with_looked_up(ctx.values.get("address_kana_lookup", ""), rule(text), rule)


def _established_on(text: str, ctx: FieldContext) -> Normalised:
    return dates.parse_date(text, today=ctx.today)


def _phone_plain(text: str, ctx: FieldContext) -> Normalised:
    return phone.normalise_phone_plain(text)


def _phone_hyphenated(text: str, ctx: FieldContext) -> Normalised:
    return phone.normalise_phone_hyphenated(text)


def _email(text: str, ctx: FieldContext) -> Normalised:
    return email.normalise_email(text)


def _no_text(text: str, ctx: FieldContext) -> Normalised:
    # A password never travels as a chat or mail message (SPEC §3.3).
    raise RuleError("password.not_in_chat")


_AGREE_WORDS = {
    "同意します",
    "同意する",
    "同意",
    "はい",
    "yes",
    "y",
    "agree",
    "i agree",
    "ok",
    "同意します。",
}


def _terms(text: str, ctx: FieldContext) -> Normalised:
    word = unicodedata.normalize("NFKC", text).strip().lower()
    if word in _AGREE_WORDS:
        return Normalised("同意します")
    raise RuleError("terms.required")


# --------------------------------------------------------------------------------------------- fields

FAMILY_NAME = Field("family_name", _name, ("氏", "苗字", "せい"))
GIVEN_NAME = Field("given_name", _name, ("なまえ",))
INSTITUTION_TYPE = Field("institution_type", _institution_type, ("所属機関", "所属機関選択", "機関区分"))
PREFECTURE = Field("prefecture", _prefecture, ("都道府県",))
INSTITUTION_CODE = Field(
    "institution_code",
    _institution_code,
    (
        "医療機関等・訪問看護ステーションコード（7桁）",
        "医療機関等コード",
        "医療機関コード",
        "コード",
        "7桁コード",
    ),
)
INSTITUTION_NAME = Field(
    "institution_name",
    _institution_name,
    ("医療機関等・訪問看護ステーション名", "医療機関等名", "医療機関名", "施設名", "ステーション名"),
    summary_label=True,
)
FOUNDER_NAME = Field(
    "founder_name", _zenkaku, ("開設者", "開設者（全角）", "開設者（漢字）", "開設者名"), summary_label=True
)
PHONE_A = Field("phone", _phone_plain, ("電話", "電話番号", "tel"))
PHONE_B = Field("phone", _phone_hyphenated, ("電話", "電話番号", "tel"), messages="phone_b")
EMAIL = Field("email", _email, ("メール", "メールアドレス", "mail", "e-mail"))
PASSWORD = Field(
    "password", _no_text, ("パスワード", "パスワード（確認用）", "password_confirmation"), secret=True
)
TERMS = Field("terms_agreed", _terms, ("利用規約", "利用規約・プライバシーポリシー", "同意"))
CLINIC_NAME = Field("clinic_name", _clinic_name, ("職域診療所名称", "職域診療所名称（全角）", "診療所名"))
CLINIC_NAME_KANA = Field("clinic_name_kana", _kana, ("職域診療所名称（カナ）", "診療所名カナ"))
POSTAL_CODE = Field("postal_code", _postal_code, ("郵便番号", "〒"))
ADDRESS = Field("address", _address, ("所在地", "所在地（全角）", "住所"))
ADDRESS_KANA = Field("address_kana", _address_kana, ("所在地（カナ）", "住所カナ"))
ESTABLISHED_ON = Field("established_on", _established_on, ("新設年月日", "開設日", "新設日"))
FOUNDER_NAME_KANA = Field("founder_name_kana", _kana, ("開設者（カナ）", "開設者カナ"))

COMMON: tuple[Field, ...] = (FAMILY_NAME, GIVEN_NAME, INSTITUTION_TYPE)

# 手順書 4 ① 医科・歯科・調剤・訪問看護
BRANCH_A: tuple[Field, ...] = (
    *COMMON,
    PREFECTURE,
    INSTITUTION_CODE,
    INSTITUTION_NAME,
    FOUNDER_NAME,
    PHONE_A,
    EMAIL,
    PASSWORD,
    TERMS,
)

# 手順書 4 ② 職域診療所
BRANCH_B: tuple[Field, ...] = (
    *COMMON,
    PREFECTURE,
    CLINIC_NAME,
    CLINIC_NAME_KANA,
    POSTAL_CODE,
    ADDRESS,
    ADDRESS_KANA,
    ESTABLISHED_ON,
    FOUNDER_NAME,
    FOUNDER_NAME_KANA,
    PHONE_B,
    EMAIL,
    PASSWORD,
    TERMS,
)

OCCUPATIONAL_CLINIC = "7"  # 所属機関 7: 職域診療所 → branch B


def branch_for(values: Mapping[str, str]) -> tuple[Field, ...]:
    """The field list that applies: branch A until 所属機関 says 7 (職域診療所)."""
    return BRANCH_B if values.get("institution_type") == OCCUPATIONAL_CLINIC else BRANCH_A


def asked_fields(values: Mapping[str, str], channel: str) -> tuple[Field, ...]:
    """The fields this conversation asks, in order.  By mail the password is set on the page."""
    fields = branch_for(values)
    if channel == "email":
        fields = tuple(f for f in fields if not f.secret)
    return fields


def field_by_id(field_id: str, values: Mapping[str, str] | None = None) -> Field | None:
    """The declaration of a field id, as the branch that ``values`` select declares it."""
    for f in (*branch_for(values or {}), *BRANCH_A, *BRANCH_B):
        if f.id == field_id:
            return f
    return None


ALL_FIELD_IDS: frozenset[str] = frozenset(f.id for f in (*BRANCH_A, *BRANCH_B))


def validate_declarations() -> None:
    """Checked at import: ids unique per branch, both branches start with the common fields."""
    for branch in (BRANCH_A, BRANCH_B):
        ids = [f.id for f in branch]
        if len(ids) != len(set(ids)):
            raise AssertionError("duplicate field id in a branch")
        if branch[: len(COMMON)] != COMMON:
            raise AssertionError("a branch must start with the common fields")
        if branch[-1] is not TERMS:
            raise AssertionError("利用規約 is the last question of every branch")


validate_declarations()
