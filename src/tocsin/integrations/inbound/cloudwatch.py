"""AWS CloudWatch alarms delivered by SNS: the HTTP envelope, Lambda `Records[].Sns`, or raw."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from tocsin.domain.alert import InboundAlert, Notice, ParseError, ParseOutcome
from tocsin.integrations.inbound import common as c
from tocsin.integrations.inbound.sns_signature import SNS_HOST

STATES = {"alarm": "trigger", "ok": "resolve", "insufficient_data": "trigger"}
_REGION_CODE = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")


@c.guarded
def parse(body: Any, headers: Mapping[str, str], options: Mapping[str, Any]) -> ParseOutcome:
    """Alarms and SNS notices from an SNS HTTP body, a Lambda event or a raw alarm.

    NewStateValue ALARM → trigger; OK → resolve; INSUFFICIENT_DATA → trigger with severity
    warning (the alarm cannot tell whether things are fine, which someone should look at).
    ALARM carries no severity of its own (None). The dedup key is the alarm ARN, else
    `<account>:<region>:<alarm name>`, so ALARM and its later OK share a key.

    A SubscriptionConfirmation yields a Notice "sns_subscription_confirmation" whose data holds
    SubscribeURL, TopicArn and Token; SubscribeURL must be an https://sns.<region>.amazonaws.com
    URL so a forged body cannot make the caller fetch an arbitrary address. Parsing trusts the
    body: the caller verifies the SNS signatures of `sns_messages(body)` (see sns_signature).
    `Message` is JSON inside a string: error paths go on inside it, e.g.
    `Message.Trigger.Dimensions[0]`.
    """
    payload = c.expect_object(body, "")
    if "Records" in payload:
        records = c.expect_list(payload["Records"], "Records", non_empty=True)
        outcomes = [_envelope(c.expect_object(r, f"Records[{i}]").get("Sns"), f"Records[{i}].Sns")
                    for i, r in enumerate(records)]
        return ParseOutcome(alerts=tuple(a for o in outcomes for a in o.alerts),
                            notices=tuple(n for o in outcomes for n in o.notices))
    if "Type" in payload:
        return _envelope(payload, "")
    if "AlarmName" in payload:  # SNS "raw message delivery": the alarm itself is the body
        return ParseOutcome(alerts=(_alarm(payload, ""),))
    raise ParseError("not an SNS message (Type), Lambda event (Records) or CloudWatch alarm (AlarmName)", "")


def sns_messages(body: Any) -> list[tuple[Mapping[str, Any], str]]:
    """The SNS messages of a body `parse` accepted, with their paths: the HTTP envelope, or each
    Lambda record's `Sns`. Empty for raw message delivery, which SNS does not sign."""
    if not isinstance(body, dict):
        return []
    if "Records" in body:
        records = body["Records"] if isinstance(body["Records"], list) else []
        # A record without an `Sns` object stays in, as an empty message: it fails the check.
        return [(r["Sns"] if isinstance(r, dict) and isinstance(r.get("Sns"), dict) else {},
                 f"Records[{i}].Sns") for i, r in enumerate(records)]
    return [(body, "")] if "Type" in body else []


def _envelope(value: Any, path: str) -> ParseOutcome:
    sns = c.expect_object(value, path)
    kind = c.req_str(sns, "Type", path)
    if kind == "Notification":
        return ParseOutcome(alerts=(_alarm(_decoded_message(sns, path), c.at(path, "Message")),))
    if kind == "SubscriptionConfirmation":
        return ParseOutcome(notices=(_confirmation(sns, path),))
    if kind == "UnsubscribeConfirmation":
        return ParseOutcome(notices=(Notice(
            kind="sns_unsubscribe_confirmation", message=c.one_line(c.opt_str(sns, "Message", path)),
            data={"TopicArn": c.opt_str(sns, "TopicArn", path)}),))
    raise ParseError(f"unknown SNS message type {kind[:40]!r}", c.at(path, "Type"))


def _decoded_message(sns: Mapping[str, Any], path: str) -> Mapping[str, Any]:
    text = c.req_str(sns, "Message", path)
    try:
        message = json.loads(text)
    except (ValueError, RecursionError) as exc:
        reason = getattr(exc, "msg", "too deeply nested")
        raise ParseError(f"not JSON ({reason})", c.at(path, "Message")) from None
    if not isinstance(message, dict) or "AlarmName" not in message:
        raise ParseError("not a CloudWatch alarm (no AlarmName)", c.at(path, "Message"))
    return message


