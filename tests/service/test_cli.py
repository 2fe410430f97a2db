"""The CLI contract: db upgrade, users, tokens, config check/apply/export, audit verify."""

from __future__ import annotations

import sqlite3

import pytest
from typer.testing import CliRunner

from tocsin.cli.main import app

from ..conftest import DEFAULT_CONFIG

runner = CliRunner()


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("TOCSIN_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    monkeypatch.setenv("TOCSIN_VAR_DIR", str(tmp_path / "var"))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    return tmp_path


def run(*args: str):
    return runner.invoke(app, list(args))


def test_users_tokens_and_incidents(env):
    assert run("config", "apply", str(DEFAULT_CONFIG)).exit_code == 0
    r = run("users", "create", "--email", "Ann@Example.com", "--password", "longenough",
            "--role", "admin")
    assert r.exit_code == 0 and "ann@example.com" in r.output
    dup = run("users", "create", "--email", "ann@example.com", "--password", "x" * 9,
              "--role", "admin")
    assert dup.exit_code == 5 and "exists already" in dup.output
    bad = run("users", "create", "--email", "b@example.com", "--password", "short",
              "--role", "king")
    assert bad.exit_code == 3 and "password" in bad.output and "role" in bad.output
    token = run("tokens", "create", "--email", "ann@example.com", "--name", "ci")
    assert token.exit_code == 0 and token.output.strip().startswith("tcn_")
    cfg = env / "svc.yaml"
    cfg.write_text("services:\n  - {name: api, tier: 1}\n")
    assert run("config", "apply", str(cfg)).exit_code == 0
    r = run("incidents", "declare", "--title", "API down", "--service", "api",
            "--attr", "impact=outage", "--attr", "criticality=internal",
            "--attr", "restore_within=immediately")
    assert r.exit_code == 0 and "P1" in r.output and "service.tier is 1" in r.output
    assert run("incidents", "acknowledge", "1").exit_code == 0
    wrong = run("incidents", "close", "1")
    assert wrong.exit_code == 5 and "allowed: mitigate, resolve" in wrong.output


def test_config_check_reports_and_exits_nonzero(env):
    bad = env / "bad.yaml"
    bad.write_text("severity_rules:\n  - name: x\n    severity: P1\n    when: {a: {gte: z}}\n")
    r = run("config", "check", str(bad))
    assert r.exit_code == 3 and f"{bad}:4: severity_rules[0].when.a" in r.output
    assert run("config", "check", str(DEFAULT_CONFIG)).exit_code == 0
    missing = run("config", "check", str(env / "nope.yaml"))
    assert missing.exit_code == 2


def test_export_is_applicable(env):
    run("config", "apply", str(DEFAULT_CONFIG))
    out = env / "out.yaml"
    assert run("config", "export", "-o", str(out)).exit_code == 0
    assert run("config", "check", str(out)).exit_code == 0


def test_audit_verify_detects_tampering(env):
    run("config", "apply", str(DEFAULT_CONFIG))
    cfg = env / "svc.yaml"
    cfg.write_text("services:\n  - {name: api, tier: 2}\n")
    run("config", "apply", str(cfg))
    run("incidents", "declare", "--title", "x", "--service", "api", "--attr", "impact=cosmetic",
        "--attr", "criticality=none", "--attr", "restore_within=days")
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "audit log OK" in ok.output
    db = sqlite3.connect(env / "cli.db")
    db.execute("UPDATE timeline_entries SET actor_name = 'someone else'")
    db.commit()
    r = run("audit", "verify")
    assert r.exit_code == 1 and "timeline entry 1 was changed" in r.output
    db.execute("DELETE FROM audit_log WHERE seq = 1")
    db.commit()
    assert "missing" in run("audit", "verify").output


def test_demo_seed_prints_login_and_is_idempotent(env):
    r = run("demo", "seed", "--if-empty")
    assert r.exit_code == 0 and "admin@example.com" in r.output and "password:" in r.output
    again = run("demo", "seed", "--if-empty")
    assert again.exit_code == 0 and r.output.strip() == again.output.strip()
    assert run("demo", "seed").exit_code == 5
    listing = run("incidents", "list")
    for sev in ("P1", "P2", "P3", "P4"):
        assert f"\t{sev}\t" in listing.output


def test_route_test_integrations_silences_and_alerts(env):
    run("config", "apply", str(DEFAULT_CONFIG))
    svc = env / "svc.yaml"
    svc.write_text("services:\n  - {name: api, tier: 1}\n")
    run("config", "apply", str(svc))
    r = run("route", "test", "--labels", "env=production,severity=critical", "--service", "api",
            "--severity", "critical")
    assert r.exit_code == 0 and "matched: production-outage" in r.output
    assert "security-breach" not in r.output.split("matched:")[1]
    miss = run("route", "test", "-l", "env=dev", "--service", "api")
    assert miss.exit_code == 1 and "no route matched" in miss.output
    bad = run("route", "test", "-l", "nonsense")
    assert bad.exit_code == 2
    made = run("integrations", "create", "--name", "prom", "--type", "alertmanager",
               "--service", "api")
    assert made.exit_code == 0 and "/intake/" in made.output
    wrong = run("integrations", "create", "--name", "x", "--type", "nagios", "--service", "api")
    assert wrong.exit_code == 3 and "type" in wrong.output
    sil = run("silences", "create", "--matcher", 'instance="db1"', "--comment", "drill")
    assert sil.exit_code == 0 and 'instance="db1"' in sil.output
    assert "active" in run("silences", "list").output
    assert run("silences", "expire", "1").exit_code == 0
    assert run("silences", "expire", "1").exit_code == 5
    assert run("alerts", "list").output.strip().endswith("0 alert(s)")
    assert run("engine", "run", "--once").exit_code == 0


def test_disable_a_user_stops_their_tokens(env):
    run("users", "create", "--email", "a@example.com", "--password", "longenough", "--role",
        "admin")
    run("users", "create", "--email", "b@example.com", "--password", "longenough", "--role",
        "responder")
    token = run("tokens", "create", "--email", "b@example.com", "--name", "t").output.strip()
    from tocsin.bootstrap import build
    from tocsin.services import users
    from tocsin.settings import Settings

    c = build(Settings())
    assert users.actor_for_token(c.uow(), token).name == "b"
    r = run("users", "set", "--email", "b@example.com", "--disabled", "--role", "viewer")
    assert r.exit_code == 0 and "disabled" in r.output
    with pytest.raises(Exception, match="disabled"):
        users.actor_for_token(c.uow(), token)
    last = run("users", "set", "--email", "a@example.com", "--role", "viewer")
    assert last.exit_code == 5 and "last active admin" in last.output
    assert run("users", "set", "--email", "nobody@example.com", "--role", "viewer").exit_code == 4


def test_roles_and_checkpoints_from_the_terminal(env):
    assert run("config", "apply", str(DEFAULT_CONFIG)).exit_code == 0
    assert run("users", "create", "--email", "ann@example.com", "--password", "longenough",
               "--role", "responder", "--name", "Ann").exit_code == 0
    cfg = env / "svc.yaml"
    cfg.write_text("services:\n  - {name: api, tier: 1}\n")
    assert run("config", "apply", str(cfg)).exit_code == 0
    assert run("incidents", "declare", "--title", "API down", "--service", "api",
               "--attr", "impact=outage", "--attr", "criticality=internal",
               "--attr", "restore_within=immediately").exit_code == 0
    r = run("incidents", "roles", "1")
    assert r.exit_code == 0 and "incident_commander\t—" in r.output
    r = run("incidents", "assign", "1", "incident_commander", "ann@example.com",
            "--reason", "on shift")
    assert r.exit_code == 0 and "incident_commander on incident 1: Ann" in r.output
    nobody = run("incidents", "assign", "1", "communications_lead")
    assert nobody.exit_code == 5 and "has no primary" in nobody.output
    r = run("incidents", "tasks", "1")
    line = next(x for x in r.output.splitlines() if "Containment" in x)
    assert "\topen\tengineering_responder\t" in line and "0/4 items" in line
    r = run("incidents", "done", "1", line.split("\t")[0], "--note", "rolled back")
    assert r.exit_code == 0 and "Containment: done" in r.output
    r = run("roles", "roster")
    assert r.exit_code == 0 and "incident_commander\tnobody" in r.output
