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
# A reply is at the top: past these sizes it is all quoted history (or a flood), not worth the CPU.
MAX_LINES = 5000
MAX_HTML = 1 << 20


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
_FOOTER_HINT = re.compile(r"から送信|を入手|^(?:sent from|get outlook|begin forwarded|転送|-)")
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
    """The part of a mail body the person wrote: quotes, attributions and signatures cut (see above).

    Only the first `MAX_LINES` lines are read.  Extracting again gives the same text: when an
    attribution between answers was dropped, the lines around it are read once more (the drop can
    bring a rule line next to a ``From:`` line).
    """
    reply, dropped = _extract_once(text)
    for _ in range(3):
        if not dropped:
            break
        reply, dropped = _extract_once(reply)
    return reply


def _extract_once(text: str) -> tuple[str, bool]:
    """One reading: the reply, and whether an attribution was dropped from between answers."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n", MAX_LINES)[:MAX_LINES]
    lines, quoted = _merge_template_answers(lines)
    view = _View(lines, quoted)
    kept: list[str] = []
    dropped = False
    i = 0
    while i < len(lines):
        if quoted[i]:
            i += 1
            continue
        if view.boundary[i]:
            break
        end = view.attribution_end[i]
        if end:
            if not view.content_ahead[end]:
                break
            i, dropped = end, True  # answers interleaved below the quote: drop only the attribution
            continue
        kept.append(lines[i])
        i += 1
    return _tidy(_cut_rule_signature(kept)), dropped


class _View:
    """Each line read once: quoted or not, where the next unquoted (non-blank) line is, whether it ends
    the reply, where an attribution starting there ends, and whether answers come after it.

    Every look-ahead skips quoted lines, so what is decided about a line does not change once the
    quotes are gone.
    """

    def __init__(self, lines: list[str], quoted: list[bool]) -> None:
        self.lines = lines
        n = len(lines)
        self.next_unquoted = [n] * (n + 1)
        self.next_content = [n] * (n + 1)
        for j in range(n - 1, 0, -1):
            unquoted = not quoted[j]
            self.next_unquoted[j - 1] = j if unquoted else self.next_unquoted[j]
            self.next_content[j - 1] = j if unquoted and not _is_blank(lines[j]) else self.next_content[j]
        self.boundary = [False] * n
        self.attribution_end = [0] * n
        self.content_ahead = [False] * (n + 1)
        found = False
        for j in range(n - 1, -1, -1):
            if not quoted[j] and not _is_blank(lines[j]):
                self.boundary[j] = _is_boundary(self, j)
                self.attribution_end[j] = 0 if self.boundary[j] else _attribution_end(self, j)
                if self.boundary[j]:
                    found = False
                elif not self.attribution_end[j]:
                    found = True
            self.content_ahead[j] = found

    def following(self, i: int, count: int) -> list[str]:
        found: list[str] = []
        j = self.next_content[i]
        while j < len(self.lines) and len(found) < count:
            found.append(self.lines[j].strip(_SPACE))
            j = self.next_content[j]
        return found


def _merge_template_answers(lines: list[str]) -> tuple[list[str], list[bool]]:
    """Mark quoted lines; an answer right under a quoted template line ``> 姓:`` becomes ``姓: 基金``."""
    merged: list[str] = []
    quoted: list[bool] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        label = _template_label(line) if _is_quoted(line) else None
        if label and i + 1 < len(lines) and _is_plain_answer(lines[i + 1]):
            answer = lines[i + 1].strip(" \t")
            merged.append(f"{label}: {answer}")
            quoted.append(False)
            i += 2
            continue
        merged.append(line)
        quoted.append(_is_quoted(line))
        i += 1
    return merged, quoted


def _is_quoted(line: str) -> bool:
    return line.lstrip(_SPACE + "\ufeff\u200b").startswith(_QUOTE_MARKS)  # iOS puts U+FEFF before ">"


def _is_blank(line: str) -> bool:
    return not line.strip(_SPACE)


def _ends_reply(line: str) -> bool:
    """A line that by itself ends the reply: ``-- ``, the bot's marker, Outlook/forward markers, footers."""
    if line.rstrip(" \t") == "--":  # the signature separator "-- " (and its trimmed twin)
        return True
    stripped = line.strip(_SPACE)
    if not stripped or len(stripped) > _MAX_BOUNDARY:
        return False
    folded = stripped.casefold()
    if any(marker in folded for marker in MARKERS):
        return True
    if stripped[0] in "-－" and (_ORIGINAL.fullmatch(stripped) or _FORWARD.fullmatch(stripped)):
        return True
    return bool(_FOOTER_HINT.search(folded)) and bool(
        _FORWARD.fullmatch(stripped) or _FOOTER.fullmatch(stripped)
    )


