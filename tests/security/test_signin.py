"""Sign-in: nothing to probe, no lock-out by strangers, every failure counted."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import motcua.staff.accounts as accounts
from bot.app import create_app
from bot.deps import get_auth_policy
from motcua.db import get_engine, session_scope, upgrade_database
from motcua.staff.accounts import SIGN_IN_REFUSED, AuthPolicy, SignInError, authenticate, create_user
from motcua.staff.models import StaffUser
from tests.servers import serve_in_thread
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, add_accounts, fake_rasa, make_settings

LOGIN = "/api/v1/staff/login"
ATTACKER = ("203.0.113.66", 40000)
DESK = ("10.0.0.21", 40000)


@pytest.fixture
def app(tmp_path):
    with serve_in_thread(fake_rasa()) as rasa_url:
        settings = make_settings(tmp_path, rasa_url)
        upgrade_database(settings.sqlalchemy_url)
        add_accounts(settings.sqlalchemy_url)
        yield create_app(settings)


def client_from(app, address: tuple[str, int]) -> TestClient:
    return TestClient(app, client=address)


def attempt(client: TestClient, username: str, password: str):
    return client.post(LOGIN, json={"username": username, "password": password})


def test_an_unknown_name_and_a_locked_account_get_the_same_answer(app):
    app.dependency_overrides[get_auth_policy] = lambda: AuthPolicy(max_failures=2)
    for address in ("198.51.100.1", "198.51.100.2"):  # locked from two addresses, under each one's own throttle
        with client_from(app, (address, 1)) as client:
            assert attempt(client, "canbo", "sai-mat-khau-1").status_code == 401
    with client_from(app, ("198.51.100.3", 1)) as client:
        locked = attempt(client, "canbo", PASSWORD)  # the right password, but the account is locked
        unknown = attempt(client, "khong-co-ai", PASSWORD)
        wrong = attempt(client, "quantri", "sai-mat-khau-1")
    assert locked.status_code == unknown.status_code == wrong.status_code == 401
    assert locked.json() == unknown.json() == wrong.json() == {"detail": SIGN_IN_REFUSED}
    assert locked.headers.get("content-length") == unknown.headers.get("content-length")


def test_unknown_and_locked_names_cost_the_same_password_hashing(database_url, monkeypatch):
    """Timing: every refusal runs argon2 once, so a stopwatch cannot tell the cases apart."""
    with session_scope(database_url) as session:
        create_user(session, "canbo", PASSWORD)
    policy = AuthPolicy(max_failures=1)
    with session_scope(database_url) as session:
        with pytest.raises(SignInError):
            authenticate(session, "canbo", "sai-mat-khau-1", policy=policy)  # now locked
    calls: list[str] = []
    real_verify = accounts.verify_password
    monkeypatch.setattr(accounts, "verify_password", lambda h, p: calls.append(h) or real_verify(h, p))
    for name in ("canbo", "khong-co-ai"):
        with session_scope(database_url) as session:
            with pytest.raises(SignInError) as refused:
                authenticate(session, name, PASSWORD, policy=policy)
            assert str(refused.value) == SIGN_IN_REFUSED
    assert len(calls) == 2


def test_a_stranger_cannot_lock_a_staff_member_out_of_their_desk(app):
    with client_from(app, ATTACKER) as attacker:
        codes = [attempt(attacker, "canbo", f"doan-{i}-mat-khau").status_code for i in range(30)]
        assert codes[:5] == [401] * 5 and set(codes[5:]) == {429}  # per (IP, name): 5 tries, then wait
        refused = attempt(attacker, "canbo", PASSWORD)  # even the right password, from that address
        assert refused.status_code == 429
    with client_from(app, DESK) as desk:
        assert attempt(desk, "canbo", PASSWORD).status_code == 200


def test_sign_in_is_throttled_per_ip_across_names_with_a_vietnamese_answer(app):
    with client_from(app, ATTACKER) as attacker:
        codes = [attempt(attacker, f"ten-{i}", "sai-mat-khau-1").status_code for i in range(12)]
        assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
        blocked = attempt(attacker, "quantri", ADMIN_PASSWORD)
        unknown = attempt(attacker, "khong-co-ai", "sai-mat-khau-1")
    assert blocked.status_code == unknown.status_code == 429
    assert blocked.json() == unknown.json()  # a known and an unknown name: one answer
    assert blocked.json()["detail"].startswith("Đăng nhập sai quá nhiều lần") and "phút" in blocked.json()["detail"]
    assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
    with client_from(app, DESK) as desk:
        assert attempt(desk, "quantri", ADMIN_PASSWORD).status_code == 200


def test_a_disabled_account_is_revealed_only_to_someone_with_its_password(app):
    with client_from(app, DESK) as client:
        with session_scope(client.app.state.services.settings.sqlalchemy_url) as session:
            session.scalar(select(StaffUser).where(StaffUser.username == "canbo")).active = False
        wrong = attempt(client, "canbo", "sai-mat-khau-1")
        right = attempt(client, "canbo", PASSWORD)
    assert wrong.status_code == 401 and wrong.json() == {"detail": SIGN_IN_REFUSED}
    assert right.status_code == 401 and "vô hiệu hóa" in right.json()["detail"]


def test_concurrent_failures_are_all_counted_under_a_row_lock(database_url):
    """Two sign-ins at once: the second waits for the first's row, so neither failure is lost."""
    with session_scope(database_url) as session:
        create_user(session, "canbo", PASSWORD)
    engine = get_engine(database_url)
    first = Session(engine, expire_on_commit=False)
    with pytest.raises(SignInError):
        authenticate(first, "canbo", "sai-mat-khau-1")
    done = threading.Event()

    def second_sign_in() -> None:
        with Session(engine) as session:
            try:
                authenticate(session, "canbo", "sai-mat-khau-2")
            except SignInError:
                session.commit()
        done.set()

    worker = threading.Thread(target=second_sign_in)
    worker.start()
    time.sleep(0.5)
    assert not done.is_set()  # waiting for the first transaction's lock
    first.commit()
    first.close()
    worker.join(timeout=15)
    assert done.is_set()
    with session_scope(database_url) as session:
        assert session.scalar(select(StaffUser.failed_attempts).where(StaffUser.username == "canbo")) == 2
