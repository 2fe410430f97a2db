"""Roles, permissions and who is acting."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .errors import Forbidden

ROLES = ("admin", "responder", "viewer")

# A permission names what a route or use case needs; every route declares one.
PERMISSIONS = ("read", "incidents:write", "config:write", "users:admin")
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"read"}),
    "responder": frozenset({"read", "incidents:write"}),
    "admin": frozenset(PERMISSIONS),
}


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    name: str
    role: str
    time_zone: str = "UTC"

    def can(self, permission: str) -> bool:
        return permission in ROLE_PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden(f"role {self.role!r} lacks permission {permission!r}")


SYSTEM = Actor(None, "system", "admin")


def cli_actor() -> Actor:
    return Actor(None, "cli", "admin")


def token_hash(token: str) -> str:
    """What is stored of a secret token (API tokens, sessions, one-time links): tokens carry
    enough randomness that a fast hash is enough (unlike passwords)."""
    return hashlib.sha256(token.encode()).hexdigest()
