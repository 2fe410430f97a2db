"""The SNS certificate adapter: the bounded cache, URLs refused unfetched, and the HTTPS fetch
(run against a local server on 127.0.0.1)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tocsin.integrations.outbound.sns_certs import (
    CachedCertFetcher,
    CertUnavailable,
    FakeCertFetcher,
    fetch_https,
)

from .sns_keys import cert_pem


def url(n: int) -> str:
    return f"https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-{n}.pem"


def test_each_url_is_fetched_once_and_the_cache_is_bounded():
    fake = FakeCertFetcher({url(n): cert_pem() for n in range(3)})
    cache = CachedCertFetcher(fake, max_entries=2)
    assert cache(url(0)) == cache(url(0)) == cert_pem()
    cache(url(1))
    cache(url(0))          # most recently used: url(1) is now the oldest
    cache(url(2))          # evicts url(1)
    cache(url(0))
    cache(url(1))
    assert fake.fetched == [url(0), url(1), url(2), url(1)]


@pytest.mark.parametrize("bad", ["http://sns.eu-west-1.amazonaws.com/c.pem",
                                 "https://evil.example/c.pem", "https://127.0.0.1/c.pem"])
def test_a_url_that_is_not_snss_is_refused_without_fetching(bad):
    fake = FakeCertFetcher({bad: cert_pem()})
    with pytest.raises(CertUnavailable):
        CachedCertFetcher(fake)(bad)
    assert fake.fetched == []


def test_failures_and_non_certificates_are_not_cached():
    fake = FakeCertFetcher({})
    cache = CachedCertFetcher(fake)
    with pytest.raises(CertUnavailable, match="no certificate"):
        cache(url(0))
    fake.certs[url(0)] = b"<html>maintenance</html>"
    with pytest.raises(CertUnavailable, match="not a PEM X.509 certificate"):
        cache(url(0))
    fake.certs[url(0)] = cert_pem()
    assert cache(url(0)) == cert_pem()
    assert cache(url(0)) == cert_pem()
    assert fake.fetched == [url(0)] * 3


# --- the real fetch, against 127.0.0.1 ------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        if self.path == "/slow.pem":  # answers nothing for longer than the client waits
            time.sleep(0.5)
            return
        if self.path == "/moved.pem":
            self.send_response(302)
            self.send_header("Location", "http://127.0.0.1:1/elsewhere.pem")
            self.end_headers()
            return
        if self.path == "/missing.pem":
            self.send_error(404)
            return
        body = b"x" * 5000 if self.path == "/big.pem" else cert_pem()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_fetch_returns_the_body(server):
    assert fetch_https(f"{server}/cert.pem") == cert_pem()


@pytest.mark.parametrize(("path", "kwargs", "reason"), [
    ("/missing.pem", {}, "HTTP Error 404"),
    ("/moved.pem", {}, "HTTP Error 302"),
    ("/big.pem", {"max_bytes": 4096}, "more than 4096 bytes"),
    ("/slow.pem", {"timeout": 0.2}, "timed out"),
])
def test_fetch_failures_are_cert_unavailable(server, path, kwargs, reason):
    with pytest.raises(CertUnavailable, match=reason):
        fetch_https(f"{server}{path}", **kwargs)


def test_nothing_listening_is_cert_unavailable():
    with pytest.raises(CertUnavailable):
        fetch_https("http://127.0.0.1:1/cert.pem", timeout=1.0)