def _confirmation(sns: Mapping[str, Any], path: str) -> Notice:
    url = c.req_str(sns, "SubscribeURL", path)
    try:
        scheme, host = urlsplit(url).scheme, urlsplit(url).hostname or ""
    except ValueError:
        scheme, host = "", ""
    if scheme != "https" or not SNS_HOST.fullmatch(host):
        raise ParseError("not an https://sns.<region>.amazonaws.com URL", c.at(path, "SubscribeURL"))
    topic = c.req_str(sns, "TopicArn", path)
    return Notice(kind="sns_subscription_confirmation", message=f"Confirm the SNS subscription to {topic}",
                  data={"SubscribeURL": url, "TopicArn": topic, "Token": c.opt_str(sns, "Token", path)})


def _alarm(alarm: Mapping[str, Any], path: str) -> InboundAlert:
    name = c.req_str(alarm, "AlarmName", path)
    state = c.req_str(alarm, "NewStateValue", path)
    action = c.choice(alarm, "NewStateValue", path, STATES)
    arn = c.opt_str(alarm, "AlarmArn", path)
    labels = _labels(alarm, path, name)
    changed = c.parse_time(alarm.get("StateChangeTime"), c.at(path, "StateChangeTime"))
    insufficient = state.upper() == "INSUFFICIENT_DATA"
    return c.make_alert(
        source="cloudwatch", action=action,
        dedup_key=arn or f"{labels.get('account', '')}:{labels.get('region', '')}:{name}",
        summary=_summary(name, c.opt_str(alarm, "AlarmDescription", path)),
        severity="warning" if insufficient else None,
        source_severity=state.upper() if insufficient else None,
        description=c.opt_str(alarm, "NewStateReason", path) or "",
        labels=labels, links=_console_link(arn, name),
        starts_at=changed if action == "trigger" else None,
        ends_at=changed if action == "resolve" else None,
    )


def _summary(name: str, description: str | None) -> str:
    return f"{name}: {description}" if description and description != name else name


def _labels(alarm: Mapping[str, Any], path: str, name: str) -> dict[str, str]:
    labels = {"alertname": name}
    for label, key in (("account", "AWSAccountId"), ("region", "Region")):
        value = c.opt_id(alarm, key, path)
        if value:
            labels[label] = value
    trigger_path = c.at(path, "Trigger")
    trigger = c.opt_object(alarm, "Trigger", path)
    metrics = _metric_stats(trigger, trigger_path) if "Metrics" in trigger else [(trigger, trigger_path)]
    names = [c.opt_str(m, "MetricName", p) for m, p in metrics]
    spaces = [c.opt_str(m, "Namespace", p) for m, p in metrics]
    c.merge_missing(labels, {"metric": ",".join(dict.fromkeys(n for n in names if n)),
                             "namespace": ",".join(dict.fromkeys(s for s in spaces if s))})
    for metric, metric_path in metrics:
        c.merge_missing(labels, _dimensions(metric, metric_path))
    return labels


def _metric_stats(trigger: Mapping[str, Any], path: str) -> list[tuple[Mapping[str, Any], str]]:
    """The metrics of a metric-math alarm (`Trigger.Metrics[].MetricStat.Metric`)."""
    found = []
    for i, item in enumerate(c.opt_list(trigger, "Metrics", path)):
        item_path = c.at(c.at(path, "Metrics"), i)
        stat = c.opt_object(c.expect_object(item, item_path), "MetricStat", item_path)
        if stat:
            stat_path = c.at(item_path, "MetricStat")
            found.append((c.opt_object(stat, "Metric", stat_path), c.at(stat_path, "Metric")))
    return found


def _dimensions(metric: Mapping[str, Any], path: str) -> dict[str, str]:
    dimensions = {}
    for i, item in enumerate(c.opt_list(metric, "Dimensions", path)):
        entry = c.expect_object(item, c.at(c.at(path, "Dimensions"), i))
        name, value = entry.get("name"), entry.get("value")
        if isinstance(name, str) and name and value is not None:
            dimensions[name] = c.stringify(value)
    return dimensions


def _console_link(arn: str | None, name: str) -> dict[str, str]:
    """The alarm in the AWS console, when the ARN names a real region."""
    parts = (arn or "").split(":")
    if len(parts) < 4 or not _REGION_CODE.fullmatch(parts[3]):
        return {}
    region = parts[3]
    url = f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#alarmsV2:alarm/{quote(name)}"
    return {"source": url}
