"""Cutting what a person wrote from what their mail client quoted under it (SPEC §5 Email).

`extract_reply` works on text; `html_to_text` makes an HTML body text and first drops the quotes that
HTML marks (Gmail's ``gmail_quote``, ``<blockquote>``, Outlook's ``divRplyFwdMsg``).  Full-width
characters are left as they are: normalising answers is the engine's job.

What ends a reply (the first one found): the bot's own 「この行より上にご返信ください」 marker; an
attribution (Gmail, Apple Mail, Thunderbird, Becky!, in English and Japanese) followed only by quoted
lines; Outlook's ``-----Original Message-----``, ``_____`` + ``From:``/``差出人:``, or a
``From:``/``差出人:`` + ``Sent:``/``送信日時:`` block; a forward marker; ``-- ``; a phone footer
(``iPhoneから送信``).  Quoted lines (``>``, ``＞``) are dropped wherever they are, answers between them
are kept, and an answer right under a quoted template line ``> 姓:`` becomes ``姓: <answer>``.  A rule
line (``-----``, ``━━━━━``…) ends the reply only when no ``label: value`` answer follows it.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

MARKERS = ("この行より上にご返信ください", "please reply above this line")

_SPACE = " \t\u3000"
_QUOTE_MARKS = (">", "＞")
_MAX_BOUNDARY = 300  # no attribution, marker or footer is longer: longer lines are always content


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ORIGINAL = re.compile(r"-{2,}\s*(?:original message|元のメッセージ|オリジナル\s*メッセージ)\s*-{2,}", re.I)
_FORWARD = re.compile(
    r"-{3,}\s*(?:forwarded message|転送(?:された)?メッセージ)\s*-{3,}"
    r"|begin forwarded message\s*:|転送されたメッセージ\s*[:：]|-{3,}\s*forwarded by .*",
    re.I,
)
_UNDERSCORES = re.compile(r"[_＿]{8,}")
_HEADER_FROM = re.compile(r"\*?(?:from|差出人|送信者)\*?\s*[:：]", re.I)
_HEADER_SENT = re.compile(r"\*?(?:sent|date|送信日時|送信日|日時|日付)\*?\s*[:：]", re.I)
_FOOTER = re.compile(
    r"sent from (?:my )?\S.{0,40}|get outlook for \S.{0,30}|outlook for \S.{0,20}を入手"
    r"|(?:iphone|ipad|ipod|android|galaxy|xperia|aquos|arrows|ドコモメール|docomo|au ?メール"
    r"|windows(?: \d+)? ?版?の ?メール|mail for windows)\s*から送信"
    r"|-{1,3}\s*(?:docomo|au|softbank|y!mobile|ドコモ|ソフトバンク)(?:\s.*)?",
    re.I,
)
_WROTE = re.compile(r".{1,250}?(?:\bwrote|書きました|書き込みました)\s*[:：]", re.I)
_APPLE = re.compile(r".{0,250}?(?:@|\d:\d\d).{0,250}?の(?:メール|メッセージ)\s*[:：]")
_JA_DATE = r"\d{4}\s*[年/-]\s*\d{1,2}\s*[月/-]\s*\d{1,2}\s*日?(?:\s*[(（][^)）]{1,4}[)）])?\s*\d{1,2}:\d{2}"
_JA_GMAIL = re.compile(_JA_DATE + r".{0,250}[:：]")
_DATE_LINE = re.compile(r"(?:On\s|\d|(?:mon|tue|wed|thu|fri|sat|sun)\b).{0,150}?\d{1,2}:\d{2}.{0,150}", re.I)
_ADDRESS_END = re.compile(r".{0,250}[>＞]\s*[:：]")
_LABEL = re.compile(r"([^\s\d:：>＞][^:：]{0,40}?)(?<!\d)\s*[:：]\s*(\S.*)?")
_TEMPLATE_HINT = re.compile(r"[(（\[【「<＜※例].*")
_HEADER_LABELS = _words("from 差出人 送信者 sent date 送信日時 日時 日付 to 宛先 cc subject 件名")
_RULE_CHARS = frozenset("―━─=-*＝－＊_＿~～")
# Labels of a signature's contact lines: after a rule line they do not count as answers.
_CONTACT_LABELS = _words(
    "tel fax phone mobile mob cell 携帯 電話 直通 内線 代表 mail e-mail email mailto url web hp http https"
    " 住所 address addr twitter x facebook line skype 営業時間 受付時間 office direct ホームページ"
)


def extract_reply(text: str) -> str:
    """The part of a mail body the person wrote: quotes, attributions and signatures cut (see above)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    content_ahead = _content_ahead(lines)
    kept: list[str] = []
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        if _is_quoted(line):
            label = _template_label(line)
            if label and i + 1 < n and _is_plain_answer(lines, i + 1):
                answer = lines[i + 1].strip(" \t")
                kept.append(f"{label}: {answer}")
                i += 2
            else:
                i += 1
            continue
        if _is_boundary(lines, i):
            break
        span = _attribution_span(lines, i)
        if span:
            if i + span < n and content_ahead[i + span]:
                i += span  # answers interleaved below the quote: drop only the attribution
                continue
            break
        kept.append(line)
        i += 1
    return _tidy(_cut_rule_signature(kept))


