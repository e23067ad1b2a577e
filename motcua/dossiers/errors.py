"""Errors of the dossier store. Each message is for people (Vietnamese); ``kind`` says
what went wrong so an API can pick its status code without parsing text."""

from __future__ import annotations

__all__ = [
    "AttachmentRejected",
    "DossierError",
    "DossierNotFound",
    "InvalidApplication",
    "VerificationFailed",
]


class DossierError(ValueError):
    kind = "invalid"


class DossierNotFound(DossierError):
    kind = "not_found"


class InvalidApplication(DossierError):
    """What was filed cannot be accepted (unknown procedure, bad CCCD or phone…)."""

    kind = "invalid"


class VerificationFailed(DossierError):
    """The CCCD or phone given does not match the dossier."""

    kind = "forbidden"


class AttachmentRejected(DossierError):
    """An upload refused; ``kind`` is ``too_large``, ``unsupported`` or ``invalid``."""

    def __init__(self, message: str, kind: str = "invalid"):
        super().__init__(message)
        self.kind = kind
