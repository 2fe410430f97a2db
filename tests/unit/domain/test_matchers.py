"""Label matchers: the parser's accepted forms and errors, matching rules, and round trips."""

import pytest

from tocsin.domain.conditions import ConditionError
from tocsin.domain.matchers import Matcher, _compiled, matches_all, parse_matcher, parse_matchers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('alertname="NodeDown"', Matcher("alertname", "=", "NodeDown")),
        ("alertname=NodeDown", Matcher("alertname", "=", "NodeDown")),
        ('  env  !=  "prod"  ', Matcher("env", "!=", "prod")),
        ('severity=~"warning|error"', Matcher("severity", "=~", "warning|error")),
        ("job!~node.*", Matcher("job", "!~", "node.*")),
        ('team=""', Matcher("team", "=", "")),
        ("team=", Matcher("team", "=", "")),
        ('msg="say \\"hi\\""', Matcher("msg", "=", 'say "hi"')),
        ('path="C:\\\\temp"', Matcher("path", "=", "C:\\temp")),
        ('code=~"\\d+"', Matcher("code", "=~", "\\d+")),
        ('text="a\\nb"', Matcher("text", "=", "a\nb")),
        ('list="a, b"', Matcher("list", "=", "a, b")),
        ("_private=x y", Matcher("_private", "=", "x y")),
        ('cmp="=~!="', Matcher("cmp", "=", "=~!=")),
    ],
)
def test_parse_matcher_accepts(text, expected):
    assert parse_matcher(text, "m") == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("alertname", "cannot parse"),
        ('="x"', "missing label name"),
        ('1abc="x"', "invalid label name '1abc'"),
        ('a-b="x"', "invalid label name 'a-b'"),
        ('a="x', "unterminated quoted value"),
        ('a="x" b', "unexpected text after the closing quote"),
        ('a=x"y', "stray quote"),
        ('a=~"(unclosed"', "invalid regular expression '(unclosed'"),
        ("a!~[z-a]", "invalid regular expression '[z-a]'"),
        (42, "a matcher is a string"),
    ],
)
def test_parse_matcher_rejects_with_path(text, message):
    with pytest.raises(ConditionError) as err:
        parse_matcher(text, "silences[0].matchers[1]")
    assert err.value.path == "silences[0].matchers[1]"
    assert message in err.value.message


def test_invalid_regex_error_includes_the_regex_engine_reason():
    with pytest.raises(ConditionError, match=r"missing \), unterminated subpattern"):
        parse_matcher('a=~"(x"', "p")


@pytest.mark.parametrize(
    ("matcher", "labels", "expected"),
    [
        (Matcher("env", "=", "prod"), {"env": "prod"}, True),
        (Matcher("env", "=", "prod"), {"env": "production"}, False),
        (Matcher("env", "=", "prod"), {}, False),
        (Matcher("env", "=", ""), {}, True),  # missing label is the empty string
        (Matcher("env", "=", ""), {"env": "x"}, False),
        (Matcher("env", "!=", "prod"), {}, True),
        (Matcher("env", "!=", "prod"), {"env": "prod"}, False),
        (Matcher("env", "=~", "prod"), {"env": "production"}, False),  # fully anchored
        (Matcher("env", "=~", "prod"), {"env": "preprod"}, False),
        (Matcher("env", "=~", "prod"), {"env": "prod\n"}, False),  # `$` would accept this
        (Matcher("env", "=~", "prod|stage"), {"env": "stage"}, True),
        (Matcher("env", "=~", "a|b"), {"env": "ab"}, False),  # alternation stays inside the anchors
        (Matcher("env", "=~", ".*"), {}, True),
        (Matcher("env", "=~", ".+"), {}, False),
        (Matcher("env", "!~", "prod.*"), {"env": "production"}, False),
        (Matcher("env", "!~", "prod.*"), {"env": "dev"}, True),
        (Matcher("env", "!~", ".+"), {}, True),
    ],
)
def test_matches(matcher, labels, expected):
    assert matcher.matches(labels) is expected


@pytest.mark.parametrize(
    ("matcher", "text"),
    [
        (Matcher("alertname", "=", "NodeDown"), 'alertname="NodeDown"'),
        (Matcher("severity", "=~", "warning|error"), 'severity=~"warning|error"'),
        (Matcher("env", "!=", ""), 'env!=""'),
        (Matcher("job", "!~", "a\\.b"), 'job!~"a\\\\.b"'),
        (Matcher("msg", "=", 'say "hi"'), 'msg="say \\"hi\\""'),
        (Matcher("msg", "=", "line1\nline2"), 'msg="line1\\nline2"'),
    ],
)
def test_str_renders_and_round_trips(matcher, text):
    assert str(matcher) == text
    assert parse_matcher(str(matcher), "p") == matcher


