"""Links a citizen keeps to download a personal document of their dossier (the declaration).

A link carries a random token (``secrets.token_urlsafe(24)``, 192 bits) made when the dossier
is filed and given only to the conversation that filed it. The database keeps only the
token's SHA-256 with an expiry and a revocation time (``dossier_links``), so neither a
leaked secret key nor a copy of the database lets anyone forge or recover a working link,
and staff can revoke a link that went astray. An earlier design made the token an HMAC of the
code under the (published default) secret key, valid for ever.

The lookup PIN printed on the receipt is made here too: 6 random digits, stored as a salted
PBKDF2 hash (a PIN has only a million values: a plain hash would fall to a table at once).

Plain Python: the service stores and checks, the action puts the link in its answer, the
gateway turns every refusal into one identical 404.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import quote

__all__ = [
    "DECLARATION",
    "declaration_path",
    "hash_pin",
    "hash_token",
    "is_pin",
    "new_pin",
    "new_token",
]

DECLARATION = "declaration"
"""The purpose of a link to the filled declaration PDF."""
PIN_DIGITS = 6
_PIN_ITERATIONS = 60_000


def new_token() -> str:
    """A fresh unguessable link token (32 URL-safe characters)."""
    return secrets.token_urlsafe(24)


def hash_token(token: str) -> str:
    """What is stored for ``token``: its SHA-256 in hex (the token itself is never stored)."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def declaration_path(code: str, token: str) -> str:
    """The gateway path (``/api/v1/dossiers/<code>/declaration.pdf?token=…``) of the PDF."""
    if not code or not token:
        raise ValueError("a declaration link needs the dossier code and its token")
    return f"/api/v1/dossiers/{quote(code)}/declaration.pdf?token={quote(token)}"


def new_pin() -> str:
    """A random lookup PIN of :data:`PIN_DIGITS` digits (leading zeros kept)."""
    return f"{secrets.randbelow(10 ** PIN_DIGITS):0{PIN_DIGITS}d}"


def hash_pin(pin: str, *, salt: str | None = None) -> str:
    """``salt$hash`` of ``pin`` (PBKDF2-SHA256); a fresh random salt unless one is given."""
    salt = salt if salt is not None else secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), bytes.fromhex(salt), _PIN_ITERATIONS).hex()
    return f"{salt}${digest}"


def is_pin(stored: str, pin: str) -> bool:
    """True when ``pin`` (spaces and dots ignored) is the PIN whose hash is ``stored``."""
    pin = "".join(ch for ch in (pin or "") if ch.isdigit())
    if not stored or "$" not in stored or len(pin) != PIN_DIGITS:
        return False
    salt = stored.split("$", 1)[0]
    try:
        candidate = hash_pin(pin, salt=salt)
    except ValueError:  # a corrupt salt
        return False
    return hmac.compare_digest(candidate.encode(), stored.encode())
