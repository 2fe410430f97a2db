"""Every route denies by default: enumerate them all and check each one's permission."""

from __future__ import annotations

import re

import pytest

from tocsin.domain.auth import ROLE_PERMISSIONS
from tocsin.web.security import PUBLIC_PATHS, iter_api_routes, route_permission


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def routes(app):
    for r in iter_api_routes(app.routes):
        for method in sorted(r.methods - {"HEAD", "OPTIONS"}):
            yield method, r.path, route_permission(r)


def test_every_route_declares_a_permission(app):
    undeclared = [(m, p) for m, p, perm in routes(app) if perm is None and p not in PUBLIC_PATHS]
    assert undeclared == []
    assert len(list(routes(app))) > 40


def test_anonymous_is_refused_everywhere(app):
    from fastapi.testclient import TestClient

    client = TestClient(app, raise_server_exceptions=False)
    for method, path, _perm in routes(app):
        if path in PUBLIC_PATHS:
            continue
        r = client.request(method, concrete(path), follow_redirects=False)
        if path.startswith("/api/"):
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"
        else:
            assert r.status_code == 303 and "/login" in r.headers["location"], (method, path)


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_api_roles_without_permission_get_403(app, api, role):
    client = api(role)
    checked = 0
    for method, path, perm in routes(app):
        if not path.startswith("/api/") or perm in ROLE_PERMISSIONS[role]:
            continue
        r = client.request(method, concrete(path), json={})
        assert r.status_code == 403, (role, method, path, r.status_code, r.text)
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("role", ["viewer", "responder"])
def test_ui_roles_without_permission_get_403(app, ui, role):
    client, csrf = ui(role)
    checked = 0
    for method, path, perm in routes(app):
        if path.startswith("/api/") or path in PUBLIC_PATHS or perm in ROLE_PERMISSIONS[role]:
            continue
        r = client.request(method, concrete(path), headers={"X-CSRF-Token": csrf},
                           follow_redirects=False)
        assert r.status_code == 403, (role, method, path, r.status_code)
        checked += 1
    assert checked > 0


def test_ui_changes_need_the_csrf_token(app, ui):
    client, _ = ui("admin")
    r = client.post("/incidents/new", data={"title": "x", "service": "wiki"},
                    follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text


def test_revoked_token_is_refused(app, api, tokens):
    client = api("admin")
    mine = client.get("/api/v1/tokens").json()["items"]
    assert client.delete(f"/api/v1/tokens/{mine[0]['id']}").status_code == 204
    assert client.get("/api/v1/me").status_code == 401
