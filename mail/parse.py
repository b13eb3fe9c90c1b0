"""Reading one inbound mail: raw bytes in, the facts the mail service needs out (SPEC §5 Email).

Pure: no sockets, no clock, no database.  The bytes are parsed once with ``BytesParser(policy=default)``;
header values are then read raw (``raw_items``) and decoded here, because Japanese mail needs more than
the strict codecs: ISO-2022-JP carrying cp932's NEC and IBM extensions (①, ㈱, 髙), Shift_JIS that is
really cp932, and charsets that are missing or wrong.

``parse_mail`` never raises on bad mail except `MailParseError`, and only when the bytes hold no header
field at all (empty input, binary junk), hold more than `MAX_BOUNDARY_LINES` lines starting with ``--``
(thousands of MIME parts: the stdlib parser needs ~1 ms per part), or the stdlib parser itself gives
up (nesting deeper than Python's recursion limit).  Anything else — broken MIME, invalid UTF-8, an
undecodable charset, a 1 MB line — gives an `InboundMail`, its text possibly empty.  Any other
exception would be a bug in regbot, not the sender's fault.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime

from mail.charsets import decode_text
from mail.quotes import extract_reply, html_to_text


class MailParseError(ValueError):
    """The bytes are not a mail we can read (see the module docstring): the sender's fault, not ours."""


