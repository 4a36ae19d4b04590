"""Evidence files: what a force may attach, checked by content rather than by name.

A file is accepted when its extension is allowed, its content is what the extension says
(signatures, a readable zip with the parts of an Office document, an image Pillow can
decode, UTF-8 text without control characters) and it is no larger than the limit. Anything
else is refused with the reason, naming the file. Accepted files are encrypted before they
are stored.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError

from apps.core import crypto

ALLOWED = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".csv": "text/csv",
    ".txt": "text/plain",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
OFFICE_PART = {
    ".docx": "word/document.xml",
    ".xlsx": "xl/workbook.xml",
    ".pptx": "ppt/presentation.xml",
}
ALLOWED_TEXT = ", ".join(sorted({ext.lstrip(".").upper() for ext in ALLOWED} - {"JPEG"}))
MAX_ZIP_RATIO = 100  # an Office file that unpacks to more than 100 times its size is refused


@dataclass(frozen=True)
class CheckedFile:
    name: str
    content_type: str
    data: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.data)

    def encrypted(self) -> bytes:
        return crypto.key_ring().encrypt(self.data)


def decrypt(content: bytes | memoryview) -> bytes:
    return crypto.key_ring().decrypt(bytes(content))


def _safe_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name.strip()
    cleaned = "".join(c for c in base if c.isprintable() and c not in '<>:"|?*')
    return cleaned[:200] or "file"


def _refuse(name: str, reason: str) -> ValidationError:
    return ValidationError(f"{name}: {reason}", code="file")


def _check_office(name: str, ext: str, data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise _refuse(name, f"it is not a readable {ext.lstrip('.').upper()} file.") from exc
    if bad is not None:
        raise _refuse(name, f"part of the file is damaged ({bad}).")
    if "[Content_Types].xml" not in names or OFFICE_PART[ext] not in names:
        raise _refuse(name, f"it is not a {ext.lstrip('.').upper()} document.")
    if unpacked > MAX_ZIP_RATIO * max(len(data), 1):
        raise _refuse(name, "it unpacks to far more than its size, which documents never do.")
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        raise _refuse(name, "it contains macros; save it without macros and try again.")


def _check_image(name: str, data: bytes) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise _refuse(name, "the image is damaged or not an image.") from exc


def _check_text(name: str, data: bytes) -> None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _refuse(name, "it is not UTF-8 text.") from exc
    if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
        raise _refuse(name, "it contains control characters, so it is not plain text.")


def check_file(name: str, data: bytes, *, max_bytes: int | None = None) -> CheckedFile:
    """The file if it may be stored; otherwise ValidationError naming the file and why."""
    shown = _safe_name(name)
    limit = max_bytes if max_bytes is not None else settings.FOLLOWUP_MAX_FILE_BYTES
    ext = PurePath(shown.lower()).suffix
    if ext not in ALLOWED:
        raise _refuse(shown, f"files of this type are not accepted. Use {ALLOWED_TEXT}.")
    if not data:
        raise _refuse(shown, "the file is empty.")
    if len(data) > limit:
        raise _refuse(
            shown,
            f"the file is {len(data) / 1_048_576:.1f} MB; the most is {limit / 1_048_576:.0f} MB.",
        )
    if ext == ".pdf":
        if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-2048:]:
            raise _refuse(shown, "it is not a complete PDF file.")
    elif ext in OFFICE_PART:
        _check_office(shown, ext, data)
    elif ext in (".png", ".jpg", ".jpeg"):
        signature = b"\x89PNG\r\n\x1a\n" if ext == ".png" else b"\xff\xd8\xff"
        if not data.startswith(signature):
            raise _refuse(shown, f"its content is not a {ext.lstrip('.').upper()} image.")
        _check_image(shown, data)
    else:
        _check_text(shown, data)
    return CheckedFile(shown, ALLOWED[ext], data, hashlib.sha256(data).hexdigest())
