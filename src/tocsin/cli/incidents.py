"""`tocsin incidents …`: declare, list, show and work incidents from a terminal."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ..bootstrap import build
from ..domain.auth import cli_actor
from ..domain.errors import DomainError
from ..services import incidents as svc
from ..settings import Settings
from ..store.repositories import IncidentFilter

incidents_app = typer.Typer(help="Declare, list and work incidents.", no_args_is_help=True)


def _fail(exc: DomainError) -> None:
    from .main import fail

    fail(exc)


def _parse_attr(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"{pair!r} is not key=value")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


@incidents_app.command("declare")
def declare(title: Annotated[str, typer.Option()], service: Annotated[str, typer.Option()],
            attr: Annotated[list[str], typer.Option(help="key=value (JSON values allowed)")] = [],  # noqa: B006
            form: Annotated[str | None, typer.Option()] = None) -> None:
    """Declare an incident; prints its number, severity and why."""
    c = build(Settings())
    try:
        view = svc.declare(c.uow(), cli_actor(), svc.DeclareInput(
            title=title, service=service, attributes=_parse_attr(attr), form=form))
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"INC-{view.number} (id {view.id}) {view.severity} {view.kind}: "
               f"{view.severity_reason}")


@incidents_app.command("list")
def list_(status: str | None = None, severity: str | None = None) -> None:
    c = build(Settings())
    items, total = svc.list_incidents(c.uow(read_only=True),
                                      IncidentFilter(status=status, severity=severity, limit=500))
    for i in items:
        typer.echo(f"{i.id}\tINC-{i.number}\t{i.severity}\t{i.status}\t{i.service}\t{i.title}")
    typer.echo(f"{total} incident(s)")


@incidents_app.command("show")
def show(incident_id: int) -> None:
    c = build(Settings())
    try:
        v = svc.get(c.uow(read_only=True), incident_id)
        entries = svc.timeline(c.uow(read_only=True), incident_id)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"INC-{v.number} {v.title}\n{v.severity} {v.kind} · {v.status} · {v.service}")
    typer.echo(f"Why {v.severity}: {v.severity_reason}")
    for e in entries:
        typer.echo(f"  {e.at.isoformat()}  {e.actor}: {e.text}")


def _action(action: str):  # noqa: ANN202
    def run(incident_id: int, note: Annotated[str, typer.Option()] = "") -> None:
        c = build(Settings())
        try:
            v = svc.transition(c.uow(), cli_actor(), incident_id, action, note)
        except DomainError as exc:
            _fail(exc)
        typer.echo(f"INC-{v.number} is now {v.status}")
    run.__doc__ = f"{action.capitalize()} an incident."
    return run


for _a in ("acknowledge", "mitigate", "resolve", "close", "reopen"):
    incidents_app.command(_a)(_action(_a))


@incidents_app.command("note")
def note(incident_id: int, text: str) -> None:
    """Add a note to the timeline."""
    c = build(Settings())
    try:
        e = svc.add_note(c.uow(), cli_actor(), incident_id, text)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"added entry {e.id}")
