"""Generic JSON webhook: alerts built from the body by a per-integration mapping in `options`."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tocsin.domain.alert import ALERT_SEVERITIES, InboundAlert, ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c

DEFAULT_RESOLVE_VALUES = ("resolved", "ok", "closed", "recovered")
DEFAULT_ACKNOWLEDGE_VALUES = ("acknowledged", "ack")
VALUE_OPTIONS = ("title", "dedup_key", "severity", "status", "service", "description")
MAP_OPTIONS = ("labels", "links")
LIST_OPTIONS = ("resolve_values", "acknowledge_values")
KNOWN_OPTIONS = (*VALUE_OPTIONS, *MAP_OPTIONS, *LIST_OPTIONS, "severity_map", "alerts_path")

# The mapping format, shown to people writing one (UI and docs).
MAPPING_HELP = """\
Every mapping value is a *path* or a *template*:

- a path names a value in the body: members joined by dots, list indexes in brackets,
  members with dots or spaces quoted in brackets — `alert.labels.host`, `items[0].id`,
  `tags["app.kubernetes.io/name"]`, `items[-1]` (last element);
- a template is any string containing `{`: text with `{path}` placeholders,
  e.g. `"{host}: {check} is {state}"`; write `{{` and `}}` for literal braces.

Paths are relative to the alert (each element of `alerts_path`, else the whole body); a path
starting with `$.` is taken from the whole body instead (e.g. `$.source.url`).

Options (only `title` is required):

- `title`: the summary. Not finding it is a ParseError naming the path.
- `dedup_key`: same key, same alert; default the sha256 of the rendered title. When set,
  not finding it is a ParseError (silently keying on the title would merge distinct alerts).
- `severity` + optional `severity_map` {source word: critical|error|warning|info}, matched
  case-insensitively; without a map, common words (crit, warn, p1, high...) are understood.
- `status` + `resolve_values` (default resolved, ok, closed, recovered) and
  `acknowledge_values` (default acknowledged, ack), matched case-insensitively; any other
  value, or no status at all, triggers.
- `service`, `description`: optional.
- `labels`, `links`: {name: path or template}; names whose value is not found are left out;
  links keep only absolute http(s) URLs.
- `alerts_path`: a path to a list; the mapping is applied to each element (an empty list is
  a ParseError).

Optional values that are not found are left empty; a template is not found when any of its
placeholders is not found. Objects and arrays render as compact JSON.
"""

DEFAULT_OPTIONS_EXAMPLE: dict[str, Any] = {
    "alerts_path": "checks",
    "title": "{host}: {check} is {state}",
    "dedup_key": "{host}/{check}",
    "severity": "priority",
    "severity_map": {"p1": "critical", "p2": "error", "p3": "warning", "p4": "info"},
    "status": "state",
    "resolve_values": ["ok", "recovered"],
    "acknowledge_values": ["acked"],
    "service": "tags.service",
    "description": "output",
    "labels": {"host": "host", "check": "check", "region": "$.region", "team": 'tags["owner.team"]'},
    "links": {"runbook": "runbook_url", "dashboard": "https://grafana.example.com/d/{dashboard_uid}"},
}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]|[^{}]+")


@dataclass(frozen=True)
class _Ref:
    """A parsed mapping value: literal text pieces and paths ((from_root, parts)) in order."""

    pieces: tuple[str | tuple[bool, tuple[str | int, ...]], ...]
    is_template: bool


def compile_value(text: Any) -> _Ref:
    """A path or template; ValueError with a reason when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("must be a non-empty string (a path or a template)")
    if "{" not in text and "}" not in text:
        return _Ref(pieces=(_compile_path(text),), is_template=False)
    pieces: list[str | tuple[bool, tuple[str | int, ...]]] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        if token in ("{{", "}}"):
            pieces.append(token[0])
        elif match.group(1) is not None:
            pieces.append(_compile_path(match.group(1)))
        elif token in ("{", "}"):
            raise ValueError(f"unbalanced {token!r} in template (write {token * 2} for a literal)")
        else:
            pieces.append(token)
    return _Ref(pieces=tuple(pieces), is_template=True)


def _compile_path(text: str) -> tuple[bool, tuple[str | int, ...]]:
    text = text.strip()
    if text == "$":
        return True, ()
    if text.startswith("$."):
        return True, c.parse_path(text[2:])
    return False, c.parse_path(text)


