"""What an uploaded document may be: a PDF, JPEG or PNG file, recognised by its first bytes
(not by its name), of at most 10 MB."""

from __future__ import annotations

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: What an uploaded document may be: the first bytes of each accepted type.
UPLOAD_SIGNATURES = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


def upload_error(upload: UploadedFile) -> str | None:
    """An error message when `upload` is not a PDF, JPEG or PNG file of a sensible size."""
    if upload.size and upload.size > MAX_UPLOAD_BYTES:
        return _("The file is larger than 10 MB.")
    head = upload.read(16)
    upload.seek(0)
    if not any(head.startswith(sig) for sigs in UPLOAD_SIGNATURES.values() for sig in sigs):
        return _("Only PDF, JPEG or PNG files are accepted.")
    return None
