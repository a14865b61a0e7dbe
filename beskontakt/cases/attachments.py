"""Files that travel with messages: what is accepted, how names are cleaned, where bytes go.

Limits are constants, not settings, so every installation refuses the same
files: at most ``MAX_FILES`` files per message, each at most ``MAX_FILE_SIZE``
bytes. The type of a file is read from its first bytes (its "magic"), never
from its name or the type the sender declared: a ``photo.jpg`` that is really
HTML, SVG or a program is refused. Accepted: JPEG, PNG, GIF and WebP images,
PDF and plain UTF-8 text.

Stored files get a random name (``attachments/YYYY/MM/<case>/<random>.<ext>``,
the extension from the detected type); the sender's name, cleaned, is kept in
``Attachment.filename`` and only used in ``Content-Disposition`` on download.
No thumbnails are made (Pillow is not a dependency).
"""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

from .models import Attachment, Message

MAX_FILE_SIZE = 10 * 1024 * 1024
MAX_FILES = 5
MAX_NAME_LENGTH = 120
FIELD = "files"

# Detected type -> extension of the stored file.
ACCEPTED_TYPES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "application/pdf": "pdf",
    "text/plain": "txt",
}
ACCEPTED_LABEL = "JPEG, PNG, GIF, WebP, PDF, plain text (UTF-8)"

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)
# Text that a browser or a shell would treat as markup or a program.
_ACTIVE_TEXT = re.compile(
    rb"^\s*(<\?xml|<!doctype|<html|<head|<body|<svg|<script|<iframe|<object|<embed|<meta|<!--|#!)",
    re.IGNORECASE,
)
# Control characters allowed in plain text: tab, line feed, form feed, carriage return.
_TEXT_CONTROLS = frozenset("\t\n\f\r")
_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class CheckedFile:
    """An uploaded file that passed the checks: clean name, detected type, size."""

    upload: Any
    filename: str
    content_type: str
    size: int


def clean_filename(raw: str | None) -> str:
    """The sender's file name made safe to store and show.

    Folders are dropped (``../../etc/passwd`` -> ``passwd``, ``C:\\x\\a.pdf`` ->
    ``a.pdf``), control and format characters removed, whitespace collapsed,
    leading dots stripped (no hidden files) and the length limited to
    ``MAX_NAME_LENGTH`` characters keeping the extension; an empty result is ``file``.
    """
    name = unicodedata.normalize("NFC", str(raw or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = " ".join(name.split()).strip(" .")
    if len(name) > MAX_NAME_LENGTH:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10 and stem:
            name = stem[: MAX_NAME_LENGTH - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME_LENGTH].rstrip(" .")
    return name or "file"


def _read_all(upload: Any) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return bytes(data)


def _is_plain_text(data: bytes) -> bool:
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if _ACTIVE_TEXT.match(data[:1024]):
        return False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch in _TEXT_CONTROLS or unicodedata.category(ch) != "Cc" for ch in text)


def detect_type(upload: Any) -> str | None:
    """The accepted type the file's bytes show, or ``None`` if they show none of them."""
    upload.seek(0)
    head = bytes(upload.read(16))
    upload.seek(0)
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if _is_plain_text(_read_all(upload)):
        return "text/plain"
    return None


def _size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_files(files: Iterable[Any] | None, field: str = FIELD) -> list[CheckedFile]:
    """Validate uploaded files for one message; raises ``ValidationError`` keyed by ``field``.

    Every refused file is named in the message together with what is accepted.
    """
    uploads = [f for f in (files or []) if f is not None]
    if len(uploads) > MAX_FILES:
        raise ValidationError(
            {
                field: _("Too many files: at most %(max)d per message, got %(got)d.")
                % {"max": MAX_FILES, "got": len(uploads)}
            }
        )
    errors: list[str] = []
    checked: list[CheckedFile] = []
    for upload in uploads:
        name = clean_filename(getattr(upload, "name", None))
        size = int(getattr(upload, "size", 0) or 0)
        if size == 0:
            errors.append(_("“%(name)s” is empty.") % {"name": name})
            continue
        if size > MAX_FILE_SIZE:
            errors.append(
                _("“%(name)s” is too large: %(size)s, at most %(max)s per file.")
                % {"name": name, "size": _size_text(size), "max": _size_text(MAX_FILE_SIZE)}
            )
            continue
        content_type = detect_type(upload)
        if content_type is None:
            errors.append(
                _("“%(name)s”: this kind of file is not accepted (its content was checked); send %(types)s.")
                % {"name": name, "types": ACCEPTED_LABEL}
            )
            continue
        checked.append(CheckedFile(upload=upload, filename=name, content_type=content_type, size=size))
    if errors:
        raise ValidationError({field: errors})
    return checked


def store(message: Message, files: Sequence[CheckedFile]) -> list[Attachment]:
    """Save checked files under random names and attach them to ``message`` (call inside the action's transaction)."""
    stored: list[Attachment] = []
    try:
        for item in files:
            attachment = Attachment(
                message=message, filename=item.filename, content_type=item.content_type, size=item.size
            )
            item.upload.seek(0)
            random_name = f"{secrets.token_hex(16)}.{ACCEPTED_TYPES[item.content_type]}"
            attachment.file.save(random_name, item.upload, save=False)
            stored.append(attachment)
            attachment.save()
    except BaseException:
        discard(stored)
        raise
    return stored


def discard(attachments: Iterable[Attachment]) -> None:
    """Delete the stored bytes of attachments whose rows were not (or will not be) committed."""
    for attachment in attachments:
        if attachment.file:
            attachment.file.storage.delete(attachment.file.name)


def download_response(attachment: Attachment) -> FileResponse:
    """The file as a download no browser renders or sniffs (the caller has checked access to its case)."""
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404("file missing") from None
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.filename, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
