"""Reading an inbound e-mail: raw RFC 5322 bytes in, a :class:`ParsedEmail` out.

This module does not import Django, so it can be tested and benchmarked alone.
:func:`parse` never raises on any input: what cannot be read becomes a
``problem`` (``malformed`` / ``too_large``) with a reason a person can act on.

What it is robust to: unknown or misspelled charsets (declared charset, then
UTF-8, then Windows-1251 — the usual suspect in Russian mail — with
replacement characters), broken base64 / quoted-printable, header values that
fail the modern parser (read again from the raw bytes), missing Message-ID (a
stable one is made from the message's content), deeply nested or truncated
MIME, a header section larger than :data:`MAX_HEADER_BYTES`.

The case tag that ties a subject to a case is defined here once
(:data:`CASE_TAG_FORMAT`, :func:`find_case_tag`, :func:`tagged_subject`): the
SMTP side adds it, the intake reads it.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.policy
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any

# Limits: the whole message, its header section, one header value, the MIME tree.
MAX_MESSAGE_BYTES = 30 * 1024 * 1024
MAX_HEADER_BYTES = 256 * 1024
MAX_HEADER_VALUE = 2000
MAX_SUBJECT = 300
MAX_PARTS = 200
MAX_DEPTH = 20
MAX_REFERENCES = 50
MAX_ID_LENGTH = 255

# The case tag: "Re: Нет интернета [#1234]".
CASE_TAG_FORMAT = "[#{case_id}]"
CASE_TAG_RE = re.compile(r"\[#(\d{1,12})\]")
_REPLY_PREFIX_RE = re.compile(r"^\s*((re|fw|fwd|ответ|отв|на|пересл)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)

_MSGID_RE = re.compile(r"<([^<>\s]{1,1000})>")
_FALLBACK_CHARSETS = ("utf-8", "cp1251")
# Misspellings seen in the wild, and the codec that reads them.
_CHARSET_ALIASES = {
    "win-1251": "cp1251",
    "windows-1251k": "cp1251",
    "cp-1251": "cp1251",
    "x-cp1251": "cp1251",
    "utf8": "utf-8",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "ansi_x3.4-1968": "ascii",
}

AUTO_SUBJECT_RE = re.compile(
    r"^\s*(auto(matic)?[\s_-]*(reply|response|answer)|autoreply|auto:|out of (the )?office|on vacation"
    r"|away from (the )?office|автоответ|автоматический ответ|нет на месте|вне офиса|в отпуске"
    r"|отсутствую|я в отпуске)",
    re.IGNORECASE,
)
_AUTO_PRECEDENCE = frozenset({"bulk", "auto_reply", "junk"})
_AUTO_SUPPRESS_VALUES = frozenset({"all", "oof", "autoreply"})
_BOUNCE_SENDERS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
_BOUNCE_SUBJECT_RE = re.compile(
    r"(undeliver|delivery (status notification|failure|has failed)|returned mail|mail delivery failed"
    r"|failure notice|не доставлено|недоставлен|ошибка доставки)",
    re.IGNORECASE,
)


class Kind(StrEnum):
    """What an inbound e-mail is."""

    NORMAL = "normal"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"


class Problem(StrEnum):
    """Why an e-mail cannot become a case message (the values are RejectedInbound reasons)."""

    MALFORMED = "malformed"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class ParsedAttachment:
    """A file that came with the e-mail (as the sender named and typed it)."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    """Everything the intake needs from one e-mail.

    ``message_id`` is the e-mail's own Message-ID in angle brackets (``None`` when it
    has none); :attr:`stable_id` is that or one made from the content.
    ``problem`` / ``problem_detail`` say why it cannot be used, when it cannot.
    """

    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    kind: Kind = Kind.NORMAL
    kind_detail: str = ""
    bounced_ids: list[str] = field(default_factory=list)
    problem: Problem | None = None
    problem_detail: str = ""
    content_hash: str = ""
    size: int = 0

    @property
    def stable_id(self) -> str:
        """The Message-ID, or ``<sha256-of-content@no-message-id.invalid>`` when the e-mail has none."""
        return self.message_id or f"<{self.content_hash}@no-message-id.invalid>"

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this e-mail answers, nearest first (In-Reply-To, then References newest first)."""
        ids = ([self.in_reply_to] if self.in_reply_to else []) + list(reversed(self.references))
        return list(dict.fromkeys(ids))


# --- the case tag -------------------------------------------------------------------


