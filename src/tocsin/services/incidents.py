"""The incident record: declare, work (status, severity, fields, notes) and read it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from ..domain import forms as formdom
from ..domain import incident as lifecycle
from ..domain.auth import Actor
from ..domain.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from ..domain.severity import SEVERITIES
from ..store.models import Attachment, Incident, TimelineEntry
from ..store.repositories import IncidentFilter
from ..store.uow import UnitOfWork
from . import classify as cls
from .common import actor_label, level_of, need_service
from .presenters import entry_view, incident_view, summary_view
from .views import AttachmentFile, EntryView, IncidentSummary, IncidentView

NOTE_KINDS = ("note", "update")
STRUCTURED = ("impact", "action", "next_step")
MAX_TEXT = 20_000


@dataclass
class DeclareInput:
    title: str
    service: str | int
    attributes: dict[str, Any] = field(default_factory=dict)
    form: str | None = None
    description: str = ""
    affected_services: list[str] = field(default_factory=list)
    owner_email: str | None = None


def _check_title(title: str) -> str:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ValidationFailed([FieldError("title", "required, at most 200 characters")],
                               "invalid incident")
    return title


def declare(uow: UnitOfWork, actor: Actor, cmd: DeclareInput,
            max_attachment_bytes: int = 5 * 1024 * 1024) -> IncidentView:
    actor.require("incidents:write")
    with uow:
        service = need_service(uow, cmd.service)
        form_row = cls.choose_form(uow, service, cmd.form)
        fdef = cls.form_def(form_row)
        cleaned, errors = formdom.check(fdef, cmd.attributes,
                                        cls.refs(uow, max_attachment_bytes))
        title = (cmd.title or "").strip()
        if not title or len(title) > 200:
            errors.insert(0, FieldError("title", "required, at most 200 characters"))
        if len(cmd.description or "") > MAX_TEXT:
            errors.append(FieldError("description", f"at most {MAX_TEXT:,} characters"))
        if errors:
            raise ValidationFailed(errors, f"form {fdef.name!r} has invalid fields")
        uploads = {k: cleaned.pop(k) for k in list(cleaned) if fdef.field(k).type == "attachment"}
        result = cls.classify_attributes(uow, service, cleaned, fdef.kind)
        affected = [service.id] + [need_service(uow, s).id for s in cmd.affected_services]
        owner = _owner(uow, cmd.owner_email)
        now = uow.clock.now()
        inc = uow.incidents.add(Incident(
            number=uow.incidents.next_number(), title=title, description=cmd.description.strip(),
            kind=result.kind, severity=result.severity, severity_reason=result.reason,
            severity_rule=result.rule, status=lifecycle.Status.TRIGGERED.value,
            service_id=service.id, owner_id=owner.id if owner else None, form_name=fdef.name,
            attributes=cleaned, created_by_id=actor.user_id, created_at=now, updated_at=now))
        for key, up in uploads.items():
            inc.attributes = {**inc.attributes, key: _store_upload(uow, actor, inc.id, up)}
        uow.incidents.set_affected(inc.id, affected)
        _entry(uow, actor, inc, "declared", {
            "title": title, "kind": result.kind, "severity": result.severity,
            "reason": result.reason, "rule": result.rule, "service": service.name,
            "form": fdef.name, "attributes": inc.attributes})
        uow.record(actor_label(actor), "incident.declare", f"incident:{inc.id}",
                   {"number": inc.number, "severity": inc.severity, "kind": inc.kind})
        if inc.kind == "incident":
            _response_starts(uow, actor, inc)
        view = incident_view(uow, inc)
        uow.commit()
        return view


def open_in(uow: UnitOfWork, actor: Actor, service_id: int, title: str, severity: str,
            reason: str, rule: str | None, attributes: dict[str, Any], *,
            owner_id: int | None = None, auto_resolve: bool = False,
            snoozed_until: Any = None, page: str | None = None,
            escalate_to: str | None = None) -> Incident:
    """Open an incident inside the caller's transaction (alert routing); no commit here."""
    now = uow.clock.now()
    service = uow.services.get(service_id)
    inc = uow.incidents.add(Incident(
        number=uow.incidents.next_number(), title=title[:200], description="", kind="incident",
        severity=severity, severity_reason=reason, severity_rule=rule,
        status=lifecycle.Status.TRIGGERED.value, service_id=service_id, owner_id=owner_id,
        form_name=None, attributes=attributes, created_by_id=None, created_at=now,
        updated_at=now, auto_resolve=auto_resolve, snoozed_until=snoozed_until))
    uow.incidents.set_affected(inc.id, [service_id])
    _entry(uow, actor, inc, "declared", {
        "title": inc.title, "kind": "incident", "severity": severity, "reason": reason,
        "rule": rule, "service": service.name, "form": None, "attributes": attributes})
    uow.record(actor_label(actor), "incident.declare", f"incident:{inc.id}",
               {"number": inc.number, "severity": severity, "kind": "incident"})
    _response_starts(uow, actor, inc, page, escalate_to)
    return inc


