"""Composition root: builds engines, the clock and unit-of-work factories into a Container."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from .ports import Clock, Notifier, SystemClock
from .settings import Settings
from .store.db import SqliteWriteLock, is_sqlite, make_engine, sqlite_path
from .store.spool import SpoolReader, spool_dir
from .store.uow import UnitOfWork, make_session_factory

if TYPE_CHECKING:
    from .integrations.outbound.sns_certs import CertFetcher


@dataclass
class Container:
    settings: Settings
    clock: Clock
    engine: Engine
    read_engine: Engine
    secret_key: str
    write_lock: SqliteWriteLock | None = None
    notifier: Notifier | None = None
    # Gets SNS signing certificates; None when TOCSIN_SNS_VERIFY_SIGNATURES is off.
    sns_certs: CertFetcher | None = None
    # SQLite (a file): where web workers spool accepted alerts (store/spool.py); else None.
    spool_dir: Path | None = None
    _factories: dict = field(default_factory=dict)
    _spool_reader: SpoolReader | None = None

    def uow(self, read_only: bool = False, clock: Clock | None = None) -> UnitOfWork:
        key = "r" if read_only else "w"
        if key not in self._factories:
            eng = self.read_engine if read_only else self.engine
            self._factories[key] = make_session_factory(eng)
        lock = None if read_only else self.write_lock
        return UnitOfWork(self._factories[key], clock or self.clock, lock)

    @property
    def spools(self) -> SpoolReader | None:
        """The engine's reader of the intake spools (one per container)."""
        if self.spool_dir is None:
            return None
        if self._spool_reader is None:
            self._spool_reader = SpoolReader(self.spool_dir)
        return self._spool_reader

    def dispose(self) -> None:
        if self._spool_reader is not None:
            self._spool_reader.close()
            self._spool_reader = None
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _secret_key(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.var_dir) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key


def build(settings: Settings | None = None, clock: Clock | None = None,
          notifier: Notifier | None = None, cert_fetcher: CertFetcher | None = None) -> Container:
    """The container; tests pass a fake notifier and certificate fetcher (nothing leaves the
    machine), the application gets apprise and HTTPS."""
    settings = settings or Settings()
    url = settings.database_url
    engine = make_engine(url, immediate=True)
    read_engine = make_engine(url, immediate=False) if is_sqlite(url) else engine
    lock = SqliteWriteLock(sqlite_path(url)) if is_sqlite(url) else None
    path = sqlite_path(url) if is_sqlite(url) else None
    spools = spool_dir(path) if path and path != ":memory:" else None
    if notifier is None:
        from .integrations.outbound.apprise_notifier import AppriseNotifier

        notifier = AppriseNotifier(settings)
    sns_certs = None
    if settings.sns_verify_signatures:
        from .integrations.outbound.sns_certs import CachedCertFetcher, fetch_https

        sns_certs = CachedCertFetcher(cert_fetcher or fetch_https)
    return Container(settings, clock or SystemClock(), engine, read_engine, _secret_key(settings),
                     lock, notifier, sns_certs, spools)
