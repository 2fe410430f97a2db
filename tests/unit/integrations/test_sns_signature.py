"""SNS signatures: the string AWS signs, RSA verification (v1 SHA1, v2 SHA256), certificate URLs."""

from __future__ import annotations

import pytest

from tocsin.integrations.inbound import cloudwatch
from tocsin.integrations.inbound import sns_signature as sns

from .sns_keys import CERT_URL, cert_pem, confirmation, notification, sign


def problem(call, *args) -> sns.SignatureProblem:
    with pytest.raises(sns.SignatureProblem) as info:
        call(*args)
    return info.value


# --- the string to sign ---------------------------------------------------------------------------

def test_notification_string_is_awss_documented_example():
    message = {"Type": "Notification", "MessageId": "4d4dc071-ddbf-465d-bba8-08f81c89da64",
               "TopicArn": "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P",
               "Subject": "My subject", "Message": "My Test Message",
               "Timestamp": "2019-01-31T04:37:04.321Z", "SignatureVersion": "1",
               "Signature": "x", "SigningCertURL": CERT_URL, "UnsubscribeURL": "https://x"}
    assert sns.string_to_sign(message) == (
        b"Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\n"
        b"Subject\nMy subject\nTimestamp\n2019-01-31T04:37:04.321Z\n"
        b"TopicArn\narn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P\n"
        b"Type\nNotification\n")


def test_confirmation_string_is_awss_documented_example():
    topic = "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P"
    url = f"https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn={topic}&Token=233"
    message = {"Type": "SubscriptionConfirmation", "MessageId": "3d891288-136d-417f-bc05-901c108273ee",
               "Token": "233", "TopicArn": topic, "Message": "My Test Message", "SubscribeURL": url,
               "Timestamp": "2019-01-31T19:25:13.719Z"}
    assert sns.string_to_sign(message) == (
        f"Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\n"
        f"SubscribeURL\n{url}\nTimestamp\n2019-01-31T19:25:13.719Z\nToken\n233\n"
        f"TopicArn\n{topic}\nType\nSubscriptionConfirmation\n").encode()


@pytest.mark.parametrize("subject", [None, "absent"])
def test_a_notification_without_subject_leaves_it_out(subject):
    message = notification(subject=None)
    if subject is None:
        message["Subject"] = None  # Lambda's SNS records say null
    assert b"Subject" not in sns.string_to_sign(message)


def test_text_is_signed_as_utf8_with_its_newlines():
    message = notification(message="line 1\nligne 2 \u00e9\u2713")
    assert b"Message\nline 1\nligne 2 \xc3\xa9\xe2\x9c\x93\n" in sns.string_to_sign(message)


@pytest.mark.parametrize(("change", "reason"), [
    ({"Type": "Telegram"}, "Type 'Telegram' has no known signature format"),
    ({"MessageId": None}, "MessageId must be a string"),
    ({"Timestamp": 5}, "Timestamp must be a string"),
])
def test_a_message_that_cannot_be_signed_is_invalid(change, reason):
    got = problem(sns.string_to_sign, {**notification(), **change})
    assert (got.kind, reason in got.reason) == ("invalid", True)


def test_a_confirmation_without_its_token_is_invalid():
    message = confirmation()
    del message["Token"]
    got = problem(sns.string_to_sign, message, "Records[0].Sns")
    assert (got.kind, got.path) == ("invalid", "Records[0].Sns.Token")


# --- verification ---------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ["1", "2"])
@pytest.mark.parametrize("message", [notification(), notification(subject=None), confirmation(),
                                     confirmation("UnsubscribeConfirmation")],
                         ids=["notification", "no-subject", "subscribe", "unsubscribe"])
def test_a_good_signature_verifies(message, version):
    sns.verify(sign(message, version), cert_pem())


@pytest.mark.parametrize(("field", "value"), [
    ("Message", "hello!"), ("MessageId", "0"), ("Subject", "OK"), ("Timestamp", "2026-03-02T09:00:01Z"),
    ("TopicArn", "arn:aws:sns:eu-west-1:999999999999:alarms"), ("Subject", None),
])
@pytest.mark.parametrize("version", ["1", "2"])
def test_a_tampered_notification_does_not_verify(field, value, version):
    message = {**sign(notification(), version), field: value}
    got = problem(sns.verify, message, cert_pem())
    assert (got.kind, got.path) == ("unverified", "Signature")
    assert got.reason.startswith("SNS signature does not verify")


@pytest.mark.parametrize("field", ["Token", "SubscribeURL", "Message"])
def test_a_tampered_confirmation_does_not_verify(field):
    message = sign(confirmation())
    message[field] += "0"
    assert problem(sns.verify, message, cert_pem()).kind == "unverified"


def test_fields_sns_does_not_sign_may_differ():
    message = {**sign(notification()), "UnsubscribeURL": "https://elsewhere", "Extra": 1}
    sns.verify(message, cert_pem())