def _response_starts(uow: UnitOfWork, actor: Actor, inc: Incident, page: str | None = None,
                     escalate_to: str | None = None) -> None:
    """A triggered incident: its escalation policy pages, its severity's playbook puts its
    checkpoints on it, and the roles meant for its severity are filled (an alert route's
    `escalate_to` fills that role whatever the severity, and pages its holder)."""
    from . import checkpoints, escalation, roles

    escalation.start_in(uow, inc, page)
    checkpoints.start_in(uow, actor, inc)
    roles.auto_assign_in(uow, actor, inc)
    if escalate_to:
        roles.escalate_to_in(uow, actor, inc, escalate_to)


def append_in(uow: UnitOfWork, actor: Actor, inc: Incident, kind: str, body: dict) -> None:
    """Add a timeline entry inside the caller's transaction (alert triage)."""
    _entry(uow, actor, inc, kind, body)


def transition_in(uow: UnitOfWork, actor: Actor, inc: Incident, action: str, note: str) -> None:
    """A status change inside the caller's transaction; quietly skips one not allowed now."""
    if action not in lifecycle.allowed_actions(inc.status):
        return
    _apply_transition(uow, actor, inc, action, note)


def _store_upload(uow: UnitOfWork, actor: Actor, incident_id: int, up: dict) -> dict:
    content: bytes = up["content"]
    att = uow.attachments.add(Attachment(
        incident_id=incident_id, filename=up["filename"], content_type=up["content_type"],
        size=len(content), sha256=hashlib.sha256(content).hexdigest(), data=content,
        uploaded_by=actor_label(actor), created_at=uow.clock.now()))
    return {"attachment_id": att.id, "filename": att.filename, "size": att.size,
            "content_type": att.content_type, "sha256": att.sha256}


def _owner(uow: UnitOfWork, email: str | None):  # noqa: ANN202
    if not email:
        return None
    user = uow.users.by_email(email)
    if user is None:
        raise ValidationFailed([FieldError("owner", f"no person {email!r}")], "invalid owner")
    return user


def _entry(uow: UnitOfWork, actor: Actor, inc: Incident, kind: str, body: dict) -> TimelineEntry:
    return uow.append_entry(actor_label(actor), TimelineEntry(
        incident_id=inc.id, at=uow.clock.now(), actor_id=actor.user_id,
        actor_name=actor.name, kind=kind, body=body, version=1))


def _need(uow: UnitOfWork, incident_id: int) -> Incident:
    inc = uow.incidents.get(incident_id)
    if inc is None:
        raise NotFound(f"no incident {incident_id}")
    return inc


def _check_version(inc: Incident, expected: int | None) -> None:
    if expected is not None and inc.version != expected:
        raise Conflict(f"incident {inc.number} changed meanwhile (version {inc.version}, "
                       f"you had {expected}); reload and retry")


