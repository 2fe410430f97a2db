"""Configuration as data: check, apply and export YAML; edit forms and severity rules."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from ..domain.audit import digest
from ..domain.auth import Actor
from ..domain.conditions import ConditionError, mapping_with
from ..domain.errors import Conflict, DomainError, NotFound
from ..domain.forms import form_to_spec, parse_form
from ..domain.severity import KINDS, SEVERITIES, parse_level, parse_rule, rule_to_spec
from ..store.models import Form, Service, SeverityLevelRow, Team
from ..store.uow import UnitOfWork
from . import alerting_config, roles_config, schedules_config
from . import escalation_policies as policies
from .catalog import name_problem
from .common import actor_label, level_view
from .views import LevelView

SECTIONS = ("severity_levels", "severity_rules", "severity_fallback", "teams", "schedules",
            "incident_roles", "escalation_policies", "services", "playbooks", "forms",
            "calendars", "routes", "inhibit_rules", "alerting")
ALERTING_SECTIONS = ("calendars", "routes", "inhibit_rules", "alerting")


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.reason}"


class ConfigInvalid(DomainError):
    def __init__(self, problems: list[ConfigProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class Config:
    data: dict[str, Any] = field(default_factory=dict)


def _line_of(root: yaml.Node | None, path: str) -> int | None:
    """Line (1-based) of the YAML node at a path like `forms[0].fields[2].type`."""
    node, line = root, (root.start_mark.line + 1 if root else None)
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if isinstance(node, yaml.MappingNode) and name:
            match = next((v for k, v in node.value if getattr(k, "value", None) == name), None)
            if match is None:
                key = next((k for k, _ in node.value if getattr(k, "value", None) == name), None)
                return key.start_mark.line + 1 if key else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and index and int(index) < len(node.value):
            node = node.value[int(index)]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def parse(text: str, filename: str) -> Config:
    """Parse and validate a configuration document; every problem names file, path, line."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = str(getattr(exc, "problem", None) or exc)
        problem = ConfigProblem(filename, "(document)", line, f"malformed YAML: {reason}")
        raise ConfigInvalid([problem]) from exc
    if not isinstance(data, dict):
        problem = ConfigProblem(filename, "(document)", 1, "expected a mapping of sections")
        raise ConfigInvalid([problem])
    problems = [ConfigProblem(filename, key, _line_of(root, key),
                              f"unknown section; use {', '.join(SECTIONS)}")
                for key in data if key not in SECTIONS]
    for path, reason in _validate_sections(data):
        problems.append(ConfigProblem(filename, path, _line_of(root, path), reason))
    if problems:
        raise ConfigInvalid(problems)
    return Config(data)