def case_tag(case_id: int) -> str:
    """The tag that marks a subject as belonging to case ``case_id``."""
    return CASE_TAG_FORMAT.format(case_id=int(case_id))


def find_case_tag(subject: str | None) -> int | None:
    """The case id tagged in ``subject`` (the last tag when there are several), or ``None``."""
    found = CASE_TAG_RE.findall(subject or "")
    return int(found[-1]) if found else None


def tagged_subject(subject: str, case_id: int, *, reply: bool = True) -> str:
    """``Re: <subject> [#id]``: earlier reply prefixes and tags removed, the tag added once."""
    bare = CASE_TAG_RE.sub("", subject or "")
    bare = _REPLY_PREFIX_RE.sub("", bare)
    bare = " ".join(bare.split())
    parts = [f"Re: {bare}" if reply and bare else bare, case_tag(case_id)]
    return " ".join(p for p in parts if p)


# --- Message-IDs --------------------------------------------------------------------


def normalize_id(value: str) -> str:
    """A Message-ID as stored: in angle brackets, at most 255 characters (longer ones hashed)."""
    value = value.strip()
    if not value.startswith("<"):
        value = f"<{value.strip('<>')}>"
    if len(value) > MAX_ID_LENGTH:
        value = f"<{hashlib.sha256(value.encode('utf-8', 'replace')).hexdigest()}@long-id.invalid>"
    return value


def find_ids(value: str | None, limit: int = MAX_REFERENCES) -> list[str]:
    """Every ``<id>`` in a header value (Message-ID, In-Reply-To, References), in order."""
    ids = [normalize_id(f"<{m}>") for m in _MSGID_RE.findall(value or "")]
    if not ids and value and value.strip() and " " not in value.strip():
        ids = [normalize_id(value)]  # an id some client wrote without brackets
    return list(dict.fromkeys(ids))[-limit:]


# --- decoding -----------------------------------------------------------------------


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError):
        return None


def decode_bytes(data: bytes, charset: str | None = None) -> str:
    """Text from bytes: the declared charset if it reads them cleanly, then UTF-8, then Windows-1251."""
    candidates = [c for c in (_codec(charset), *_FALLBACK_CHARSETS) if c]
    for name in dict.fromkeys(candidates):
        try:
            return data.decode(name)
        except (UnicodeDecodeError, LookupError):
            continue
    return data.decode(candidates[0] if candidates else "utf-8", errors="replace")


def _clean(text: str) -> str:
    return text.replace("\x00", "")


def _unescape(text: str) -> str:
    """Undo the parser's surrogate escapes of raw 8-bit header bytes (reading them as UTF-8 or Windows-1251)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return decode_bytes(text.encode("utf-8", "surrogateescape"))


def _decode_raw_header(value: str) -> str:
    """A header value read with the old, forgiving decoder (encoded words, unknown charsets, 8-bit bytes)."""
    if "=?" not in value:
        return _unescape(value)
    try:
        pieces = decode_header(value)
    except Exception:
        return _unescape(value)
    out = []
    for chunk, charset in pieces:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else _unescape(chunk))
    return "".join(out)


def header(msg: Message, name: str) -> str:
    """One header's value as text ('' when absent); never raises, whatever the bytes."""
    text = _decode_raw_header(_raw_header(msg, name))
    text = " ".join(_clean(text).split())
    return text[:MAX_HEADER_VALUE]


def _raw_items(msg: Message) -> list[tuple[str, str]]:
    try:
        return [(str(k), str(v)) for k, v in msg.raw_items()]
    except Exception:
        return []


def _raw_header(msg: Message, name: str) -> str:
    wanted = name.lower()
    try:
        for key, raw in msg.raw_items():
            if key.lower() == wanted:
                return str(raw)
    except Exception:
        return ""
    return ""


def _address(msg: Message, name: str) -> tuple[str, str]:
    """(display name, address) of the first mailbox in a header."""
    with contextlib.suppress(Exception):
        value: Any = msg.get(name)
        if value is not None and getattr(value, "addresses", None):
            first = value.addresses[0]
            if first.addr_spec and "@" in first.addr_spec:
                return _clean(first.display_name or ""), first.addr_spec
    raw = _decode_raw_header(_raw_header(msg, name))
    display, addr = parseaddr(raw)
    return _clean(display), addr if "@" in addr else ""


