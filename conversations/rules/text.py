"""What every rule does first to the person's text (SPEC §3.1, last line)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Invisible characters that slip in when text is pasted from web pages, PDFs or Word.
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
_VARIATION_SELECTOR = re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


@lru_cache(maxsize=4096)  # a mail body repeats a few hundred distinct characters
def _is_invisible(char: str) -> bool:
    if char in _ZERO_WIDTH:
        return True
    if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
        return True
    # Variation selectors (異体字セレクタ) are invisible too; a name pasted with one would otherwise be
    # refused for a character the person cannot see.
    code = ord(char)
    return 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF


def clean(text: str) -> str:
    """NFC; zero-width, control, surrogate and variation-selector characters dropped; space trimmed.

    ``str.strip`` trims every Unicode space, the full-width space U+3000 included.
    """
    normalised = unicodedata.normalize("NFC", text)
    if normalised.isprintable() and not _VARIATION_SELECTOR.search(normalised):
        return normalised.strip()  # the usual case: nothing to drop (every dropped kind is unprintable)
    visible = "".join(char for char in normalised if not _is_invisible(char))
    # Dropping a character can bring a base and a combining mark together: compose again.
    return unicodedata.normalize("NFC", visible).strip()
