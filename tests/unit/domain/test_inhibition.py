"""Inhibition rules: when a firing source alert mutes a target, the reason, and the parser."""

import pytest

from tocsin.domain.conditions import ConditionError
from tocsin.domain.inhibition import InhibitDecision, InhibitRule, decide, parse_rule
from tocsin.domain.matchers import Matcher

NODE_DOWN = parse_rule(
    {"name": "node-down-mutes-services", "source": ['alertname="NodeDown"'],
     "target": ['severity=~"warning|error"'], "equal": ["instance"]},
    "inhibit_rules[0]",
)
SERVICE = {"alertname": "HighLatency", "severity": "warning", "instance": "db1"}


def test_parse_rule_example():
    assert NODE_DOWN == InhibitRule(
        "node-down-mutes-services",
        (Matcher("alertname", "=", "NodeDown"),),
        (Matcher("severity", "=~", "warning|error"),),
        ("instance",),
    )


def test_inhibited_with_reason_naming_rule_source_and_equal_values():
    firing = [
        ("a1", {"alertname": "Other", "instance": "db1"}),
        ("nd-db1", {"alertname": "NodeDown", "instance": "db1"}),
    ]
    d = decide([NODE_DOWN], "svc", SERVICE, firing)
    assert d == InhibitDecision(
        True, "node-down-mutes-services", "nd-db1",
        "inhibited by rule 'node-down-mutes-services': firing alert 'nd-db1' matches its source "
        'and has the same instance="db1"',
    )


@pytest.mark.parametrize(
    ("target", "firing", "source_key"),
    [
        (SERVICE, [("nd", {"alertname": "NodeDown", "instance": "db2"})], None),  # equal differs
        (SERVICE, [("nd", {"alertname": "NodeDown"})], None),  # missing on source only
        ({"severity": "error"}, [("nd", {"alertname": "NodeDown"})], "nd"),  # missing on both = equal
        ({"severity": "error", "instance": ""}, [("nd", {"alertname": "NodeDown"})], "nd"),
        ({**SERVICE, "severity": "critical"}, [("nd", {"alertname": "NodeDown", "instance": "db1"})], None),
        (SERVICE, [("x", {"alertname": "NodeUp", "instance": "db1"})], None),  # source does not match
        (SERVICE, [], None),
        (SERVICE, [("nd1", {"alertname": "NodeDown", "instance": "db2"}),
                   ("nd2", {"alertname": "NodeDown", "instance": "db1"})], "nd2"),
    ],
)
def test_decide_table(target, firing, source_key):
    d = decide([NODE_DOWN], "svc", target, firing)
    assert d.source_key == source_key
    assert d.inhibited is (source_key is not None)
    assert d.rule == ("node-down-mutes-services" if source_key else None)
    if source_key is None:
        assert d.reason == "no inhibition rule applies"


def test_an_alert_never_inhibits_itself():
    self_source = InhibitRule("any-warning", (Matcher("severity", "=", "warning"),),
                              (Matcher("alertname", "=~", ".+"),), ())
    labels = {"alertname": "X", "severity": "warning"}
    assert not decide([self_source], "k1", labels, [("k1", labels)]).inhibited
    assert decide([self_source], "k2", {"alertname": "Y"}, [("k1", labels)]).source_key == "k1"
    # Keyed, not compared by labels: the target's own entry never counts, whatever it carries.
    assert not decide([self_source], "k1", {"alertname": "Y"}, [("k1", labels)]).inhibited


def test_two_alerts_matching_both_sides_do_not_mute_each_other():
    # Alertmanager excludes sources that are also targets when the target is itself a source.
    rule = InhibitRule("crit-mutes-warn", (Matcher("team", "=", "db"),), (Matcher("team", "=", "db"),), ())
    a, b = {"team": "db", "n": "a"}, {"team": "db", "n": "b"}
    assert not decide([rule], "a", a, [("a", a), ("b", b)]).inhibited
    assert not decide([rule], "b", b, [("a", a), ("b", b)]).inhibited


