"""The one exception the client raises."""
from __future__ import annotations

from typing import Any, Dict, Optional


class Error(Exception):
    """A failed request: the daemon's JSON error, or a connection problem.

    Attributes:
        status: the HTTP status (400 invalid input, 404 unknown path, 413 too large,
            415 unsupported media, 503 busy, ...), or 0 when the daemon could not be reached.
        code: the contract's code: ``"invalid_argument"``, ``"not_found"``, ``"too_large"``,
            ``"unsupported_media_type"``, ``"busy"``, ... or ``"connection_error"``.
        message: what went wrong, in words.
        field: the request field at fault (``"stride"``, ``"input.npy"``,
            ``"architecture[2].size"``), or ``None``.
    """

    def __init__(self, status: int, code: str, message: str, field: Optional[str] = None) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        where = f" (field {field})" if field else ""
        super().__init__(f"{status} {code}{where}: {message}" if status else f"{code}: {message}")

    @classmethod
    def from_body(cls, status: int, body: bytes) -> "Error":
        """The error of a non-2xx answer: the contract's ``{"error": {...}}`` when it is one."""
        import json

        try:
            err: Dict[str, Any] = json.loads(body.decode("utf-8"))["error"]
            return cls(int(err.get("status", status)), str(err.get("code", "error")),
                       str(err.get("message", "")), err.get("field"))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            text = body[:200].decode("utf-8", "replace").strip()
            return cls(status, "http_error", f"HTTP {status}: {text}")

    @classmethod
    def from_event(cls, event: Dict[str, Any]) -> "Error":
        """The error of a streamed ``{"type": "error", ...}`` event."""
        return cls(int(event.get("status", 500)), str(event.get("code", "error")),
                   str(event.get("message", "")), event.get("field"))
