"""Shared helpers for the inbound parsers: typed field access, times, limits, severities, paths."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from tocsin.domain.alert import ALERT_SEVERITIES, InboundAlert, ParseError, ParseOutcome

MAX_DEDUP_KEY = 255
MAX_SUMMARY = 500
# Go's zero time, which Alertmanager and Grafana send for "not set" (e.g. endsAt while firing).
GO_ZERO_TIME = "0001-01-01T00:00:00Z"

Parser = Callable[[Any, Mapping[str, str], Mapping[str, Any]], ParseOutcome]

# Severity words seen in free-form labels (Prometheus, Grafana, generic webhooks).
SEVERITY_WORDS: Mapping[str, str] = {
    **dict.fromkeys(("critical", "crit", "fatal", "emergency", "emerg", "alert", "page",
                     "disaster", "high", "p1", "sev1"), "critical"),
    **dict.fromkeys(("error", "err", "major", "p2", "sev2"), "error"),
    **dict.fromkeys(("warning", "warn", "minor", "medium", "average", "p3", "sev3"), "warning"),
    **dict.fromkeys(("info", "informational", "information", "notice", "low", "debug",
                     "p4", "p5", "sev4", "sev5"), "info"),
}


# --- JSON paths for error messages ---------------------------------------------------------------

def at(path: str, key: str | int) -> str:
    """The JSON path of `key` (a member name or a list index) under `path`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def expect_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ParseError(f"expected an object, got {_kind(value)}", path)
    return value


def expect_list(value: Any, path: str, *, non_empty: bool = False) -> list[Any]:
    if not isinstance(value, list):
        raise ParseError(f"expected an array, got {_kind(value)}", path)
    if non_empty and not value:
        raise ParseError("must not be empty", path)
    return value


def opt_object(obj: Mapping[str, Any], key: str, path: str) -> Mapping[str, Any]:
    """An optional member that must be an object when present; {} when absent or null."""
    value = obj.get(key)
    return {} if value is None else expect_object(value, at(path, key))


def opt_list(obj: Mapping[str, Any], key: str, path: str) -> list[Any]:
    value = obj.get(key)
    return [] if value is None else expect_list(value, at(path, key))


