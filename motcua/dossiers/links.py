"""Links a citizen keeps to download the declaration (tờ khai) of a dossier they filed.

The link carries an unguessable token, an HMAC of the dossier code under the installation's
secret key: only whoever was given the link (the citizen, in the conversation that filed the
dossier) can fetch that dossier's declaration, and nothing is stored to check it.
Plain Python: the action that files the dossier makes the link, the gateway checks it.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["declaration_path", "declaration_token", "is_declaration_token"]

_PURPOSE = b"motcua/declaration-pdf/v1\0"


def declaration_token(secret_key: str, code: str) -> str:
    """32 hex characters that prove the holder was given the link for dossier ``code``."""
    if not secret_key:
        raise ValueError("a secret key is needed to sign declaration links")
    if not code:
        raise ValueError("a dossier code is needed to sign a declaration link")
    return hmac.new(secret_key.encode(), _PURPOSE + code.upper().encode(), hashlib.sha256).hexdigest()[:32]


def is_declaration_token(secret_key: str, code: str, token: str) -> bool:
    """True when ``token`` is the one :func:`declaration_token` gives for ``code``."""
    if not token or not code:
        return False
    return hmac.compare_digest(declaration_token(secret_key, code).encode(), token.strip().lower().encode())


def declaration_path(secret_key: str, code: str) -> str:
    """The gateway path (``/api/v1/dossiers/<code>/declaration.pdf?token=…``) of the PDF."""
    return f"/api/v1/dossiers/{code}/declaration.pdf?token={declaration_token(secret_key, code)}"
