"""SNS signatures at the intake URL of a cloudwatch integration: signed messages are accepted,
others refused with the reason and kept as dead letters. The certificate comes from a fake
fetcher given to bootstrap (no network here), holding a self-signed test certificate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tocsin.bootstrap import build
from tocsin.domain.auth import cli_actor
from tocsin.engine.engine import Engine
from tocsin.integrations.outbound.fake import FakeNotifier
from tocsin.integrations.outbound.sns_certs import FakeCertFetcher
from tocsin.services import alerts, catalog, intake
from tocsin.services import config as config_svc
from tocsin.settings import Settings
from tocsin.store.alerting_repos import AlertFilter
from tocsin.web.app import create_asgi

from ..conftest import DEFAULT_CONFIG
from ..unit.integrations.payloads import payload
from ..unit.integrations.sns_keys import CERT_URL, cert_pem, confirmation, notification, sign

ADMIN = cli_actor()
SNS_TEXT = {"content-type": "text/plain; charset=UTF-8"}  # what SNS sends
REAL_ALARM = "aws-cloudwatch-sns/alerta_sns_notification_cloudwatch_alarm.json"


def alarm(name: str = "cpu-high", state: str = "ALARM") -> str:
    return json.dumps({"AlarmName": name, "NewStateValue": state, "AWSAccountId": "123456789012",
                       "Region": "EU (Ireland)", "NewStateReason": "Threshold Crossed",
                       "StateChangeTime": "2026-03-02T09:00:00.000+0000",
                       "Trigger": {"MetricName": "CPUUtilization", "Namespace": "AWS/EC2"}})


def make_world(sqlite_url: str, tmp_path: Path, clock, verify: bool = True) -> dict:
    fetcher = FakeCertFetcher({CERT_URL: cert_pem()})
    settings = Settings(database_url=sqlite_url, var_dir=str(tmp_path / "var"),
                        secret_key="test-secret", engine=False, sns_verify_signatures=verify)
    c = build(settings, clock, FakeNotifier(), cert_fetcher=fetcher)
    config_svc.apply_text(c.uow(), ADMIN, DEFAULT_CONFIG.read_text(), "default.yaml")
    catalog.create_service(c.uow(), ADMIN, catalog.ServiceInput("checkout", tier=1))
    cw = alerts.create_integration(c.uow(), ADMIN, "aws", "cloudwatch", "checkout", {}, "http://t")
    return {"c": c, "fetcher": fetcher, "url": f"/intake/{cw.key}"}


@pytest.fixture
def world(sqlite_url, tmp_path, clock):
    w = make_world(sqlite_url, tmp_path, clock)
    with TestClient(create_asgi(w["c"]), raise_server_exceptions=False) as client:
        yield {**w, "client": client}
    w["c"].dispose()


def post(world, body) -> tuple[int, dict, bytes]:
    raw = json.dumps(body).encode()
    r = world["client"].post(world["url"], content=raw, headers=SNS_TEXT)
    return r.status_code, r.json(), raw


def dead_letters(world):
    return intake.list_dead_letters(world["c"].uow(read_only=True), None)[0]


def test_a_signed_subscription_confirmation_becomes_a_notice(world):
    status, answer, _ = post(world, sign(confirmation()))
    assert (status, answer["alerts"]) == (202, 0), answer
    Engine(world["c"]).drain()
    [notice] = alerts.integration_notices(world["c"].uow())
    assert notice["kind"] == "sns_subscription_confirmation"
    assert world["fetcher"].fetched == [CERT_URL]


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_notifications_are_accepted_and_the_certificate_fetched_once(world, version):
    for state in ("ALARM", "OK"):
        status, answer, _ = post(world, sign(notification(alarm(state=state)), version))
        assert (status, answer["alerts"]) == (202, 1), answer
    assert world["fetcher"].fetched == [CERT_URL]
    assert dead_letters(world) == []


def test_signed_lambda_records_are_accepted(world):
    records = {"Records": [{"EventSource": "aws:sns", "Sns": sign(notification(alarm(name)), "2",
                                                                   url_key="SigningCertUrl")}
                           for name in ("cpu", "disk")]}
    status, answer, _ = post(world, records)
    assert (status, answer["alerts"]) == (202, 2), answer


def refused(world, body, status: int, reason: str, path: str = "") -> None:
    got, answer, raw = post(world, body)
    assert got == status, answer
    assert reason in answer["detail"] and answer["dead_letter_id"], answer
    assert answer.get("path", "") == path
    [dl] = dead_letters(world)  # the raw body, byte for byte, with the reason
    assert (dl.id, dl.body.encode(), dl.path) == (answer["dead_letter_id"], raw, path)
    assert reason in dl.reason


def test_a_tampered_notification_is_refused_and_kept(world):
    forged = {**sign(notification(alarm(state="OK"))), "Message": alarm(state="ALARM")}
    refused(world, forged, 403, "SNS signature does not verify", "Signature")
    Engine(world["c"]).drain()
    assert alerts.list_alerts(world["c"].uow(), AlertFilter())[1] == 0


def test_one_forged_record_refuses_the_whole_lambda_event(world):
    good = sign(notification(alarm("cpu")))
    forged = {**sign(notification(alarm("disk"))), "MessageId": "other"}
    refused(world, {"Records": [{"Sns": good}, {"Sns": forged}]}, 403,
            "SNS signature does not verify", "Records[1].Sns.Signature")


@pytest.mark.parametrize(("url", "reason"), [
    ("https://evil.example.com/SimpleNotificationService-1.pem",
     "SigningCertURL host 'evil.example.com' is not an SNS host"),
    ("http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-1.pem", "is not an https:// URL"),
])
def test_an_untrusted_certificate_url_is_refused_without_fetching(world, url, reason):
    refused(world, sign(notification(alarm()), url=url), 400, reason, "SigningCertURL")
    assert world["fetcher"].fetched == []


def test_raw_message_delivery_is_refused_while_signatures_are_checked(world):
    refused(world, json.loads(alarm()), 403, "SNS raw message delivery carries no signature")


def test_an_unreachable_certificate_asks_sns_to_retry_and_keeps_the_message(world):
    url = CERT_URL.replace("0123456789abcdef", "rotated")
    refused(world, sign(notification(alarm()), url=url), 503,
            f"the SNS signing certificate {url} could not be fetched")


def test_awss_real_signature_does_not_verify_with_another_certificate(world):
    real = payload(REAL_ALARM)
    world["fetcher"].certs[real["SigningCertURL"]] = cert_pem()
    refused(world, real, 403, "SNS signature does not verify (SHA1withRSA", "Signature")


def test_with_verification_off_nothing_is_checked_or_fetched(sqlite_url, tmp_path, clock):
    w = make_world(sqlite_url, tmp_path, clock, verify=False)
    assert w["c"].sns_certs is None
    with TestClient(create_asgi(w["c"]), raise_server_exceptions=False) as client:
        for body in (payload(REAL_ALARM), json.loads(alarm()),
                     {**sign(notification(alarm())), "Message": alarm("forged")}):
            r = client.post(w["url"], content=json.dumps(body), headers=SNS_TEXT)
            assert (r.status_code, r.json()["alerts"]) == (202, 1), r.text
    assert w["fetcher"].fetched == []
    w["c"].dispose()
