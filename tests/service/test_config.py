"""Configuration as data: check names file/line/path/reason; apply is all or nothing;
export round-trips."""

from __future__ import annotations

import pytest
import yaml

from tocsin.domain.auth import cli_actor
from tocsin.services import catalog, config, users
from tocsin.services.config import ConfigInvalid

from ..conftest import DEFAULT_CONFIG

ADMIN = cli_actor()


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigInvalid) as err:
        config.check_text(text, "cfg.yaml")
    return [str(p) for p in err.value.problems]


def test_default_config_is_valid():
    summary = config.check_text(DEFAULT_CONFIG.read_text(), "default.yaml")
    assert summary["severity_rules"] == 7 and summary["forms"] == 2


def test_malformed_yaml_names_the_line():
    [problem] = problems("forms:\n  - name: x\n    fields: [\n")
    assert problem.startswith("cfg.yaml:4: (document): malformed YAML: ")


@pytest.mark.parametrize(("text", "expected"), [
    ("severity_rules:\n  - name: a\n    severity: P1\n    when: {impact: {near: 1}}\n",
     "cfg.yaml:4: severity_rules[0].when.impact: unknown operator 'near'"),
    ("forms:\n  - name: f\n    fields:\n      - key: a\n        type: select\n",
     "cfg.yaml:4: forms[0].fields[0].options: a select field needs options"),
    ("forms:\n  - name: f\n    fields:\n      - {key: a, type: text}\n      - {key: b, type: wheel}\n",
     "cfg.yaml:5: forms[0].fields[1].type: must be one of"),
    ("forms:\n  - name: f\n    fields:\n      - {key: a, type: text, show_when: {z: 1}}\n",
     "cfg.yaml:4: forms[0].fields[0].show_when.z: must name an earlier field"),
    ("services:\n  - name: s\n    tier: 9\n", "cfg.yaml:3: services[0].tier: must be 1"),
    ("services:\n  - name: s\n    teir: 2\n", "cfg.yaml:2: services[0]: unknown key(s): teir"),
    ("forms:\n  - name: f\n    fields:\n      - {key: a, type: number, min: z}\n",
     "cfg.yaml:4: forms[0].fields[0].min: must be a number"),
    ("forms:\n  - name: f\n    fields:\n      - {key: a, type: text}\n"
     "      - {key: b, type: text, show_when: [a]}\n",
     "cfg.yaml:5: forms[0].fields[1].show_when: a mapping of earlier field: value(s)"),
    ("colours: []\n", "cfg.yaml:1: colours: unknown section"),
])
def test_errors_name_file_line_path_reason(text, expected):
    assert any(p.startswith(expected) for p in problems(text)), problems(text)


def test_apply_is_all_or_nothing(container):
    before = config.export_data(container.uow())
    text = ("services:\n  - name: ok-service\n    tier: 2\n"
            "  - name: bad\n    team: no-such-team\n")
    with pytest.raises(ConfigInvalid) as err:
        config.apply_text(container.uow(), cli_actor(), text, "x.yaml")
    assert "services[1].team" in str(err.value)
    assert config.export_data(container.uow()) == before
    assert catalog.list_services(container.uow()) == []


def test_export_then_apply_round_trips(container):
    users.create_user(container.uow(), cli_actor(), "a@example.com", None, "responder")
    extra = ("teams:\n  - {name: ops, members: [a@example.com]}\n"
             "services:\n  - {name: api, tier: 1, tags: [revenue], team: ops, owner: a@example.com}\n")
    config.apply_text(container.uow(), cli_actor(), extra, "extra.yaml")
    exported = config.export_text(container.uow())
    config.apply_text(container.uow(), cli_actor(), exported, "exported.yaml")
    assert config.export_text(container.uow()) == exported
    data = yaml.safe_load(exported)
    assert data["services"][0]["owner"] == "a@example.com"
    assert [r["name"] for r in data["severity_rules"]][0] == "data-exposure"