def opt_str(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    """An optional string member; None when absent, null or blank."""
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ParseError(f"expected a string, got {_kind(value)}", at(path, key))
    return value.strip() or None


def req_str(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = opt_str(obj, key, path)
    if value is None:
        raise ParseError("is required", at(path, key))
    return value


def opt_id(obj: Mapping[str, Any], key: str, path: str) -> str | None:
    """An identifier that sources send as a string or as an integer."""
    value = obj.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return opt_str(obj, key, path)


def req_id(obj: Mapping[str, Any], key: str, path: str) -> str:
    value = opt_id(obj, key, path)
    if value is None:
        raise ParseError("is required", at(path, key))
    return value


def choice(obj: Mapping[str, Any], key: str, path: str, allowed: Mapping[str, Any]) -> Any:
    """A required member whose (case-insensitive) value must be a key of `allowed`."""
    word = req_str(obj, key, path)
    if word.lower() not in allowed:
        raise ParseError(f"unknown value {word!r} (expected one of {', '.join(allowed)})", at(path, key))
    return allowed[word.lower()]


# --- text, labels, keys --------------------------------------------------------------------------

def stringify(value: Any) -> str:
    """A label-safe string for any decoded JSON value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def string_map(value: Any, path: str) -> dict[str, str]:
    """An object of labels/annotations with every value as a string (nulls dropped)."""
    if value is None:
        return {}
    obj = expect_object(value, path)
    return {str(k): stringify(v) for k, v in obj.items() if v is not None}


def plain_map(value: Any) -> dict[str, str] | None:
    """A copy of an object whose keys and values are all ASCII strings without NUL ({} for
    null): what string_map then make_alert would make of it, in two steps done in C. None
    when any member needs more care (the caller then takes the general path)."""
    if value is None:
        return {}
    if type(value) is not dict:
        return None
    try:
        text = "".join(value) + "".join(value.values())
    except TypeError:   # a value that is not a string
        return None
    return dict(value) if _plain(text) else None


def plain_key(key: str) -> bool:
    """Whether a stripped dedup key is kept as it is by make_alert (non-empty, ASCII, no NUL,
    short enough not to be hashed)."""
    return bool(key) and len(key) <= MAX_DEDUP_KEY and _plain(key)


def _plain(text: str) -> bool:
    """Text clean_text leaves as it is (checked in C: no surrogates, no NUL)."""
    return text.isascii() and "\x00" not in text


def merge_missing(target: dict[str, str], extra: Mapping[str, Any]) -> None:
    """Add `extra` labels without overriding the ones already chosen; blanks are skipped."""
    for key, value in extra.items():
        text = stringify(value).strip()
        if key and text and key not in target:
            target[key] = text


def one_line(text: str | None, limit: int = MAX_SUMMARY) -> str:
    """Whitespace collapsed to single spaces, cut to `limit` characters with an ellipsis."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def first_line(*candidates: str | None, fallback: str) -> str:
    """The first candidate that is non-blank, as one line; the fallback otherwise."""
    for candidate in candidates:
        line = one_line(candidate)
        if line:
            return line
    return one_line(fallback) or "alert"


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def fit_key(raw: str) -> str:
    """A dedup key within limits: kept as is up to 255 chars, else its sha256 (64 hex chars)."""
    key = raw.strip()
    return key if len(key) <= MAX_DEDUP_KEY else sha256_hex(key)


def labels_key(labels: Mapping[str, str]) -> str:
    """A stable key for a label set (order-independent), as Alertmanager-style identity."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return sha256_hex(canonical)


# --- severities ----------------------------------------------------------------------------------

def severity(word: Any, table: Mapping[str, str] = SEVERITY_WORDS) -> tuple[str | None, str | None]:
    """(Tocsin severity or None when unknown, the source's own word or None)."""
    if word is None or isinstance(word, dict | list):
        return None, None
    original = stringify(word).strip()
    if not original:
        return None, None
    mapped = table.get(original.lower())
    return (mapped if mapped in ALERT_SEVERITIES else None), one_line(original, 100)


# --- times ---------------------------------------------------------------------------------------

def parse_time(value: Any, path: str, *, naive_utc: bool = False) -> datetime | None:
    """An ISO 8601 string or epoch seconds as aware UTC; None for absent or the zero time."""
    if value is None or value == "" or value == GO_ZERO_TIME:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return from_epoch(value, path)
    if not isinstance(value, str):
        raise ParseError(f"expected a timestamp, got {_kind(value)}", path)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ParseError(f"not an ISO 8601 timestamp: {value[:40]!r}", path) from None
    if parsed.tzinfo is None:
        if not naive_utc:
            raise ParseError(f"timestamp has no UTC offset: {value[:40]!r}", path)
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.year <= 1:
        return None  # Go's zero time, which Alertmanager and Grafana send for "unset"
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ParseError(f"timestamp out of range: {value[:40]!r}", path) from None


def from_epoch(value: Any, path: str, *, millis: bool = False) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        unit = "milliseconds" if millis else "seconds"
        raise ParseError(f"expected epoch {unit}, got {_kind(value)}", path)
    try:
        return datetime.fromtimestamp(value / 1000 if millis else value, UTC)
    except (OverflowError, OSError, ValueError):
        raise ParseError(f"epoch time out of range: {value}", path) from None


# --- links ---------------------------------------------------------------------------------------

def clean_url(value: Any, base: str | None = None) -> str | None:
    """An absolute http(s) URL, or None; relative URLs are resolved against `base`."""
    if not isinstance(value, str) or not value.strip():
        return None
    return _clean_url(value.strip(), base)


@functools.lru_cache(maxsize=1024)   # senders repeat the same few URLs; splitting is slow
def _clean_url(url: str, base: str | None) -> str | None:
    try:
        if base and not urlsplit(url).scheme:
            url = urljoin(base, url)
        parts = urlsplit(url)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return None
    # Links end up as hrefs in the UI: only web URLs, never javascript: or data:.
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def add_link(links: dict[str, str], name: str, value: Any, base: str | None = None) -> None:
    url = clean_url(value, base)
    if url and name not in links:
        links[name] = url


# --- building alerts and guarding parsers --------------------------------------------------------

def clean_text(text: str) -> str:
    """Text any database can store: JSON allows NUL characters and lone surrogates, SQL does not."""
    if text.isascii():  # the common case, checked in C: no surrogates possible
        return text.replace("\x00", "") if "\x00" in text else text
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def clean_map(mapping: Mapping[Any, Any]) -> dict[str, str]:
    """A str -> str copy any database can store (see clean_text)."""
    plain = plain_map(mapping)   # the common case
    if plain is not None:
        return plain
    return {clean_text(str(k)): clean_text(stringify(v)) for k, v in mapping.items()}


def make_alert(*, source: str, action: str, dedup_key: str, summary: str, **fields: Any) -> InboundAlert:
    """An InboundAlert with the limits enforced (key length, one-line summary, string labels)."""
    for name in ("labels", "annotations", "links"):
        fields[name] = clean_map(fields.get(name) or {})
    for name in ("service", "source_severity"):
        text = clean_text(fields.get(name) or "").strip()
        fields[name] = text or None
    fields["description"] = clean_text(fields.get("description") or "").strip()
    key = fit_key(clean_text(dedup_key)) if dedup_key else ""
    return InboundAlert(source=source, action=action, dedup_key=key,
                        summary=first_line(clean_text(summary), fallback=f"{source} alert"), **fields)


def guarded(parse: Parser) -> Parser:
    """Keep the parser contract: only ParseError leaves, whatever the input."""

    @functools.wraps(parse)
    def wrapper(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
        try:
            return parse(body, headers or {}, options or {})
        except ParseError:
            raise
        except (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError,
                OverflowError) as exc:
            # A bug or an input shape nobody foresaw; tests assert this reason never appears.
            raise ParseError(f"internal parser error: {type(exc).__name__}: {exc}") from exc

    return wrapper


# --- field paths (used by the generic mapping) ---------------------------------------------------

_NAME = re.compile(r'[^.\[\]{}"]+')
_INDEX = re.compile(r"\[(-?\d+)\]")
_QUOTED = re.compile(r'\["([^"]*)"\]')


def _segment(source: str, pos: int, first: bool) -> tuple[str | int | None, int]:
    """One path segment starting at `pos`: (segment or None when malformed, end position)."""
    if source.startswith("[", pos):
        if index := _INDEX.match(source, pos):
            return int(index.group(1)), index.end()
        quoted = _QUOTED.match(source, pos)
        return (quoted.group(1), quoted.end()) if quoted else (None, pos)
    if not first and not source.startswith(".", pos):
        return None, pos
    name = _NAME.match(source, pos if first else pos + 1)
    return (name.group(0).strip(), name.end()) if name and name.group(0).strip() else (None, pos)


def parse_path(text: str) -> tuple[str | int, ...]:
    """`a.b[0]["c.d"]` → ("a", "b", 0, "c.d"); ValueError with a reason when malformed."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty path")
    source, pos, parts = text.strip(), 0, []
    while pos < len(source):
        part, pos_after = _segment(source, pos, first=not parts)
        if part is None:
            raise ValueError(f"bad path {text!r} at character {pos + 1}")
        parts.append(part)
        pos = pos_after
    return tuple(parts)


def lookup(value: Any, parts: tuple[str | int, ...]) -> tuple[bool, Any]:
    """(found, value) for parsed path `parts` into decoded JSON; wrong types count as not found."""
    for part in parts:
        if isinstance(part, int) and isinstance(value, list) and -len(value) <= part < len(value):
            value = value[part]
        elif isinstance(part, str) and isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            return False, None
    return value is not None, value


def path_text(base: str, parts: tuple[str | int, ...]) -> str:
    """The JSON path of `parts` under `base`, for error messages."""
    for part in parts:
        base = at(base, part) if isinstance(part, int) or "." not in part else f'{base}["{part}"]'
    return base