def transition(uow: UnitOfWork, actor: Actor, incident_id: int, action: str,
               note: str = "", expected_version: int | None = None) -> IncidentView:
    actor.require("incidents:write")
    with uow:
        inc = _need(uow, incident_id)
        _check_version(inc, expected_version)
        lifecycle.next_status(inc.status, action)  # raises with the allowed actions
        _apply_transition(uow, actor, inc, action, note)
        view = incident_view(uow, inc)
        uow.commit()
        return view


def _apply_transition(uow: UnitOfWork, actor: Actor, inc: Incident, action: str,
                      note: str) -> None:
    before = inc.status
    after = lifecycle.next_status(before, action)
    now = uow.clock.now()
    inc.status, inc.updated_at = after.value, now
    stamp = {"acknowledge": "acknowledged_at", "mitigate": "mitigated_at",
             "resolve": "resolved_at", "close": "closed_at"}.get(action)
    if stamp and getattr(inc, stamp) is None:
        setattr(inc, stamp, now)
    if action == "reopen":  # a new response cycle: the old stamps stay on the timeline
        inc.acknowledged_at = inc.mitigated_at = inc.resolved_at = inc.closed_at = None
    if after in (lifecycle.Status.RESOLVED, lifecycle.Status.CLOSED):
        for group in uow.groups.for_incident(inc.id):
            group.status = "closed"  # the next alert of this kind opens a new incident
    _entry(uow, actor, inc, "status_changed",
           {"action": action, "from": before, "to": after.value, "note": note.strip()})
    uow.record(actor_label(actor), f"incident.{action}", f"incident:{inc.id}",
               {"from": before, "to": after.value})
    _escalation_follows(uow, actor, inc, action, after)


def _escalation_follows(uow: UnitOfWork, actor: Actor, inc: Incident, action: str,
                        after: lifecycle.Status) -> None:
    from . import checkpoints, escalation  # they write timeline entries through this module

    checkpoints.status_changed_in(uow, actor, inc, action)
    if after in (lifecycle.Status.RESOLVED, lifecycle.Status.CLOSED):
        escalation.stop_in(uow, inc, "resolved", f"the incident was {after.value} by {actor.name}")
    elif action == "acknowledge":
        escalation.stop_in(uow, inc, "acknowledged", f"acknowledged by {actor.name}")
    elif action == "reopen" and inc.kind == "incident":
        escalation.start_in(uow, inc)


def change_severity(uow: UnitOfWork, actor: Actor, incident_id: int, severity: str,
                    reason: str, expected_version: int | None = None) -> IncidentView:
    actor.require("incidents:write")
    errors = []
    if severity not in SEVERITIES:
        errors.append(FieldError("severity", f"must be one of {', '.join(SEVERITIES)}"))
    if not (reason or "").strip():
        errors.append(FieldError("reason", "say why the severity changes"))
    if errors:
        raise ValidationFailed(errors, "invalid severity change")
    with uow:
        inc = _need(uow, incident_id)
        _check_version(inc, expected_version)
        if inc.severity == severity:
            raise Conflict(f"incident {inc.number} is already {severity}")
        before = inc.severity
        inc.severity, inc.severity_rule = severity, None
        inc.severity_reason = f"Changed from {before} by {actor.name}: {reason.strip()}"
        inc.updated_at = uow.clock.now()
        _entry(uow, actor, inc, "severity_changed",
               {"from": before, "to": severity, "reason": reason.strip()})
        _response_follows(uow, actor, inc, before)
        uow.record(actor_label(actor), "incident.severity", f"incident:{inc.id}",
                   {"from": before, "to": severity})
        view = incident_view(uow, inc)
        uow.commit()
        return view


