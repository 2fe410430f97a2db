"""The one settings class (environment prefix TOCSIN_); reading it does no other I/O."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TOCSIN_", extra="ignore")

    database_url: str = "sqlite:///./var/tocsin.db"
    # Signs session cookies; when empty, bootstrap keeps a random one in var_dir.
    secret_key: str = ""
    var_dir: str = "./var"
    host: str = "127.0.0.1"
    port: int = 8080
    # The address people and senders use; empty means http://HOST:PORT.
    base_url: str = ""
    # Where npm installed the front-end assets (htmx); empty means <project>/node_modules.
    assets_dir: str = ""
    # Secure cookies need HTTPS; off for the local default.
    secure_cookies: bool = False
    session_max_age_seconds: int = 12 * 3600
    max_attachment_bytes: int = 5 * 1024 * 1024
    intake_max_bytes: int = 1024 * 1024
    # Under concurrent alert load, a web worker holds a group commit back up to this long so
    # that more requests share it (see web/intake.py GroupCommitter); 0 turns it off.
    # Whole milliseconds: event-loop timers have millisecond resolution (uvloop rounds a
    # shorter wait down to none).
    intake_commit_delay_ms: int = Field(default=1, ge=0, le=100)
    # Raw intake bodies no alert points to any more are dropped after this many days.
    retention_days: int = 30
    # Run the engine (triage, timers) inside `tocsin serve`; tests drive it by hand.
    engine: bool = True
    # `tocsin serve` runs its engine process this much nicer than the web workers (0-19):
    # under a burst, taking alerts comes first and triage catches up right after.
    engine_nice: int = Field(default=10, ge=0, le=19)
    # ... and while alerts pour in, its triage works at most this share of the time (timers
    # and pages are not held back); once the flood stops it runs flat out.
    engine_flood_share: float = Field(default=0.2, gt=0, le=1)
    # Refuse SNS messages (cloudwatch integrations) whose AWS signature does not verify; the
    # signing certificate is fetched from sns.<region>.amazonaws.com (and cached).
    sns_verify_signatures: bool = True
    # Paging. Email: smtp://host:port (plain), smtp+starttls:// or smtps:// with user:pass@.
    smtp_url: str = ""
    mail_from: str = "Tocsin <tocsin@localhost>"
    # SMS and voice: an apprise URL with {address} for the number, e.g.
    # twilio://SID:TOKEN@+15550001111/{address}; empty: these contact methods fail clearly.
    sms_url: str = ""
    voice_url: str = ""

    @property
    def public_url(self) -> str:
        return (self.base_url or f"http://{self.host}:{self.port}").rstrip("/")