def _addresses(msg: Message, name: str) -> list[str]:
    try:
        values = [str(v) for v in msg.get_all(name, [])]
    except Exception:
        values = [_decode_raw_header(v) for k, v in _raw_items(msg) if k.lower() == name.lower()]
    try:
        return [addr for _, addr in getaddresses(values) if "@" in addr][:50]
    except Exception:
        return []


def _date(msg: Message) -> datetime | None:
    raw = _decode_raw_header(_raw_header(msg, "Date"))
    if not raw:
        return None
    try:
        return parsedate_to_datetime(raw)
    except Exception:
        return None


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:
        return "application/octet-stream"


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    try:
        raw = part.get_payload()
        return raw.encode("utf-8", "replace") if isinstance(raw, str) else b""
    except Exception:
        return b""


@dataclass(frozen=True)
class _PartInfo:
    """What the Content-Type and Content-Disposition headers of one part say (each read once)."""

    content_type: str
    charset: str | None
    filename: str
    disposition: str


def _part_info(part: Message) -> _PartInfo:
    ctype, charset, name, disposition = "text/plain", None, "", ""
    try:
        header_value: Any = part.get("content-type")
        if header_value is not None:
            found = str(getattr(header_value, "content_type", "") or "").lower()
            ctype = found if found.count("/") == 1 else "text/plain"
            params = getattr(header_value, "params", {}) or {}
            charset = params.get("charset")
            name = params.get("name") or ""
    except Exception:
        ctype = _content_type(part)
    try:
        header_value = part.get("content-disposition")
        if header_value is not None:
            disposition = str(getattr(header_value, "content_disposition", "") or "").lower()
            params = getattr(header_value, "params", {}) or {}
            name = params.get("filename") or name
    except Exception:
        name = name or _filename(part)
    return _PartInfo(ctype, charset, _clean(str(name)).strip()[:255], disposition)


def _part_text(part: Message, charset: str | None = None) -> str:
    return _clean(decode_bytes(_payload(part), charset))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name")  # type: ignore[assignment]
            if isinstance(name, tuple):
                name = email.utils.collapse_rfc2231_value(name)
        except Exception:
            name = None
    return _clean(str(name or "")).strip()[:255]


# --- HTML to text -------------------------------------------------------------------


