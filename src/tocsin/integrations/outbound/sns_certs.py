"""SNS signing certificates: the fetcher port, its HTTPS adapter, a bounded cache, and a fake."""

from __future__ import annotations

import threading
import urllib.request
from collections import OrderedDict
from collections.abc import Callable, Mapping

from cryptography import x509

from tocsin.integrations.inbound.sns_signature import cert_url_problem

TIMEOUT_SECONDS = 5.0
MAX_CERT_BYTES = 64 * 1024
MAX_CACHED = 32

# The port: the PEM bytes of the certificate at an https URL, or CertUnavailable.
CertFetcher = Callable[[str], bytes]


class CertUnavailable(Exception):
    """The certificate could not be had just now (network, HTTP status, not a certificate)."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """The URL was checked to be on an SNS host: a redirect must not lead the fetch elsewhere.
    Declining it makes urllib raise HTTPError for the 3xx."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def fetch_https(url: str, timeout: float = TIMEOUT_SECONDS, max_bytes: int = MAX_CERT_BYTES) -> bytes:
    """GET `url` (TLS verified by the default context), no redirects, at most `max_bytes`."""
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(urllib.request.Request(url, headers={"User-Agent": "tocsin"}),
                         timeout=timeout) as response:
            body = response.read(max_bytes + 1)
    except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSErrors
        raise CertUnavailable(f"{type(exc).__name__}: {exc}"[:300]) from exc
    if len(body) > max_bytes:
        raise CertUnavailable(f"more than {max_bytes} bytes")
    return body


class CachedCertFetcher:
    """Fetches a certificate once per URL and keeps the last `max_entries` in memory.

    SNS names a new URL when it rotates its certificate, so an entry never goes stale. A URL
    that is not an SNS certificate URL is refused without fetching; a failure is not cached.
    """

    def __init__(self, fetch: CertFetcher = fetch_https, max_entries: int = MAX_CACHED) -> None:
        self._fetch, self._max = fetch, max_entries
        self._entries: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, url: str) -> bytes:
        with self._lock:
            pem = self._entries.get(url)
            if pem is not None:
                self._entries.move_to_end(url)
                return pem
        problem = cert_url_problem(url)
        if problem:
            raise CertUnavailable(problem)
        pem = self._fetch(url)  # outside the lock: one slow fetch must not hold up cache hits
        try:
            x509.load_pem_x509_certificate(pem)
        except ValueError as exc:
            raise CertUnavailable("the response is not a PEM X.509 certificate") from exc
        with self._lock:
            self._entries[url] = pem
            self._entries.move_to_end(url)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
        return pem


class FakeCertFetcher:
    """Serves fixed certificates by URL and records every fetch (tests, offline use)."""

    def __init__(self, certs: Mapping[str, bytes] | None = None) -> None:
        self.certs = dict(certs or {})
        self.fetched: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        if url not in self.certs:
            raise CertUnavailable(f"no certificate at {url[:100]}")
        return self.certs[url]
