"""Intake forms: typed fields, required flags, conditional visibility, and validation."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .conditions import ConditionError, mapping_with
from .errors import FieldError, ValidationFailed
from .severity import KINDS

FIELD_TYPES = (
    "text", "long_text", "number", "select", "multi_select", "boolean",
    "person", "service", "team", "date", "attachment",
)
TRUE_WORDS = {"true", "yes", "on", "1"}
FALSE_WORDS = {"false", "no", "off", "0", ""}


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    key: str
    label: str
    type: str
    required: bool = False
    help: str = ""
    options: tuple[Option, ...] = ()
    integer: bool = False
    min: float | None = None
    max: float | None = None
    # show this field only when every (key, allowed values) pair holds
    show_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()


@dataclass(frozen=True)
class FormDef:
    name: str
    title: str
    kind: str
    fields: tuple[FormField, ...]
    description: str = ""
    service: str | None = None

    def field(self, key: str) -> FormField | None:
        return next((f for f in self.fields if f.key == key), None)


@dataclass(frozen=True)
class Refs:
    """What person/service/team/attachment values may refer to."""

    person: Collection[Any] = ()
    service: Collection[str] = ()
    team: Collection[str] = ()
    max_attachment_bytes: int = 5 * 1024 * 1024


@dataclass
class _Check:
    errors: list[FieldError] = field(default_factory=list)

    def fail(self, key: str, message: str) -> None:
        self.errors.append(FieldError(key, message))


def is_visible(f: FormField, values: Mapping[str, Any]) -> bool:
    return all(values.get(k) in allowed for k, allowed in f.show_when)


def validate(form: FormDef, data: Mapping[str, Any], refs: Refs) -> dict[str, Any]:
    """Return the cleaned attributes or raise ValidationFailed naming every bad field."""
    cleaned, errors = check(form, data, refs)
    if errors:
        raise ValidationFailed(errors, f"form {form.name!r} has invalid fields")
    return cleaned


def check(form: FormDef, data: Mapping[str, Any], refs: Refs,
          partial: bool = False) -> tuple[dict[str, Any], list[FieldError]]:
    """Clean what can be cleaned and list the problems. `partial` (a form still being
    filled in) does not complain about missing required fields."""
    check = _Check()
    known = {f.key for f in form.fields}
    for key in data:
        if key not in known:
            check.fail(key, f"not a field of form {form.name!r}")
    cleaned: dict[str, Any] = {}
    for f in form.fields:
        raw = data.get(f.key)
        empty = raw is None or raw == "" or raw == []
        if not is_visible(f, cleaned):
            if not empty and not (f.type == "boolean" and _falsy(raw)):
                conds = " and ".join(f"{k} is {' or '.join(_word(x) for x in v)}"
                                     for k, v in f.show_when)
                check.fail(f.key, f"only applies when {conds}")
            continue
        if empty:
            if f.required and f.type != "boolean" and not partial:
                check.fail(f.key, "is required")
            elif f.type == "boolean":
                cleaned[f.key] = False
            continue
        value = _clean(f, raw, refs, check)
        if value is not None:
            cleaned[f.key] = value
    return cleaned, check.errors


def _word(value: Any) -> str:
    return ("yes" if value else "no") if isinstance(value, bool) else str(value)


def _falsy(raw: Any) -> bool:
    return raw is False or (isinstance(raw, str) and raw.strip().lower() in FALSE_WORDS)


def _clean(f: FormField, raw: Any, refs: Refs, check: _Check) -> Any:  # noqa: C901
    t = f.type
    if t in ("text", "long_text"):
        if not isinstance(raw, str):
            return check.fail(f.key, "must be text")
        limit = 200 if t == "text" else 20000
        if len(raw) > limit:
            return check.fail(f.key, f"must be at most {limit} characters")
        return raw.strip()
    if t == "number":
        return _number(f, raw, check)
    if t == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in TRUE_WORDS | FALSE_WORDS:
            return raw.strip().lower() in TRUE_WORDS
        return check.fail(f.key, "must be true or false")
    if t == "select":
        values = [o.value for o in f.options]
        if raw not in values:
            return check.fail(f.key, f"must be one of {', '.join(values)}")
        return raw
    if t == "multi_select":
        items = [raw] if isinstance(raw, str) else raw
        values = [o.value for o in f.options]
        if not isinstance(items, list) or any(i not in values for i in items):
            return check.fail(f.key, f"must be a list drawn from {', '.join(values)}")
        return list(dict.fromkeys(items))
    if t == "date":
        try:
            return date.fromisoformat(str(raw)).isoformat()
        except ValueError:
            return check.fail(f.key, "must be a date as YYYY-MM-DD")
    if t == "attachment":
        return _attachment(f, raw, refs, check)
    return _reference(f, raw, refs, check)


def _number(f: FormField, raw: Any, check: _Check) -> Any:
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = float(raw.strip()) if not f.integer else int(raw.strip())
        except ValueError:
            return check.fail(f.key, "must be a whole number" if f.integer else "must be a number")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return check.fail(f.key, "must be a number")
    if f.integer and (isinstance(value, float) and not value.is_integer()):
        return check.fail(f.key, "must be a whole number")
    if f.integer:
        value = int(value)
    if abs(value) > 2**53:  # beyond what JSON consumers can represent exactly
        return check.fail(f.key, "is too large")
    if f.min is not None and value < f.min:
        return check.fail(f.key, f"must be at least {f.min:g}")
    if f.max is not None and value > f.max:
        return check.fail(f.key, f"must be at most {f.max:g}")
    return value


def _reference(f: FormField, raw: Any, refs: Refs, check: _Check) -> Any:
    pool = {"person": refs.person, "service": refs.service, "team": refs.team}[f.type]
    value = raw
    if f.type == "person" and isinstance(raw, str) and raw.isdigit():
        value = int(raw)
    if value not in pool:
        return check.fail(f.key, f"no {f.type} {raw!r}")
    return value


def _attachment(f: FormField, raw: Any, refs: Refs, check: _Check) -> Any:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("filename"), str):
        return check.fail(f.key, "must be {filename, content_type, content_base64}")
    if "attachment_id" in raw:  # already stored (e.g. replayed from a saved incident)
        return dict(raw)
    try:
        content = base64.b64decode(str(raw.get("content_base64", "")), validate=True)
    except (binascii.Error, ValueError):
        return check.fail(f.key, "content_base64 is not valid base64")
    if len(content) > refs.max_attachment_bytes:
        return check.fail(f.key, f"larger than {refs.max_attachment_bytes} bytes")
    name = "".join(c for c in raw["filename"] if c.isprintable()).strip()[:200] or "attachment"
    return {"filename": name, "content_type": safe_content_type(raw.get("content_type")),
            "content": content}


CONTENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,50}/[a-z0-9][a-z0-9!#$&^_.+-]{0,40}$")


def safe_content_type(value: Any) -> str:
    """A plain type/subtype, or application/octet-stream for anything else."""
    text = str(value or "").split(";")[0].strip().lower()
    return text if CONTENT_TYPE.match(text) else "application/octet-stream"


# ---- parsing form definitions from configuration data ----

def parse_form(spec: Any, path: str) -> FormDef:
    spec = mapping_with(spec, path, {"name", "title", "kind", "service", "description", "fields"},
        "a form is a mapping with name, kind and fields")
    name = spec.get("name")
    if not isinstance(name, str) or not re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$", name):
        raise ConditionError(f"{path}.name", "required: 1–100 letters, digits, '.', '_', '-'")
    kind = spec.get("kind", "incident")
    if kind not in KINDS:
        raise ConditionError(f"{path}.kind", f"must be one of {', '.join(KINDS)}")
    fields_spec = spec.get("fields")
    if not isinstance(fields_spec, list) or not fields_spec:
        raise ConditionError(f"{path}.fields", "a non-empty list of fields")
    fields: list[FormField] = []
    for i, fs in enumerate(fields_spec):
        fields.append(_parse_field(fs, f"{path}.fields[{i}]", {x.key: x for x in fields}))
    return FormDef(name.strip(), str(spec.get("title") or name), kind, tuple(fields),
                   str(spec.get("description") or ""), spec.get("service"))


def _parse_field(fs: Any, path: str, earlier: Mapping[str, FormField]) -> FormField:
    allowed = {"key", "label", "type", "required", "help", "options", "integer", "min", "max",
               "show_when"}
    fs = mapping_with(fs, path, allowed, "a field is a mapping with key, label and type")
    key = fs.get("key")
    if not isinstance(key, str) or not key.isidentifier():
        raise ConditionError(f"{path}.key", "required, letters, digits and _ only")
    if key in earlier:
        raise ConditionError(f"{path}.key", f"duplicate field key {key!r}")
    ftype = fs.get("type")
    if ftype not in FIELD_TYPES:
        raise ConditionError(f"{path}.type", f"must be one of {', '.join(FIELD_TYPES)}")
    options = tuple(_parse_option(o, f"{path}.options[{j}]")
                    for j, o in enumerate(fs.get("options") or []))
    if ftype in ("select", "multi_select") and not options:
        raise ConditionError(f"{path}.options", f"a {ftype} field needs options")
    for bound in ("min", "max"):
        value = fs.get(bound)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise ConditionError(f"{path}.{bound}", "must be a number")
    if fs.get("min") is not None and fs.get("max") is not None and fs["min"] > fs["max"]:
        raise ConditionError(f"{path}.max", "must not be below min")
    raw_show = fs.get("show_when") or {}
    if not isinstance(raw_show, Mapping):
        raise ConditionError(f"{path}.show_when", "a mapping of earlier field: value(s)")
    show_when = []
    for k, v in raw_show.items():
        if k not in earlier:
            raise ConditionError(f"{path}.show_when.{k}", "must name an earlier field")
        show_when.append((k, tuple(v) if isinstance(v, list) else (v,)))
    return FormField(
        key, str(fs.get("label") or key), ftype, bool(fs.get("required", False)),
        str(fs.get("help") or ""), options, bool(fs.get("integer", False)),
        fs.get("min"), fs.get("max"), tuple(show_when),
    )


def _parse_option(o: Any, path: str) -> Option:
    if isinstance(o, str | int | float) and not isinstance(o, bool):
        return Option(str(o), str(o))
    if isinstance(o, Mapping) and "value" in o:
        return Option(str(o["value"]), str(o.get("label") or o["value"]))
    raise ConditionError(path, "an option is a value or {value, label}")


def form_to_spec(form: FormDef) -> dict[str, Any]:
    out: dict[str, Any] = {"name": form.name, "title": form.title, "kind": form.kind}
    if form.service:
        out["service"] = form.service
    if form.description:
        out["description"] = form.description
    out["fields"] = [_field_to_spec(f) for f in form.fields]
    return out


def _field_to_spec(f: FormField) -> dict[str, Any]:
    d: dict[str, Any] = {"key": f.key, "label": f.label, "type": f.type}
    if f.required:
        d["required"] = True
    if f.help:
        d["help"] = f.help
    if f.options:
        d["options"] = [o.value if o.value == o.label else {"value": o.value, "label": o.label}
                        for o in f.options]
    if f.integer:
        d["integer"] = True
    for k in ("min", "max"):
        if getattr(f, k) is not None:
            d[k] = getattr(f, k)
    if f.show_when:
        d["show_when"] = {k: (list(v) if len(v) > 1 else v[0]) for k, v in f.show_when}
    return d
