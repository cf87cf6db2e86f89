"""What the PDF mechanism's parts share without loading WeasyPrint: attachments and the render error."""

from __future__ import annotations

import base64
from dataclasses import dataclass

# ISO 32000-2 7.11.3 / PDF/A-3 values of /AFRelationship.
AF_RELATIONSHIPS = frozenset(
    {"Source", "Data", "Alternative", "Supplement", "EncryptedPayload", "FormData", "Schema", "Unspecified"}
)


class PdfRenderError(RuntimeError):
    """WeasyPrint could not produce the document (e.g. a refused or missing resource)."""


@dataclass(frozen=True)
class Attachment:
    """A file embedded in the PDF as a PDF/A-3 associated file."""

    filename: str
    data: bytes
    description: str
    relationship: str = "Data"
    media_type: str = "application/json"

    def __post_init__(self) -> None:
        if not self.filename or "/" in self.filename or "\\" in self.filename:
            raise ValueError(f"attachment filename must be a plain file name, got {self.filename!r}")
        if not isinstance(self.data, bytes):
            raise TypeError("attachment data must be bytes")
        if self.relationship not in AF_RELATIONSHIPS:
            raise ValueError(f"relationship must be one of {sorted(AF_RELATIONSHIPS)}, got {self.relationship!r}")
        main, _, sub = self.media_type.partition("/")
        if not main or not sub or any(c in self.media_type for c in ";, \t\r\n"):
            raise ValueError(f"media_type must be type/subtype, got {self.media_type!r}")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"
