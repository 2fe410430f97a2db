"""The email channel against a real SMTP server (aiosmtpd on 127.0.0.1): the apprise
adapter delivers a page with its subject, recipient and acknowledge link."""

from __future__ import annotations

import pytest

from tocsin.integrations.outbound.apprise_notifier import AppriseNotifier, email_url
from tocsin.ports import Message
from tocsin.settings import Settings

from .conftest import free_port


def test_a_page_arrives_by_email(smtp):
    inbox, port = smtp
    notifier = AppriseNotifier(Settings(smtp_url=f"smtp://127.0.0.1:{port}",
                                        mail_from="Tocsin <pager@example.com>"))
    result = notifier.send(Message("email", "oncall@example.com", "[P1] INC-7: DB down",
                                   "Acknowledge: http://t/ack/abc", {}))
    assert result.status == "sent", result.detail
    [(sender, rcpts, msg)] = inbox.messages
    assert sender == "pager@example.com" and rcpts == ["oncall@example.com"]
    assert msg["Subject"] == "[P1] INC-7: DB down"
    body = "".join(p.get_payload(decode=True).decode() for p in msg.walk()
                   if p.get_content_type() == "text/plain")
    assert "http://t/ack/abc" in body


def test_an_unreachable_server_is_a_retryable_failure():
    notifier = AppriseNotifier(Settings(smtp_url=f"smtp://127.0.0.1:{free_port()}"))
    result = notifier.send(Message("email", "a@example.com", "s", "t", {}))
    assert (result.status, result.retryable) == ("failed", True)


def test_unconfigured_channels_fail_clearly():
    notifier = AppriseNotifier(Settings())
    result = notifier.send(Message("sms", "+15550001111", "s", "t", {}))
    assert (result.status, result.retryable) == ("failed", False)
    assert "no sms provider is configured" in result.detail


@pytest.mark.parametrize("url, expected", [
    ("smtp://127.0.0.1:2525", "mailto://127.0.0.1:2525?from=F&to=t%40x&smtp=127.0.0.1"),
    ("smtps://u:p%40ss@mail.example.com", "mailtos://u:p%40ss@mail.example.com?from=F&to=t%40x"
                                          "&smtp=mail.example.com&mode=ssl"),
    ("smtp+starttls://u@mx:587", "mailtos://u@mx:587?from=F&to=t%40x&smtp=mx&mode=starttls"),
])
def test_smtp_urls_map_to_apprise(url, expected):
    assert email_url(url, "F", "t@x") == expected