def test_rules_edited_through_the_service_change_classification(container):
    from tocsin.services import classify

    catalog.create_service(container.uow(), cli_actor(), catalog.ServiceInput("api"))
    rules = config.get_rules(container.uow())
    rules.insert(0, {"name": "many-customers", "severity": "P1", "kind": "incident",
                     "when": {"customer_count": {"gte": 1000}}})
    config.put_rules(container.uow(), cli_actor(), rules)
    result = classify.evaluate(container.uow(), "api", {
        "impact": "limited", "criticality": "none", "restore_within": "days",
        "customer_count": 1500})
    assert (result.severity, result.rule) == ("P1", "many-customers")


def test_service_specific_form_is_chosen(container):
    from tocsin.services import incidents

    catalog.create_service(container.uow(), cli_actor(), catalog.ServiceInput("vpn", tier=2))
    config.put_form(container.uow(), cli_actor(), {
        "name": "vpn-form", "kind": "issue", "service": "vpn",
        "fields": [{"key": "impact", "type": "select", "required": True,
                    "options": ["outage", "limited"]},
                   {"key": "office", "type": "text", "required": True}]})
    inc = incidents.declare(container.uow(), cli_actor(), incidents.DeclareInput(
        "VPN down in Lyon", "vpn", {"impact": "limited", "office": "Lyon"}))
    assert inc.form == "vpn-form" and inc.severity == "P3"


PAGING_YAML = """
escalation_policies:
  - name: payments-oncall
    repeat: 1
    steps:
      - delay_minutes: 5
        targets: [{person: dana@example.com}]
      - delay_minutes: 10
        targets: [{team: payments}, {person: DANA@example.com}]
services:
  - name: payments
    tier: 1
    escalation_policy: payments-oncall
"""


def test_escalation_policies_are_configuration(container):
    from tocsin.services import escalation_policies, people

    dana = people.create_person(container.uow(), ADMIN, "Dana", "dana@example.com")
    config.apply_text(container.uow(), ADMIN, "teams:\n  - name: payments\n    members: "
                      "[dana@example.com]\n", "teams.yaml")
    config.apply_text(container.uow(), ADMIN, PAGING_YAML, "paging.yaml")
    [policy] = escalation_policies.list_policies(container.uow())
    team = [t for t in catalog.list_teams(container.uow()) if t.name == "payments"][0]
    assert (policy.name, policy.repeat) == ("payments-oncall", 1)
    assert policy.steps[1]["targets"] == [{"type": "team", "id": team.id},
                                          {"type": "person", "id": dana.id}]
    assert catalog.get_service(container.uow(), "payments").escalation_policy == "payments-oncall"
    exported = config.export_data(container.uow())
    assert exported["escalation_policies"][0]["steps"][1]["targets"] == [
        {"team": "payments"}, {"person": "dana@example.com"}]
    assert [s for s in exported["services"] if s["name"] == "payments"][0][
        "escalation_policy"] == "payments-oncall"
    config.apply_text(container.uow(), ADMIN, config.export_text(container.uow()), "again.yaml")
    assert escalation_policies.list_policies(container.uow()) == [policy]   # a round trip changes nothing


@pytest.mark.parametrize("text, path, reason", [
    ("escalation_policies:\n  - name: p\n    steps: []\n", "escalation_policies[0].steps",
     "a list of 1 to"),
    ("escalation_policies:\n  - name: p\n    steps:\n      - delay_minutes: 5\n"
     "        targets: [{robot: r2}]\n", "escalation_policies[0].steps[0].targets[0]",
     "{person: EMAIL}, {team: NAME}, {schedule: NAME} or {role: KEY}"),
    ("escalation_policies:\n  - name: p\n    steps:\n      - delay_minutes: 5\n"
     "        targets: [{person: nobody@example.com}]\n",
     "escalation_policies[0].steps[0].targets[0].person", "no person"),
    ("services:\n  - name: s\n    escalation_policy: missing\n",
     "services[0].escalation_policy", "no escalation policy 'missing'"),
])
def test_bad_escalation_policies_are_refused_with_the_place(container, text, path, reason):
    with pytest.raises(config.ConfigInvalid) as err:
        config.apply_text(container.uow(), ADMIN, text, "bad.yaml")
    [problem] = err.value.problems
    assert problem.path == path and reason in problem.reason
    assert problem.file == "bad.yaml"
