"""Test stand-ins for AWS SNS signing: an RSA key with a self-signed certificate, and a signer.

The signer builds the string to sign from AWS's documented field lists on its own, so the code
under test is checked against the documentation, not against itself.
"""

from __future__ import annotations

import base64
import functools
from datetime import UTC, datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:alarms"
# AWS's documented lists (the order is byte order of the names).
_NOTIFICATION = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
_CONFIRMATION = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]


@functools.cache
def key_pair(name: str = "sns") -> tuple[rsa.RSAPrivateKey, bytes]:
    """An RSA key and its self-signed certificate (PEM), one per name for the test session."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name}.amazonaws.com")])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(datetime(2020, 1, 1, tzinfo=UTC))
            .not_valid_after(datetime(2100, 1, 1, tzinfo=UTC))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def cert_pem(name: str = "sns") -> bytes:
    return key_pair(name)[1]


def sign(message: dict[str, Any], version: str = "1", key: str = "sns",
         url: str = CERT_URL, url_key: str = "SigningCertURL") -> dict[str, Any]:
    """`message` with SignatureVersion, Signature and the certificate URL, as SNS sends it."""
    fields = _NOTIFICATION if message["Type"] == "Notification" else _CONFIRMATION
    text = "".join(f"{name}\n{message[name]}\n" for name in fields
                   if not (name == "Subject" and message.get(name) is None))
    digest = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key_pair(key)[0].sign(text.encode("utf-8"), padding.PKCS1v15(), digest)
    return {**message, "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(), url_key: url}


def notification(message: str = "hello", subject: str | None = "ALARM: \"cpu\"") -> dict[str, Any]:
    body = {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
            "TopicArn": TOPIC, "Message": message, "Timestamp": "2026-03-02T09:00:00.123Z",
            "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe&x=1"}
    if subject is not None:
        body["Subject"] = subject
    return body


def confirmation(kind: str = "SubscriptionConfirmation") -> dict[str, Any]:
    token = "2336412f37fb687f5d51e6e241da92fd72d769c5"
    return {"Type": kind, "MessageId": "8a14e4f3-f3ab-4be0-a12f-681ee8fe214f", "Token": token,
            "TopicArn": TOPIC, "Timestamp": "2026-03-02T09:00:00.000Z",
            "Message": f"You have chosen to subscribe to the topic {TOPIC}.\nTo confirm the "
                       "subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription"
                            f"&TopicArn={TOPIC}&Token={token}"}
