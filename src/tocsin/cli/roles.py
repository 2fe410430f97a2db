"""`tocsin roles …` and the incident-role/checkpoint commands of `tocsin incidents …`: who
holds which role, handoffs, and checkpoints, from a terminal."""

from __future__ import annotations

from typing import Annotated

import typer

from ..bootstrap import build
from ..domain.auth import cli_actor
from ..domain.errors import DomainError
from ..services import checkpoints, roles
from ..settings import Settings
from .incidents import _fail, incidents_app

roles_app = typer.Typer(help="Incident roles and who would take them now.", no_args_is_help=True)


@roles_app.command("roster")
def roster() -> None:
    """Each role: who takes it now (and why), who is next, and how to reach them."""
    for e in roles.roster(build(Settings()).uow(read_only=True)):
        now = e.now.person.name if e.now else "nobody"
        contact = ", ".join(f"{k} {a}" for k, a in e.now.methods) if e.now else ""
        nxt = f"; next {e.next.person.name} from {e.next_at.isoformat()}" if e.next else ""
        typer.echo(f"{e.role.key}\t{now}{f' ({contact})' if contact else ''}{nxt}\n"
                   f"    {e.now_reason}")


@incidents_app.command("roles")
def incident_roles(incident_id: int) -> None:
    """Who holds each role on an incident."""
    try:
        held = roles.incident_roles(build(Settings()).uow(read_only=True), incident_id)
    except DomainError as exc:
        _fail(exc)
    for h in held:
        typer.echo(f"{h.role}\t{h.person.name if h.person else '—'}\t{h.reason}")


@incidents_app.command("assign")
def assign(incident_id: int, role: str,
           person: Annotated[str, typer.Argument(help="email; omit to fill from the role's "
                                                      "schedule")] = "",
           reason: Annotated[str, typer.Option()] = "") -> None:
    """Hand a role on an incident to someone (a handoff, on the timeline)."""
    try:
        held = roles.assign(build(Settings()).uow(), cli_actor(), incident_id, role,
                            person or None, reason)
    except DomainError as exc:
        _fail(exc)
    h = next(h for h in held if h.role == role)
    typer.echo(f"{role} on incident {incident_id}: {h.person.name if h.person else '—'}")


@incidents_app.command("tasks")
def tasks(incident_id: int) -> None:
    """An incident's checkpoints: status, role, deadline."""
    try:
        found = checkpoints.tasks_for(build(Settings()).uow(read_only=True), incident_id)
    except DomainError as exc:
        _fail(exc)
    for t in found:
        done = sum(i["done"] for i in t.checklist)
        items = f"\t{done}/{len(t.checklist)} items" if t.checklist else ""
        typer.echo(f"{t.id}\t{t.status}\t{t.role or 'anyone'}\tdue {t.deadline.isoformat()}\t"
                   f"{t.title}{items}")


@incidents_app.command("done")
def done(incident_id: int, task_id: int, note: Annotated[str, typer.Option()] = "") -> None:
    """Mark a checkpoint done."""
    try:
        t = checkpoints.complete(build(Settings()).uow(), cli_actor(), incident_id, task_id, note)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"{t.title}: {t.status}")