def _is_quoted(line: str) -> bool:
    return line.lstrip(_SPACE + "\ufeff\u200b").startswith(_QUOTE_MARKS)  # iOS puts U+FEFF before ">"


def _is_blank(line: str) -> bool:
    return not line.strip(_SPACE)


def _is_boundary(lines: list[str], i: int) -> bool:
    """A line after which nothing is the person's reply (not an attribution: see `_attribution_span`)."""
    line = lines[i]
    if line.rstrip(" \t") == "--":  # the signature separator "-- " (and its trimmed twin)
        return True
    stripped = line.strip(_SPACE)
    if not stripped or len(stripped) > _MAX_BOUNDARY:
        return False
    folded = stripped.casefold()
    if any(marker in folded for marker in MARKERS):
        return True
    if _ORIGINAL.fullmatch(stripped) or _FORWARD.fullmatch(stripped) or _FOOTER.fullmatch(stripped):
        return True
    following = [other.strip(_SPACE) for other in lines[i + 1 : i + 6] if not _is_blank(other)][:3]
    if _UNDERSCORES.fullmatch(stripped):
        return any(_HEADER_FROM.match(other) for other in following[:2])
    return bool(_HEADER_FROM.match(stripped)) and any(_HEADER_SENT.match(other) for other in following)


def _attribution_span(lines: list[str], i: int) -> int:
    """How many lines an attribution starting at line i takes (0: none), e.g. Gmail's
    ``On … <`` / ``x@y> wrote:`` or Becky!'s ``On <date>`` / ``<name> wrote:``."""
    line = lines[i].strip(_SPACE)
    if not line or len(line) > _MAX_BOUNDARY:
        return 0
    if _is_attribution(line):
        return 1
    if i + 1 < len(lines) and _DATE_LINE.fullmatch(line):
        following = lines[i + 1].strip(_SPACE)
        if len(following) <= _MAX_BOUNDARY and (
            _is_attribution(following) or _ADDRESS_END.fullmatch(following)
        ):
            return 2
    return 0


def _is_attribution(line: str) -> bool:
    return bool(_WROTE.fullmatch(line) or _APPLE.fullmatch(line) or _JA_GMAIL.fullmatch(line))


def _content_ahead(lines: list[str]) -> list[bool]:
    """For each line: does an unquoted line the person wrote come at or after it, before a boundary?"""
    ahead = [False] * (len(lines) + 1)
    found = False
    for j in range(len(lines) - 1, -1, -1):
        line = lines[j]
        if _is_quoted(line) or _is_blank(line) or _attribution_span(lines, j):
            pass
        elif _is_boundary(lines, j):
            found = False
        else:
            found = True
        ahead[j] = found
    return ahead


def _template_label(line: str) -> str | None:
    """``> 姓:`` or ``> 所属機関選択: （1:医科 …）`` → the label, when it waits for an answer."""
    content = line.lstrip(_SPACE + ">＞").strip(_SPACE)
    match = _LABEL.fullmatch(content)
    if not match or len(content) > _MAX_BOUNDARY:
        return None
    label, value = match.group(1).rstrip(_SPACE), match.group(2)
    if label.casefold() in _HEADER_LABELS or "。" in label or "、" in label:
        return None
    return label if value is None or _TEMPLATE_HINT.fullmatch(value) else None


def _is_plain_answer(lines: list[str], i: int) -> bool:
    line = lines[i]
    return not (
        _is_blank(line)
        or _is_quoted(line)
        or _LABEL.fullmatch(line.strip(_SPACE))
        or _is_rule(line)
        or _is_boundary(lines, i)
        or _attribution_span(lines, i)
    )


