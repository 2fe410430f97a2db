"""People who sign in: accounts, Argon2 passwords, API tokens (stored hashed, shown once)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..domain.auth import ROLES, Actor, token_hash
from ..domain.errors import Conflict, FieldError, NotFound, Unauthorized, ValidationFailed
from ..store.models import ApiToken, User, WebSession
from ..store.uow import UnitOfWork
from .common import actor_label
from .views import TokenCreated, UserView

_hasher = PasswordHasher()
# Verifying against this keeps unknown-email sign-ins as slow as wrong-password ones.
_DUMMY_HASH = _hasher.hash("not-a-password")
TOKEN_PREFIX = "tcn_"


def _user_view(u: User, teams: list[str] | None = None) -> UserView:
    return UserView(u.id, u.email, u.name, u.role, u.time_zone, u.phone, u.active, teams or [])


def check_user(email: str, password: str | None, role: str, time_zone: str,
           name: str | None = None, phone: str | None = None) -> None:
    errors = []
    if "@" not in email or len(email) > 320:
        errors.append(FieldError("email", "must be an email address"))
    if password is not None and len(password) < 8:
        errors.append(FieldError("password", "must be at least 8 characters"))
    if name is not None and not 1 <= len(name.strip()) <= 200:
        errors.append(FieldError("name", "1 to 200 characters"))
    if phone is not None and len(phone) > 40:
        errors.append(FieldError("phone", "at most 40 characters"))
    if role not in ROLES:
        errors.append(FieldError("role", f"must be one of {', '.join(ROLES)}"))
    try:
        ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        errors.append(FieldError("time_zone", f"unknown time zone {time_zone!r}"))
    if errors:
        raise ValidationFailed(errors, "invalid user")


def create_user(uow: UnitOfWork, actor: Actor, email: str, password: str | None, role: str,
                name: str | None = None, time_zone: str = "UTC",
                phone: str | None = None) -> UserView:
    actor.require("users:admin")
    email = email.strip().lower()
    check_user(email, password, role, time_zone, name, phone)
    with uow:
        user = add_user(uow, email, password, role, name, time_zone, phone)
        uow.record(actor_label(actor), "user.create", f"user:{user.id}",
                   {"email": email, "role": role})
        view = _user_view(user)
        uow.commit()
        return view


def add_user(uow: UnitOfWork, email: str, password: str | None, role: str, name: str | None,
             time_zone: str, phone: str | None = None) -> User:
    """A checked, new user inside the caller's transaction (people create them too)."""
    if uow.users.by_email(email):
        raise Conflict(f"a user with email {email!r} exists already")
    return uow.users.add(User(
        email=email, name=(name or email.split("@")[0]).strip(),
        password_hash=_hasher.hash(password) if password else None, role=role,
        time_zone=time_zone, phone=phone, active=True, created_at=uow.clock.now()))


def authenticate(uow: UnitOfWork, email: str, password: str) -> Actor:
    with uow:
        user = uow.users.by_email(email)
        try:
            if user is None or not user.password_hash or not user.active:
                _hasher.verify(_DUMMY_HASH, password + "x")
            _hasher.verify(user.password_hash, password)  # type: ignore[union-attr]
        except (VerificationError, InvalidHashError, AttributeError) as exc:
            raise Unauthorized("wrong email or password") from exc
        return Actor(user.id, user.name, user.role, user.time_zone)


def start_session(uow: UnitOfWork, actor: Actor, max_age_seconds: int) -> str:
    """Sign a person in: a random token for the cookie, its hash in the database."""
    token = secrets.token_urlsafe(32)
    with uow:
        now = uow.clock.now()
        uow.web_sessions.add(WebSession(token_hash=token_hash(token), user_id=actor.user_id,
                                        created_at=now,
                                        expires_at=now + timedelta(seconds=max_age_seconds)))
        uow.commit()
    return token


def end_session(uow: UnitOfWork, token: str) -> None:
    with uow:
        row = uow.web_sessions.get(token_hash(token))
        if row is not None and row.revoked_at is None:
            row.revoked_at = uow.clock.now()
            uow.commit()


def actor_for_session(uow: UnitOfWork, token: str) -> Actor | None:
    with uow:
        row = uow.web_sessions.get(token_hash(token))
        if row is None or row.revoked_at is not None or row.expires_at <= uow.clock.now():
            return None
        user = uow.users.get(row.user_id)
        if user is None or not user.active:
            return None
        return Actor(user.id, user.name, user.role, user.time_zone)


