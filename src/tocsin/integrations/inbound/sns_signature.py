"""AWS SNS message signatures (pure): the certificate URL check, the string SNS signs, the RSA check.

AWS documents the scheme in "Verifying the signatures of Amazon SNS messages": the string to
sign is `name\\nvalue\\n` for a fixed set of fields in byte order, signed with RSA PKCS#1 v1.5
over SHA-1 (SignatureVersion 1) or SHA-256 (SignatureVersion 2), by the key of the X.509
certificate at SigningCertURL. Nothing here does I/O: the caller fetches the certificate.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tocsin.integrations.inbound.common import at

SNS_HOST = re.compile(r"sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?")
HASHES: Mapping[str, type[hashes.HashAlgorithm]] = {"1": hashes.SHA1, "2": hashes.SHA256}
ALGORITHMS = {"1": "SHA1withRSA", "2": "SHA256withRSA"}
# The fields each message type signs, in byte order (Subject only when the message has one).
SIGNED_FIELDS: Mapping[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
    "UnsubscribeConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                "TopicArn", "Type"),
}
OPTIONAL_FIELDS = frozenset({"Subject"})
# SNS's HTTP envelope says SigningCertURL; the Lambda event's `Sns` record says SigningCertUrl.
CERT_URL_KEYS = ("SigningCertURL", "SigningCertUrl")


class SignatureProblem(Exception):
    """Why a message cannot be trusted. `kind` "invalid": the message is malformed or names an
    untrusted certificate (nothing was fetched); "unverified": it is not signed, or its
    signature does not verify with the certificate."""

    def __init__(self, reason: str, path: str, kind: Literal["invalid", "unverified"]) -> None:
        super().__init__(reason)
        self.reason, self.path, self.kind = reason, path, kind


def cert_url(message: Mapping[str, Any], path: str = "") -> str:
    """The message's SigningCertURL, once it is known to name a certificate on an SNS host."""
    key = next((k for k in CERT_URL_KEYS if k in message), CERT_URL_KEYS[0])
    url = message.get(key)
    if not isinstance(url, str) or not url:
        raise SignatureProblem(f"the SNS message has no {key}, so its signature cannot be checked",
                               at(path, key), "unverified")
    problem = cert_url_problem(url)
    if problem:
        raise SignatureProblem(problem, at(path, key), "invalid")
    return url


def cert_url_problem(url: str) -> str | None:
    """Why `url` is not an SNS signing certificate URL we may fetch, or None if it is."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return f"SigningCertURL {url[:100]!r} is not a URL"
    if parts.scheme != "https":
        return f"SigningCertURL {url[:100]!r} is not an https:// URL"
    if not SNS_HOST.fullmatch(host):
        return (f"SigningCertURL host {host[:100]!r} is not an SNS host "
                "(sns.<region>.amazonaws.com or .amazonaws.com.cn)")
    # A query could make the fetch an SNS API call (e.g. ConfirmSubscription): only a .pem file.
    if port not in (None, 443) or parts.username is not None or parts.query or parts.fragment \
            or not parts.path.endswith(".pem"):
        return f"SigningCertURL {url[:100]!r} does not name a .pem certificate on the SNS host"
    return None


def string_to_sign(message: Mapping[str, Any], path: str = "") -> bytes:
    """The bytes SNS signed: `name\\nvalue\\n` for each signed field of the message's Type."""
    kind = message.get("Type")
    fields = SIGNED_FIELDS.get(kind) if isinstance(kind, str) else None
    if fields is None:
        raise SignatureProblem(f"SNS message Type {str(kind)[:40]!r} has no known signature format",
                               at(path, "Type"), "invalid")
    lines = []
    for name in fields:
        value = message.get(name)
        if value is None and name in OPTIONAL_FIELDS:
            continue
        if not isinstance(value, str):
            raise SignatureProblem(f"{name} must be a string: SNS signs it", at(path, name),
                                   "invalid")
        lines.append(f"{name}\n{value}\n")
    return "".join(lines).encode("utf-8")


def verify(message: Mapping[str, Any], pem: bytes, path: str = "") -> None:
    """Check the message's Signature with the certificate `pem`; SignatureProblem if it fails."""
    version = message.get("SignatureVersion")
    if version not in HASHES:
        raise SignatureProblem(f"unsupported SignatureVersion {str(version)[:20]!r} "
                               "(1 = SHA1withRSA, 2 = SHA256withRSA)",
                               at(path, "SignatureVersion"), "invalid")
    data = string_to_sign(message, path)
    signature = _signature(message, path)
    key = _public_key(pem, path)
    try:
        key.verify(signature, data, padding.PKCS1v15(), HASHES[version]())
    except InvalidSignature:
        raise SignatureProblem(f"SNS signature does not verify ({ALGORITHMS[version]}, "
                               "with the certificate at SigningCertURL)",
                               at(path, "Signature"), "unverified") from None


def _signature(message: Mapping[str, Any], path: str) -> bytes:
    text = message.get("Signature")
    if not isinstance(text, str) or not text:
        raise SignatureProblem("the SNS message is not signed (no Signature)",
                               at(path, "Signature"), "unverified")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureProblem("Signature is not base64", at(path, "Signature"),
                               "unverified") from None


def _public_key(pem: bytes, path: str) -> rsa.RSAPublicKey:
    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError:
        key = None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SignatureProblem("the certificate at SigningCertURL is not an RSA X.509 certificate",
                               at(path, "SigningCertURL"), "unverified")
    return key
