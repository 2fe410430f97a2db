"""CloudWatch alarms through SNS: HTTP envelope, subscription confirmation, Lambda records, raw."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tocsin.domain.alert import ParseError
from tocsin.integrations.inbound import cloudwatch

from .invariants import check_outcome
from .payloads import payload

ALARM = "aws-cloudwatch-sns/alerta_sns_notification_cloudwatch_alarm.json"
INSUFFICIENT = "aws-cloudwatch-sns/alerta_sns_notification_cloudwatch_insufficient_data.json"
CONFIRM = "aws-cloudwatch-sns/alerta_sns_subscription_confirmation.json"
LAMBDA_SINGLE = "aws-cloudwatch-sns/aws-lambda-go_cloudwatch-alarm-sns-payload-single-metric.json"
LAMBDA_MULTI = "aws-cloudwatch-sns/aws-lambda-go_cloudwatch-alarm-sns-payload-multiple-metrics.json"


def parse(body):
    outcome = cloudwatch.parse(body, {}, {})
    check_outcome(outcome)
    return outcome


def with_message(name, **changes):
    """Fixture `name` with its alarm (the JSON inside Message) changed."""
    body = payload(name)
    alarm = json.loads(body["Message"])
    alarm.update(changes)
    return {**body, "Message": json.dumps(alarm)}


def test_alarm_notification():
    (alert,) = parse(payload(ALARM)).alerts
    assert (alert.source, alert.action) == ("cloudwatch", "trigger")
    assert alert.dedup_key == "1234567890:EU (Ireland):bucketbytesAlarm"  # no AlarmArn in this one
    assert alert.summary == "bucketbytesAlarm: bucket bytes size exceeded"
    assert alert.description.startswith("Threshold Crossed: 1 datapoint [1062305.0")
    assert (alert.severity, alert.source_severity) == (None, None)
    assert alert.labels == {"alertname": "bucketbytesAlarm", "account": "1234567890",
                            "region": "EU (Ireland)", "metric": "BucketSizeBytes", "namespace": "AWS/S3",
                            "StorageType": "StandardStorage", "BucketName": "try.alerta.io"}
    assert alert.starts_at == datetime(2019, 2, 15, 23, 53, 45, 93000, tzinfo=UTC)
    assert alert.ends_at is None


def test_ok_resolves_the_same_alarm():
    (alarm,) = parse(payload(ALARM)).alerts
    (ok,) = parse(with_message(ALARM, NewStateValue="OK", NewStateReason="back to normal")).alerts
    assert (ok.action, ok.dedup_key, ok.description) == ("resolve", alarm.dedup_key, "back to normal")
    assert (ok.starts_at, ok.ends_at) == (None, datetime(2019, 2, 15, 23, 53, 45, 93000, tzinfo=UTC))


def test_insufficient_data_triggers_as_warning():
    (alert,) = parse(payload(INSUFFICIENT)).alerts
    assert (alert.action, alert.severity) == ("trigger", "warning")
    assert alert.source_severity == "INSUFFICIENT_DATA"
    assert alert.dedup_key == "1234567890:EU (Ireland):notificationCountAlarm"
    assert alert.labels["TopicName"] == "alerta-test"
    assert alert.labels["namespace"] == "AWS/SNS"


def test_subscription_confirmation_is_a_notice():
    outcome = parse(payload(CONFIRM))
    assert outcome.alerts == ()
    (notice,) = outcome.notices
    assert notice.kind == "sns_subscription_confirmation"
    assert notice.data["TopicArn"] == "arn:aws:sns:eu-west-1:1234567890:alerta-test"
    assert notice.data["SubscribeURL"].startswith(
        "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=")
    assert notice.data["Token"].startswith("2336412f37fb")
    assert "arn:aws:sns:eu-west-1:1234567890:alerta-test" in notice.message


@pytest.mark.parametrize(
    "url",
    ["http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
     "https://evil.example/?Action=ConfirmSubscription",
     "https://sns.eu-west-1.amazonaws.com.evil.example/",
     "https://169.254.169.254/latest/meta-data/",
     "https://[::1"],
)
def test_subscribe_url_must_be_sns(url):
    with pytest.raises(ParseError) as info:
        cloudwatch.parse({**payload(CONFIRM), "SubscribeURL": url}, {}, {})
    assert info.value.path == "SubscribeURL"


def test_unsubscribe_confirmation_is_a_notice():
    body = {**payload(CONFIRM), "Type": "UnsubscribeConfirmation"}
    (notice,) = parse(body).notices
    assert notice.kind == "sns_unsubscribe_confirmation"


def test_lambda_single_metric_keys_on_the_alarm_arn():
    (alert,) = parse(payload(LAMBDA_SINGLE)).alerts
    assert alert.dedup_key == "arn:aws:cloudwatch:REGION:ACCOUNT_NUMBER:alarm:EXAMPLE"
    assert alert.summary == "EXAMPLE"  # description equal to the name is not repeated
    assert alert.labels == {"alertname": "EXAMPLE", "account": "123456789012", "region": "EXAMPLE",
                            "metric": "NetworkOut", "namespace": "AWS/EC2", "InstanceId": "TestInstance"}
    assert alert.links == {}  # "REGION" is no region: no console link
    assert alert.starts_at == datetime(2015, 6, 3, 17, 43, 27, 123000, tzinfo=UTC)


def test_lambda_metric_math_alarm_reads_metric_stats():
    (alert,) = parse(payload(LAMBDA_MULTI)).alerts
    assert (alert.labels["metric"], alert.labels["namespace"]) == ("NetworkOut", "AWS/EC2")
    assert alert.labels["InstanceId"] == "TestInstance"
    assert alert.labels["account"] == "EXAMPLE"


def test_several_lambda_records_give_several_alerts():
    record = payload(LAMBDA_SINGLE)["Records"][0]
    confirm = {"Sns": payload(CONFIRM)}
    outcome = parse({"Records": [record, record, confirm]})
    assert len(outcome.alerts) == 2 and len(outcome.notices) == 1


def test_raw_delivery_and_console_link():
    arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:High CPU"
    alarm = {"AlarmName": "High CPU", "NewStateValue": "ALARM", "AlarmArn": arn, "Region": "EU (Ireland)",
             "StateChangeTime": "2026-01-01T00:00:00.000+0000"}
    (alert,) = parse(alarm).alerts
    assert alert.dedup_key == arn
    assert alert.links == {"source": "https://eu-west-1.console.aws.amazon.com/cloudwatch/home"
                                     "?region=eu-west-1#alarmsV2:alarm/High%20CPU"}


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (None, "", "expected an object"),
        ([], "", "expected an object"),
        ({}, "", "not an SNS message"),
        ({"Type": "Surprise"}, "Type", "unknown SNS message type 'Surprise'"),
        ({"Type": 3}, "Type", "expected a string"),
        ({"Type": "Notification"}, "Message", "is required"),
        ({"Type": "Notification", "Message": "{oops"}, "Message", "not JSON"),
        ({"Type": "Notification", "Message": "[1, 2]"}, "Message", "not a CloudWatch alarm"),
        ({"Type": "Notification", "Message": '{"Hello": 1}'}, "Message", "not a CloudWatch alarm"),
        ({"Type": "SubscriptionConfirmation", "TopicArn": "t"}, "SubscribeURL", "is required"),
        ({"Records": []}, "Records", "must not be empty"),
        ({"Records": "x"}, "Records", "expected an array"),
        ({"Records": [None]}, "Records[0]", "expected an object"),
        ({"Records": [{}]}, "Records[0].Sns", "expected an object, got null"),
        ({"Records": [{"Sns": {"Type": "Notification", "Message": "{}"}}]}, "Records[0].Sns.Message",
         "not a CloudWatch alarm"),
        ({"AlarmName": "a"}, "NewStateValue", "is required"),
        ({"AlarmName": "a", "NewStateValue": "BROKEN"}, "NewStateValue", "unknown value 'BROKEN'"),
        ({"AlarmName": "", "NewStateValue": "OK"}, "AlarmName", "is required"),
        ({"AlarmName": "a", "NewStateValue": "OK", "Trigger": []}, "Trigger", "expected an object"),
        ({"AlarmName": "a", "NewStateValue": "OK", "StateChangeTime": "later"}, "StateChangeTime",
         "ISO 8601"),
    ],
)
def test_malformed_bodies(body, path, reason):
    with pytest.raises(ParseError) as info:
        cloudwatch.parse(body, {}, {})
    assert info.value.path == path
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"NewStateValue": None}, "Message.NewStateValue"),
        ({"Trigger": {"Dimensions": [5]}}, "Message.Trigger.Dimensions[0]"),
        ({"Trigger": {"Metrics": [{"MetricStat": {"Metric": []}}]}},
         "Message.Trigger.Metrics[0].MetricStat.Metric"),
        ({"AWSAccountId": {"id": 1}}, "Message.AWSAccountId"),
    ],
)
def test_errors_inside_the_message_point_into_it(changes, path):
    with pytest.raises(ParseError) as info:
        cloudwatch.parse(with_message(ALARM, **changes), {}, {})
    assert info.value.path == path
