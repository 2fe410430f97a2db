"""Notifications through apprise: email over TOCSIN_SMTP_URL, webhooks as JSON posts, SMS
and voice through a provider URL template, chat through any apprise URL."""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote, urlsplit

import apprise

from ...ports import Delivery, Message
from ...settings import Settings

log = logging.getLogger("tocsin.notify")


class AppriseNotifier:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def url_for(self, m: Message) -> str | None:
        """The apprise URL for a message, or None when its channel is not configured."""
        s = self.settings
        if m.channel == "email":
            return email_url(s.smtp_url, s.mail_from, m.address) if s.smtp_url else None
        if m.channel == "webhook":
            scheme, rest = m.address.split("://", 1)
            return f"{'jsons' if scheme == 'https' else 'json'}://{rest}"
        if m.channel in ("sms", "voice"):
            template = s.sms_url if m.channel == "sms" else s.voice_url
            return template.replace("{address}", quote(m.address, safe="+")) if template else None
        if m.channel == "chat":
            return m.address if "://" in m.address else None   # e.g. slack://, msteams://, ntfy://
        return None

    def send(self, m: Message) -> Delivery:
        url = self.url_for(m)
        if url is None:
            return Delivery("failed", False, f"no {m.channel} provider is configured "
                                             f"(see docs/paging.md)")
        ap = apprise.Apprise()
        if not ap.add(url):
            return Delivery("failed", False, f"not a usable {m.channel} address")
        try:
            # plain text in: apprise escapes it into an email's HTML part (a title with
            # <tags> stays text) and keeps line breaks
            ok = ap.notify(title=m.subject, body=m.text, body_format=apprise.NotifyFormat.TEXT)
        except Exception as exc:  # noqa: BLE001 - a provider's failure is a failed attempt
            return Delivery("failed", True, f"{type(exc).__name__}: {exc}")
        # apprise reports success or failure, not why: network and server errors are
        # worth retrying, and a permanent refusal fails again harmlessly until attempts end.
        return Delivery("sent") if ok else Delivery("failed", True, f"{m.channel} provider refused "
                                                                    "or could not be reached")


def email_url(smtp_url: str, mail_from: str, to: str) -> str:
    """`smtp://[user:pass@]host[:port]` (plain), `smtp+starttls://…` or `smtps://…` (TLS)."""
    u = urlsplit(smtp_url)
    secure = u.scheme in ("smtps", "smtp+starttls")
    mode = {"smtps": "ssl", "smtp+starttls": "starttls"}.get(u.scheme, "")
    auth = ""
    if u.username:
        user, password = unquote(u.username), unquote(u.password or "")
        auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "") + "@"
    port = f":{u.port}" if u.port else ""
    query = f"from={quote(mail_from)}&to={quote(to)}&smtp={u.hostname}"
    if mode:
        query += f"&mode={mode}"
    return f"{'mailtos' if secure else 'mailto'}://{auth}{u.hostname}{port}?{query}"
