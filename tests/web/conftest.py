"""An app over a fresh database, with an API token per role and a signed-in UI client."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tocsin.domain.auth import cli_actor
from tocsin.services import catalog, users
from tocsin.web.app import create_app

PASSWORD = "correct horse battery"


@pytest.fixture
def app(sqlite_container):
    c = sqlite_container
    for role in ("admin", "responder", "viewer"):
        users.create_user(c.uow(), cli_actor(), f"{role}@example.com", PASSWORD, role,
                          role.capitalize(), "Europe/Paris")
    catalog.create_service(c.uow(), cli_actor(), catalog.ServiceInput(
        "payments-api", tier=1, tags=["revenue"]))
    catalog.create_service(c.uow(), cli_actor(), catalog.ServiceInput("wiki", tier=4))
    return create_app(c)


@pytest.fixture
def tokens(app):
    c = app.state.container
    return {role: users.create_token(c.uow(), cli_actor(), f"{role}@example.com", "t").token
            for role in ("admin", "responder", "viewer")}


@pytest.fixture
def api(app, tokens):
    """A client authenticated as `role` (default responder): api("viewer")."""
    def make(role: str = "responder") -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        client.headers["Authorization"] = f"Bearer {tokens[role]}"
        return client
    return make


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in page"
    return match.group(1)


@pytest.fixture
def ui(app):
    """A browser-like client signed in as `role`; returns (client, csrf token)."""
    def make(role: str = "responder") -> tuple[TestClient, str]:
        client = TestClient(app, raise_server_exceptions=False)
        csrf = csrf_from(client.get("/login").text)
        r = client.post("/login", data={"email": f"{role}@example.com", "password": PASSWORD,
                                        "csrf_token": csrf, "next": "/incidents"},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        return client, csrf
    return make
