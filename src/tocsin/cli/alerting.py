"""`tocsin route|integrations|silences|alerts|dead-letters|engine …`: alert triage from a
terminal."""

from __future__ import annotations

import gc
import json
import os
import time
from datetime import timedelta
from typing import Annotated

import typer

from ..bootstrap import build
from ..domain.auth import cli_actor
from ..domain.errors import DomainError
from ..services import alerts, intake
from ..settings import Settings
from ..store.alerting_repos import AlertFilter

route_app = typer.Typer(help="Alert routes.", no_args_is_help=True)
integrations_app = typer.Typer(help="Inbound integrations.", no_args_is_help=True)
silences_app = typer.Typer(help="Silences and maintenance windows.", no_args_is_help=True)
alerts_app = typer.Typer(help="Alerts.", no_args_is_help=True)
dead_app = typer.Typer(help="Payloads that could not be parsed.", no_args_is_help=True)
engine_app = typer.Typer(help="The engine (triage and timers).", no_args_is_help=True)


def _fail(exc: DomainError) -> None:
    from .main import fail

    fail(exc)


def _labels(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        for part in pair.split(","):
            key, sep, value = part.partition("=")
            if not sep or not key.strip():
                raise typer.BadParameter(f"{part!r} is not key=value")
            out[key.strip()] = value.strip().strip('"')
    return out


@route_app.command("test")
def route_test(labels: Annotated[list[str], typer.Option("--labels", "-l",
                                                          help="key=value (repeat or comma-separate)")],
               service: Annotated[str | None, typer.Option(help="the alert's service")] = None,
               severity: Annotated[str | None, typer.Option()] = None) -> None:
    """Which route would take an alert with these labels, and why (like amtool)."""
    c = build(Settings())
    try:
        result = alerts.test_route(c.uow(read_only=True), _labels(labels), service, severity)
    except DomainError as exc:
        _fail(exc)
    for line in result["trace"]:
        typer.echo(line)
    typer.echo("")
    typer.echo(("matched: " + ", ".join(result["matched"])) if result["matched"]
               else "no route matched")
    typer.echo(result["reason"])
    if not result["matched"]:
        raise typer.Exit(1)


@integrations_app.command("create")
def integrations_create(name: Annotated[str, typer.Option()], type_: Annotated[str, typer.Option(
        "--type", help="alertmanager, pagerduty, grafana, cloudwatch, azure, sentry, newrelic, "
                       "gcp, pingdom, generic")],
                        service: Annotated[str, typer.Option()],
                        options: Annotated[str, typer.Option(help="JSON (generic mapping)")] = "{}"
                        ) -> None:
    """Create an integration; prints the URL senders post to."""
    s = Settings()
    c = build(s)
    try:
        view = alerts.create_integration(c.uow(), cli_actor(), name, type_, service,
                                         json.loads(options), s.public_url)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"--options is not JSON: {exc}") from exc
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"integration #{view.id} {view.name} ({view.type}) for {view.service}")
    typer.echo(f"url: {view.url}")
    typer.echo(f"key: {view.key}")


@integrations_app.command("list")
def integrations_list() -> None:
    s = Settings()
    for i in alerts.list_integrations(build(s).uow(read_only=True), s.public_url):
        typer.echo(f"{i.id}\t{i.type}\t{i.service}\t{i.name}\t{i.url}")


@silences_app.command("create")
def silences_create(matcher: Annotated[list[str], typer.Option(help='e.g. instance="db1"')],
                    comment: Annotated[str, typer.Option()],
                    hours: Annotated[float, typer.Option(help="how long")] = 2.0,
                    maintenance: Annotated[bool, typer.Option(help="a maintenance window")] = False
                    ) -> None:
    c = build(Settings())
    ends = c.clock.now() + timedelta(hours=hours)
    try:
        view = alerts.create_silence(c.uow(), cli_actor(), matcher, None, ends, comment,
                                     "maintenance" if maintenance else "silence")
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"silence #{view.id} {', '.join(view.matchers)} until {view.ends_at.isoformat()}")


