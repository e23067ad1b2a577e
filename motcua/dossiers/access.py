"""Who may see a dossier, and how a citizen names one.

A citizen names a dossier by its code, typed or scanned from the receipt's QR code
(:func:`parse_lookup_payload`). The code alone shows the status and the dates; the details
need a second factor: the lookup PIN made at filing, or the CCCD number AND the phone
number recorded on the dossier together (one number alone, or the code alone, would let
anyone read someone's procedure) — :func:`is_verified`. What the citizen is told about it is
in the message catalogue (``status.lookup.*``).

Staff belong to a centre: a dossier of another centre (its ``center_code``, the centre it was filed
at) is, for them, not there (:func:`check_center`); ``None`` (an admin) sees every centre.
"""

from __future__ import annotations

import hmac
import re
import unicodedata
from urllib.parse import parse_qs, unquote, urlsplit

from knowledge_base.messages import render
from motcua.dossier_code import DossierCodeError, parse_dossier_code
from motcua.dossiers.errors import DossierError, DossierNotFound
from motcua.dossiers.links import is_pin
from motcua.dossiers.models import DossierRow
from motcua.validators import validate_phone

ASK_SECOND_FACTOR = render("status.lookup.ask_second_factor")
"""The code alone was given: how to see the details."""
ONE_NUMBER_ONLY = render("status.lookup.one_number_only")
"""Only one of the CCCD number and the phone number was given."""
WRONG_SECOND_FACTOR = render("status.lookup.wrong_second_factor")
"""The second factor did not match: only the general information is shown."""


def not_found(code: str, locale: str | None = None) -> str:
    return render("status.lookup.not_found", locale=locale, code=code)


def normal_code(text: str) -> str:
    """``text`` as a dossier code in its one written form; :class:`DossierError` when it is none."""
    try:
        return str(parse_dossier_code(text))
    except DossierCodeError as exc:
        raise DossierError(str(exc)) from None


_QR_KEYS = ("ma", "ma_ho_so", "mahoso", "code", "dossier", "dossier_code")


def parse_lookup_payload(text: str, *, scanned: bool = False) -> str:
    """The dossier code in what a citizen typed, or in a scanned QR payload.

    Accepts the code itself, ``MOTCUA:<code>`` and a lookup link whose query carries the
    code (``?ma=…``) or whose last path segment is the code. Raises :class:`DossierError`
    (Vietnamese) otherwise.
    """
    if not isinstance(text, str):
        raise TypeError(f"lookup payload must be a str, got {type(text).__name__}")
    cleaned = unicodedata.normalize("NFKC", text).strip().lstrip("\ufeff").strip()
    if not cleaned:
        raise DossierError(render("status.lookup.ask_code"))
    candidates = [cleaned]
    if cleaned.upper().startswith("MOTCUA:"):
        candidates = [cleaned.split(":", 1)[1]]
    elif "://" in cleaned:
        parts = urlsplit(cleaned)
        query = parse_qs(parts.query)
        candidates = [query[key][0] for key in _QR_KEYS if query.get(key)]
        segment = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
        if segment:
            candidates.append(segment)
    for candidate in candidates:
        try:
            return str(parse_dossier_code(candidate))
        except DossierCodeError as exc:
            error = exc
    if scanned or len(candidates) != 1 or candidates[0] != cleaned:
        raise DossierError(render("status.lookup.qr_without_code"))
    raise DossierError(str(error))


def digits(text: str) -> str:
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text or ""))


def normal_phone(text: str) -> str:
    result = validate_phone(text or "")
    return result.value if result.ok and result.value is not None else digits(text)


def is_second_factor(*, cccd: str = "", phone: str = "", pin: str = "") -> bool:
    """True when what was given is a whole second factor (a PIN, or both numbers): only such a
    try can be wrong, and only wrong tries count towards a lock-out."""
    return bool((pin or "").strip()) or (bool((cccd or "").strip()) and bool((phone or "").strip()))


def _same(a: str, b: str) -> bool:
    return bool(a) and bool(b) and hmac.compare_digest(a.encode(), b.encode())


def is_verified(row: DossierRow, cccd: str = "", phone: str = "", pin: str = "") -> bool:
    """The second factor: the lookup PIN, or the CCCD AND the phone recorded on the dossier."""
    if (pin or "").strip() and is_pin(row.lookup_pin_hash, pin):
        return True
    return _same(digits(cccd), row.applicant_cccd) and _same(normal_phone(phone), row.applicant_phone)


def check_center(row: DossierRow, center: str | None) -> None:
    """A dossier of another centre (``center``: a centre's code, :mod:`motcua.centers`) is, for this
    staff member, not there; ``None`` sees every centre."""
    if center is not None and row.center_code != center:
        raise DossierNotFound(not_found(row.code))
