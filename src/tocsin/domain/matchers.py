"""Alertmanager-style label matchers (`name="v"`, `!=`, `=~`, `!~`) and their parser."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import ConditionError

OPS = ("=", "!=", "=~", "!~")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# The name stops at the first operator character so a bad name gets its own message.
_MATCHER = re.compile(r"\s*([^=!~\s]*)\s*(=~|!~|!=|=)\s*(.*?)\s*", re.DOTALL)
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
_ESCAPE = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}


@functools.lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    # fullmatch, not `$`: Python's `$` would also accept a trailing newline.
    return re.compile(f"(?:{pattern})")


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str
    value: str

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise ValueError(f"unknown matcher operator {self.op!r}; use one of {', '.join(OPS)}")

    def matches(self, labels: Mapping[str, str]) -> bool:
        # As in Alertmanager, a missing label is the empty string, so `x=""` matches it.
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        found = _compiled(self.value).fullmatch(actual) is not None
        return found if self.op == "=~" else not found

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{_quote(self.value)}"'


def _quote(value: str) -> str:
    return "".join(_ESCAPE.get(ch, ch) for ch in value)


def _unquote(body: str, path: str) -> str:
    """`body` starts just after the opening quote and must end with the closing one."""
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == '"':
            if body[i + 1 :].strip():
                raise ConditionError(path, f"unexpected text after the closing quote: {body[i + 1 :]!r}")
            return "".join(out)
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            # Unknown escapes stay literal so regexes like "\d+" need no doubling.
            out.append(_UNESCAPE.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    raise ConditionError(path, 'unterminated quoted value (missing closing ")')


def parse_matcher(text: str, path: str) -> Matcher:
    """Parse one matcher: `name="v"`, `name=v`, `name!="v"`, `name=~"re"` or `name!~re`."""
    if not isinstance(text, str):
        raise ConditionError(path, f'a matcher is a string like name="value", got {text!r}')
    found = _MATCHER.fullmatch(text)
    if found is None:
        raise ConditionError(
            path, f'cannot parse {text!r}; expected name="value", name!="value", name=~"re" or name!~"re"'
        )
    name, op, raw = found.groups()
    if not name:
        raise ConditionError(path, f"missing label name in {text!r}")
    if not LABEL_NAME.fullmatch(name):
        raise ConditionError(path, f"invalid label name {name!r}: must match [a-zA-Z_][a-zA-Z0-9_]*")
    if raw.startswith('"'):
        value = _unquote(raw[1:], path)
    elif '"' in raw:
        raise ConditionError(path, f"stray quote in unquoted value {raw!r}; quote the whole value")
    else:
        value = raw
    if op in ("=~", "!~"):
        _check_regex(value, path)
    return Matcher(name, op, value)


def _check_regex(pattern: str, path: str) -> None:
    try:
        _compiled(pattern)
    except re.error as err:
        raise ConditionError(path, f"invalid regular expression {pattern!r}: {err}") from None


def parse_matchers(spec: Any, path: str) -> tuple[Matcher, ...]:
    """A list of matcher strings, one string `{a="b", c=~"d"}` (braces optional),
    or a mapping `{name: value}` (equality; a list value is a regex alternation)."""
    if isinstance(spec, str):
        return tuple(parse_matcher(t, f"{path}[{i}]") for i, t in enumerate(_split(spec, path)))
    if isinstance(spec, list):
        return tuple(parse_matcher(t, f"{path}[{i}]") for i, t in enumerate(spec))
    if isinstance(spec, Mapping):
        return tuple(_from_mapping_item(k, v, path) for k, v in spec.items())
    raise ConditionError(
        path, f"expected a list of matchers, a string like '{{a=\"b\"}}' or a mapping, got {spec!r}"
    )


def _split(text: str, path: str) -> list[str]:
    """Split on commas outside quotes; a trailing comma is allowed, as in PromQL."""
    body = text.strip()
    if body.startswith("{") != body.endswith("}"):
        raise ConditionError(path, f"unbalanced braces in {text!r}")
    if body.startswith("{"):
        body = body[1:-1]
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for ch in body:
        if ch == "," and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(ch)
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
    parts.append("".join(current))
    if parts and not parts[-1].strip():
        parts.pop()
    for i, part in enumerate(parts):
        if not part.strip():
            raise ConditionError(f"{path}[{i}]", f"empty matcher in {text!r}")
    return parts


def _from_mapping_item(name: Any, value: Any, path: str) -> Matcher:
    here = f"{path}.{name}"
    if not isinstance(name, str) or not LABEL_NAME.fullmatch(name):
        raise ConditionError(here, f"invalid label name {name!r}: must match [a-zA-Z_][a-zA-Z0-9_]*")
    if isinstance(value, list):
        if not value:
            raise ConditionError(here, "a list of values must not be empty")
        alternatives = [_scalar(v, f"{here}[{i}]") for i, v in enumerate(value)]
        return Matcher(name, "=~", "|".join(re.escape(v) for v in alternatives))
    return Matcher(name, "=", _scalar(value, here))


def _scalar(value: Any, path: str) -> str:
    # YAML turns `true`, `500` and `1.5` into non-strings; labels are always strings.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConditionError(path, f'a label value is a string (use "" for empty), got {value!r}')


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    """True when every matcher matches; no matchers match everything."""
    return all(m.matches(labels) for m in matchers)