def _response_follows(uow: UnitOfWork, actor: Actor, inc: Incident, before: str) -> None:
    """Raising an issue or ticket to P1/P2 makes it an incident (paged by its service's
    policy); an incident's playbook and roles follow its severity."""
    if inc.status in ("resolved", "closed"):
        return
    from . import checkpoints, escalation, roles

    if inc.kind != "incident" and inc.severity in ("P1", "P2"):
        _entry(uow, actor, inc, "field_changed", {"field": "kind", "from": inc.kind,
                                                  "to": "incident"})
        inc.kind = "incident"
        if inc.status == lifecycle.Status.TRIGGERED.value:
            escalation.start_in(uow, inc)
        before = None   # nothing of an incident's response has started yet
    if inc.kind == "incident":
        checkpoints.severity_changed_in(uow, actor, inc)
        roles.auto_assign_in(uow, actor, inc, before)


EDITABLE = ("title", "description", "owner_email", "services")


def update(uow: UnitOfWork, actor: Actor, incident_id: int, changes: dict[str, Any],
           expected_version: int | None = None) -> IncidentView:
    """Change title, description, owner or affected services; each change is an entry."""
    actor.require("incidents:write")
    unknown = [k for k in changes if k not in EDITABLE]
    if unknown:
        raise ValidationFailed([FieldError(k, "cannot be changed here") for k in unknown],
                               "invalid change")
    with uow:
        inc = _need(uow, incident_id)
        _check_version(inc, expected_version)
        for key, value in changes.items():
            before, after = _apply_change(uow, inc, key, value)
            if before != after:
                _entry(uow, actor, inc, "field_changed",
                       {"field": key.removesuffix("_email"), "from": before, "to": after})
        inc.updated_at = uow.clock.now()
        uow.record(actor_label(actor), "incident.update", f"incident:{inc.id}",
                   {"fields": sorted(changes)})
        view = incident_view(uow, inc)
        uow.commit()
        return view


def _apply_change(uow: UnitOfWork, inc: Incident, key: str, value: Any) -> tuple[Any, Any]:
    if key == "title":
        before, inc.title = inc.title, _check_title(value)
        return before, inc.title
    if key == "description":
        text = str(value or "").strip()
        if len(text) > MAX_TEXT:
            raise ValidationFailed([FieldError("description", f"at most {MAX_TEXT:,} characters")])
        before, inc.description = inc.description, text
        return before, inc.description
    if key == "owner_email":
        old = uow.users.get(inc.owner_id) if inc.owner_id else None
        new = _owner(uow, value)
        inc.owner_id = new.id if new else None
        return (old.name if old else None), (new.name if new else None)
    names = [need_service(uow, s).name for s in value or []]
    main = uow.services.get(inc.service_id)
    if main.name not in names:
        names.insert(0, main.name)
    before = sorted(uow.services.get(i).name for i in uow.incidents.affected_service_ids(inc.id))
    uow.incidents.set_affected(inc.id, [uow.services.by_name(n).id for n in names])
    return before, sorted(names)


def add_note(uow: UnitOfWork, actor: Actor, incident_id: int, text: str,
             kind: str = "note", structured: dict[str, str] | None = None) -> EntryView:
    """A free note, or a structured status update (impact / action / next step)."""
    actor.require("incidents:write")
    body = _note_body(text, kind, structured)
    with uow:
        inc = _need(uow, incident_id)
        entry = _entry(uow, actor, inc, kind, body)
        # Notes append; they do not compete with status changes for the incident's version.
        uow.incidents.touch(inc.id, entry.at, is_update=kind == "update")
        uow.session.flush()
        view = entry_view(entry)
        uow.commit()
        return view