def _is_rule(line: str) -> bool:
    compact = "".join(line.split())
    return len(compact) >= 5 and all(ch in _RULE_CHARS for ch in compact)


def _is_answer_label(line: str) -> bool:
    """A ``label: value`` line that is not a signature's contact line (``TEL:``, ``Mail:``, ``URL:``)."""
    stripped = line.strip(_SPACE)
    match = _LABEL.fullmatch(stripped) if len(stripped) <= _MAX_BOUNDARY else None
    if not match or match.group(2) is None or match.group(2).startswith("//"):
        return False
    label = unicodedata.normalize("NFKC", match.group(1)).casefold().strip(" .")
    parts = [part.strip(" .") for part in re.split(r"[/・]", label)]
    return not all(part in _CONTACT_LABELS for part in parts)


def _cut_rule_signature(lines: list[str]) -> list[str]:
    """Cut at the first rule line followed by no answer (a signature block), keep it otherwise."""
    cut = None
    answer_after = False
    for i in range(len(lines) - 1, -1, -1):
        if _is_rule(lines[i]) and not answer_after:
            cut = i
        if _is_answer_label(lines[i]):
            answer_after = True
    return lines if cut is None else lines[:cut]


def _tidy(lines: list[str]) -> str:
    """Trailing spaces, leading and trailing blank lines and runs of blank lines removed."""
    out: list[str] = []
    for line in lines:
        line = line.rstrip(" \t")
        if _is_blank(line):
            if out and out[-1]:
                out.append("")
        else:
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# ----------------------------------------------------------------------------------------- HTML

_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript", "xml"})
_BLOCK = _words(
    "p div tr li ul ol table h1 h2 h3 h4 h5 h6 pre dl dt dd section article header footer address center"
    " form body"
)
_VOID = _words("br hr img meta link input wbr col area base source")
_QUOTE_CLASSES = _words(
    "gmail_quote gmail_quote_container gmail_signature yahoo_quoted moz-cite-prefix moz-signature"
    " protonmail_quote"
)
_QUOTE_IDS = frozenset({"signature", "applemailsignature"})
# Outlook puts the quoted mail after these, not inside them: everything from here on is quote.
_CUT_IDS = _words("divrplyfwdmsg x_divrplyfwdmsg appendonsend mail-editor-reference-message-container")


def html_to_text(html: str) -> str:
    """An HTML body as the text a person reads, quotes left out; never raises."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser asserts on some broken markup: fall back to stripping tags
        return _tidy(re.sub(r"<[^>]*>", " ", html).split("\n"))
    lines = "".join(parser.parts).replace("\xa0", " ").split("\n")
    return _tidy([line.strip(" ") for line in lines])


class _HtmlText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_tag: str | None = None
        self.skip_depth = 0
        self.cut = False
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.cut:
            return
        if self.skip_tag is not None:
            self.skip_depth += tag == self.skip_tag
            return
        classes = set()
        element_id = ""
        for name, value in attrs:
            if name == "class" and value:
                classes.update(value.split())
            elif name == "id" and value:
                element_id = value.lower()
        if element_id in _CUT_IDS or "OutlookMessageHeader" in classes:
            self.cut = True
            return
        if tag not in _VOID and (
            tag in _SKIP or tag == "blockquote" or classes & _QUOTE_CLASSES or element_id in _QUOTE_IDS
        ):
            self.skip_tag, self.skip_depth = tag, 1
            return
        self._open(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if not self.cut and self.skip_tag is None:
            self._open(tag)

    def _open(self, tag: str) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "hr":
            self._newline()
            self.parts.append("_" * 32 + "\n")  # as Outlook's plain text does: `_____` + From: is a quote
        elif tag in _BLOCK:
            self._newline()
        elif tag in ("td", "th"):
            self.parts.append(" ")
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if self.cut:
            return
        if self.skip_tag is not None:
            if tag == self.skip_tag:
                self.skip_depth -= 1
                if self.skip_depth == 0:
                    self.skip_tag = None
            return
        if tag in _BLOCK:
            self._newline()
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.cut or self.skip_tag is not None:
            return
        if not self.pre:
            data = re.sub(r"[ \t\r\n\f]+", " ", data)
            if data == " " and (not self.parts or self.parts[-1].endswith("\n")):
                return  # markup indentation, not text
        self.parts.append(data)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
