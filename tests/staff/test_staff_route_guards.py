"""Every staff and admin route refuses an anonymous visitor and a user of the wrong role.

The routes are found by walking the app's route table — every route under /staff, /admin,
/api/v1/staff and /api/v1/admin, and any other route that depends on require_staff or
require_admin — so a route added later cannot be forgotten.
"""

from __future__ import annotations

import re

from fastapi.routing import APIRoute, APIWebSocketRoute, iter_route_contexts
from fastapi.testclient import TestClient

from bot.auth import COOKIE, PROTECTED_PREFIXES, PUBLIC_ROUTES, AuthPolicy, require_admin, require_staff
from bot.deps import get_auth_policy
from motcua.staff.accounts import SIGN_IN_REFUSED
from tests.staff.conftest import ADMIN_PASSWORD, PASSWORD, sign_in


def dependency_calls(dependant) -> set:
    """Every callable a route depends on, directly or through other dependencies."""
    found = set()
    for dependency in dependant.dependencies:
        found.add(dependency.call)
        found |= dependency_calls(dependency)
    return found


def guarded_routes(app) -> list[tuple[str, str, str | None]]:
    """(method, path, role) of every route that must be guarded; role None means «forgot the guard»."""
    found = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute | APIWebSocketRoute):
            continue
        calls = dependency_calls(context.dependant)
        role = "admin" if require_admin in calls else "staff" if require_staff in calls else None
        under_prefix = any(route.path == p or route.path.startswith(p + "/") for p in PROTECTED_PREFIXES)
        if not under_prefix and role is None:
            continue
        for method in sorted(getattr(route, "methods", None) or {"WEBSOCKET"}):
            if (method, route.path) not in PUBLIC_ROUTES:
                found.append((method, route.path, role))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_route_table_walk_finds_every_staff_and_admin_route(staff_app):
    app, _, _ = staff_app
    routes = guarded_routes(app)
    paths = {path for _, path, _ in routes}
    assert len(routes) >= 30
    for expected in ("/staff/dashboard", "/admin", "/api/v1/staff/handoffs/{conversation_id}/reply",
                     "/api/v1/admin/training", "/api/v1/admin/models/rollback", "/api/v1/staff/dashboard/export.csv"):
        assert expected in paths
    unguarded = [(m, p) for m, p, role in routes if role is None]
    assert unguarded == [], f"routes without require_staff/require_admin: {unguarded}"
    wrongly_open_admin = [(m, p) for m, p, role in routes
                          if (p.startswith("/admin") or p.startswith("/api/v1/admin")) and role != "admin"]
    assert wrongly_open_admin == []


def test_every_guarded_route_refuses_anonymous_and_wrong_role(staff_app):
    app, _, _ = staff_app
    routes = guarded_routes(app)
    with TestClient(app, follow_redirects=False) as anonymous, TestClient(app, follow_redirects=False) as staff, \
            TestClient(app, follow_redirects=False) as admin:
        sign_in(staff, "canbo", PASSWORD)
        sign_in(admin, "quantri", ADMIN_PASSWORD)
        bogus = TestClient(app, follow_redirects=False, cookies={COOKIE: "forged-token"})
        for method, path, role in routes:
            url = _concrete(path)
            for client in (anonymous, bogus):
                response = client.request(method, url, json={})
                if path.startswith("/api/"):
                    assert response.status_code == 401, (method, path, response.status_code)
                else:
                    assert response.status_code == 303, (method, path, response.status_code)
                    assert response.headers["location"].startswith("/staff/login?next=")
            if role == "admin":
                response = staff.request(method, url, json={})
                assert response.status_code == 403, (method, path, response.status_code)
                if not path.startswith("/api/"):
                    assert "không có quyền" in response.text
            else:  # the right role gets past the guard (then finds nothing at id 1, or refuses the body)
                response = staff.request(method, url, json=[])
                assert response.status_code not in (401, 403), (method, path, response.status_code)
            # a body that fails validation: past the guard, but nothing (a training run!) really starts
            response = admin.request(method, url, json=[])
            assert response.status_code not in (401, 403), (method, path, response.status_code)


def test_sign_in_page_is_vietnamese_and_sign_in_sets_an_httponly_cookie(staff_app):
    app, _, _ = staff_app
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/staff/login")
        assert page.status_code == 200 and '<html lang="vi">' in page.text and "Đăng nhập" in page.text
        wrong = client.post("/api/v1/staff/login", json={"username": "canbo", "password": "sai-mat-khau-9"})
        assert wrong.status_code == 401 and wrong.json() == {"detail": SIGN_IN_REFUSED}
        response = client.post("/api/v1/staff/login", json={"username": "canbo", "password": PASSWORD})
        assert response.json()["redirect"] == "/staff"
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Max-Age=28800" in cookie
        assert client.get("/api/v1/staff/me").json()["role"] == "staff"
        token = client.cookies.get(COOKIE)
        bearer = TestClient(app, headers={"Authorization": f"Bearer {token}"})
        assert bearer.get("/api/v1/staff/me").status_code == 200
        client.post("/api/v1/staff/logout")
        assert bearer.get("/api/v1/staff/me").status_code == 401


def test_lock_out_through_the_api(staff_app):
    app, _, _ = staff_app
    app.dependency_overrides[get_auth_policy] = lambda: AuthPolicy(max_failures=3)  # the account-wide lock (20 by default)
    with TestClient(app) as client:
        codes = [client.post("/api/v1/staff/login", json={"username": "canbo", "password": f"sai-{i}-mat-khau"}
                             ).status_code for i in range(3)]
        assert codes == [401, 401, 401]
        locked = client.post("/api/v1/staff/login", json={"username": "canbo", "password": PASSWORD})
        assert locked.status_code == 401 and locked.json() == {"detail": SIGN_IN_REFUSED}  # as for an unknown name
        sign_in(client, "quantri", ADMIN_PASSWORD)
        users = {u["username"]: u for u in client.get("/api/v1/admin/users").json()}
        assert users["canbo"]["locked_until"]
        client.post(f"/api/v1/admin/users/{users['canbo']['id']}/unlock")
        client.post("/api/v1/staff/logout")
        sign_in(client, "canbo", PASSWORD)
        sign_in(client, "quantri", ADMIN_PASSWORD)
        actions = [e["action"] for e in client.get("/api/v1/admin/audit").json()]
        assert "user.locked" in actions and "user.unlock" in actions