def _validate_sections(data: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []

    def each(section: str, fn) -> None:  # noqa: ANN001
        items = data.get(section)
        if items is None:
            return
        if not isinstance(items, list):
            out.append((section, "must be a list"))
            return
        seen = set()
        for i, item in enumerate(items):
            try:
                key = fn(item, f"{section}[{i}]")
            except ConditionError as exc:
                out.append((exc.path, exc.message))
                continue
            if key in seen:
                out.append((f"{section}[{i}]", f"duplicate name {key!r}"))
            seen.add(key)

    each("severity_levels", _check_level)
    each("severity_rules", lambda s, p: parse_rule(s, p).name)
    each("forms", lambda s, p: parse_form(s, p).name)
    each("teams", _check_team)
    each("schedules", schedules_config.check_yaml)
    each("incident_roles", roles_config.check_role)
    each("escalation_policies", policies.check_yaml)
    each("playbooks", roles_config.check_playbook)
    each("services", _check_service)
    fb = data.get("severity_fallback")
    if fb is not None:
        if not isinstance(fb, dict) or fb.get("severity") not in SEVERITIES \
                or fb.get("kind", "issue") not in KINDS:
            out.append(("severity_fallback", "needs severity (P1–P4) and kind "
                        f"({', '.join(KINDS)})"))
    out += _check_references(data)
    out += _check_alerting(data)
    return out


def _check_alerting(data: dict[str, Any], stored_calendars: Any = None) -> list[tuple[str, str]]:
    """Calendars, routes and inhibition rules parse together (routes name calendars)."""
    if not any(k in data for k in ALERTING_SECTIONS):
        return []
    alerting = data.get("alerting")
    if alerting is not None and (not isinstance(alerting, dict)
                                 or set(alerting) - alerting_config.ALERTING_KEYS):
        return [("alerting", "a mapping with: cooldown_minutes")]
    cooldown = (alerting or {}).get("cooldown_minutes", 10)
    if not isinstance(cooldown, int) or isinstance(cooldown, bool) or cooldown < 0:
        return [("alerting.cooldown_minutes", "a whole number of minutes, 0 or more")]
    calendars = data.get("calendars", stored_calendars)
    try:
        cfg = alerting_config.parse_all(calendars or [], [], [], {})
        routes_cal = set(cfg.calendars) if calendars is not None else None
        from ..domain.routing import parse_routes

        parse_routes(data.get("routes") or [], "routes", routes_cal)
        alerting_config.parse_all([], [], data.get("inhibit_rules") or [], {})
    except ConditionError as exc:
        return [(exc.path, exc.message)]
    return []


def _check_level(spec: Any, path: str) -> str:
    if isinstance(spec, dict):
        mapping_with(spec, path, {"code", "name", "description", "ack_within_minutes",
                                  "update_every_minutes", "coverage"}, "")
    return parse_level(spec, path).code


def _check_team(spec: Any, path: str) -> str:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ConditionError(f"{path}.name", "a team needs a name")
    mapping_with(spec, path, {"name", "description", "members"}, "")
    problem = name_problem(spec["name"])
    if problem:
        raise ConditionError(f"{path}.name", problem)
    members = spec.get("members", [])
    if not isinstance(members, list) or not all(isinstance(m, str) for m in members):
        raise ConditionError(f"{path}.members", "a list of email addresses")
    return spec["name"]


def _check_service(spec: Any, path: str) -> str:
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise ConditionError(f"{path}.name", "a service needs a name")
    mapping_with(spec, path, {"name", "description", "tier", "tags", "team", "owner",
                              "escalation_policy"}, "")
    problem = name_problem(spec["name"])
    if problem:
        raise ConditionError(f"{path}.name", problem)
    tier = spec.get("tier", 3)
    if not isinstance(tier, int) or isinstance(tier, bool) or not 1 <= tier <= 4:
        raise ConditionError(f"{path}.tier", "must be 1 (most critical) to 4")
    tags = spec.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ConditionError(f"{path}.tags", "a list of strings")
    return spec["name"]


def _check_references(data: dict[str, Any]) -> list[tuple[str, str]]:
    """When a file defines severity levels, its rules may only name those levels."""
    levels = {lv.get("code") for lv in data.get("severity_levels") or [] if isinstance(lv, dict)}
    if not levels:
        return []
    out = []
    for i, r in enumerate(data.get("severity_rules") or []):
        if isinstance(r, dict) and r.get("severity") in SEVERITIES and r["severity"] not in levels:
            out.append((f"severity_rules[{i}].severity", f"level {r['severity']} is not defined"))
    return out


def check_text(text: str, filename: str) -> dict[str, int]:
    cfg = parse(text, filename)
    return {k: len(v) if isinstance(v, list) else 1 for k, v in cfg.data.items()}


def apply_text(uow: UnitOfWork, actor: Actor, text: str, filename: str) -> dict[str, int]:
    """Validate, then upsert everything by name in one transaction (all or nothing)."""
    actor.require("config:write")
    cfg = parse(text, filename)
    d = cfg.data
    with uow:
        problems: list[ConfigProblem] = []
        for spec in d.get("severity_levels") or []:
            lv = parse_level(spec, "")
            uow.severity.put_level(SeverityLevelRow(
                code=lv.code, name=lv.name, description=lv.description,
                ack_within_minutes=lv.ack_within_minutes,
                update_every_minutes=lv.update_every_minutes, coverage=lv.coverage))
        if "severity_rules" in d:
            uow.severity.replace_rules(
                [rule_to_spec(parse_rule(s, "")) for s in d["severity_rules"]])
        if "severity_fallback" in d:
            uow.settings.put("severity_fallback", d["severity_fallback"])
        for i, spec in enumerate(d.get("teams") or []):
            _apply_team(uow, spec, f"teams[{i}]", filename, problems)
        uow.session.flush()
        for path, reason in schedules_config.apply_yaml(uow, d.get("schedules") or [],
                                                        "schedules"):
            problems.append(ConfigProblem(filename, path, None, reason))
        uow.session.flush()
        for path, reason in roles_config.apply_roles(uow, d.get("incident_roles") or [],
                                                     "incident_roles"):
            problems.append(ConfigProblem(filename, path, None, reason))
        uow.session.flush()
        for i, spec in enumerate(d.get("escalation_policies") or []):
            for path, reason in policies.apply_yaml(uow, spec, f"escalation_policies[{i}]"):
                problems.append(ConfigProblem(filename, path, None, reason))
        uow.session.flush()
        for i, spec in enumerate(d.get("services") or []):
            _apply_service(uow, spec, f"services[{i}]", filename, problems)
        uow.session.flush()
        for path, reason in roles_config.apply_playbooks(uow, d.get("playbooks") or [],
                                                         "playbooks"):
            problems.append(ConfigProblem(filename, path, None, reason))
        for i, spec in enumerate(d.get("forms") or []):
            _apply_form(uow, spec, f"forms[{i}]", filename, problems)
        _apply_alerting(uow, d, filename, problems)
        if problems:
            raise ConfigInvalid(problems)
        summary = {k: len(v) if isinstance(v, list) else 1 for k, v in d.items()}
        uow.record(actor_label(actor), "config.apply", "config",
                   {"file": filename, "digest": digest(d), "summary": summary})
        uow.commit()
        return summary


def _apply_alerting(uow: UnitOfWork, d: dict[str, Any], fname: str,
                    problems: list[ConfigProblem]) -> None:
    if not any(k in d for k in ALERTING_SECTIONS):
        return
    # Check what will be in force: this file's sections over the stored ones, so removing a
    # calendar that a stored route names is refused here, not found later by triage.
    effective = {k: uow.settings.get(k) for k in ALERTING_SECTIONS}
    effective.update({k: d[k] for k in ALERTING_SECTIONS if k in d})
    effective = {k: v for k, v in effective.items() if v is not None}
    effective.setdefault("calendars", [])
    for path, reason in _check_alerting(effective):
        problems.append(ConfigProblem(fname, path, None, reason))
    for key in ALERTING_SECTIONS:
        if key in d:
            uow.settings.put(key, d[key] if d[key] is not None else [])


def _apply_team(uow: UnitOfWork, spec: dict, path: str, fname: str,
                problems: list[ConfigProblem]) -> None:
    team = uow.teams.by_name(spec["name"]) or uow.teams.add(Team(name=spec["name"]))
    team.description = spec.get("description", "")
    ids = []
    for j, email in enumerate(spec.get("members") or []):
        user = uow.users.by_email(email)
        if user is None:
            problems.append(ConfigProblem(fname, f"{path}.members[{j}]", None,
                                          f"no person {email!r} (create the user first)"))
        else:
            ids.append(user.id)
    uow.teams.set_members(team.id, ids)


def _apply_service(uow: UnitOfWork, spec: dict, path: str, fname: str,
                   problems: list[ConfigProblem]) -> None:
    svc = uow.services.by_name(spec["name"])
    if svc is None:
        svc = uow.services.add(Service(name=spec["name"], created_at=uow.clock.now()))
    svc.description = spec.get("description", "")
    svc.tier = spec.get("tier", 3)
    svc.tags = list(spec.get("tags") or [])
    svc.team_id = svc.owner_id = None
    if spec.get("team"):
        team = uow.teams.by_name(spec["team"])
        if team is None:
            problems.append(ConfigProblem(fname, f"{path}.team", None, f"no team {spec['team']!r}"))
        else:
            svc.team_id = team.id
    if spec.get("owner"):
        owner = uow.users.by_email(spec["owner"])
        if owner is None:
            problems.append(ConfigProblem(fname, f"{path}.owner", None,
                                          f"no person {spec['owner']!r}"))
        else:
            svc.owner_id = owner.id
    if "escalation_policy" in spec:  # absent: left as it is; null: page nobody
        name = spec["escalation_policy"]
        policy = uow.policies.by_name(name) if name else None
        if name and policy is None:
            problems.append(ConfigProblem(fname, f"{path}.escalation_policy", None,
                                          f"no escalation policy {name!r}"))
        svc.escalation_policy_id = policy.id if policy else None


def _apply_form(uow: UnitOfWork, spec: dict, path: str, fname: str,
                problems: list[ConfigProblem]) -> None:
    fdef = parse_form(spec, path)
    service_id = None
    if fdef.service:
        svc = uow.services.by_name(fdef.service)
        if svc is None:
            problems.append(ConfigProblem(fname, f"{path}.service", None,
                                          f"no service {fdef.service!r}"))
            return
        service_id = svc.id
    row = uow.forms.by_name(fdef.name) or uow.forms.add(
        Form(name=fdef.name, kind=fdef.kind, spec={}))
    row.kind, row.service_id, row.spec = fdef.kind, service_id, form_to_spec(fdef)


def export_data(uow: UnitOfWork) -> dict[str, Any]:
    with uow:
        fb = uow.settings.get("severity_fallback")
        teams = []
        for t in uow.teams.list():
            emails = [uow.users.get(i).email for i in uow.teams.member_ids(t.id)]
            teams.append({"name": t.name, "description": t.description, "members": sorted(emails)})
        services = []
        for s in uow.services.list():
            item: dict[str, Any] = {"name": s.name, "description": s.description, "tier": s.tier,
                                    "tags": list(s.tags or [])}
            if s.team_id:
                item["team"] = uow.teams.get(s.team_id).name
            if s.owner_id:
                item["owner"] = uow.users.get(s.owner_id).email
            if s.escalation_policy_id:
                item["escalation_policy"] = uow.policies.get(s.escalation_policy_id).name
            services.append(item)
        exported = [policies.to_yaml(uow, p) for p in uow.policies.list()]
        out: dict[str, Any] = {
            "severity_levels": [_level_spec(r) for r in uow.severity.levels()],
            "severity_rules": [r.spec for r in uow.severity.rules()],
        }
        if fb:
            out["severity_fallback"] = fb
        out["teams"] = teams
        if found := schedules_config.export(uow):
            out["schedules"] = found
        if found := roles_config.export_roles(uow):
            out["incident_roles"] = found
        if exported:
            out["escalation_policies"] = exported
        out["services"] = services
        if found := roles_config.export_playbooks(uow):
            out["playbooks"] = found
        out["forms"] = [f.spec for f in uow.forms.list()]
        for key in ALERTING_SECTIONS:
            value = uow.settings.get(key)
            if value is not None:
                out[key] = value
        return out


def export_text(uow: UnitOfWork) -> str:
    return yaml.safe_dump(export_data(uow), sort_keys=False, allow_unicode=True, width=100)


def _level_spec(r: SeverityLevelRow) -> dict[str, Any]:
    return {"code": r.code, "name": r.name, "description": r.description,
            "ack_within_minutes": r.ack_within_minutes,
            "update_every_minutes": r.update_every_minutes, "coverage": r.coverage}


# ---- single objects, for the API and UI editors ----

def list_levels(uow: UnitOfWork) -> list[LevelView]:
    with uow:
        return [level_view(r) for r in uow.severity.levels()]


def get_rules(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        return [r.spec for r in uow.severity.rules()]


def put_rules(uow: UnitOfWork, actor: Actor, specs: list[Any]) -> list[dict[str, Any]]:
    """Replace the ordered rule list (validated as a whole first)."""
    return _apply_section(uow, actor, "severity_rules", specs)["severity_rules"]


def put_form(uow: UnitOfWork, actor: Actor, spec: Any) -> dict[str, Any]:
    """Create or replace one form (by name)."""
    forms = _apply_section(uow, actor, "forms", [spec])["forms"]
    return next(f for f in forms if f["name"] == spec["name"])


def _apply_section(uow: UnitOfWork, actor: Actor, section: str, items: list[Any]) -> dict:
    text = yaml.safe_dump({section: items}, sort_keys=False, allow_unicode=True)
    apply_text(uow, actor, text, f"({section})")
    return export_data(uow)


def list_forms(uow: UnitOfWork) -> list[dict[str, Any]]:
    with uow:
        out = []
        for f in uow.forms.list():
            svc = uow.services.get(f.service_id) if f.service_id else None
            out.append({"id": f.id, "name": f.name, "kind": f.kind,
                        "service": svc.name if svc else None, "spec": f.spec})
        return out


def get_form(uow: UnitOfWork, name: str) -> dict[str, Any]:
    found = next((f for f in list_forms(uow) if f["name"] == name), None)
    if found is None:
        raise NotFound(f"no form {name!r}")
    return found


def delete_form(uow: UnitOfWork, actor: Actor, name: str) -> None:
    actor.require("config:write")
    with uow:
        row = uow.forms.by_name(name)
        if row is None:
            raise NotFound(f"no form {name!r}")
        if name == "default":
            raise Conflict("the default form is every service's fallback; edit it instead")
        uow.forms.delete(row)
        uow.record(actor_label(actor), "form.delete", f"form:{row.id}", {"name": name})
        uow.commit()
