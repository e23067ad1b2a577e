"""Passwords (argon2, rules), lock-out after repeated failures, sessions that expire — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from motcua.db import session_scope, utcnow
from motcua.staff.accounts import (
    AccountError,
    AuthPolicy,
    SignInError,
    authenticate,
    close_session,
    create_user,
    open_session,
    resolve_session,
    set_password,
)
from motcua.staff.models import AuditEntry, StaffUser

POLICY = AuthPolicy(session_ttl=timedelta(hours=8), idle_timeout=timedelta(minutes=30), max_failures=3,
                    lockout=timedelta(minutes=15))


def test_passwords_are_stored_as_argon2_hashes_and_weak_ones_are_refused(database_url):
    with session_scope(database_url) as session:
        user = create_user(session, "CanBo.Xa", "mat-khau-2024", full_name="Nguyễn Văn A")
        assert user.username == "canbo.xa"
        assert user.password_hash.startswith("$argon2id$")
        assert "mat-khau-2024" not in user.password_hash
        for name, weak, why in [("mot", "ngan1", "ít nhất"), ("hai", "chicochukhongso", "chữ và số"),
                                ("an.tuan", "AN.TUAN-2024", "tên đăng nhập")]:
            with pytest.raises(AccountError, match=why):
                create_user(session, name, weak)
        with pytest.raises(AccountError, match="chữ và số"):
            set_password(session, user, "1234567890123", actor="t")
        with pytest.raises(AccountError, match="đã có"):
            create_user(session, "canbo.xa", "mot-mat-khau-khac-1")
        with pytest.raises(AccountError, match="Vai trò"):
            create_user(session, "khac", "mot-mat-khau-khac-1", role="root")
        actions = [e.action for e in session.scalars(select(AuditEntry))]
    assert actions.count("user.create") == 1


def test_wrong_password_is_refused_and_right_one_accepted(database_url):
    with session_scope(database_url) as session:
        create_user(session, "canbo", "mat-khau-2024")
    with session_scope(database_url) as session:
        with pytest.raises(SignInError, match="không đúng"):
            authenticate(session, "canbo", "sai-mat-khau-1", policy=POLICY)
        with pytest.raises(SignInError, match="không đúng"):
            authenticate(session, "khong-co-ai", "mat-khau-2024", policy=POLICY)
        assert authenticate(session, " CANBO ", "mat-khau-2024", policy=POLICY).username == "canbo"
        assert session.scalar(select(StaffUser)).failed_attempts == 0


def test_repeated_failures_lock_the_account_even_for_the_right_password_until_the_lockout_ends(database_url):
    with session_scope(database_url) as session:
        create_user(session, "canbo", "mat-khau-2024")
    now = utcnow()
    for attempt in range(POLICY.max_failures):
        with session_scope(database_url) as session:
            with pytest.raises(SignInError) as failure:
                authenticate(session, "canbo", f"sai-{attempt}-mat-khau", policy=POLICY, now=now)
    assert failure.value.locked
    with session_scope(database_url) as session:
        with pytest.raises(SignInError, match="tạm khóa") as locked:
            authenticate(session, "canbo", "mat-khau-2024", policy=POLICY, now=now + timedelta(minutes=14))
        assert locked.value.locked
    with session_scope(database_url) as session:
        assert authenticate(session, "canbo", "mat-khau-2024", policy=POLICY,
                            now=now + timedelta(minutes=16)).username == "canbo"
        assert "user.locked" in [e.action for e in session.scalars(select(AuditEntry))]


def test_failures_below_the_limit_are_forgotten_after_a_good_sign_in(database_url):
    with session_scope(database_url) as session:
        create_user(session, "canbo", "mat-khau-2024")
    for password in ["sai-1-mat-khau", "sai-2-mat-khau", "mat-khau-2024", "sai-3-mat-khau", "sai-4-mat-khau",
                     "mat-khau-2024"]:
        with session_scope(database_url) as session:
            try:
                authenticate(session, "canbo", password, policy=POLICY)
            except SignInError as exc:
                assert not exc.locked


def test_sessions_expire_after_their_lifetime_and_after_idling(database_url):
    with session_scope(database_url) as session:
        user = create_user(session, "canbo", "mat-khau-2024", role="admin")
    start = utcnow()
    with session_scope(database_url) as session:
        token = open_session(session, session.get(StaffUser, user.id), policy=POLICY, now=start)
    with session_scope(database_url) as session:
        principal = resolve_session(session, token, policy=POLICY, now=start + timedelta(minutes=20))
        assert principal is not None and principal.is_admin and principal.username == "canbo"
    # used every 20 minutes it stays alive… until 8 hours after sign-in
    moment = start
    for _ in range(23):
        moment += timedelta(minutes=20)
        with session_scope(database_url) as session:
            assert resolve_session(session, token, policy=POLICY, now=moment) is not None
    with session_scope(database_url) as session:
        assert resolve_session(session, token, policy=POLICY, now=start + timedelta(hours=8, seconds=1)) is None
    # idle longer than the idle timeout: gone
    with session_scope(database_url) as session:
        idle = open_session(session, session.get(StaffUser, user.id), policy=POLICY, now=start)
    with session_scope(database_url) as session:
        assert resolve_session(session, idle, policy=POLICY, now=start + timedelta(minutes=31)) is None
    with session_scope(database_url) as session:  # and it stays gone
        assert resolve_session(session, idle, policy=POLICY, now=start + timedelta(minutes=1)) is None
    assert resolve_session_unknown(database_url) is None


def resolve_session_unknown(url):
    with session_scope(url) as session:
        return resolve_session(session, "not-a-token", policy=POLICY)


def test_sign_out_password_change_and_deactivation_end_sessions(database_url):
    with session_scope(database_url) as session:
        user = create_user(session, "canbo", "mat-khau-2024")
        tokens = [open_session(session, user, policy=POLICY) for _ in range(3)]
    with session_scope(database_url) as session:
        close_session(session, tokens[0])
    with session_scope(database_url) as session:
        assert resolve_session(session, tokens[0], policy=POLICY) is None
        assert resolve_session(session, tokens[1], policy=POLICY) is not None
        set_password(session, session.get(StaffUser, user.id), "mat-khau-moi-2025", actor="quantri")
    with session_scope(database_url) as session:
        assert resolve_session(session, tokens[1], policy=POLICY) is None
        fresh = open_session(session, session.get(StaffUser, user.id), policy=POLICY)
    with session_scope(database_url) as session:
        session.get(StaffUser, user.id).active = False
    with session_scope(database_url) as session:
        assert resolve_session(session, fresh, policy=POLICY) is None
        with pytest.raises(SignInError, match="vô hiệu hóa"):
            authenticate(session, "canbo", "mat-khau-moi-2025", policy=POLICY)