@dataclass(frozen=True)
class InboundMail:
    """What one inbound mail says.

    Message ids keep their angle brackets (``<abc@example.jp>``, see `normalise_message_id`).
    Addresses are lower-cased; ``reply_key`` keeps the case it was written in.  ``text`` is the person's
    reply only (quotes and signatures cut, `mail.quotes.extract_reply`); ``body`` is the whole decoded
    text it was cut from.  ``auto`` is None, or why this mail must never be answered
    (`mail.autoreply.auto_reason`).  ``size`` is the raw size in bytes.
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    sender: str | None
    sender_name: str
    recipients: tuple[str, ...]
    reply_key: str | None
    subject: str
    text: str
    body: str
    auto: str | None
    size: int
    date: datetime | None


MAX_BOUNDARY_LINES = 1000
_PARSER = BytesParser(policy=compat32)  # everything below reads raw headers: no header objects needed
_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to")
_MAX_REFERENCES = 100  # the first (thread root) and the newest 99: enough to find a conversation
_MAX_STRUCTURED = 64 * 1024  # longer address headers are read by a plain regex, not the full grammar
_MAX_DEPTH = 20  # MIME nesting deeper than this is junk, not a person's reply
_REPLY_KEY = re.compile(r"[A-Za-z0-9._=-]{1,128}")


def parse_mail(raw: bytes, *, bot_address: str, envelope_sender: str | None = None) -> InboundMail:
    """Read one mail.  ``bot_address`` is REGBOT_MAIL_ADDRESS (``register@domain``).

    ``envelope_sender`` is the SMTP ``MAIL FROM`` when known (``""`` for a bounce's null sender); the
    result is otherwise envelope-agnostic.  Raises `MailParseError` only for what is not a mail (above).
    """
    if not raw.strip():
        raise MailParseError("empty mail")
    if raw.count(b"\n--") > MAX_BOUNDARY_LINES:
        raise MailParseError("too many MIME parts")
    try:
        msg = _PARSER.parsebytes(bytes(raw))
    except (RecursionError, MemoryError) as exc:  # pathological nesting; the parser is otherwise total
        raise MailParseError("the mail cannot be parsed") from exc
    headers = header_map(msg)
    if not headers:
        raise MailParseError("no header fields: not a mail")

    from mail.autoreply import auto_reason  # imported here: autoreply reads headers with this module

    senders = [
        (name, address) for name, address in header_addresses(headers.get("from", [])) if "@" in address
    ]
    sender_name, sender = senders[0] if senders else ("", None)
    recipients = [address for _, address in header_addresses(_values(headers, *_RECIPIENT_HEADERS))]
    body = _body_text(msg)
    return InboundMail(
        message_id=_first(message_ids(headers.get("message-id", []))),
        in_reply_to=_first(message_ids(headers.get("in-reply-to", []))),
        references=_capped(message_ids(headers.get("references", []))),
        sender=sender.lower() if sender else None,
        sender_name=sender_name,
        recipients=tuple(dict.fromkeys(address.lower() for address in recipients)),
        reply_key=_reply_key(recipients, bot_address),
        subject=decode_header_text(_first(headers.get("subject", [])) or ""),
        text=extract_reply(body),
        body=body,
        auto=auto_reason(msg, bot_address=bot_address, envelope_sender=envelope_sender),
        size=len(raw),
        date=_date(_first(headers.get("date", []))),
    )


# ----------------------------------------------------------------------------------------- headers


def header_map(msg: Message) -> dict[str, list[str]]:
    """The raw header values by lower-cased name, in order (8-bit bytes kept as surrogate escapes)."""
    headers: dict[str, list[str]] = {}
    for name, value in msg.raw_items():
        headers.setdefault(name.strip().lower(), []).append(str(value))
    return headers


def _values(headers: dict[str, list[str]], *names: str) -> list[str]:
    return [value for name in names for value in headers.get(name, [])]


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def unfold(value: str) -> str:
    """RFC 5322 unfolding, stray line breaks turned into spaces, surrounding space removed."""
    return re.sub(r"[\r\n]+", " ", re.sub(r"\r?\n(?=[ \t])", "", value)).strip()


_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")


def decode_header_text(raw: str) -> str:
    """A header value as text: RFC 2047 encoded words (any charset `decode_text` reads) and raw 8-bit.

    Adjacent encoded words in one charset are joined before decoding, because Japanese mailers split
    ISO-2022-JP words in the middle of a character.
    """
    value = unfold(raw)
    pieces: list[tuple[str | None, bytes]] = []
    position = 0
    for match in _ENCODED_WORD.finditer(value):
        between = value[position : match.start()]
        if between and not (between.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, _raw_bytes(between)))
        charset = match.group(1).lower()
        data = _word_payload(match.group(2), match.group(3))
        if pieces and pieces[-1][0] == charset:
            pieces[-1] = (charset, pieces[-1][1] + data)
        else:
            pieces.append((charset, data))
        position = match.end()
    if position < len(value):
        pieces.append((None, _raw_bytes(value[position:])))
    return "".join(decode_text(data, charset) for charset, data in pieces)


def _raw_bytes(text: str) -> bytes:
    """The bytes the parser read (it decodes them as ASCII with surrogate escapes)."""
    return text.encode("utf-8", "surrogateescape")


def _word_payload(encoding: str, payload: str) -> bytes:
    data = _raw_bytes(payload)
    if encoding in "qQ":
        return binascii.a2b_qp(data, header=True)
    letters = re.sub(rb"[^A-Za-z0-9+/]", b"", data)
    if len(letters) % 4 == 1:
        letters = letters[:-1]  # a lone sextet holds no byte
    try:
        return base64.b64decode(letters + b"=" * (-len(letters) % 4))
    except binascii.Error:
        return b""


def header_addresses(values: list[str]) -> list[tuple[str, str]]:
    """(decoded display name, address as written) for every address in these header values."""
    joined = ", ".join(unfold(value) for value in values)
    if not joined:
        return []
    if len(joined) > _MAX_STRUCTURED:
        pairs = [("", address) for address in _bare_addresses(joined)]
    else:
        try:
            pairs = getaddresses([joined])
        except (ValueError, IndexError, TypeError):  # hostile input; a plain regex still finds addresses
            pairs = [("", address) for address in _bare_addresses(joined)]
    result: list[tuple[str, str]] = []
    for name, address in pairs:
        address = _raw_bytes(address.strip()).decode("utf-8", "replace")
        if address:
            result.append((decode_header_text(name), address))
    return result


def _bare_addresses(text: str) -> list[str]:
    return re.findall(r"[^\s<>\"',;:()\[\]]+@[^\s<>\"',;:()\[\]]+", text)


_MSG_ID = re.compile(r"<([^<>\s]{1,998})>")


def normalise_message_id(value: str) -> str | None:
    """A Message-ID as regbot stores and compares it: ``<left@right>``, angle brackets kept."""
    ids = message_ids([value])
    return ids[0] if ids else None


def message_ids(values: list[str]) -> list[str]:
    """Every ``<id>`` in these Message-ID / In-Reply-To / References values, in order."""
    found: list[str] = []
    for value in values:
        text = _raw_bytes(unfold(value)).decode("utf-8", "replace")
        ids = _MSG_ID.findall(text)
        if not ids and text and not any(c.isspace() for c in text) and "@" in text:
            ids = [text.strip("<>")]  # some mailers forget the brackets
        found.extend(f"<{ident}>" for ident in ids if ident)
    return found


def _capped(ids: list[str]) -> tuple[str, ...]:
    unique = list(dict.fromkeys(ids))
    if len(unique) > _MAX_REFERENCES:
        unique = unique[:1] + unique[-(_MAX_REFERENCES - 1) :]
    return tuple(unique)


@functools.lru_cache(maxsize=64)
def split_address(address: str) -> tuple[str, str]:
    """``Local@Domain`` → (``local``, ``domain``), both lower-cased; a name around it is ignored."""
    pairs = header_addresses([address])
    bare = pairs[0][1] if pairs else address.strip()
    local, _, domain = bare.rpartition("@")
    return local.lower(), domain.lower()


def _reply_key(recipients: list[str], bot_address: str) -> str | None:
    """The ``<key>`` of the first ``register+<key>@domain`` recipient (local part and domain ignore case)."""
    bot_local, bot_domain = split_address(bot_address)
    for address in recipients:
        local, _, domain = address.rpartition("@")
        base, plus, key = local.partition("+")
        if plus and base.lower() == bot_local and domain.lower() == bot_domain and _REPLY_KEY.fullmatch(key):
            return key
    return None


def _date(raw: str | None) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(unfold(raw))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# ----------------------------------------------------------------------------------------- charsets


def _body_text(msg: Message) -> str:
    """The text a mail client would show first: text/plain preferred, else text/html made text."""
    texts = []
    for kind, part in _display_parts(msg, 0):
        data = _payload(part)
        params = mime_type(part)[1]
        charset = params.get("charset")
        if kind == "html":
            text = html_to_text(decode_text(data, charset or _html_meta_charset(data)))
        else:
            text = decode_text(data, charset).replace("\r\n", "\n").replace("\r", "\n")
            if params.get("format", "").lower() == "flowed":
                text = unflow(text, delsp=params.get("delsp", "").lower() == "yes")
        texts.append(text)
    return "\n".join(text for text in texts if text.strip())


def _display_parts(part: Message, depth: int) -> list[tuple[str, Message]]:
    if depth > _MAX_DEPTH:
        return []
    ctype = mime_type(part)[0]
    if ctype.startswith("message/"):
        return []  # an attached or forwarded-as-attachment mail is not what this person wrote
    payload = part.get_payload()
    if isinstance(payload, list):
        children = [child for child in payload if isinstance(child, Message)]
        if ctype == "multipart/alternative":
            choices = [_display_parts(child, depth + 1) for child in children]
            plain = [c for c in choices if c and all(kind == "plain" for kind, _ in c)]
            return (plain or [c for c in choices if c] or [[]])[0]
        if ctype in ("multipart/related", "multipart/report", "multipart/signed"):
            children = children[:1]  # the root part; the rest is what it refers to or signs
        elif ctype == "multipart/encrypted":
            return []
        return [found for child in children for found in _display_parts(child, depth + 1)]
    if _is_attachment(part):
        return []
    if ctype == "text/plain":
        return [("plain", part)]
    if ctype == "text/html":
        return [("html", part)]
    return []


# Content-Type and Content-Disposition are read from the raw header: the stdlib re-parses the whole header
# for every get_param() call, which was a third of the cost of a mail, and can fail on hostile values.

_PARAM = re.compile(r';\s*([!#$%&\'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]*)')
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+/[!#$%&'*+.^_`|~0-9a-z-]+")


def mime_type(part: Message) -> tuple[str, dict[str, str]]:
    """A part's Content-Type as (``type/subtype`` lower-cased, parameters with lower-cased names);
    a missing or invalid one is the RFC 2045 default (text/plain, or message/rfc822 in a digest)."""
    raw = _raw_header(part, "content-type")
    main, _, rest = unfold(raw or "").partition(";")
    ctype = main.strip().lower()
    if not _TOKEN.fullmatch(ctype):
        return part.get_default_type(), {}
    params: dict[str, str] = {}
    for name, value in _PARAM.findall(";" + rest):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params.setdefault(name.lower(), value)
    return ctype, params


def _raw_header(part: Message, name: str) -> str | None:
    for field_name, value in part.raw_items():
        if field_name.strip().lower() == name:
            return str(value)
    return None


def _is_attachment(part: Message) -> bool:
    disposition = _raw_header(part, "content-disposition") or ""
    return disposition.partition(";")[0].strip().lower() == "attachment"


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # an undecodable transfer encoding: no text
        return b""
    return data if isinstance(data, bytes) else b""


def _html_meta_charset(data: bytes) -> str | None:
    match = re.search(rb"<meta[^>]{0,200}?charset\s*=\s*[\"']?([A-Za-z0-9_.:-]{1,40})", data[:4096], re.I)
    return match.group(1).decode("ascii") if match else None


def unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676 format=flowed: join soft-broken lines (a line ending in a space continues)."""
    out: list[str] = []
    pending: str | None = None
    pending_depth = 0
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        if content.startswith(" "):
            content = content[1:]  # space-stuffing
        flowed = content.endswith(" ") and content != "-- "
        if flowed and delsp:
            content = content[:-1]
        if pending is not None and depth == pending_depth:
            pending += content
        else:
            if pending is not None:
                out.append(_quoted(pending, pending_depth))
            pending, pending_depth = content, depth
        if not flowed:
            out.append(_quoted(pending, pending_depth))
            pending = None
    if pending is not None:
        out.append(_quoted(pending, pending_depth))
    return "\n".join(out)


def _quoted(content: str, depth: int) -> str:
    return f"{'>' * depth} {content}" if depth else content
