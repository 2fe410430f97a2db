"""The FastAPI application factory: middleware, routers, templates, static assets."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from .. import __version__
from ..bootstrap import Container
from ..engine.engine import Engine, EngineThread
from ..engine.kick import Kicker, socket_path
from . import errors, security
from .api import alerts as api_alerts
from .api import catalog as api_catalog
from .api import incidents as api_incidents
from .api import paging as api_paging
from .api import roles as api_roles
from .api import schedules as api_schedules
from .api import users as api_users
from .intake import IntakeApp, is_intake
from .templating import make_templates
from .timing import ServerTiming
from .ui import ack as ui_ack
from .ui import alerts as ui_alerts
from .ui import config as ui_config
from .ui import ical as ui_ical
from .ui import incidents as ui_incidents
from .ui import pages as ui_pages
from .ui import roles as ui_roles
from .ui import schedules as ui_schedules

log = logging.getLogger("tocsin.web")
HERE = Path(__file__).resolve().parent


def _assets_dir(container: Container) -> Path:
    if container.settings.assets_dir:
        return Path(container.settings.assets_dir)
    return HERE.parents[2] / "node_modules"


def create_app(container: Container) -> FastAPI:
    engine_thread = EngineThread(Engine(container)) if container.settings.engine else None

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # noqa: ANN202
        if engine_thread:
            engine_thread.start()
        yield
        if engine_thread:
            engine_thread.stop()

    app = FastAPI(title="Tocsin", version=__version__, lifespan=lifespan,
                  description="Incident response: classify, page, coordinate, learn.")
    app.state.container = container
    app.state.kick = engine_thread.kick if engine_thread else \
        Kicker(socket_path(container.settings.var_dir))
    app.state.templates = make_templates(HERE / "templates")
    app.add_middleware(SessionMiddleware, secret_key=container.secret_key,
                       session_cookie="tocsin_session", same_site="lax",
                       https_only=container.settings.secure_cookies,
                       max_age=container.settings.session_max_age_seconds)
    app.add_middleware(ServerTiming)
    errors.install(app)

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    for router in (api_incidents.router, api_catalog.router, api_users.router, api_alerts.router,
                   api_paging.router, api_schedules.router, api_roles.router, ui_pages.router,
                   ui_incidents.router, ui_config.router, ui_alerts.router, ui_ack.router,
                   ui_ical.router, ui_roles.router, ui_schedules.router):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    vendor = _assets_dir(container)
    if (vendor / "htmx.org").is_dir():
        app.mount("/vendor", StaticFiles(directory=vendor), name="vendor")
    else:
        log.warning("front-end assets not found in %s; run scripts/setup.sh (npm ci)", vendor)
    security.enforce_declared(app)
    return app


class Dispatcher:
    """Alert intake goes straight to its lean ASGI app; everything else to FastAPI."""

    def __init__(self, app: FastAPI, intake: IntakeApp) -> None:
        self.app, self.intake = app, intake

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and is_intake(scope["path"]):
            await self.intake(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def create_asgi(container: Container) -> Dispatcher:
    app = create_app(container)
    return Dispatcher(app, IntakeApp(container, lambda: app.state.kick()))