def test_two_sided_target_can_still_be_inhibited_by_a_pure_source():
    rule = InhibitRule("r", (Matcher("sev", "=~", "crit|warn"),), (Matcher("sev", "=", "warn"),), ())
    warn, crit = {"sev": "warn"}, {"sev": "crit"}
    assert decide([rule], "w", warn, [("w2", {"sev": "warn"})]).inhibited is False
    assert decide([rule], "w", warn, [("w2", {"sev": "warn"}), ("c", crit)]).source_key == "c"


def test_first_rule_in_order_decides_and_no_equal_has_plain_reason():
    broad = InhibitRule("maintenance-mutes-all", (Matcher("alertname", "=", "Maintenance"),),
                        (Matcher("severity", "!=", "critical"),), ())
    firing = [("m", {"alertname": "Maintenance"}), ("nd", {"alertname": "NodeDown", "instance": "db1"})]
    d = decide([broad, NODE_DOWN], "svc", SERVICE, firing)
    assert (d.rule, d.source_key) == ("maintenance-mutes-all", "m")
    assert d.reason == "inhibited by rule 'maintenance-mutes-all': firing alert 'm' matches its source"
    assert decide([NODE_DOWN, broad], "svc", SERVICE, firing).rule == "node-down-mutes-services"


def test_several_equal_labels_all_named_and_all_required():
    rule = InhibitRule("r", (Matcher("alertname", "=", "A"),), (Matcher("alertname", "=", "B"),),
                       ("cluster", "instance"))
    target = {"alertname": "B", "cluster": "eu", "instance": "i1"}
    ok = decide([rule], "t", target, [("s", {"alertname": "A", "cluster": "eu", "instance": "i1"})])
    assert ok.reason.endswith('has the same cluster="eu", instance="i1"')
    bad = decide([rule], "t", target, [("s", {"alertname": "A", "cluster": "us", "instance": "i1"})])
    assert not bad.inhibited


@pytest.mark.parametrize(
    ("spec", "source", "target"),
    [
        ({"name": "r", "source": '{alertname="A", env="p"}', "target": {"severity": ["warning", "info"]}},
         (Matcher("alertname", "=", "A"), Matcher("env", "=", "p")),
         (Matcher("severity", "=~", "warning|info"),)),
        ({"name": " r ", "source": {"alertname": "A"}, "target": ["x!=y"], "equal": None},
         (Matcher("alertname", "=", "A"),), (Matcher("x", "!=", "y"),)),
    ],
)
def test_parse_rule_accepts_every_matcher_form(spec, source, target):
    rule = parse_rule(spec, "r")
    assert (rule.name, rule.source, rule.target, rule.equal) == ("r", source, target, ())


GOOD = {"name": "r", "source": ["a=b"], "target": ["c=d"], "equal": ["instance"]}


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        ("nope", "inhibit_rules[2]", "is a mapping"),
        ({**GOOD, "source_matchers": ["a=b"]}, "inhibit_rules[2]", "unknown key(s): source_matchers"),
        ({**GOOD, "name": ""}, "inhibit_rules[2].name", "required"),
        ({k: v for k, v in GOOD.items() if k != "name"}, "inhibit_rules[2].name", "required"),
        ({k: v for k, v in GOOD.items() if k != "source"}, "inhibit_rules[2].source", "required"),
        ({k: v for k, v in GOOD.items() if k != "target"}, "inhibit_rules[2].target", "required"),
        ({**GOOD, "source": []}, "inhibit_rules[2].source", "at least one matcher"),
        ({**GOOD, "target": "{}"}, "inhibit_rules[2].target", "at least one matcher"),
        ({**GOOD, "target": ["c=d", "bad"]}, "inhibit_rules[2].target[1]", "cannot parse"),
        ({**GOOD, "source": 'a=~"("'}, "inhibit_rules[2].source[0]", "invalid regular expression"),
        ({**GOOD, "equal": "instance"}, "inhibit_rules[2].equal", "a list of label names"),
        ({**GOOD, "equal": ["instance", "bad-label"]}, "inhibit_rules[2].equal[1]", "invalid label name"),
    ],
)
def test_parse_rule_errors(spec, path, message):
    with pytest.raises(ConditionError) as err:
        parse_rule(spec, "inhibit_rules[2]")
    assert err.value.path == path
    assert message in err.value.message
