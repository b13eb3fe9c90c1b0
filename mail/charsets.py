"""Decoding Japanese mail text: the charsets real clients send and the ways they get them wrong.

ISO-2022-JP carrying cp932's NEC and IBM extensions (①, ㈱, 髙), Shift_JIS that is really cp932, EUC-JP
with NEC row 13, and charsets that are missing or wrong.  `decode_text` never raises.
"""

from __future__ import annotations

import codecs
import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ALIASES = {
    **dict.fromkeys(
        _words(
            "shift_jis shift-jis sjis x-sjis ms_kanji csshiftjis windows-31j cp932 ms932 x-ms-cp932"
            " shift_jisx0213"
        ),
        "cp932",
    ),
    **dict.fromkeys(_words("euc-jp x-euc-jp eucjp cseucpkdfmtjapanese euc-jp-ms eucjp-ms"), "euc-jp"),
    **dict.fromkeys(
        _words(
            "iso-2022-jp iso-2022-jp-1 iso-2022-jp-2 iso-2022-jp-3 iso-2022-jp-ms csiso2022jp cp50220 cp50221"
            " cp50222 jis x-jis"
        ),
        "iso-2022-jp",
    ),
    **dict.fromkeys(_words("us-ascii ascii ansi_x3.4-1968 646 x-unknown unknown-8bit"), "ascii"),
    **dict.fromkeys(_words("utf8 utf-8 unicode-1-1-utf-8 x-unicode20utf8"), "utf-8"),
    **dict.fromkeys(_words("iso-8859-1 latin1 latin-1 us-latin1 windows-1252 cp1252"), "cp1252"),
    **dict.fromkeys(_words("gb2312 gbk x-gbk euc-cn"), "gb18030"),
    "ks_c_5601-1987": "cp949",
}
_WESTERN = frozenset({"cp1252", "iso8859-15", "iso-8859-15"})
_LENIENT = {"cp932": ("shift_jis_2004",), "euc-jp": ("euc_jis_2004",)}
_GUESSES = ("utf-8", "cp932", "euc-jp")
_DECODE_ERRORS = (LookupError, UnicodeError, ValueError, TypeError)


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes as text, trying hard and never raising.

    A declared charset is believed when the bytes decode in it (ISO-2022-JP with cp932 extensions,
    Shift_JIS as cp932, EUC-JP via EUC-JIS-2004 for NEC row 13).  When it is missing or wrong, UTF-8,
    cp932 and EUC-JP are tried and the likeliest Japanese reading wins; the last resort is UTF-8 with
    replacement characters.
    """
    label = _charset_label(charset)
    if label == "iso-2022-jp" or (label in (None, "ascii") and b"\x1b$" in data):
        text = _decode_iso2022jp(data)
        if text is not None:
            return text
    elif label in (None, "ascii"):
        if data.isascii():
            return data.decode("ascii")
    elif label is not None:
        if label in _WESTERN and not data.isascii() and (utf8 := _try(data, "utf-8")) is not None:
            return utf8  # valid UTF-8 under a Latin-1 label: the label is the mistake
        for codec in (label, *_LENIENT.get(label, ())):
            text = _try(data, codec)
            if text is not None:
                return text
    return _guess(data)


def _charset_label(charset: str | None) -> str | None:
    if not charset:
        return None
    label = charset.strip().strip("\"'").lower()
    return _ALIASES.get(label, label) or None


def _try(data: bytes, codec: str, errors: str = "strict") -> str | None:
    try:
        info = codecs.lookup(codec)
    except (LookupError, UnicodeError):  # UnicodeError: a damaged label (surrogates) is no codec name
        return None
    if not getattr(info, "_is_text_encoding", True):  # base64, rot13, zlib… are not charsets
        return None
    try:
        return data.decode(info.name, errors)
    except _DECODE_ERRORS:
        return None


def _guess(data: bytes) -> str:
    """Undeclared or wrongly declared 8-bit text: the likeliest of UTF-8, cp932 and EUC-JP."""
    utf8 = _try(data, "utf-8")
    if utf8 is not None:
        return utf8
    lossy = data.decode("utf-8", "replace")
    sample = lossy[:65536]
    bad = sample.count("\ufffd")
    good = sum(1 for ch in sample if ord(ch) > 0x7F) - bad
    if good >= 4 * bad:  # UTF-8 with a few broken bytes, not another charset
        return lossy
    readings = [(text, _japanese_score(text)) for codec in _GUESSES[1:] if (text := _try(data, codec))]
    if readings:
        return max(readings, key=lambda reading: reading[1])[0]
    return lossy


def _japanese_score(text: str) -> int:
    """Kana and kanji count for, what a wrong Japanese codec produces (半角カナ, PUA, C1) against."""
    score = 0
    for ch in text[:4096]:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF:
            score += 2
        elif 0x4E00 <= code <= 0x9FFF:
            score += 1
        elif 0xFF61 <= code <= 0xFF9F:
            score -= 1
        elif 0xE000 <= code <= 0xF8FF or 0x80 <= code < 0xA0:
            score -= 3
    return score


def _decode_iso2022jp(data: bytes) -> str | None:
    """ISO-2022-JP as Japanese clients write it: strict first, then run by run with cp932's extensions."""
    text = _try(data, "iso2022_jp")
    if text is not None:
        return text
    strict = _iso2022jp_runs(data, strict=True)
    if strict is not None:
        return strict
    for codec in ("iso2022_jp_2", "iso2022_jp_3", "iso2022_jp_ext"):
        text = _try(data, codec)
        if text is not None:
            return text
    if not data.isascii():
        return None  # 8-bit bytes under an ISO-2022-JP label: some other charset, guess it
    return _iso2022jp_runs(data, strict=False)