@pytest.mark.parametrize(
    "value", ["", "plain", 'q"uote', "back\\slash", "\\n literal", "a,b", "{x}", "tab\tnl\n", 'end\\"']
)
def test_every_value_round_trips(value):
    for op in ("=", "!=", "=~", "!~"):
        if op in ("=~", "!~") and value in ("back\\slash", "\\n literal", 'end\\"'):
            continue  # not valid regexes
        m = Matcher("l", op, value)
        assert parse_matcher(str(m), "p") == m
        assert parse_matchers(f"{{{m}, other=\"x\"}}", "p") == (m, Matcher("other", "=", "x"))


def test_unknown_operator_is_refused_at_construction():
    with pytest.raises(ValueError, match="unknown matcher operator '=='"):
        Matcher("a", "==", "b")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (['alertname="NodeDown"', "env!=dev"],
         (Matcher("alertname", "=", "NodeDown"), Matcher("env", "!=", "dev"))),
        ('{alertname="NodeDown", env=~"prod|stage"}',
         (Matcher("alertname", "=", "NodeDown"), Matcher("env", "=~", "prod|stage"))),
        ('alertname="NodeDown",env=~"prod|stage",',
         (Matcher("alertname", "=", "NodeDown"), Matcher("env", "=~", "prod|stage"))),
        ('{msg="a, b", x="}"}', (Matcher("msg", "=", "a, b"), Matcher("x", "=", "}"))),
        ('{msg="say \\"a,b\\"", y=1}', (Matcher("msg", "=", 'say "a,b"'), Matcher("y", "=", "1"))),
        ("{}", ()),
        ([], ()),
        ({}, ()),
        ({"alertname": "NodeDown", "code": 500, "page": True},
         (Matcher("alertname", "=", "NodeDown"), Matcher("code", "=", "500"), Matcher("page", "=", "true"))),
        ({"team": ""}, (Matcher("team", "=", ""),)),
        ({"severity": ["critical", "a.b"]}, (Matcher("severity", "=~", "critical|a\\.b"),)),
    ],
)
def test_parse_matchers_forms(spec, expected):
    assert parse_matchers(spec, "m") == expected


def test_mapping_list_escapes_regex_metacharacters():
    (m,) = parse_matchers({"host": ["db.1", "x+y"]}, "m")
    assert m.matches({"host": "db.1"}) and m.matches({"host": "x+y"})
    assert not m.matches({"host": "dbx1"}) and not m.matches({"host": "xxy"})


@pytest.mark.parametrize(
    ("spec", "path", "message"),
    [
        (None, "silences[0].matchers", "expected a list of matchers"),
        (42, "silences[0].matchers", "expected a list of matchers"),
        (['a="b"', "bad"], "silences[0].matchers[1]", "cannot parse 'bad'"),
        (['a="b"', 7], "silences[0].matchers[1]", "a matcher is a string"),
        ('a="b", 9x="c"', "silences[0].matchers[1]", "invalid label name '9x'"),
        ('a="b",,c="d"', "silences[0].matchers[1]", "empty matcher"),
        ('{a="b"', "silences[0].matchers", "unbalanced braces"),
        ('a="b"}', "silences[0].matchers", "unbalanced braces"),
        ({"bad-name": "x"}, "silences[0].matchers.bad-name", "invalid label name"),
        ({"a": None}, "silences[0].matchers.a", "a label value is a string"),
        ({"a": []}, "silences[0].matchers.a", "must not be empty"),
        ({"a": ["x", {"y": 1}]}, "silences[0].matchers.a[1]", "a label value is a string"),
    ],
)
def test_parse_matchers_errors_name_the_path(spec, path, message):
    with pytest.raises(ConditionError) as err:
        parse_matchers(spec, "silences[0].matchers")
    assert err.value.path == path
    assert message in err.value.message


@pytest.mark.parametrize(
    ("matchers", "labels", "expected"),
    [
        ((), {}, True),
        ((), {"a": "b"}, True),
        ((Matcher("a", "=", "b"), Matcher("c", "!=", "d")), {"a": "b"}, True),
        ((Matcher("a", "=", "b"), Matcher("c", "!=", "d")), {"a": "b", "c": "d"}, False),
    ],
)
def test_matches_all(matchers, labels, expected):
    assert matches_all(matchers, labels) is expected


def test_regexes_are_compiled_once():
    assert _compiled("cache(me)+") is _compiled("cache(me)+")
    before = _compiled.cache_info().hits
    m = Matcher("x", "=~", "cache(me)+")
    assert m.matches({"x": "cachememe"}) and not m.matches({"x": "cache"})
    assert _compiled.cache_info().hits == before + 2
