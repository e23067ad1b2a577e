"""Staff accounts: argon2 password hashes, sign-in with lock-out, sessions that expire, the audit log.

Plain Python over a SQLAlchemy session; the FastAPI dependencies are in ``bot/auth.py``.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from motcua.db import as_utc, utcnow
from motcua.staff.models import ROLES, AuditEntry, StaffSession, StaffUser

_hasher = PasswordHasher()
# Verified against when the username is unknown, so timing does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("không-có-tài-khoản-này")


@dataclass(frozen=True)
class AuthPolicy:
    """How long a session lives and how many wrong passwords lock an account.

    The account-wide lock needs many failures and is short: it only slows a guesser spread over
    many addresses; the gateway's per-(IP, username) throttle stops the others.
    """

    session_ttl: timedelta = timedelta(hours=8)
    idle_timeout: timedelta = timedelta(minutes=60)
    max_failures: int = 20
    lockout: timedelta = timedelta(minutes=5)
    min_password_length: int = 10

    def __post_init__(self) -> None:
        if self.max_failures < 1:
            raise ValueError("max_failures must be at least 1")
        if self.session_ttl <= timedelta(0) or self.idle_timeout <= timedelta(0):
            raise ValueError("session_ttl and idle_timeout must be positive")


DEFAULT_POLICY = AuthPolicy()


class AccountError(ValueError):
    """A problem a person must fix; the message is Vietnamese and safe to show."""


class SignInError(AccountError):
    def __init__(self, message: str, locked: bool = False):
        super().__init__(message)
        self.locked = locked


@dataclass(frozen=True)
class Principal:
    """Who is signed in, as the routes see it."""

    user_id: int
    username: str
    full_name: str
    role: str
    center_code: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @classmethod
    def of(cls, user: StaffUser) -> Principal:
        return cls(user.id, user.username, user.full_name, user.role, user.center_code)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def check_password_rules(password: str, username: str = "", policy: AuthPolicy = DEFAULT_POLICY) -> None:
    """Raise :class:`AccountError` (in Vietnamese) when the password is too weak."""
    if len(password) < policy.min_password_length:
        raise AccountError(f"Mật khẩu phải có ít nhất {policy.min_password_length} ký tự.")
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        raise AccountError("Mật khẩu phải có cả chữ và số.")
    if username and username.lower() in password.lower():
        raise AccountError("Mật khẩu không được chứa tên đăng nhập.")


def create_user(session: Session, username: str, password: str, *, role: str = "staff", full_name: str = "",
                center_code: str = "", actor: str = "system", policy: AuthPolicy = DEFAULT_POLICY) -> StaffUser:
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise AccountError("Tên đăng nhập chỉ gồm chữ, số, dấu chấm, gạch dưới hoặc gạch ngang.")
    if role not in ROLES:
        raise AccountError(f"Vai trò phải là một trong: {', '.join(ROLES)}.")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)) is not None:
        raise AccountError(f"Tên đăng nhập «{username}» đã có.")
    check_password_rules(password, username, policy)
    user = StaffUser(username=username, full_name=full_name.strip(), role=role, center_code=center_code,
                     password_hash=hash_password(password))
    session.add(user)
    session.flush()
    record_audit(session, actor, "user.create", f"user:{username}", None,
                 {"username": username, "role": role, "full_name": user.full_name, "center_code": center_code})
    return user


def set_password(session: Session, user: StaffUser, password: str, *, actor: str,
                 policy: AuthPolicy = DEFAULT_POLICY) -> None:
    check_password_rules(password, user.username, policy)
    user.password_hash = hash_password(password)
    user.failed_attempts = 0
    user.locked_until = None
    for row in session.scalars(select(StaffSession).where(StaffSession.user_id == user.id)):
        row.revoked = True
    record_audit(session, actor, "user.password", f"user:{user.username}", None, None)


SIGN_IN_REFUSED = "Tên đăng nhập hoặc mật khẩu không đúng, hoặc tài khoản đang tạm khóa."
"""The one answer to an unknown name, a wrong password and a locked account: nothing to probe."""


def _user_for_update(session: Session, username: str) -> StaffUser | None:
    """The account row, locked until the transaction ends, so concurrent sign-ins count every failure.

    PostgreSQL: ``SELECT … FOR UPDATE``. SQLite ignores that, so a no-op UPDATE first takes the
    database's write lock (the whole sign-in becomes one write transaction, others wait for it).
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(StaffUser).where(StaffUser.username == username)
                        .values(failed_attempts=StaffUser.failed_attempts))
    return session.scalar(select(StaffUser).where(StaffUser.username == username).with_for_update())