class _TextFromHtml(HTMLParser):
    """Readable text from an HTML body: blocks become lines, links keep their target."""

    BLOCKS = frozenset(
        {"p", "div", "tr", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"}
    )
    SKIP = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skipping = 0
        self.href: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag == "a":
            self.href = dict(attrs).get("href")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag == "a":
            self.href = None

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        text = re.sub(r"\s+", " ", data)
        if self.href and self.href.startswith(("http://", "https://")) and self.href not in text:
            text = f"{text} ({self.href})"
        self.out.append(text)


def html_to_text(html: str) -> str:
    """Plain text of an HTML body (never raises)."""
    parser = _TextFromHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:
        return re.sub(r"<[^>]*>", " ", html)
    lines = [line.strip() for line in "".join(parser.out).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# --- the MIME tree ------------------------------------------------------------------


def _leaves(msg: Message, depth: int = 0, budget: list[int] | None = None) -> Iterator[Message]:
    """Non-multipart parts, depth first, without descending into attached messages (bounded)."""
    budget = budget if budget is not None else [MAX_PARTS]
    if depth > MAX_DEPTH or budget[0] <= 0:
        return
    budget[0] -= 1
    try:
        multipart = msg.is_multipart()
    except Exception:
        multipart = False
    if multipart and not _content_type(msg).startswith("message/"):
        try:
            children = msg.get_payload()
        except Exception:
            children = []
        for child in children if isinstance(children, list) else []:
            if isinstance(child, Message):
                yield from _leaves(child, depth + 1, budget)
        return
    yield msg


def _body_and_attachments(msg: Message) -> tuple[str, list[ParsedAttachment]]:
    plain: str | None = None
    html: str | None = None
    attachments: list[ParsedAttachment] = []
    for part in _leaves(msg):
        info = _part_info(part)
        ctype, name = info.content_type, info.filename
        is_file = bool(name) or info.disposition == "attachment" or not ctype.startswith("text/")
        if not is_file and ctype == "text/plain" and plain is None:
            plain = _part_text(part, info.charset)
            continue
        if not is_file and ctype == "text/html" and html is None:
            html = _part_text(part, info.charset)
            continue
        if ctype in ("message/delivery-status", "text/rfc822-headers", "message/rfc822-headers"):
            continue
        if ctype.startswith("multipart/"):
            continue  # a multipart whose children could not be read
        data = _payload(part) if not ctype.startswith("message/") else _message_bytes(part)
        if not data:
            continue
        if not name:
            extension = {"message/rfc822": "eml", "text/plain": "txt", "text/html": "html"}.get(ctype, "bin")
            name = f"part-{len(attachments) + 1}.{extension}"
        attachments.append(ParsedAttachment(filename=name, content_type=ctype, data=data))
    if plain is not None and plain.strip():
        text = plain
    elif html is not None:
        text = html_to_text(html)
    else:
        text = plain or ""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    return text, attachments


def _message_bytes(part: Message) -> bytes:
    with contextlib.suppress(Exception):
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0].as_bytes(policy=email.policy.compat32)
    return _payload(part)


# --- classification -----------------------------------------------------------------


def _report_parts(msg: Message) -> Iterator[Message]:
    """Every part (attached messages included) of a report, bounded."""
    seen = 0
    try:
        for part in msg.walk():
            seen += 1
            if seen > MAX_PARTS:
                return
            yield part
    except Exception:
        return


def _bounce_details(msg: Message) -> tuple[str, list[str]]:
    """(what the report says went wrong, Message-IDs of the undelivered e-mail)."""
    detail: list[str] = []
    ids: list[str] = []
    for part in _report_parts(msg):
        ctype = _content_type(part)
        if ctype == "message/delivery-status":
            try:
                blocks = part.get_payload()
            except Exception:
                blocks = []
            for block in blocks if isinstance(blocks, list) else []:
                if not isinstance(block, Message):
                    continue
                for name in ("Final-Recipient", "Action", "Status", "Diagnostic-Code"):
                    value = header(block, name)
                    if value:
                        detail.append(f"{name}: {value}")
        elif ctype in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            if ctype == "message/rfc822":
                inner = part.get_payload() if part.is_multipart() else None
                if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                    ids += find_ids(header(inner[0], "Message-ID"))
                    continue
            text = _part_text(part)
            found = re.search(r"^message-id:\s*(.+)$", text, re.IGNORECASE | re.MULTILINE)
            if found:
                ids += find_ids(found.group(1))
    if not ids:
        body, _ = _body_and_attachments(msg)
        for found in re.finditer(r"message-id:\s*(<[^<>\s]+>)", body, re.IGNORECASE):
            ids += find_ids(found.group(1))
        if not detail:
            detail = [line for line in body.splitlines() if line.strip()][:8]
    return "\n".join(detail)[:2000], list(dict.fromkeys(ids))


def classify(msg: Message, from_address: str) -> tuple[Kind, str]:
    """Normal mail, an automatic reply (RFC 3834 and common practice) or a delivery failure report."""
    ctype = _content_type(msg)
    report_type = ""
    with contextlib.suppress(Exception):
        report_type = str(msg.get_param("report-type") or "").lower()
    if ctype == "multipart/report" and report_type == "delivery-status":
        return Kind.BOUNCE, "multipart/report; report-type=delivery-status"
    local = from_address.split("@", 1)[0].lower()
    if local in _BOUNCE_SENDERS:
        return Kind.BOUNCE, f"sender {from_address}"
    if header(msg, "X-Failed-Recipients"):
        return Kind.BOUNCE, "X-Failed-Recipients"
    subject = header(msg, "Subject")
    auto_submitted = header(msg, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Kind.AUTO_REPLY, f"Auto-Submitted: {auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if header(msg, name):
            return Kind.AUTO_REPLY, name
    precedence = header(msg, "Precedence").lower()
    if precedence in _AUTO_PRECEDENCE:
        return Kind.AUTO_REPLY, f"Precedence: {precedence}"
    suppress = {v.strip().lower() for v in header(msg, "X-Auto-Response-Suppress").split(",")}
    if suppress & _AUTO_SUPPRESS_VALUES:
        return Kind.AUTO_REPLY, "X-Auto-Response-Suppress"
    if AUTO_SUBJECT_RE.search(subject):
        return Kind.AUTO_REPLY, f"subject “{subject[:80]}”"
    return_path = _raw_header(msg, "Return-Path").strip()
    if return_path and return_path.replace(" ", "") == "<>":
        if _BOUNCE_SUBJECT_RE.search(subject) or not from_address:
            return Kind.BOUNCE, "empty Return-Path"
        return Kind.AUTO_REPLY, "empty Return-Path"
    return Kind.NORMAL, ""


# --- the entry point ----------------------------------------------------------------


def _header_section_size(raw: bytes) -> int:
    for sep in (b"\r\n\r\n", b"\n\n"):
        end = raw.find(sep, 0, MAX_HEADER_BYTES + 4)
        if end >= 0:
            return end
    return len(raw) if len(raw) <= MAX_HEADER_BYTES else MAX_HEADER_BYTES + 1


def _content_hash(raw: bytes, size_limit: int = MAX_MESSAGE_BYTES) -> str:
    """A digest that stays the same when the same e-mail is delivered again (trace headers left out)."""
    digest = hashlib.sha256()
    lines = raw[: size_limit + 1].split(b"\n")
    in_headers = True
    skip_continuation = False
    for line in lines:
        if in_headers:
            if not line.strip(b"\r"):
                in_headers = False
            elif line[:1] in (b" ", b"\t"):
                if skip_continuation:
                    continue
            else:
                name = line.split(b":", 1)[0].strip().lower()
                skip_continuation = name in (b"received", b"return-path", b"delivered-to", b"x-original-to")
                if skip_continuation:
                    continue
        digest.update(line.rstrip(b"\r"))
        digest.update(b"\n")
    return digest.hexdigest()[:40]


def parse(raw: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> ParsedEmail:
    """Read one e-mail; never raises. Check ``problem`` before using the result."""
    result = ParsedEmail(size=len(raw or b""))
    if not isinstance(raw, bytes | bytearray):
        result.problem, result.problem_detail = Problem.MALFORMED, "not bytes"
        return result
    raw = bytes(raw)
    result.content_hash = _content_hash(raw)
    if len(raw) > max_bytes:
        result.problem = Problem.TOO_LARGE
        result.problem_detail = f"the e-mail is {len(raw) // 1024} KB; at most {max_bytes // 1024} KB is accepted"
        head = raw[: min(_header_section_size(raw), MAX_HEADER_BYTES)]
        _read_headers(result, head + b"\r\n\r\n")
        return result
    header_size = _header_section_size(raw)
    if header_size > MAX_HEADER_BYTES:
        result.problem = Problem.TOO_LARGE
        result.problem_detail = (
            f"the header section is over {MAX_HEADER_BYTES // 1024} KB; at most {MAX_HEADER_BYTES // 1024} KB"
        )
        return result
    if not raw.strip():
        result.problem, result.problem_detail = Problem.MALFORMED, "the e-mail is empty"
        return result
    try:
        msg = _read_headers(result, raw)
        if msg is None:
            return result
        result.kind, result.kind_detail = classify(msg, result.from_address)
        result.text, result.attachments = _body_and_attachments(msg)
        if result.kind == Kind.BOUNCE:
            detail, ids = _bounce_details(msg)
            result.bounced_ids = ids
            result.kind_detail = "\n".join(d for d in (result.kind_detail, detail) if d)
    except Exception as exc:  # the parsers above are defensive; this is the last guard
        result.problem = Problem.MALFORMED
        result.problem_detail = f"could not read the e-mail: {exc.__class__.__name__}: {exc}"[:500]
        return result
    if result.kind == Kind.NORMAL:
        if not result.from_address:
            result.problem = Problem.MALFORMED
            result.problem_detail = "no sender address in From (or Sender / Reply-To)"
        elif not result.text and not result.attachments and not result.subject:
            result.problem = Problem.MALFORMED
            result.problem_detail = "no text, no subject and no attachments"
    return result


def _read_headers(result: ParsedEmail, raw: bytes) -> Message | None:
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception as exc:
        result.problem = Problem.MALFORMED
        result.problem_detail = f"not an e-mail: {exc.__class__.__name__}"
        return None
    ids = find_ids(header(msg, "Message-ID"), limit=1)
    result.message_id = ids[0] if ids else None
    replied = find_ids(header(msg, "In-Reply-To"))
    result.in_reply_to = replied[-1] if replied else None
    result.references = find_ids(_decode_raw_header(_raw_header(msg, "References")) or header(msg, "References"))
    result.subject = header(msg, "Subject")[:MAX_SUBJECT]
    name, addr = _address(msg, "From")
    if not addr:
        for other in ("Sender", "Reply-To"):
            name, addr = _address(msg, other)
            if addr:
                break
    result.from_name, result.from_address = name, addr.strip()[:254]
    result.to = _addresses(msg, "To")
    result.date = _date(msg)
    return msg