def _is_boundary(view: _View, i: int) -> bool:
    """A line after which nothing is the person's reply (attributions aside: see `_attribution_end`)."""
    line = view.lines[i]
    if _ends_reply(line):
        return True
    stripped = line.strip(_SPACE)
    if not stripped or len(stripped) > _MAX_BOUNDARY:
        return False
    if _UNDERSCORES.fullmatch(stripped):  # Outlook's rule above the quoted mail's headers
        return any(_HEADER_FROM.match(other) for other in view.following(i, 2))
    if stripped[0] not in "*Ff差送" or not _HEADER_FROM.match(stripped):
        return False
    return any(_HEADER_SENT.match(other) for other in view.following(i, 3))


def _attribution_end(view: _View, i: int) -> int:
    """Where an attribution starting at line i ends (0: there is none), e.g. Gmail's ``On … <`` /
    ``x@y> wrote:`` over two lines, or Becky!'s ``On <date>`` / ``<name> wrote:``."""
    line = view.lines[i].strip(_SPACE)
    if not line or len(line) > _MAX_BOUNDARY:
        return 0
    if _is_attribution(line):
        return i + 1
    j = view.next_unquoted[i]
    if j < len(view.lines) and ":" in line and _DATE_LINE.fullmatch(line):
        following = view.lines[j].strip(_SPACE)
        if len(following) <= _MAX_BOUNDARY and (
            _is_attribution(following) or _ADDRESS_END.fullmatch(following)
        ):
            return j + 1
    return 0


def _is_attribution(line: str) -> bool:
    if not line.endswith((":", "：")):  # every attribution ends in a colon
        return False
    return bool(_WROTE.fullmatch(line) or _APPLE.fullmatch(line) or _JA_GMAIL.fullmatch(line))


def _template_label(line: str) -> str | None:
    """``> 姓:`` or ``> 所属機関選択: （1:医科 …）`` → the label, when it waits for an answer."""
    content = line.lstrip(_SPACE + ">＞\ufeff\u200b").strip(_SPACE)
    match = _LABEL.fullmatch(content)
    if not match or len(content) > _MAX_BOUNDARY:
        return None
    label, value = match.group(1).rstrip(_SPACE), match.group(2)
    if label.casefold() in _HEADER_LABELS or "。" in label or "、" in label:
        return None
    return label if value is None or _TEMPLATE_HINT.fullmatch(value) else None


def _is_plain_answer(line: str) -> bool:
    stripped = line.strip(_SPACE)
    return not (
        not stripped
        or len(stripped) > _MAX_BOUNDARY
        or _is_quoted(line)
        or _LABEL.fullmatch(stripped)
        or _is_rule(line)
        or _ends_reply(line)
        or _is_attribution(stripped)
        or _DATE_LINE.fullmatch(stripped)
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


_HR = "_" * 32 + "\n"


def html_to_text(html: str) -> str:
    """An HTML body as the text a person reads, quotes left out; never raises.  Only the first
    `MAX_HTML` characters are read."""
    parser = _HtmlText()
    try:
        parser.feed(_defuse(html[:MAX_HTML]))
        parser.close()
    except Exception:  # html.parser asserts on some broken markup: fall back to stripping tags
        return _tidy(re.sub(r"<[^>]*>", " ", html).split("\n"))
    return _tidy("".join(parser.parts).replace("\xa0", " ").split("\n"))


def _defuse(html: str) -> str:
    """Comments removed and every ``<`` that opens no complete tag escaped, in one linear scan.

    html.parser rescans an unfinished tag from its start for every later ``<``: 200 KB of ``<a<a…``
    took minutes.  What is left for it has only complete tags.
    """
    out: list[str] = []
    position, size = 0, len(html)
    while position < size:
        opening = html.find("<", position)
        if opening == -1:
            out.append(html[position:])
            break
        out.append(html[position:opening])
        if html.startswith("<!--", opening):
            closing = html.find("-->", opening + 4)
            if closing == -1:
                break  # an unclosed comment hides the rest, as in a browser
            position = closing + 3
            continue
        following = html.find("<", opening + 1)
        limit = size if following == -1 else following
        closing = html.find(">", opening + 1, limit)
        if closing == -1:
            out.append("&lt;")
            position = opening + 1
        else:
            out.append(html[opening : closing + 1])
            position = closing + 1
    return "".join(out)


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
            if self.parts and self.parts[-1] == _HR:
                self.parts.pop()  # Outlook's <hr> above the quoted headers
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
            self.parts.append(_HR)  # as Outlook's plain text does: `_____` + From: is a quote
        elif tag in _BLOCK:
            self._newline()
        elif tag in ("td", "th") and self.parts and not self.parts[-1].endswith("\n"):
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
            if not self.parts or self.parts[-1].endswith("\n"):
                data = data.lstrip(" ")  # markup indentation, not text
        if data:
            self.parts.append(data)

    def _newline(self) -> None:
        if self.parts and not self.parts[-1].endswith("\n"):
            self.parts.append("\n")
