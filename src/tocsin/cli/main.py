"""`tocsin` commands: serve, db, users, tokens, config, audit, demo, incidents."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ..bootstrap import Container, build
from ..domain.auth import cli_actor
from ..domain.errors import DomainError, ValidationFailed
from ..services import audit, config, demo, users
from ..settings import Settings
from .alerting import (
    alerts_app,
    dead_app,
    engine_app,
    integrations_app,
    route_app,
    silences_app,
)
from .incidents import incidents_app
from .roles import roles_app

app = typer.Typer(help="Tocsin incident response.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
users_app = typer.Typer(help="People who sign in.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens.", no_args_is_help=True)
config_app = typer.Typer(help="Configuration as YAML: check, apply, export.",
                         no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data.", no_args_is_help=True)
for sub, name in ((route_app, "route"), (integrations_app, "integrations"),
                  (silences_app, "silences"), (alerts_app, "alerts"), (dead_app, "dead-letters"),
                  (engine_app, "engine"), (db_app, "db"), (users_app, "users"), (tokens_app, "tokens"),
                  (config_app, "config"), (audit_app, "audit"), (demo_app, "demo"),
                  (incidents_app, "incidents"), (roles_app, "roles")):
    app.add_typer(sub, name=name)

EXIT = {"NotFound": 4, "Conflict": 5, "InvalidTransition": 5, "ValidationFailed": 3,
        "ConfigInvalid": 3, "Forbidden": 6, "Unauthorized": 6}


def container() -> Container:
    return build(Settings())


def fail(exc: DomainError) -> None:
    detailed = isinstance(exc, ValidationFailed | config.ConfigInvalid)
    headline = exc.summary if isinstance(exc, ValidationFailed) else (
        "invalid configuration" if detailed else exc.message)
    typer.echo(f"error: {headline}", err=True)
    if isinstance(exc, ValidationFailed):
        for e in exc.errors:
            typer.echo(f"  {e.field}: {e.message}", err=True)
    if isinstance(exc, config.ConfigInvalid):
        for p in exc.problems:
            typer.echo(f"  {p}", err=True)
    raise typer.Exit(EXIT.get(type(exc).__name__, 1))


@app.command()
def serve(host: Annotated[str, typer.Option(help="Address to listen on")] = "",
          port: Annotated[int, typer.Option(help="Port")] = 0,
          workers: Annotated[int, typer.Option(help="Web worker processes")] = 1,
          migrate: Annotated[bool, typer.Option(help="Upgrade the schema first")] = True,
          access_log: Annotated[bool, typer.Option(help="Log every request")] = False) -> None:
    """Run the web UI and API, and the engine beside them in its own process (triage and
    timers must not share the web workers' interpreter lock with alert intake)."""
    from ..web import serving
    from .engine_process import EngineProcess

    settings = Settings()
    if migrate:
        _upgrade(settings)
    engine = EngineProcess(settings) if settings.engine else None
    os.environ["TOCSIN_ENGINE"] = "false"  # the web workers only kick the engine process
    try:
        if engine:
            engine.start()
        serving.run("tocsin.web.asgi:app", host=host or settings.host,
                    port=port or settings.port, workers=workers, log_level="info",
                    proxy_headers=False, access_log=access_log,
                    http="tocsin.web.fastpath:IntakeHttpProtocol")
    finally:
        if engine:
            engine.stop()


def _upgrade(settings: Settings) -> None:
    from ..store.migrate import upgrade

    c = build(settings)
    upgrade(c.engine)
    c.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest version."""
    settings = Settings()
    _upgrade(settings)
    typer.echo(f"database at {_safe_url(settings.database_url)} is up to date")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@users_app.command("create")
def users_create(email: Annotated[str, typer.Option()],
                 role: Annotated[str, typer.Option(help="admin, responder or viewer")],
                 password: Annotated[str | None, typer.Option()] = None,
                 name: Annotated[str | None, typer.Option()] = None,
                 time_zone: Annotated[str, typer.Option()] = "UTC") -> None:
    """Create a user who can sign in (with a password) and get API tokens."""
    try:
        user = users.create_user(container().uow(), cli_actor(), email, password, role, name,
                                 time_zone)
    except DomainError as exc:
        fail(exc)
    typer.echo(f"created user #{user.id} {user.email} ({user.role})")


@users_app.command("list")
def users_list() -> None:
    for u in users.list_users(container().uow(read_only=True)):
        typer.echo(f"{u.id}\t{u.email}\t{u.role}\t{u.name}\t{u.time_zone}")


@tokens_app.command("create")
def tokens_create(email: Annotated[str, typer.Option()],
                  name: Annotated[str, typer.Option()]) -> None:
    """Create an API token for a user and print it (it is stored hashed: save it now)."""
    try:
        created = users.create_token(container().uow(), cli_actor(), email, name)
    except DomainError as exc:
        fail(exc)
    typer.echo(created.token)


@config_app.command("check")
def config_check(file: Path) -> None:
    """Validate a configuration file; errors name the file, line, path and reason."""
    try:
        summary = config.check_text(_read(file), str(file))
    except DomainError as exc:
        fail(exc)
    typer.echo(f"{file}: valid ({', '.join(f'{k}: {v}' for k, v in summary.items())})")


@config_app.command("apply")
def config_apply(file: Path) -> None:
    """Validate and apply a configuration file in one transaction (all or nothing)."""
    try:
        summary = config.apply_text(container().uow(), cli_actor(), _read(file), str(file))
    except DomainError as exc:
        fail(exc)
    typer.echo(f"applied {file}: {', '.join(f'{k}: {v}' for k, v in summary.items())}")


@config_app.command("export")
def config_export(output: Annotated[Path | None, typer.Option("--output", "-o")] = None) -> None:
    """Print (or write) the whole configuration as YAML that `apply` takes back."""
    text = config.export_text(container().uow(read_only=True))
    if output:
        output.write_text(text)
        typer.echo(f"wrote {output}")
    else:
        sys.stdout.write(text)


def _read(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except OSError as exc:
        typer.echo(f"error: cannot read {file}: {exc.strerror}", err=True)
        raise typer.Exit(2) from exc
    except UnicodeDecodeError as exc:
        typer.echo(f"error: {file} is not UTF-8 text (byte {exc.start})", err=True)
        raise typer.Exit(2) from exc


@audit_app.command("verify")
def audit_verify(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Check the hash chain and every timeline entry against it. Exit 1 on any problem."""
    report = audit.verify(container().uow(read_only=True))
    if as_json:
        typer.echo(json.dumps({"ok": report.ok, "records": report.records,
                               "head_seq": report.head_seq, "head_hash": report.head_hash,
                               "problems": [p.__dict__ for p in report.problems]}))
    else:
        for p in report.problems:
            typer.echo(f"PROBLEM at record {p.seq}: {p.message}")
        state = "OK" if report.ok else f"FAILED ({len(report.problems)} problems)"
        typer.echo(f"audit log {state}: {report.records} records, {report.entries} timeline "
                   f"entries; head #{report.head_seq} {report.head_hash}")
    if not report.ok:
        raise typer.Exit(1)


@demo_app.command("seed")
def demo_seed(if_empty: Annotated[bool, typer.Option(help="Only into an empty database")] = False
              ) -> None:
    """Load the default configuration, demo people, services and incidents."""
    settings = Settings()
    c = build(settings)
    var = Path(settings.var_dir)
    login = var / "demo-admin.txt"
    if not demo.is_empty(c.uow(read_only=True)):
        if not if_empty:
            typer.echo("error: the database already has users; demo data goes into an empty one",
                       err=True)
            raise typer.Exit(5)
        if login.exists():
            email, password = login.read_text().split()[:2]
            _print_login(settings, email, password)
        return
    password = demo.seed(c, var)
    _print_login(settings, demo.ADMIN_EMAIL, password)


def _print_login(settings: Settings, email: str, password: str) -> None:
    typer.echo("")
    typer.echo(f"  Tocsin demo: sign in at {settings.public_url}/login")
    typer.echo(f"    email:    {email}")
    typer.echo(f"    password: {password}")
    typer.echo("")


def main() -> None:
    app()


@users_app.command("set")
def users_set(email: Annotated[str, typer.Option()],
              role: Annotated[str | None, typer.Option(help="admin, responder or viewer")] = None,
              active: Annotated[bool | None, typer.Option("--active/--disabled")] = None,
              password: Annotated[str | None, typer.Option()] = None) -> None:
    """Change a user's role or password, or disable them (ends sessions, stops tokens)."""
    try:
        view = users.update_user(container().uow(), cli_actor(), email, role, active, None,
                                 password)
    except DomainError as exc:
        fail(exc)
    typer.echo(f"user {view.email}: role {view.role}, {'active' if view.active else 'disabled'}")