def validate_options(options: Any) -> list[tuple[str, str]]:
    """Problems with a mapping as (option path, reason); empty when the mapping is usable."""
    if not isinstance(options, Mapping):
        return [("", "options must be an object")]
    problems = [(str(key), "unknown option") for key in options if key not in KNOWN_OPTIONS]
    if options.get("title") is None:
        problems.append(("title", "is required"))
    for key in (*VALUE_OPTIONS, "alerts_path"):
        if options.get(key) is not None:
            problems += _check_value(key, options[key], template_ok=key != "alerts_path")
    for key in MAP_OPTIONS:
        problems += _check_map(key, options.get(key))
    for key in LIST_OPTIONS:
        problems += _check_words(key, options.get(key))
    problems += _check_severity_map(options.get("severity_map"))
    return problems


def _check_value(key: str, value: Any, *, template_ok: bool = True) -> list[tuple[str, str]]:
    try:
        ref = compile_value(value)
    except ValueError as exc:
        return [(key, str(exc))]
    return [(key, "must be a path, not a template")] if ref.is_template and not template_ok else []


def _check_map(key: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [(key, "must be an object of name → path or template")]
    problems = [(f"{key}.{name}", "name must not be empty") for name in value if not str(name).strip()]
    for name, item in value.items():
        problems += _check_value(f"{key}.{name}", item)
    return problems


def _check_words(key: str, value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str | int) for v in value):
        return [(key, "must be a list of strings")]
    return []


def _check_severity_map(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        return [("severity_map", "must be an object of source word → severity")]
    return [(f"severity_map.{word}", f"must be one of {', '.join(ALERT_SEVERITIES)}")
            for word, severity in value.items() if severity not in ALERT_SEVERITIES]


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """Alerts built from the body by the integration's mapping (`options`); see MAPPING_HELP."""
    problems = validate_options(options)
    if problems:
        where, reason = problems[0]
        raise ParseError(f"the integration's mapping is invalid: {reason}", f"options.{where}".rstrip("."))
    elements = [(body, "")]
    if options.get("alerts_path"):
        parts = compile_value(options["alerts_path"]).pieces[0]
        found, items = _resolve(body, body, parts)
        where = c.path_text("", parts[1])
        if not found:
            raise ParseError("no value here (alerts_path)", where)
        items = c.expect_list(items, where, non_empty=True)
        elements = [(item, c.at(where, i)) for i, item in enumerate(items)]
    return ParseOutcome(alerts=tuple(_alert(body, item, where, options) for item, where in elements))


def _resolve(body: Any, element: Any, path: tuple[bool, tuple[str | int, ...]]) -> tuple[bool, Any]:
    from_root, parts = path
    return c.lookup(body if from_root else element, parts)


def _render(body: Any, element: Any, where: str, text: Any, *, required: str = "") -> str | None:
    """The rendered value, or None when not found (a ParseError when `required` names the option)."""
    if text is None:
        return None
    out = []
    for piece in compile_value(text).pieces:
        if isinstance(piece, str):
            out.append(piece)
            continue
        found, value = _resolve(body, element, piece)
        if not found:
            if required:
                missing = c.path_text("" if piece[0] else where, piece[1])
                raise ParseError(f"no value here ({required})", missing)
            return None
        out.append(c.stringify(value))
    return "".join(out).strip() or None


def _alert(body: Any, element: Any, where: str, options: Mapping[str, Any]) -> InboundAlert:
    def value(key: str, *, required: bool = False) -> str | None:
        return _render(body, element, where, options.get(key), required=key if required else "")

    title = value("title", required=True)
    if title is None:
        raise ParseError("title renders empty", where)
    dedup_key = value("dedup_key", required=True) if options.get("dedup_key") else c.sha256_hex(title)
    if dedup_key is None:
        raise ParseError("dedup_key renders empty", where)
    severity_map = {str(k).lower(): v for k, v in (options.get("severity_map") or c.SEVERITY_WORDS).items()}
    sev, source_sev = c.severity(value("severity"), severity_map)
    links: dict[str, str] = {}
    for name, text in (options.get("links") or {}).items():
        c.add_link(links, str(name), _render(body, element, where, text))
    labels = {str(name): _render(body, element, where, text)
              for name, text in (options.get("labels") or {}).items()}
    return c.make_alert(
        source="generic", action=_action(value("status"), options), dedup_key=dedup_key, summary=title,
        severity=sev, source_severity=source_sev, description=value("description") or "",
        labels={k: v for k, v in labels.items() if v is not None}, links=links, service=value("service"),
    )


def _action(status: str | None, options: Mapping[str, Any]) -> str:
    if status is None:
        return "trigger"
    for action, key, default in (("resolve", "resolve_values", DEFAULT_RESOLVE_VALUES),
                                 ("acknowledge", "acknowledge_values", DEFAULT_ACKNOWLEDGE_VALUES)):
        words = options.get(key)
        # An explicit empty list means "never"; only an absent option takes the defaults.
        if status.lower() in {str(w).lower() for w in (default if words is None else words)}:
            return action
    return "trigger"