_ESCAPE = re.compile(rb"(\x1b(?:\$[@B]|\([BJI]|\$\(.|\$\).|.|$))", re.S)
_MODES = {b"\x1b$B": "kanji", b"\x1b$@": "kanji", b"\x1b(B": "ascii", b"\x1b(J": "ascii", b"\x1b(I": "kana"}
_KANA = bytes.maketrans(bytes(range(0x21, 0x60)), bytes(range(0xA1, 0xE0)))


def _iso2022jp_runs(data: bytes, *, strict: bool) -> str | None:
    """Decode run by run; a JIS X 0208 run the strict codec refuses is re-encoded as Shift_JIS pair by
    pair, so cp932 reads NEC row 13 (``ESC $ B -!`` = ①) and the NEC-selected IBM rows 89–92 (髙) that
    JIS X 0208 leaves empty.  Strict: None when anything is left unreadable."""
    errors = "strict" if strict else "replace"
    out: list[str] = []
    mode = "ascii"
    for index, chunk in enumerate(_ESCAPE.split(data)):
        if index % 2:
            mode = _MODES.get(chunk, "other")
            continue
        if not chunk:
            continue
        try:
            if mode == "ascii":
                out.append(chunk.decode("ascii", errors))
            elif mode == "kana":
                out.append(chunk.translate(_KANA).decode("cp932", errors))
            elif mode == "kanji":
                run = _try(b"\x1b$B" + chunk + b"\x1b(B", "iso2022_jp")
                out.append(run if run is not None else _jis_to_sjis(chunk).decode("cp932", errors))
            elif strict:
                return None
            else:
                out.append("\ufffd")
        except UnicodeDecodeError:
            return None
    return "".join(out)


def _jis_to_sjis(run: bytes) -> bytes:
    """A JIS X 0208 run as Shift_JIS bytes; bytes outside a 7-bit pair (line ends) are kept."""
    out = bytearray()
    i, n = 0, len(run)
    while i < n:
        first = run[i]
        second = run[i + 1] if i + 1 < n else 0
        if 0x21 <= first <= 0x7E and 0x21 <= second <= 0x7E:
            out += _jis_pair_to_sjis(first, second)
            i += 2
        else:
            out.append(first if first < 0x21 else 0x3F)  # a control byte stays, a broken pair is "?"
            i += 1
    return bytes(out)


def _jis_pair_to_sjis(first: int, second: int) -> bytes:
    lead = ((first - 0x21) >> 1) + 0x81
    if lead > 0x9F:
        lead += 0x40
    if first & 1:
        trail = second + 0x1F
        if trail >= 0x7F:
            trail += 1
    else:
        trail = second + 0x7E
    return bytes((lead, trail))


# ----------------------------------------------------------------------------------------- bodies