def _note_body(text: str, kind: str, structured: dict[str, str] | None) -> dict[str, Any]:
    if kind not in NOTE_KINDS:
        raise ValidationFailed([FieldError("kind", f"must be one of {', '.join(NOTE_KINDS)}")])
    parts = {k: (v or "").strip() for k, v in (structured or {}).items() if k in STRUCTURED}
    if kind == "note" and any(parts.values()):
        raise ValidationFailed([FieldError("kind", "impact, action and next_step belong to a "
                                           "status update: send kind \"update\"")])
    if any(len(v) > 2000 for v in parts.values()):
        raise ValidationFailed([FieldError("update", "impact, action and next step: at most "
                                           "2,000 characters each")])
    text = (text or "").strip()
    if not text and not any(parts.values()):
        raise ValidationFailed([FieldError("text", "a note needs some text")], "empty note")
    if len(text) > 20000:
        raise ValidationFailed([FieldError("text", "at most 20,000 characters")])
    return {"text": text, **{k: v for k, v in parts.items() if v}}


def edit_note(uow: UnitOfWork, actor: Actor, incident_id: int, entry_id: int, text: str,
              structured: dict[str, str] | None = None) -> EntryView:
    """A new version that supersedes the old one; the old version stays readable."""
    actor.require("incidents:write")
    with uow:
        inc = _need(uow, incident_id)
        old = uow.timeline.get(entry_id)
        if old is None or old.incident_id != inc.id:
            raise NotFound(f"no entry {entry_id} on incident {inc.number}")
        if old.kind not in NOTE_KINDS:
            raise Conflict("only notes and updates can be edited; other entries are facts")
        if uow.timeline.is_superseded(old.id):
            raise Conflict("that is not the latest version of this entry; reload")
        author_id = old.body.get("author_id", old.actor_id)
        if author_id != actor.user_id and actor.role != "admin":
            raise Forbidden("only the author or an admin can edit a note")
        kept = {k: old.body[k] for k in STRUCTURED if k in old.body}
        merged = {**kept, **{k: v for k, v in (structured or {}).items() if v is not None}}
        body = {**_note_body(text, old.kind, merged), "edited_from": old.id,
                "edited_at": uow.clock.now().isoformat(), "author_id": author_id,
                "author": old.body.get("author", old.actor_name)}
        # The new version keeps the moment the note describes; the edit time is in the body.
        entry = uow.append_entry(actor_label(actor), TimelineEntry(
            incident_id=inc.id, at=old.at, actor_id=actor.user_id,
            actor_name=actor.name, kind=old.kind, body=body, version=old.version + 1,
            supersedes_id=old.id))
        uow.session.flush()
        view = entry_view(entry)
        uow.commit()
        return view


def get(uow: UnitOfWork, incident_id: int) -> IncidentView:
    with uow:
        return incident_view(uow, _need(uow, incident_id))


def list_incidents(uow: UnitOfWork, f: IncidentFilter) -> tuple[list[IncidentSummary], int]:
    with uow:
        return [summary_view(uow, i) for i in uow.incidents.list(f)], uow.incidents.count(f)


def timeline(uow: UnitOfWork, incident_id: int) -> list[EntryView]:
    with uow:
        _need(uow, incident_id)
        return [entry_view(e) for e in uow.timeline.current(incident_id)]


def change_marker(uow: UnitOfWork, incident_id: int) -> tuple:
    """Something that changes whenever the incident or its timeline does (for live pages)."""
    with uow:
        return uow.incidents.change_marker(incident_id)


def entry_history(uow: UnitOfWork, incident_id: int, entry_id: int) -> list[EntryView]:
    with uow:
        entry = uow.timeline.get(entry_id)
        if entry is None or entry.incident_id != incident_id:
            raise NotFound(f"no entry {entry_id} on incident {incident_id}")
        return [entry_view(e) for e in uow.timeline.history(entry)]


def attachment(uow: UnitOfWork, incident_id: int, attachment_id: int) -> AttachmentFile:
    with uow:
        att = uow.attachments.get(attachment_id)
        if att is None or att.incident_id != incident_id:
            raise NotFound(f"no attachment {attachment_id} on incident {incident_id}")
        return AttachmentFile(att.id, att.filename, att.content_type, att.size, att.data)


def level_for(uow: UnitOfWork, code: str):  # noqa: ANN201
    row = uow.severity.level(code)
    return level_of(row) if row else None