def create_token(uow: UnitOfWork, actor: Actor, email: str, name: str) -> TokenCreated:
    with uow:
        user = uow.users.by_email(email)
        if user is None:
            raise NotFound(f"no user {email!r}")
        if user.id != actor.user_id:
            actor.require("users:admin")
        if not 1 <= len(name.strip()) <= 100:
            raise ValidationFailed([FieldError("name", "1 to 100 characters")], "invalid token")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = uow.tokens.add(ApiToken(user_id=user.id, name=name.strip(), prefix=token[:10],
                                      token_hash=token_hash(token), created_at=uow.clock.now()))
        uow.record(actor_label(actor), "token.create", f"user:{user.id}",
                   {"token_id": row.id, "name": row.name, "prefix": row.prefix})
        uow.commit()
        return TokenCreated(row.id, row.name, token, user.email)


def actor_for_token(uow: UnitOfWork, token: str) -> Actor:
    with uow:
        row = uow.tokens.by_hash(token_hash(token))
        if row is None or row.revoked_at is not None:
            raise Unauthorized("invalid or revoked API token")
        user = uow.users.get(row.user_id)
        if user is None or not user.active:
            raise Unauthorized("the token's user is disabled")
        return Actor(user.id, user.name, user.role, user.time_zone)


def list_tokens(uow: UnitOfWork, actor: Actor) -> list[dict]:
    with uow:
        if actor.user_id is None:
            return []
        return [{"id": t.id, "name": t.name, "prefix": t.prefix, "created_at": t.created_at,
                 "revoked": t.revoked_at is not None} for t in uow.tokens.for_user(actor.user_id)]


def revoke_token(uow: UnitOfWork, actor: Actor, token_id: int) -> None:
    with uow:
        row = next((t for t in uow.tokens.for_user(actor.user_id or -1) if t.id == token_id), None)
        if row is None:
            raise NotFound(f"no token {token_id} of yours")
        row.revoked_at = uow.clock.now()
        uow.record(actor_label(actor), "token.revoke", f"user:{actor.user_id}",
                   {"token_id": token_id})
        uow.commit()


def list_users(uow: UnitOfWork) -> list[UserView]:
    with uow:
        teams: dict[int, list[str]] = {}
        for t in uow.teams.list():
            for uid in uow.teams.member_ids(t.id):
                teams.setdefault(uid, []).append(t.name)
        return [_user_view(u, teams.get(u.id, [])) for u in uow.users.list()]


def get_user(uow: UnitOfWork, user_id: int) -> UserView:
    with uow:
        user = uow.users.get(user_id)
        if user is None:
            raise NotFound(f"no user {user_id}")
        return _user_view(user)


def update_profile(uow: UnitOfWork, actor: Actor, time_zone: str | None = None,
                   name: str | None = None, phone: str | None = None) -> UserView:
    with uow:
        user = uow.users.get(actor.user_id or -1)
        if user is None:
            raise NotFound("only signed-in people have a profile")
        check_user(user.email, None, user.role, time_zone or user.time_zone, name or None,
                   phone)
        if time_zone is not None:
            user.time_zone = time_zone
        if name:
            user.name = name.strip()
        if phone is not None:
            user.phone = phone.strip() or None
        uow.record(actor_label(actor), "user.profile", f"user:{user.id}",
                   {"time_zone": user.time_zone, "name": user.name})
        view = _user_view(user)
        uow.commit()
        return view


def update_user(uow: UnitOfWork, actor: Actor, user_ref: int | str, role: str | None = None,
                active: bool | None = None, name: str | None = None,
                password: str | None = None) -> UserView:
    """An admin changes someone's role, name or password, or disables them (which ends
    their sessions and stops their API tokens at once)."""
    actor.require("users:admin")
    with uow:
        user = uow.users.by_email(user_ref) if isinstance(user_ref, str) \
            else uow.users.get(user_ref)
        if user is None:
            raise NotFound(f"no user {user_ref!r}")
        check_user(user.email, password, role or user.role, user.time_zone, name)
        demoted = (role is not None and role != "admin") or active is False
        if user.role == "admin" and demoted and _active_admins(uow) <= 1:
            raise Conflict("this is the last active admin; make someone else admin first")
        changes: dict[str, object] = {}
        for field_name, value in (("role", role), ("active", active), ("name", name)):
            if value is not None and getattr(user, field_name) != value:
                setattr(user, field_name, value.strip() if isinstance(value, str) else value)
                changes[field_name] = value
        if password:
            user.password_hash = _hasher.hash(password)
            changes["password"] = "changed"
        uow.record(actor_label(actor), "user.update", f"user:{user.id}", changes)
        view = _user_view(user)
        uow.commit()
        return view


def _active_admins(uow: UnitOfWork) -> int:
    return sum(1 for u in uow.users.list() if u.role == "admin" and u.active)
