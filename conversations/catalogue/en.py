"""English messages (selected per conversation with `english`).  Same keys as ja.py."""

from __future__ import annotations

MESSAGES_EN: dict[str, str] = {
    "field.family_name.label": "Family name",
    "field.given_name.label": "Given name",
    "field.institution_type.label": "Institution type",
    "field.prefecture.label": "Prefecture",
    "field.institution_code.label": "Institution code (7 digits)",
    "field.institution_name.label": "Institution name",
    "field.founder_name.label": "Founder (full-width)",
    "field.phone.label": "Phone number",
    "field.email.label": "Email address",
    "field.password.label": "Password",
    "field.terms_agreed.label": "Terms of use and privacy policy",
    "field.clinic_name.label": "Occupational clinic name (full-width)",
    "field.clinic_name_kana.label": "Occupational clinic name (kana)",
    "field.postal_code.label": "Postal code",
    "field.address.label": "Address (full-width)",
    "field.address_kana.label": "Address (kana)",
    "field.established_on.label": "Date established",
    "field.founder_name_kana.label": "Founder (kana)",
}
