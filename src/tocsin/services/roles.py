"""Incident roles: the role definitions (API and configuration), who takes each role on an
incident (automatically on declaring a P1/P2, by hand as a handoff), and the roster of who
holds each role now and next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..domain import roles as dom
from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, NotFound, ValidationFailed
from ..store.models import Incident, RoleAssignment, RoleDef
from ..store.uow import UnitOfWork
from . import incidents as inc_svc
from . import notify, schedules
from .common import PersonRef, actor_label, person_ref

ENGINE_NAME = "roles"


# --- definitions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleView:
    id: int
    key: str
    name: str
    responsibilities: str
    primary: dict[str, Any] | None
    alternate: dict[str, Any] | None
    auto_severities: list[str]
    primary_label: str
    alternate_label: str


def _label(uow: UnitOfWork, src: dict[str, Any] | None) -> str:
    if not src:
        return ""
    if src["type"] == "service_oncall":
        return "the service's on-call (first step of its escalation policy)"
    if src["type"] == "schedule":
        row = uow.schedules.get(src["id"])
        return f"on call on schedule {row.name}" if row else f"schedule #{src['id']} (deleted)"
    user = uow.users.get(src["id"])
    return f"{user.name} <{user.email}>" if user else f"person #{src['id']} (deleted)"


def _view(uow: UnitOfWork, r: RoleDef) -> RoleView:
    return RoleView(r.id, r.key, r.name, r.responsibilities, r.primary, r.alternate,
                    list(r.auto_severities or []), _label(uow, r.primary),
                    _label(uow, r.alternate))


def checked(uow: UnitOfWork, data: Any) -> dom.RoleSpec:
    """A role definition whose schedules and people exist."""
    spec, errors = dom.parse(data)
    if spec is None:
        raise ValidationFailed(errors, "invalid incident role")
    for field, src in (("primary", spec.primary), ("alternate", spec.alternate)):
        if src and src.type == "schedule" and uow.schedules.get(src.id) is None:
            errors.append(FieldError(f"{field}.id", f"no schedule {src.id}"))
        if src and src.type == "person" and uow.users.get(src.id) is None:
            errors.append(FieldError(f"{field}.id", f"no person {src.id}"))
    if errors:
        raise ValidationFailed(errors, "invalid incident role")
    return spec


def save_in(uow: UnitOfWork, spec: dom.RoleSpec, position: int | None = None) -> RoleDef:
    now = uow.clock.now()
    row = uow.roles.by_key(spec.key)
    if row is None:
        last = max((r.position for r in uow.roles.list()), default=-1)
        row = uow.roles.add(RoleDef(key=spec.key, name=spec.name, position=last + 1,
                                    created_at=now, updated_at=now))
    d = spec.as_dict()
    row.name, row.responsibilities = spec.name, spec.responsibilities
    row.primary, row.alternate, row.auto_severities = d["primary"], d["alternate"], d[
        "auto_severities"]
    row.updated_at = now
    if position is not None:
        row.position = position
    return row


def put_role(uow: UnitOfWork, actor: Actor, data: Any, create_only: bool = False) -> RoleView:
    """Create a role, or replace the one with this key (unless `create_only`: a form that
    shows no existing fields must not blank a role's)."""
    actor.require("config:write")
    with uow:
        spec = checked(uow, data)
        if create_only and uow.roles.by_key(spec.key):
            raise Conflict(f"a role {spec.key!r} exists already: change it in its YAML "
                           "(Configuration → Edit roles)")
        row = save_in(uow, spec)
        uow.record(actor_label(actor), "role.put", f"role:{spec.key}", spec.as_dict())
        view = _view(uow, row)
        uow.commit()
        return view


def delete_role(uow: UnitOfWork, actor: Actor, key: str) -> None:
    actor.require("config:write")
    with uow:
        row = _need(uow, key)
        users = _uses(uow, row)
        if users:
            raise Conflict(f"role {key!r} is in use ({'; '.join(users)}): change those first")
        uow.roles.delete(row)
        uow.record(actor_label(actor), "role.delete", f"role:{key}", {})
        uow.commit()


def _uses(uow: UnitOfWork, row: RoleDef) -> list[str]:
    """What still names the role: playbooks, escalation policies, open incidents."""
    found = [f"playbook {p.severity}" for p in uow.playbooks.list()
             if any(c.get("role") == row.key for c in p.spec.get("checkpoints", []))]
    found += [f"escalation policy {p.name}" for p in uow.policies.list()
              if any(t["type"] == "role" and t["id"] == row.id
                     for st in p.steps for t in st["targets"])]
    held = uow.roles.held_on_open_incidents(row.key)
    if held:
        found.append(f"held on {held} open incident(s)")
    return found


def list_roles(uow: UnitOfWork) -> list[RoleView]:
    with uow:
        return [_view(uow, r) for r in uow.roles.list()]


def _need(uow: UnitOfWork, key: str) -> RoleDef:
    row = uow.roles.by_key(key)
    if row is None:
        raise NotFound(f"no incident role {key!r}")
    return row


# --- who fills a role ------------------------------------------------------------------------


def _candidate(uow: UnitOfWork, src: dict[str, Any], inc: Incident | None,
               at: datetime) -> dom.Candidate:
    label = _label(uow, src)
    if src["type"] == "person":
        user_id = src["id"]
    elif src["type"] == "schedule":
        row = uow.schedules.get(src["id"])
        user_id = schedules.who_is_on_call(uow, row, at).user_id if row else None
    else:
        user_id = _service_oncall(uow, inc, at) if inc else None
        if inc and user_id is None and not _has_policy(uow, inc):
            label = "its service has no escalation policy"
    user = uow.users.get(user_id) if user_id else None
    if user is None:
        return dom.Candidate(label, None)
    problem = ("is deactivated" if not user.active
               else "has no contact method" if not uow.people.methods(user.id) else "")
    return dom.Candidate(label, user.id, user.name, problem)


def _has_policy(uow: UnitOfWork, inc: Incident) -> bool:
    service = uow.services.get(inc.service_id)
    return bool(service and service.escalation_policy_id)


def _service_oncall(uow: UnitOfWork, inc: Incident, at: datetime) -> int | None:
    """The first person the service's escalation policy pages first."""
    from . import escalation

    service = uow.services.get(inc.service_id)
    policy = uow.policies.get(service.escalation_policy_id) if service and \
        service.escalation_policy_id else None
    if not policy or not policy.steps:
        return None
    targets = escalation.targets_of(policy.steps[0])
    found = escalation.people_for(uow, targets, at, inc, fill_roles=False)
    return found[0] if found else None


def choose_in(uow: UnitOfWork, row: RoleDef, inc: Incident | None, at: datetime) -> dom.Choice:
    primary = _candidate(uow, row.primary, inc, at) if row.primary else None
    alternate = _candidate(uow, row.alternate, inc, at) if row.alternate else None
    return dom.choose(row.name, primary, alternate)


def auto_assign_in(uow: UnitOfWork, actor: Actor, inc: Incident, before: str | None = None) -> None:
    """Fill every role meant for the incident's severity (and not already for its severity
    `before` a change) that nobody holds yet; the roles nobody can take are listed in one
    timeline entry, with why."""
    unfilled = []
    for row in uow.roles.list():
        wanted = row.auto_severities or []
        if inc.severity in wanted and before not in wanted and \
                not uow.roles.holder(inc.id, row.key):
            user_id, reason = fill_in(uow, actor, inc, row)
            if user_id is None:
                unfilled.append((row, reason))
    if unfilled:
        inc_svc.append_in(uow, actor, inc, "role_unfilled", {
            "roles": [r.key for r, _ in unfilled], "reasons": [why for _, why in unfilled],
            "text": "Not assigned — take or hand these roles by hand: " + "; ".join(
                f"{r.name} ({why})" for r, why in unfilled)})


def fill_in(uow: UnitOfWork, actor: Actor, inc: Incident, row: RoleDef,
            note: str = "") -> tuple[int | None, str]:
    """Assign the role from its sources (primary, else alternate), as a handoff on the
    timeline; or say why nobody can take it."""
    choice = choose_in(uow, row, inc, uow.clock.now())
    if choice.user_id is None:
        return None, choice.reason
    source = row.alternate if choice.alternate else row.primary
    # the service's on-call is paged by its escalation policy: a second message adds nothing
    _handoff(uow, actor, inc, row.key, row.name, choice.user_id,
             choice.reason + (f" — {note}" if note else ""),
             tell=source["type"] != "service_oncall")
    return choice.user_id, choice.reason


def _handoff(uow: UnitOfWork, actor: Actor, inc: Incident, key: str, name: str, user_id: int,
             reason: str, tell: bool = True) -> RoleAssignment:
    now = uow.clock.now()
    current = uow.roles.holder(inc.id, key)
    if current and current.user_id == user_id:
        raise Conflict(f"{uow.users.get(user_id).name} already holds {name}")
    before = uow.users.get(current.user_id) if current else None
    if current:
        current.ended_at = now
        uow.session.flush()   # the one-current-holder index sees the old row ended first
    row = uow.roles.assign(RoleAssignment(
        incident_id=inc.id, role_key=key, role_name=name, user_id=user_id, reason=reason,
        assigned_by=actor.name, started_at=now))
    user = uow.users.get(user_id)
    verb = f"handed over from {before.name} to {user.name}" if before else f"assigned to {user.name}"
    methods = uow.people.methods(user.id)
    untold = ("" if not tell or methods else f" ({user.name} has no contact method: not told)")
    also = [a.role_name for a in uow.roles.holders(inc.id) if a.user_id == user.id and a.id != row.id]
    if also:   # one person in several roles is a risk worth seeing
        untold += f" ({user.name} also holds {', '.join(also)})"
    inc_svc.append_in(uow, actor, inc, "role_assigned", {
        "role": key, "role_name": name, "from": before.name if before else None,
        "from_id": before.id if before else None, "to": user.name, "to_id": user.id,
        "reason": reason, "text": f"{name} {verb}: {reason}{untold}"})
    if tell and inc.status not in ("resolved", "closed"):
        notify.person_in(uow, inc.id, user_id, "role", f"role:{row.id}",
                         {"role": key, "role_name": name, "reason": reason})
    return row


def holder_in(uow: UnitOfWork, actor: Actor, inc: Incident, key: str) -> int | None:
    """Who holds the role on the incident; a role nobody holds yet is filled now."""
    current = uow.roles.holder(inc.id, key)
    if current:
        return current.user_id
    row = uow.roles.by_key(key)
    return fill_in(uow, actor, inc, row)[0] if row else None


def escalate_to_in(uow: UnitOfWork, actor: Actor, inc: Incident, key: str) -> None:
    """An alert route's `escalate_to`: the role's holder (filled now if nobody holds it) is
    paged about the incident."""
    row = uow.roles.by_key(key)
    if row is None:
        inc_svc.append_in(uow, actor, inc, "escalation", {
            "event": "missing_role", "text": f"The alert route asks to escalate to role "
                                             f"{key!r}, which does not exist"})
        return
    holder = uow.roles.holder(inc.id, key)
    holder_id, reason = (holder.user_id, "") if holder else fill_in(uow, actor, inc, row)
    if holder_id is None:
        inc_svc.append_in(uow, actor, inc, "escalation", {
            "event": "escalate_to", "role": key, "text": f"Escalation to the {row.name} "
            f"paged nobody: {reason}"})
        return
    holder = holder_id
    queued = notify.person_in(uow, inc.id, holder, "page", f"escalate_to:{key}",
                              {"role_name": row.name})
    inc_svc.append_in(uow, actor, inc, "escalation", {
        "event": "escalate_to", "role": key, "text": f"Escalated to the {row.name}: paged "
        f"{uow.users.get(holder).name} ({queued} contact method(s))"})


# --- by hand: handoffs -----------------------------------------------------------------------


@dataclass(frozen=True)
class HolderView:
    role: str
    role_name: str
    responsibilities: str
    person: PersonRef | None
    since: datetime | None
    reason: str


def incident_roles(uow: UnitOfWork, incident_id: int) -> list[HolderView]:
    """Every defined role on the incident, held or not (and any held role since deleted)."""
    with uow:
        if uow.incidents.get(incident_id) is None:
            raise NotFound(f"no incident {incident_id}")
        held = {a.role_key: a for a in uow.roles.holders(incident_id)}
        out = []
        for r in uow.roles.list():
            a = held.pop(r.key, None)
            out.append(HolderView(r.key, r.name, r.responsibilities,
                                  person_ref(uow.users.get(a.user_id)) if a else None,
                                  a.started_at if a else None, a.reason if a else ""))
        out += [HolderView(a.role_key, a.role_name, "", person_ref(uow.users.get(a.user_id)),
                           a.started_at, a.reason) for a in held.values()]
        return out


def assign(uow: UnitOfWork, actor: Actor, incident_id: int, key: str, person: int | str | None,
           reason: str = "") -> list[HolderView]:
    """Hand a role to someone (by id or email) — or, with no one named, fill it from its
    schedule (primary, else alternate). Recorded on the timeline as a handoff."""
    actor.require("incidents:write")
    with uow:
        inc = uow.incidents.get(incident_id)
        if inc is None:
            raise NotFound(f"no incident {incident_id}")
        row = _need(uow, key)
        why = (reason or "").strip()[:500]
        if person in (None, ""):
            user_id, reason = fill_in(uow, actor, inc, row, why)
            if user_id is None:
                raise Conflict(f"nobody can take {row.name} from its sources ({reason}); "
                               "name someone")
        else:
            user = ((uow.users.get(person) if 0 < person <= 2**53 else None)
                    if isinstance(person, int) else uow.users.by_email(str(person)))
            if user is None or not user.active:
                raise ValidationFailed([FieldError("person", f"no active person {person!r}")],
                                       "invalid handoff")
            if user.role == "viewer":
                raise ValidationFailed([FieldError("person", f"{user.name} is a viewer and "
                                                             "cannot work an incident")],
                                       "invalid handoff")
            _handoff(uow, actor, inc, row.key, row.name, user.id,
                     why or f"assigned by {actor.name}")
        uow.record(actor_label(actor), "incident.role", f"incident:{inc.id}",
                   {"role": key, "person": person})
        uow.commit()
    return incident_roles(uow, incident_id)


def release(uow: UnitOfWork, actor: Actor, incident_id: int, key: str, reason: str = "") -> None:
    actor.require("incidents:write")
    with uow:
        inc = uow.incidents.get(incident_id)
        current = uow.roles.holder(incident_id, key) if inc else None
        if current is None:
            raise NotFound(f"nobody holds {key!r} on incident {incident_id}")
        current.ended_at = uow.clock.now()
        name = uow.users.get(current.user_id).name
        by = "" if actor.user_id == current.user_id else f" (by {actor.name})"
        inc_svc.append_in(uow, actor, inc, "role_assigned", {
            "role": key, "role_name": current.role_name, "from": name, "to": None,
            "reason": reason, "text": f"{current.role_name} released: {name} no longer holds "
                                      f"it{by}" + (f" — {reason}" if reason else "")})
        uow.commit()


# --- the roster ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    person: PersonRef
    methods: list[tuple[str, str]]       # (type, address)


@dataclass(frozen=True)
class RosterEntry:
    role: RoleView
    now: Contact | None
    now_reason: str
    next: Contact | None
    next_at: datetime | None
    path: list[str]                      # who is tried, in order


def roster(uow: UnitOfWork) -> list[RosterEntry]:
    """Every role: who would take it now (and why), who is next, their contact details, and
    the path tried (primary, then alternate)."""
    with uow:
        now = uow.clock.now()
        out = []
        for r in uow.roles.list():
            choice = choose_in(uow, r, None, now)
            nxt, nxt_at = _next_holder(uow, r, now, choice.user_id)
            path = [f"primary: {_label(uow, r.primary)}" if r.primary else "no primary"]
            if r.alternate:
                path.append(f"alternate: {_label(uow, r.alternate)}")
            path.append("anyone with incident access can take it by hand")
            out.append(RosterEntry(_view(uow, r), _contact(uow, choice.user_id), choice.reason,
                                   _contact(uow, nxt), nxt_at, path))
        return out


def _next_holder(uow: UnitOfWork, r: RoleDef, now: datetime,
                 current: int | None) -> tuple[int | None, datetime | None]:
    """The next person the primary schedule hands the role to, within two weeks."""
    if not r.primary or r.primary["type"] != "schedule":
        return None, None
    row = uow.schedules.get(r.primary["id"])
    if row is None:
        return None, None
    for shift in schedules.shifts_in(uow, row, now, now + timedelta(days=14)):
        if shift.person and shift.person.id != current and shift.start > now:
            user = uow.users.get(shift.person.id)
            if user and user.active and uow.people.methods(user.id):
                return user.id, shift.start
    return None, None


def _contact(uow: UnitOfWork, user_id: int | None) -> Contact | None:
    user = uow.users.get(user_id) if user_id else None
    if user is None:
        return None
    return Contact(person_ref(user), [(m.type, m.address) for m in uow.people.methods(user.id)])
