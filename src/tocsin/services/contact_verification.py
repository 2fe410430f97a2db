"""Contact-method verification: a test message through the outbox carrying a one-time code
and link (only their hashes are kept); the person confirms with the code or the link."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain import contact_verification as dom
from ..domain.auth import Actor, token_hash
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..ports import Message
from ..store.models import ContactMethod, ContactVerification, Notification
from ..store.uow import UnitOfWork
from . import people
from .common import actor_label


def send_test(uow: UnitOfWork, actor: Actor, user_id: int, method_id: int) -> people.ContactMethodView:
    """Queue a test message to one of a person's contact methods (their own, or anyone's
    for an admin). The dispatcher makes its code and link when it sends it."""
    if actor.user_id != user_id:
        actor.require("users:admin")
    with uow:
        people.need_person(uow, user_id)
        m = people.need_method(uow, user_id, method_id)
        now = uow.clock.now()
        last = uow.people.latest_verifications([m.id]).get(m.id)
        wait = dom.resend_wait(last.created_at if last else None, now)
        if wait:
            raise Conflict(f"a test message was sent to this contact method moments ago; "
                           f"send another in {wait} s")
        t = uow.people.add_verification(ContactVerification(
            contact_method_id=m.id, user_id=user_id, address=m.address, wrong_codes=0,
            requested_by=actor_label(actor), created_at=now,
            expires_at=now + timedelta(hours=dom.CODE_HOURS)))
        n = uow.notifications.add(Notification(
            key=f"test:{t.id}", incident_id=None, escalation_id=None, user_id=user_id,
            contact_method_id=m.id, channel=m.type, address=m.address, purpose="test",
            context={"verification_id": t.id}, status="pending", attempts=0,
            next_attempt_at=now, last_error="", created_at=now))
        t.notification_id = n.id
        uow.record(actor_label(actor), "person.contact_method.test", f"user:{user_id}",
                   {"contact_method_id": m.id, "type": m.type})
        [view] = people.method_views(uow, [m])
        uow.commit()
        return view


def verify_code(uow: UnitOfWork, actor: Actor, user_id: int, method_id: int,
                code: str) -> people.ContactMethodView:
    """Confirm a contact method with the code of its latest test message. A wrong code
    counts (committed) and fails with 422; a spent, expired or superseded test with 409."""
    if actor.user_id != user_id:
        actor.require("users:admin")
    with uow:
        people.need_person(uow, user_id)
        m = people.need_method(uow, user_id, method_id)
        t = uow.people.latest_verification_locked(m.id)
        if t is None:
            raise Conflict("no test message was sent to this contact method: send one first")
        now = uow.clock.now()
        st = people.code_state(t, m, now)
        if not st.usable:
            raise Conflict(f"the code cannot be used: {st.why_not}; send a new test message")
        if not hmac.compare_digest(_code_hash(t.id, dom.clean_code(code)), t.code_hash or ""):
            t.wrong_codes += 1
            left = max(0, dom.MAX_WRONG_CODES - t.wrong_codes)
            uow.commit()
            raise ValidationFailed([FieldError("code", f"wrong code; {left} attempt(s) left" if left
                                               else "wrong code; no attempts left: send a new "
                                                    "test message")], "wrong verification code")
        _verified(uow, t, m, now, actor_label(actor), "code")
        [view] = people.method_views(uow, [m])
        uow.commit()
        return view


@dataclass(frozen=True)
class VerifyLink:
    person: str
    channel: str
    address: str
    usable: bool
    why_not: str
    verified: bool


def verify_link(uow: UnitOfWork, token: str) -> VerifyLink:
    """What a verification link would confirm (shown before the person confirms: mail
    scanners follow links, so opening one verifies nothing)."""
    with uow:
        return _link(uow, token)[0]


def verify_by_link(uow: UnitOfWork, token: str) -> VerifyLink:
    with uow:
        link, t, m = _link(uow, token)
        if not link.usable:
            raise Conflict(f"this link cannot verify the contact method: {link.why_not}")
        _verified(uow, t, m, uow.clock.now(), link.person, "link")
        view = VerifyLink(link.person, link.channel, link.address, False, "it was used already",
                          True)
        uow.commit()
        return view


def _link(uow: UnitOfWork, token: str) -> tuple[VerifyLink, ContactVerification, ContactMethod]:
    t = uow.people.verification_by_link(token_hash(token or ""))
    m = uow.people.method(t.contact_method_id) if t else None
    if t is None or m is None:
        raise NotFound("this verification link is not valid")
    user = uow.users.get(t.user_id)
    latest = uow.people.latest_verifications([m.id]).get(m.id)
    why = people.code_state(t, m, uow.clock.now()).why_not
    if not why and latest is not None and latest.id != t.id:
        why = "a newer test message was sent since; use its link or code"
    return (VerifyLink(user.name if user else "?", m.type, m.address, not why, why,
                       m.verified_at is not None), t, m)


def _verified(uow: UnitOfWork, t: ContactVerification, m: ContactMethod, now: datetime,
              by: str, how: str) -> None:
    t.verified_at = m.verified_at = now
    uow.record(by, "person.contact_method.verified", f"user:{m.user_id}",
               {"contact_method_id": m.id, "type": m.type, "by": how})


# --- the dispatcher's part (inside its claim transaction) ----------------------------------


def claim_message(uow: UnitOfWork, n: Notification, base_url: str) -> Message:
    """Make the one-time code and link of a test message (a retry makes new ones: the
    previous send reported a failure) and render it."""
    code = f"{secrets.randbelow(10 ** dom.CODE_DIGITS):0{dom.CODE_DIGITS}d}"
    token = secrets.token_urlsafe(24)
    t = uow.people.verification(int((n.context or {}).get("verification_id") or 0))
    if t is not None:
        t.code_hash, t.link_hash = _code_hash(t.id, code), token_hash(token)
        t.expires_at = uow.clock.now() + timedelta(hours=dom.CODE_HOURS)
    user = uow.users.get(n.user_id) if n.user_id else None
    return render_test(n, user.name if user else "", code, f"{base_url}/verify/{token}")


SUBJECT = "Tocsin: verify this contact method"


def render_test(n: Notification, person: str, code: str, url: str) -> Message:
    """The test message: a long text for email, a short one for every other channel (the
    code read digit by digit on a voice call)."""
    if n.channel == "email":
        text = (f"Hello {person},\n\nThis is a test message from Tocsin to {n.address}. "
                f"Pages for incidents will reach you here.\n\nYour verification code: {code}\n"
                f"Or confirm here (you will be asked to confirm): {url}\n\nThe code works once, "
                f"for {dom.CODE_HOURS} hours. If you did not expect this message, ignore it.\n")
    elif n.channel == "voice":
        text = (f"This is a test call from Tocsin. Your verification code is "
                f"{' '.join(code)}. Again: {' '.join(code)}.")
    else:
        text = f"Tocsin test message. Your verification code is {code}. Confirm: {url}"
    return Message(n.channel, n.address, SUBJECT, text, {
        "purpose": "test", "subject": SUBJECT, "person": person, "channel": n.channel,
        "code": code, "verify_url": url})


def _code_hash(verification_id: int, code: str) -> str:
    return token_hash(f"{verification_id}:{code}")