def _count_failure(session: Session, user: StaffUser, policy: AuthPolicy, now: datetime) -> bool:
    """One more wrong password (the row is locked by the caller); True when this one locked the account."""
    user.failed_attempts += 1
    if user.failed_attempts < policy.max_failures:
        return False
    user.locked_until = now + policy.lockout
    user.failed_attempts = 0
    record_audit(session, "system", "user.locked", f"user:{user.username}", None,
                 {"locked_until": user.locked_until.isoformat()})
    return True


def authenticate(session: Session, username: str, password: str, *, policy: AuthPolicy = DEFAULT_POLICY,
                 now: datetime | None = None) -> StaffUser:
    """The user when the password is right; :class:`SignInError` otherwise.

    An unknown name, a wrong password and a locked account answer the same message after the
    same argon2 work. After ``policy.max_failures`` wrong passwords in a row the account is
    locked for ``policy.lockout`` (many tries, short lock: the per-IP throttle in the gateway
    is what stops a guesser, so a stranger cannot keep a staff member out of their desk).
    """
    now = now or utcnow()
    user = _user_for_update(session, username.strip().lower())
    wrong = SignInError(SIGN_IN_REFUSED)
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise wrong
    locked_until = as_utc(user.locked_until)
    if locked_until is not None and locked_until > now:
        verify_password(_DUMMY_HASH, password)
        raise SignInError(SIGN_IN_REFUSED, locked=True)
    if not verify_password(user.password_hash, password):
        raise SignInError(SIGN_IN_REFUSED, locked=_count_failure(session, user, policy, now))
    if not user.active:  # told only to someone who knows the password
        raise SignInError("Tài khoản đã bị vô hiệu hóa. Liên hệ quản trị viên.")
    user.failed_attempts = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: StaffUser, *, policy: AuthPolicy = DEFAULT_POLICY,
                 now: datetime | None = None) -> str:
    """A new random session token (only its hash is stored)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    session.add(StaffSession(token_hash=_token_hash(token), user_id=user.id, created_at=now,
                             last_seen_at=now, expires_at=now + policy.session_ttl))
    return token


def resolve_session(session: Session, token: str, *, policy: AuthPolicy = DEFAULT_POLICY,
                    now: datetime | None = None) -> Principal | None:
    """The signed-in user for ``token``, or None when unknown, revoked, expired or idle too long."""
    if not token:
        return None
    now = now or utcnow()
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if row is None or row.revoked:
        return None
    if as_utc(row.expires_at) <= now or as_utc(row.last_seen_at) + policy.idle_timeout <= now:
        row.revoked = True
        return None
    user = session.get(StaffUser, row.user_id)
    if user is None or not user.active:
        return None
    if (now - as_utc(row.last_seen_at)).total_seconds() > 60:  # one write a minute at most
        row.last_seen_at = now
    return Principal.of(user)


def close_session(session: Session, token: str) -> None:
    row = session.scalar(select(StaffSession).where(StaffSession.token_hash == _token_hash(token)))
    if row is not None:
        row.revoked = True


def record_audit(session: Session, actor: str, action: str, target: str, before: Any = None,
                 after: Any = None) -> AuditEntry:
    """Write who changed what (before/after as JSON) in the caller's transaction."""
    entry = AuditEntry(actor=actor or "system", action=action, target=target, before=before, after=after)
    session.add(entry)
    return entry


def list_users(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.username)))