def test_another_keys_certificate_does_not_verify():
    got = problem(sns.verify, sign(notification()), cert_pem("impostor"))
    assert got.kind == "unverified" and "SHA1withRSA" in got.reason


def test_a_version_1_signature_claimed_as_version_2_does_not_verify():
    message = {**sign(notification(), "1"), "SignatureVersion": "2"}
    assert "SHA256withRSA" in problem(sns.verify, message, cert_pem()).reason


@pytest.mark.parametrize(("change", "kind", "reason"), [
    ({"Signature": None}, "unverified", "not signed (no Signature)"),
    ({"Signature": ""}, "unverified", "not signed (no Signature)"),
    ({"Signature": "not base64!"}, "unverified", "Signature is not base64"),
    ({"SignatureVersion": "3"}, "invalid", "unsupported SignatureVersion '3'"),
    ({"SignatureVersion": 1}, "invalid", "unsupported SignatureVersion"),
    ({"SignatureVersion": None}, "invalid", "unsupported SignatureVersion"),
])
def test_unsigned_or_unknown_signatures(change, kind, reason):
    got = problem(sns.verify, {**sign(notification()), **change}, cert_pem(), "Records[1].Sns")
    assert (got.kind, reason in got.reason, got.path.startswith("Records[1].Sns.")) == (kind, True, True)


def test_what_is_not_a_certificate_verifies_nothing():
    got = problem(sns.verify, sign(notification()), b"<html>hello</html>")
    assert (got.kind, got.reason) == ("unverified",
                                      "the certificate at SigningCertURL is not an RSA X.509 certificate")


# --- the certificate URL --------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    CERT_URL,
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-6aad65c2f9911b05cd53efda11f913f9.pem",
    "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-abc.pem",
    "https://SNS.EU-WEST-1.AMAZONAWS.COM/SimpleNotificationService-abc.pem",
    "https://sns.eu-west-1.amazonaws.com:443/SimpleNotificationService-abc.pem",
])
def test_sns_certificate_urls_are_trusted(url):
    assert sns.cert_url({"SigningCertURL": url}) == url
    assert sns.cert_url({"SigningCertUrl": url}) == url  # Lambda's spelling


@pytest.mark.parametrize(("url", "reason"), [
    ("http://sns.eu-west-1.amazonaws.com/cert.pem", "is not an https:// URL"),
    ("https://evil.example.com/cert.pem", "host 'evil.example.com' is not an SNS host"),
    ("https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem", "is not an SNS host"),
    ("https://sns.eu-west-1.amazonaws.co/cert.pem", "is not an SNS host"),
    ("https://s3.eu-west-1.amazonaws.com/cert.pem", "is not an SNS host"),
    ("https://evil.example#@sns.eu-west-1.amazonaws.com/cert.pem", "is not an SNS host"),
    ("https://127.0.0.1/cert.pem", "is not an SNS host"),
    ("https://sns.eu-west-1.amazonaws.com:8443/cert.pem", "does not name a .pem certificate"),
    ("https://user:pw@sns.eu-west-1.amazonaws.com/cert.pem", "does not name a .pem certificate"),
    ("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=1",
     "does not name a .pem certificate"),
    ("https://sns.eu-west-1.amazonaws.com/cert.pem?x=1", "does not name a .pem certificate"),
    ("https://sns.eu-west-1.amazonaws.com/cert.txt", "does not name a .pem certificate"),
    ("https://sns.eu-west-1.amazonaws.com:99999/cert.pem", "is not a URL"),
    ("EXAMPLE", "is not an https:// URL"),
])
def test_other_certificate_urls_are_refused(url, reason):
    got = problem(sns.cert_url, {"SigningCertURL": url}, "Records[0].Sns")
    assert (got.kind, got.path) == ("invalid", "Records[0].Sns.SigningCertURL")
    assert reason in got.reason, got.reason


@pytest.mark.parametrize("message", [{}, {"SigningCertURL": ""}, {"SigningCertURL": 5}])
def test_a_message_without_a_certificate_url_is_unverified(message):
    got = problem(sns.cert_url, message)
    assert (got.kind, got.path) == ("unverified", "SigningCertURL")


# --- which messages a CloudWatch body carries -----------------------------------------------------

def test_sns_messages_of_each_body_shape():
    envelope = notification()
    assert cloudwatch.sns_messages(envelope) == [(envelope, "")]
    records = {"Records": [{"Sns": envelope}, {"EventSource": "aws:sns"}]}
    assert cloudwatch.sns_messages(records) == [(envelope, "Records[0].Sns"), ({}, "Records[1].Sns")]
    assert cloudwatch.sns_messages({"AlarmName": "cpu", "NewStateValue": "ALARM"}) == []
    assert cloudwatch.sns_messages([envelope]) == []