@silences_app.command("list")
def silences_list(expired: bool = False) -> None:
    for s in alerts.list_silences(build(Settings()).uow(read_only=True), expired):
        typer.echo(f"{s.id}\t{s.state}\t{s.kind}\t{', '.join(s.matchers)}\t"
                   f"{s.ends_at.isoformat()}\t{s.created_by}\t{s.comment}")


@silences_app.command("expire")
def silences_expire(silence_id: int) -> None:
    try:
        alerts.expire_silence(build(Settings()).uow(), cli_actor(), silence_id)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"silence #{silence_id} expired")


@alerts_app.command("list")
def alerts_list(status: str = "open", service: str | None = None) -> None:
    try:
        items, total = alerts.list_alerts(build(Settings()).uow(read_only=True),
                                          AlertFilter(status=status or None, limit=500), service)
    except DomainError as exc:
        _fail(exc)
    for a in items:
        typer.echo(f"{a.id}\t{a.status}\t{a.severity or '-'}\t{a.service}\t×{a.count}\t"
                   f"{a.suppressed or a.route or '-'}\t{a.summary}")
    typer.echo(f"{total} alert(s)")


@dead_app.command("list")
def dead_list() -> None:
    items, total = intake.list_dead_letters(build(Settings()).uow(read_only=True), None, 500)
    for d in items:
        typer.echo(f"{d.id}\t{d.status}\t{d.integration}\t{d.received_at.isoformat()}\t{d.reason}")
    typer.echo(f"{total} dead letter(s)")


@dead_app.command("replay")
def dead_replay(dl_id: int) -> None:
    """Parse a dead letter again with its integration's current settings."""
    try:
        result = intake.replay(build(Settings()).uow(), cli_actor(), dl_id)
    except DomainError as exc:
        _fail(exc)
    typer.echo(f"replayed dead letter {dl_id}: {result['alerts']} alert(s), "
               f"event {result['event_id']}")


@engine_app.command("run")
def engine_run(once: Annotated[bool, typer.Option(help="one pass, then exit")] = False,
               parent_pid: Annotated[int, typer.Option(
                   help="exit when this process is gone (set by tocsin serve)")] = 0) -> None:
    """Run the engine alone (triage, timers, escalations, notifications) without the web
    server. On SQLite only one engine works at a time; another one waits."""
    from ..engine.engine import Engine, Pacer
    from ..engine.kick import KickListener, socket_path

    settings = Settings()
    engine = Engine(build(settings))
    if once:
        handled = engine.drain()
        engine.release()
        if engine.waiting_for:
            typer.echo(f"did nothing: another engine ({engine.waiting_for}) is running on this "
                       "SQLite database")
            raise typer.Exit(3)
        typer.echo(f"handled {handled} row(s)")
        return
    if parent_pid:
        # Beside a server, accepting alerts comes first: under a burst the web workers get
        # the CPU, and triage works the backlog off right after.
        os.nice(settings.engine_nice)
        engine.pacer = Pacer(share=settings.engine_flood_share)
    # A triage batch holds thousands of ORM objects, each in a reference cycle with its
    # state, so the default collector (every 700 allocations, and full collections over all
    # the long-lived objects) ran far more often than it freed anything. Rarer collections
    # and a frozen start-up heap: PostgreSQL drain 2,235 -> 2,487 events/s, peak RSS 145 ->
    # 162 MB (bench/intake.py backlog, measured once each).
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    listener = KickListener(socket_path(settings.var_dir))
    try:
        while not parent_pid or os.getppid() == parent_pid:  # orphaned: the server is gone
            if engine.drain():
                continue
            if pause := engine.paused_for():
                # Held back in a flood: kicks wait in the socket (the next wait drains them).
                time.sleep(min(pause, engine.idle_seconds()))
            else:
                listener.wait(engine.idle_seconds())
    finally:
        listener.close()
        engine.release()
